#!/usr/bin/env python3
"""Extracts the PTX of every gpu.binary object in an MLIR file
(gpu-module-to-binary with format=isa: one object per architecture) and
assembles each with ptxas -v for its own architecture (and any others given
with --arch); fails on register spills in any kernel, or on more than 48 KiB
of shared memory per block (the limit without the opt-in). Prints a line per
failing kernel, the attention kernels' figures, and a summary.

  check_ptx.py FILE.mlir --ptxas /usr/local/cuda/bin/ptxas [--arch sm_80,sm_90]
"""

import argparse
import re
import subprocess
import sys
import tempfile


def ptxas_report(ptxas, arch, ptx):
    """{kernel: (registers, spilled bytes, shared bytes)} or an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".ptx") as f:
        f.write(ptx)
        f.flush()
        r = subprocess.run([ptxas, f"-arch={arch}", "-v", f.name, "-o", "/dev/null"],
                           capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr.strip()
    report = {}
    current = None
    for line in r.stderr.splitlines():
        m = re.search(r"Compiling entry function '(\w+)'", line) or \
            re.search(r"Function properties for (\w+)", line)
        if m:
            current = m.group(1)
            report.setdefault(current, [0, 0, 0])
            continue
        if current is None:
            continue
        spills = re.findall(r"(\d+) bytes spill (?:stores|loads)", line)
        if spills:
            report[current][1] += sum(int(x) for x in spills)
        m = re.search(r"Used (\d+) registers", line)
        if m:
            report[current][0] = int(m.group(1))
            smem = re.search(r"(\d+) bytes smem", line)
            report[current][2] = int(smem.group(1)) if smem else 0
    return report, None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mlir")
    p.add_argument("--ptxas", required=True)
    p.add_argument("--arch", default="",
                   help="also assemble every object for these architectures")
    args = p.parse_args()
    text = open(args.mlir).read()
    objects = re.findall(r'#nvvm\.target<[^>]*chip = "(sm_\d+)"[^>]*>\s*,\s*assembly = "(.*?)"[,>]',
                         text, re.S)
    if not objects:
        # Older form: the chip is not next to the assembly.
        objects = [("", raw) for raw in re.findall(r'assembly = "(.*?)"[,>]', text, re.S)]
    if not objects:
        sys.exit("check_ptx: no PTX (gpu.binary with an assembly) in " + args.mlir)
    bad = 0
    kernels = 0
    seen = set()
    for chip, raw in objects:
        ptx = re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), raw)
        target = re.search(r"^\.target (sm_\d+)", ptx, re.M)
        arches = [target.group(1)] if target else []
        arches += [a for a in args.arch.split(",") if a and a not in arches]
        for arch in arches:
            if (arch, ptx) in seen:
                continue
            seen.add((arch, ptx))
            report, err = ptxas_report(args.ptxas, arch, ptx)
            if report is None:
                print(f"FAIL {arch}: ptxas: {err}")
                bad += 1
                continue
            for name, (regs, spilled, shared) in sorted(report.items()):
                kernels += 1
                ok = spilled == 0 and shared <= 48 * 1024
                bad += not ok
                # Attention kernels carry their shared key/value tiles.
                if not ok or shared:
                    print(f"{'OK' if ok else 'FAIL'} {arch} {name}: {regs} registers, "
                          f"{spilled} bytes spilled, {shared} bytes shared")
    print(f"{kernels} kernels assembled: "
          f"{'all without spills' if not bad else str(bad) + ' failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
