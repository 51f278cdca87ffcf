#!/usr/bin/env python3
"""Is there a CUDA device here? Opens the driver (libcuda.so.1) the way the
swaa runtime does and asks it; prints "yes: <n> devices" or "no: <why>" and
exits 0 or 1. lit.cfg.py and gpu_suite.py import probe()."""

import ctypes
import sys


def probe():
    """(True, description) or (False, the reason there is no device)."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as e:
        return False, f"no CUDA driver (libcuda.so.1: {e})"
    rc = cuda.cuInit(0)
    if rc != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorName(rc, ctypes.byref(name))
        return False, f"cuInit failed with {(name.value or b'?').decode()}"
    count = ctypes.c_int(0)
    if cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return False, "the CUDA driver sees no device"
    return True, f"{count.value} CUDA devices"


if __name__ == "__main__":
    ok, why = probe()
    print(("yes: " if ok else "no: ") + why)
    sys.exit(0 if ok else 1)
