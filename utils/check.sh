#!/usr/bin/env bash
#===- utils/check.sh - set up, build and run every test --------------------===#
#
# The README's test command and what CI runs: installs dependencies, builds,
# and runs the GPU suite (ctest -L gpu: skipped, with the reason, without a
# GPU) and then the whole lit suite. Ends with one line of the whole run's
# counts, `check: N passed, N failed, N skipped` (what CI reads), and exits
# non-zero on any failure.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
python=${PYTHON:-python3}

"$root/utils/setup.sh"
"$root/utils/build.sh"

# The GPU suite (ctest label gpu) runs the CUDA artifacts where a GPU exists
# and is reported skipped, with the reason, elsewhere (ctest's skip code).
echo "check: running the GPU suite (ctest -L gpu)"
gpu_log=$(mktemp)
trap 'rm -f "$gpu_log"' EXIT
set +e
ctest --test-dir "$build" -L gpu --output-on-failure -V >"$gpu_log" 2>&1
gpu_rc=$?
set -e
# ctest's own closing line ("... tests failed out of 1") is left out: the one
# closing line of this script is the count below, and a skipped GPU test must
# not read as a run that executed no test.
grep -v 'tests passed, .* tests failed out of' "$gpu_log" || true
if grep -q '(Skipped)\|\*\*\*Skipped' "$gpu_log"; then
  gpu_state=skipped
elif [ "$gpu_rc" = 0 ]; then
  gpu_state=passed
else
  gpu_state=failed
fi

# The lit suite (everything else; the GPU tests in it are UNSUPPORTED without
# a device). lit writes each test's result to a JSON file that the count
# below reads, so the closing line does not depend on lit's summary format.
echo "check: running the lit suite"
results="$build/test/check-results.json"
rm -f "$results"
set +e
"${LLVM_EXTERNAL_LIT:-/usr/lib/llvm-22/bin/lit}" -sv -o "$results" "$build/test"
lit_rc=$?
set -e

counts_rc=0
"$python" "$root/utils/check_counts.py" "$results" "$gpu_state" || counts_rc=$?
if [ "$lit_rc" != 0 ] || [ "$gpu_state" = failed ] || [ "$counts_rc" != 0 ]; then
  exit 1
fi
