#!/usr/bin/env python3
"""`ctest -L gpu`: runs the lit tests that need a CUDA device (test/CUDA/Device)
when there is one; otherwise prints why the suite is skipped and exits 77
(ctest's skip code for this test).

  gpu_suite.py LIT BUILD/test
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cuda_probe import probe  # noqa: E402


def main():
    lit, tests = sys.argv[1], sys.argv[2]
    ok, why = probe()
    if not ok:
        print(f"GPU suite skipped: no CUDA device ({why})")
        return 77
    print(f"GPU suite on {why}")
    return subprocess.call([lit, "-sv", os.path.join(tests, "CUDA", "Device")])


if __name__ == "__main__":
    sys.exit(main())
