#!/usr/bin/env python3
"""Checks a CUDA artifact written by swaa-compile --target cuda -o X.swaa,
without a GPU: the manifest (target, architectures, the launch plan of both
entries), the host code's exports (the entry points, swaa_gpu_load, the
mgpu* pointers the runtime fills) and that neither it nor the runtime
library needs libcuda at load time. Prints one line per fact.

  check_cuda_artifact.py X.swaa --readelf llvm-readelf --runtime libswaa_runtime.so
"""

import argparse
import json
import os
import re
import subprocess
import sys


def needed(readelf, path):
    out = subprocess.run([readelf, "-d", path], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def exports(readelf, path):
    out = subprocess.run([readelf, "--dyn-syms", "-W", path], capture_output=True,
                         text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 8 and cols[6] != "UND":
            names.add(cols[7].split("@")[0])
    return names


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("artifact")
    p.add_argument("--readelf", required=True)
    p.add_argument("--runtime", required=True)
    args = p.parse_args()
    m = json.load(open(os.path.join(args.artifact, "manifest.json")))
    cuda = m.get("cuda", {})
    print(f"target {m['target']}, archs {','.join(cuda.get('archs', []))}, "
          f"ptx {str(cuda.get('ptx')).lower()}")
    bad = 0
    for entry, launches in sorted(cuda.get("launch_plan", {}).items()):
        attention = [l for l in launches if l["shared_memory"] > 0]
        most = max((l["shared_memory"] for l in launches), default=0)
        threads = max((l["block"][0] * l["block"][1] * l["block"][2]
                       for l in launches), default=0)
        unknown = [l for l in launches
                   if not l["kernel"] or l["arguments"] < 1 or None in l["block"]]
        bad += len(unknown)
        print(f"{entry}: {len(launches)} launches, {len(attention)} with shared "
              f"memory (at most {most} bytes), blocks of at most {threads} threads"
              + (f", {len(unknown)} malformed" if unknown else ""))
    so = os.path.join(args.artifact, m["code"])
    syms = exports(args.readelf, so)
    wanted = ["swaa_prefill", "swaa_decode", "swaa_gpu_load", "swaa_gpu_unload",
              "swaa_gpu_imports", "swaa_gpu_mgpuLaunchKernel",
              "swaa_gpu_mgpuModuleLoad", "swaa_gpu_mgpuMemAlloc"]
    missing = [s for s in wanted if s not in syms]
    bad += len(missing)
    print("model.so exports " + ("all of " + ", ".join(wanted) if not missing
                                 else "no " + ", ".join(missing)))
    for path in (so, args.runtime):
        libs = needed(args.readelf, path)
        cuda_libs = [l for l in libs if "cuda" in l]
        bad += len(cuda_libs)
        print(f"{os.path.basename(path)} needs "
              + (", ".join(cuda_libs) if cuda_libs else "no CUDA library"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
