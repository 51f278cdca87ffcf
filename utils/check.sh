#!/usr/bin/env bash
#===- utils/check.sh - set up, build and run every test --------------------===#
#
# The README's test command and what CI runs: installs dependencies, builds,
# and runs the whole lit suite (ninja check-swaa) and ctest. Exits non-zero on
# any failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/utils/setup.sh"
"$root/utils/build.sh"
echo "check: running the lit suite"
ninja -C "$build" check-swaa
echo "check: running ctest"
ctest --test-dir "$build" --output-on-failure
