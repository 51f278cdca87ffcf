#!/usr/bin/env python3
"""Extracts the PTX of every gpu.binary in an MLIR file (gpu-module-to-binary
with format=isa) and assembles it with ptxas for each architecture given,
with -v; fails on register spills or on more than 48 KiB of shared memory
per block (the limit without the opt-in). Prints one line per kernel.

  check_ptx.py FILE.mlir --ptxas /usr/local/cuda/bin/ptxas --arch sm_80,sm_90
"""

import argparse
import re
import subprocess
import sys
import tempfile


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mlir")
    p.add_argument("--ptxas", required=True)
    p.add_argument("--arch", default="sm_80,sm_90")
    args = p.parse_args()
    text = open(args.mlir).read()
    blobs = re.findall(r'assembly = "(.*?)"[,>]', text, re.S)
    if not blobs:
        sys.exit("check_ptx: no PTX (gpu.binary with an assembly) in " + args.mlir)
    bad = 0
    seen = set()
    for i, raw in enumerate(blobs):
        ptx = re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), raw)
        # The same op in every layer gives the same kernel: assemble it once.
        body = re.sub(r"\.entry \w+", ".entry k", ptx)
        if body in seen:
            continue
        seen.add(body)
        kernels = re.findall(r"\.visible \.entry (\w+)", ptx)
        with tempfile.NamedTemporaryFile("w", suffix=".ptx") as f:
            f.write(ptx)
            f.flush()
            for arch in args.arch.split(","):
                r = subprocess.run([args.ptxas, f"-arch={arch}", "-v", f.name, "-o",
                                    "/dev/null"], capture_output=True, text=True)
                if r.returncode:
                    print(f"FAIL {arch}: ptxas: {r.stderr.strip()}")
                    bad += 1
                    continue
                info = r.stderr
                spills = [int(x) for x in re.findall(r"(\d+) bytes spill (?:stores|loads)", info)]
                shared = [int(x) for x in re.findall(r"(\d+) bytes smem", info)] or [0]
                regs = re.findall(r"Used (\d+) registers", info)
                ok = not any(spills) and max(shared) <= 48 * 1024
                bad += not ok
                print(f"{'OK' if ok else 'FAIL'} {arch} {','.join(kernels)}: "
                      f"{'/'.join(regs)} registers, {sum(spills)} bytes spilled, "
                      f"{max(shared)} bytes shared")
    print(f"{len(seen)} distinct kernels of {len(blobs)}: "
          f"{'all assemble without spills' if not bad else str(bad) + ' failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
