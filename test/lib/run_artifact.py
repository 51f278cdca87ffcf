#!/usr/bin/env python3
"""Compiles an ONNX model to an artifact, runs it with swaa-run, and checks
the logits and the greedy tokens against onnxruntime on the same file.

  run_artifact.py MODEL BIN_DIR [--prompt N[,N...]] [--new K] [--tol T]
                  [--ort-recompute] -- [swaa-compile flags]

The model is compiled once; each prompt length N is a prompt of N random
token ids (fixed seed). Checks: the prefill's logits
at every prompt position (swaa-run --dump-logits) against onnxruntime's,
within T relative to the largest logit (max over the vocabulary and
positions); the K greedy tokens against onnxruntime's greedy decoding with
its own KV cache (models with past key/values) or by re-running the whole
sequence (without, or with --ort-recompute: for exports whose own cache
is only valid for short pasts); and every decode step's logits likewise. For full
attention, or recipes whose windows cover the whole sequence (a recipe's
window shorter than prompt + new tokens is refused with a message:
onnxruntime runs the model's own attention, no reference for it;
check_recipe.py checks those).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("bin_dir")
    p.add_argument("--prompt", default="7")
    p.add_argument("--ort-recompute", action="store_true",
                   help="onnxruntime decodes by re-running the whole sequence")
    p.add_argument("--new", type=int, default=8)
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args(argv)

    m = onnx.load(args.model, load_external_data=False)
    vocab = m.graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in sess.get_inputs()}
    past_names = [n for n in inputs if "past" in n]

    def run_ort(ids, past, pos):
        feeds = {"input_ids": ids.reshape(1, -1)}
        n = ids.size
        if "attention_mask" in inputs:
            feeds["attention_mask"] = np.ones((1, pos + n), np.int64)
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(pos, pos + n).reshape(1, n)
        feeds.update(past)
        outs = sess.run(None, feeds)
        return outs[0][0], dict(zip(past_names, outs[1:1 + len(past_names)]))

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / (np.abs(b).max() + 1e-30))

    failed = 0
    with tempfile.TemporaryDirectory() as work:
        art = os.path.join(work, "model.swaa")
        c = subprocess.run([os.path.join(args.bin_dir, "swaa-compile"), args.model,
                            "-o", art] + extra, capture_output=True, text=True)
        if c.returncode:
            sys.exit("swaa-compile failed:\n" + c.stderr)
        # An empty past of the cache's head count and size (ONNX may leave
        # them symbolic): read them off the compiled caches.
        import json
        manifest = json.load(open(os.path.join(art, "manifest.json")))
        caches = [a for a in manifest["entries"]["prefill"]["args"] if a["kind"] == "cache"]
        empty = {n: np.zeros((1, c["shape"][1], 0, c["shape"][3]), np.float32)
                 for n, c in zip(past_names, caches)}
        # onnxruntime runs the model's own attention (its native windows
        # included): a reference for a recipe only while the recipe's window
        # covers the longest sequence.
        lengths = [int(x) for x in args.prompt.split(",")]
        window = manifest["recipe"].get("window")
        if window is not None and window < max(lengths) + args.new:
            sys.exit(f"run_artifact: the recipe's window {window} does not cover "
                     f"{max(lengths)} + {args.new} tokens; onnxruntime runs the model's "
                     "own attention, no reference for it (test/lib/check_recipe.py "
                     "checks recipes with contract masks)")
        for length in lengths:
            rng = np.random.default_rng(3)
            prompt = rng.integers(0, vocab, length).astype(np.int64)
            r = subprocess.run([os.path.join(args.bin_dir, "swaa-run"), art, "--prompt-ids",
                                ",".join(str(t) for t in prompt), "--max-new-tokens",
                                str(args.new), "--dump-logits", os.path.join(work, "p.npy"),
                                "--dump-step-logits", os.path.join(work, "s.npy"), "--quiet"],
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit("swaa-run failed:\n" + r.stderr)
            got_tokens = [int(t) for t in r.stdout.split("generated:")[1].split(",")
                          if t.strip()]
            got_prefill = np.load(os.path.join(work, "p.npy"))
            got_steps = np.load(os.path.join(work, "s.npy")) if args.new else None

            # onnxruntime: prefill, then greedy steps with its own cache (or
            # the whole sequence again).
            want_prefill, past = run_ort(prompt, dict(empty), 0)
            seq = list(prompt)
            want_tokens, want_steps = [], []
            nxt = int(np.argmax(want_prefill[-1]))
            for i in range(args.new):
                want_tokens.append(nxt)
                seq.append(nxt)
                if past_names and not args.ort_recompute:
                    logits, past = run_ort(np.array([nxt]), past, len(seq) - 1)
                else:
                    logits, _ = run_ort(np.array(seq), dict(empty), 0)
                want_steps.append(logits[-1])
                nxt = int(np.argmax(logits[-1]))
            want_steps = np.array(want_steps)
            e_prefill = rel(got_prefill, want_prefill)
            # Steps are only comparable while the tokens agree.
            agree = 0
            while agree < args.new and got_tokens[agree] == want_tokens[agree]:
                agree += 1
            e_steps = rel(got_steps[:agree], want_steps[:agree]) if agree else 0.0
            ok = e_prefill <= args.tol and e_steps <= args.tol and agree == args.new
            failed += not ok
            print(f"{'OK' if ok else 'MISMATCH'}: prefill of {length} tokens: max error "
                  f"{e_prefill:.2e} relative to the largest logit; {agree} of {args.new} "
                  f"greedy tokens equal to onnxruntime's; decode steps' error {e_steps:.2e}")
            if not ok:
                print(f"swaa: {got_tokens}\nonnxruntime: {want_tokens}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
