#!/usr/bin/env bash
#===- utils/check.sh - set up, build and run every test --------------------===#
#
# The README's test command and what CI runs: installs dependencies, builds,
# and runs the GPU suite (ctest -L gpu: skipped, with the reason, without a
# GPU) and then the whole lit suite (ninja check-swaa). Exits non-zero on any
# failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/utils/setup.sh"
"$root/utils/build.sh"
# The GPU suite (ctest label gpu) runs the CUDA artifacts where a GPU exists
# and is reported skipped, with the reason, elsewhere. It runs first so that
# the last summary printed is the lit suite's, which covers everything else
# (ctest's own lit entry would run that suite a second time).
echo "check: running the GPU suite (ctest -L gpu)"
ctest --test-dir "$build" -L gpu --output-on-failure
echo "check: running the lit suite"
ninja -C "$build" check-swaa
