#!/usr/bin/env python3
"""SWA against full attention on the CPU back end, in one run.

Compiles the bundled 4-layer Llama (hidden 256, head_dim 64) with full
attention and with window W + S sinks on every layer, then for each context
length runs swaa-run --profile (prefill of N random tokens and a few decode
steps, best of --repeat runs) and prints, as ratios taken in this run:

- the prefill speedup of SWA over full attention at the longest context,
  against the speedup that `swaa-compile --report` predicts from FLOPs;
- how the time spent in attention grows from the shortest to the longest
  context (SWA should grow linearly, full attention quadratically);
- decode tokens/s and KV-cache bytes of both (the all-SWA cache is the same
  at every context).

  python3 bench/cpu_prefill.py [--contexts 1024,4096,16384] [--window 512]
                               [--sinks 4] [--repeat 2] [--bin build/bin]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "test", "models", "hf", "llama4-torchscript-cache.onnx")


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return out.stdout


def measure(bin_dir, art, n, decode, repeat):
    best = None
    for _ in range(repeat):
        text = run([os.path.join(bin_dir, "swaa-run"), art, "--random-prompt", str(n),
                    "--max-new-tokens", str(decode + 1), "--profile"])
        prefill = float(re.search(r"prefill: \d+ tokens in ([0-9.]+) s", text).group(1))
        attention = float(re.search(r"profile prefill: attention ([0-9.]+) s", text).group(1))
        dec = re.search(r"decode: \d+ steps in [0-9.]+ s \(([0-9.]+) tokens/s\)", text)
        kv = int(re.search(r"kv cache: (\d+) bytes", text).group(1))
        r = dict(prefill=prefill, attention=attention,
                 decode=float(dec.group(1)) if dec else 0.0, kv=kv)
        if best is None or r["prefill"] < best["prefill"]:
            best = r
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contexts", default="1024,4096,16384")
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--sinks", type=int, default=4)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--decode", type=int, default=16)
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    args = p.parse_args()
    contexts = [int(c) for c in args.contexts.split(",")]
    recipe = ["--window", str(args.window), "--sinks", str(args.sinks)]
    compile_ = os.path.join(args.bin, "swaa-compile")
    with tempfile.TemporaryDirectory() as work:
        full, swa = os.path.join(work, "full.swaa"), os.path.join(work, "swa.swaa")
        print(f"cpu_prefill: compiling {os.path.basename(MODEL)}: full attention and "
              f"{' '.join(recipe)} ...", flush=True)
        run([compile_, MODEL, "-o", full])
        run([compile_, MODEL, "-o", swa] + recipe)
        rows = []
        for n in contexts:
            print(f"cpu_prefill: context {n} ...", flush=True)
            f = measure(args.bin, full, n, args.decode, args.repeat)
            s = measure(args.bin, swa, n, args.decode, args.repeat)
            report = run([compile_, MODEL, "--report", "--context", str(n)] + recipe)
            predicted = float(re.search(r"FLOP ratio\): ([0-9.]+)x", report).group(1))
            rows.append((n, f, s, predicted))
    print()
    print(f"| context | full prefill s | SWA prefill s | speedup | FLOP-predicted | "
          f"% of predicted | full attn s | SWA attn s | full decode tok/s | "
          f"SWA decode tok/s | full KV bytes | SWA KV bytes |")
    print("|" + " --- |" * 12)
    for n, f, s, predicted in rows:
        speedup = f["prefill"] / s["prefill"]
        print(f"| {n} | {f['prefill']:.3f} | {s['prefill']:.3f} | {speedup:.2f}x | "
              f"{predicted:.2f}x | {100 * speedup / predicted:.0f}% | {f['attention']:.3f} | "
              f"{s['attention']:.3f} | {f['decode']:.1f} | {s['decode']:.1f} | {f['kv']} | "
              f"{s['kv']} |")
    lo, hi = rows[0], rows[-1]
    print()
    for a, b in zip(rows, rows[1:]):
        print(f"attention time from {a[0]} to {b[0]} tokens ({b[0] / a[0]:.0f}x the "
              f"tokens): SWA {b[2]['attention'] / a[2]['attention']:.2f}x, full attention "
              f"{b[1]['attention'] / a[1]['attention']:.2f}x")
    print(f"SWA KV-cache bytes: {lo[2]['kv']} at {lo[0]}, {hi[2]['kv']} at {hi[0]} "
          f"({'the same' if lo[2]['kv'] == hi[2]['kv'] else 'different'})")
    print(f"decode at {hi[0]}: SWA {hi[2]['decode'] / hi[1]['decode']:.2f}x the tokens/s "
          "of full attention")


if __name__ == "__main__":
    main()
