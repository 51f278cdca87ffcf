#!/usr/bin/env python3
"""Compares a model compiled for two targets (the CUDA back end against the
CPU one, which the CPU tests check against onnxruntime): the same recipe,
the same random prompt, prefill logits at every position and each greedy
decode step's logits, as long as both generate the same tokens. Passes when
every logit is within TOL of the largest one (relative), and the greedy
tokens agree.

  check_cuda_vs_cpu.py MODEL BIN_DIR --prompt N --new K [--target-b cuda]
                       [--tol 1e-3] [recipe flags after --]

--target-b cpu compares the CPU back end with itself (the checker's own test
on machines without a GPU, and 16-bit builds against f32 ones); --a-flags
and --b-flags add compile flags to one build only (--dtype=bf16; a
different recipe must fail the check).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np


def build(bin_dir, model, target, flags, work, name):
    art = os.path.join(work, name + ".swaa")
    c = subprocess.run([os.path.join(bin_dir, "swaa-compile"), model, "--target", target,
                        "-o", art] + flags, capture_output=True, text=True)
    if c.returncode:
        sys.exit(f"swaa-compile --target {target} failed:\n{c.stderr}")
    return art


def run(bin_dir, art, prompt, new, work, name):
    p, s = os.path.join(work, name + "-p.npy"), os.path.join(work, name + "-s.npy")
    r = subprocess.run([os.path.join(bin_dir, "swaa-run"), art, "--prompt-ids",
                        ",".join(map(str, prompt)), "--max-new-tokens", str(new),
                        "--dump-logits", p, "--dump-step-logits", s],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"swaa-run {os.path.basename(art)} failed:\n{r.stderr}")
    tokens = [int(t) for t in r.stdout.split("generated:")[1].split("\n")[0].split(",")]
    return np.load(p), np.load(s), tokens


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("bin_dir")
    p.add_argument("--prompt", type=int, default=200)
    p.add_argument("--new", type=int, default=50)
    p.add_argument("--target-b", default="cuda")
    p.add_argument("--b-flags", default="")
    p.add_argument("--tol", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--a-flags", default="",
                   help="compile flags for the first (CPU) build only")
    p.add_argument("--allow-divergence", action="store_true",
                   help="16-bit builds: greedy tokens may part (a near tie "
                        "rounds the other way); logits are compared up to there")
    argv = sys.argv[1:]
    recipe = []
    if "--" in argv:
        recipe = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        a = build(args.bin_dir, args.model, "cpu", recipe + shlex.split(args.a_flags),
                  work, "a")
        b = build(args.bin_dir, args.model, args.target_b,
                  recipe + shlex.split(args.b_flags), work, "b")
        manifest = json.load(open(os.path.join(a, "manifest.json")))
        vocab = manifest["entries"]["prefill"]["results"][0]["shape"][2]
        prompt = np.random.default_rng(args.seed).integers(0, vocab, args.prompt)
        pa, sa, ta = run(args.bin_dir, a, prompt, args.new, work, "a")
        pb, sb, tb = run(args.bin_dir, b, prompt, args.new, work, "b")
    scale = max(float(np.abs(pa).max()), 1e-30)
    errors = [float(np.abs(pa - pb).max()) / scale]
    same = 0
    while same < len(ta) and same < len(tb) and ta[same] == tb[same]:
        same += 1
    # Step i's logits came from the tokens before it: comparable while the
    # tokens so far agree.
    steps = min(same + 1, len(sa), len(sb))
    if steps:
        errors.append(float(np.abs(sa[:steps] - sb[:steps]).max()) / scale)
    worst = max(errors)
    name = os.path.basename(args.model)
    what = (f"{name} {' '.join(recipe) or 'full attention'}: cpu vs {args.target_b}, "
            f"prefill of {args.prompt} and {steps} decode steps, max error {worst:.2e} "
            f"relative to the largest logit")
    if worst > args.tol or (same != len(ta) and not args.allow_divergence):
        print(f"FAIL: {what}; greedy tokens agree for {same} of {len(ta)} steps")
        return 1
    print(f"OK: {what}; greedy tokens "
          + ("equal" if same == len(ta) else f"equal for {same} of {len(ta)} steps"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
