#!/usr/bin/env bash
#===- utils/check.sh - set up, build and run every test --------------------===#
#
# The README's test command and what CI runs: installs dependencies, builds,
# and runs the whole lit suite (ninja check-swaa) and the GPU suite (ctest -L
# gpu: skipped, with the reason, without a GPU). Exits non-zero on any
# failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/utils/setup.sh"
"$root/utils/build.sh"
echo "check: running the lit suite"
ninja -C "$build" check-swaa
# ctest's lit test is the suite above again; the GPU suite (label gpu) runs
# the CUDA artifacts where a GPU exists and is reported skipped elsewhere.
echo "check: running ctest -L gpu"
ctest --test-dir "$build" -L gpu --output-on-failure
