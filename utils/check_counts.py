#!/usr/bin/env python3
"""Prints utils/check.sh's closing line, `check: N passed, N failed, N skipped`,
from lit's JSON results (`lit -o FILE`) and the GPU suite's state.

  check_counts.py RESULTS.json passed|failed|skipped

Exits 1 when anything failed or the results are missing (a lit run that
crashed before writing them counts as one failure, never as zero tests).
"""

import json
import sys

PASSED = {"PASS", "XFAIL", "FLAKYPASS"}
SKIPPED = {"UNSUPPORTED", "SKIPPED", "EXCLUDED"}


def main():
    path, gpu = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    try:
        with open(path) as f:
            tests = json.load(f)["tests"]
    except (OSError, ValueError, KeyError) as e:
        print(f"check: no lit results in {path} ({e})", file=sys.stderr)
        tests = None
        failed += 1
    for t in tests or []:
        code = t.get("code", "")
        if code in PASSED:
            passed += 1
        elif code in SKIPPED:
            skipped += 1
        else:
            failed += 1
    if gpu == "passed":
        passed += 1
    elif gpu == "skipped":
        skipped += 1
    else:
        failed += 1
    print(f"check: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
