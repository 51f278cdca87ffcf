#!/usr/bin/env python3
"""Checks `swaa-compile --report` against the attention contract.

For each context length, runs swaa-compile MODEL --window W --sinks S
--report --context N and compares every layer's "visible pairs" with a count
written from the mask contract (query i sees key j when j <= i and
(i - W < j or j < S)): brute force over all (i, j) for N up to --brute, and a
closed form otherwise. Checks each layer's KV-cache bytes: a ring of W + S
slots per SWA layer without FA decode, K and V, [batch=1, kv_heads, slots,
head_dim] float32, with kv_heads and head_dim read from the ONNX model's
past inputs.

  check_report.py SWAA_COMPILE MODEL --window W --sinks S --contexts N,N,...
"""

import argparse
import re
import subprocess
import sys

import onnx


def brute(n, w, s):
    return sum(1 for i in range(n) for j in range(i + 1) if i - w < j or j < s)


def closed(n, w, s):
    # Query i sees min(i + 1, W) window keys, plus the sinks below its window:
    # j < S and j <= i - W, i.e. max(0, min(S, i - W + 1)) of them.
    return sum(min(i + 1, w) + max(0, min(s, i - w + 1)) for i in range(n))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("swaa_compile")
    p.add_argument("model")
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--sinks", type=int, default=0)
    p.add_argument("--contexts", required=True)
    p.add_argument("--brute", type=int, default=600)
    p.add_argument("--expect-sinks", type=int,
                   help="sinks of the expected count (default --sinks; another "
                        "value shows that the check can fail)")
    args = p.parse_args()
    m = onnx.load(args.model)
    past = [i for i in m.graph.input if "past" in i.name][0]
    dims = [d.dim_value for d in past.type.tensor_type.shape.dim]
    kv_heads, head_dim = dims[1], dims[3]
    ring_bytes = 2 * kv_heads * (args.window + args.sinks) * head_dim * 4
    sinks = args.sinks if args.expect_sinks is None else args.expect_sinks
    bad = 0
    for n in [int(x) for x in args.contexts.split(",")]:
        out = subprocess.run([args.swaa_compile, args.model, "--window", str(args.window),
                              "--sinks", str(args.sinks), "--report", "--context", str(n)],
                             capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        rows = re.findall(r"^\s+(\d+)\s+(?:model|native|recipe|fa-layers)\s+(\S+(?: \S+)?)\s+(\S+(?: \S+)?)\s+(\d+)\s+\S+ \S+\s+"
                          r"(\d+)\s+(?:ring|full)", out.stdout, re.M)
        if not rows:
            sys.exit("no layer rows in the report:\n" + out.stdout)
        want = brute(n, args.window, sinks) if n <= args.brute else \
            closed(n, args.window, sinks)
        how = "brute force" if n <= args.brute else "closed form"
        for layer, _, _, pairs, kv in rows:
            if int(pairs) != want:
                print(f"MISMATCH n={n} layer {layer}: {pairs} pairs, {how} says {want}")
                bad += 1
            if int(kv) != ring_bytes:
                print(f"MISMATCH n={n} layer {layer}: {kv} bytes of KV cache, a ring of "
                      f"{args.window + args.sinks} slots is {ring_bytes} bytes")
                bad += 1
        print(f"n={n}: {len(rows)} layers with {want} visible pairs ({how}), "
              f"ring cache {ring_bytes} bytes per layer")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
