#!/usr/bin/env python3
"""Checks a compiled SWAA recipe against an independent reference.

The reference is onnxruntime running the ONNX file itself, edited so that
every attention's Softmax gets one more additive mask, built in numpy from
the attention contract (query i sees key j when j <= i and, in a windowed
layer, i - W < j or j < S), one mask per layer. A row per query: prompt
positions use the layer's prefill visibility, generated positions its decode
visibility (full with FA decode), which is what prefill + decode through the
caches compute. Every logit is compared: the prefill's at every prompt
position, and each decode step's against the last row of a reference run
over the whole sequence so far (teacher-forced with swaa's tokens); the
greedy tokens must also be the reference's argmax at every step.

  check_recipe.py MODEL BIN_DIR --prompt N --new K [--window W] [--sinks S]
                  [--fa-layers SPEC] [--fa-decode] [--tol T]

Needs an export whose attention is decomposed (a Softmax per layer: the
TorchScript exporter's).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, TensorProto


def masked_model(path, layers):
    """The model with an input swaa_mask_L added to the scores of layer L."""
    m = onnx.load(path)
    g = m.graph
    softmax = [n for n in g.node if n.op_type == "Softmax"]
    if len(softmax) != layers:
        sys.exit(f"check_recipe: {len(softmax)} Softmax nodes, expected {layers}")
    for i, node in enumerate(softmax):
        name = f"swaa_mask_{i}"
        g.input.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, ["b", "h", "q", "k"]))
        added = f"swaa_masked_scores_{i}"
        add = helper.make_node("Add", [node.input[0], name], [added],
                               name=f"swaa_mask_add_{i}")
        g.node.insert(list(g.node).index(node), add)
        node.input[0] = added
    return m.SerializeToString()


def contract_mask(n, window, sinks, full_from):
    """[1, 1, n, n] additive mask; rows >= full_from see every past key."""
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    visible = j <= i
    if window is not None:
        windowed = (i - window < j) | (j < sinks)
        visible &= windowed | (i >= full_from)
    return np.where(visible, 0.0, -1e30).astype(np.float32)[None, None]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("bin_dir")
    p.add_argument("--prompt", type=int, default=200)
    p.add_argument("--new", type=int, default=100)
    p.add_argument("--window", type=int)
    p.add_argument("--sinks", type=int, default=0)
    p.add_argument("--fa-layers", default="none")
    p.add_argument("--fa-decode", action="store_true")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--reference-window", type=int,
                   help="build the reference with this window instead (shows that "
                        "the check fails on a wrong claim)")
    args = p.parse_args()

    flags = ["--fa-layers", args.fa_layers]
    if args.window:
        flags += ["--window", str(args.window), "--sinks", str(args.sinks)]
    if args.fa_decode:
        flags += ["--fa-decode"]
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as work:
        art = os.path.join(work, "m.swaa")
        c = subprocess.run([os.path.join(args.bin_dir, "swaa-compile"), args.model,
                            "-o", art] + flags, capture_output=True, text=True)
        if c.returncode:
            sys.exit("swaa-compile failed:\n" + c.stderr)
        manifest = json.load(open(os.path.join(art, "manifest.json")))
        layers = manifest["layers"]
        vocab = manifest["entries"]["prefill"]["results"][0]["shape"][2]
        caches = [a for a in manifest["entries"]["prefill"]["args"] if a["kind"] == "cache"]
        prompt = rng.integers(0, vocab, args.prompt)
        r = subprocess.run([os.path.join(args.bin_dir, "swaa-run"), art, "--prompt-ids",
                            ",".join(map(str, prompt)), "--max-new-tokens", str(args.new),
                            "--dump-logits", os.path.join(work, "p.npy"),
                            "--dump-step-logits", os.path.join(work, "s.npy")],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit("swaa-run failed:\n" + r.stderr)
        tokens = [int(t) for t in r.stdout.split("generated:")[1].split("\n")[0].split(",")]
        kv_line = [l for l in r.stdout.splitlines() if l.startswith("kv cache")][0]
        got_prefill = np.load(os.path.join(work, "p.npy"))
        got_steps = np.load(os.path.join(work, "s.npy"))

    sess = ort.InferenceSession(masked_model(args.model, len(layers)),
                                providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    past_names = [i.name for i in sess.get_inputs() if "past" in i.name]

    def reference(seq):
        n = len(seq)
        feeds = {"input_ids": np.array(seq, np.int64)[None]}
        if "attention_mask" in names:
            feeds["attention_mask"] = np.ones((1, n), np.int64)
        if "position_ids" in names:
            feeds["position_ids"] = np.arange(n)[None]
        for name, c in zip(past_names, caches):
            feeds[name] = np.zeros((1, c["shape"][1], 0, c["shape"][3]), np.float32)
        for i, l in enumerate(layers):
            w = l["prefill"]["window"]
            if w is not None and args.reference_window:
                w = args.reference_window
            full_from = args.prompt if (w is not None and l["decode"]["window"] is None) else 1 << 40
            feeds[f"swaa_mask_{i}"] = contract_mask(n, w, l["prefill"]["sinks"], full_from)
        return sess.run(None, feeds)[0][0]

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / (np.abs(b).max() + 1e-30))
    want_prefill = reference(list(prompt))
    worst = rel(got_prefill, want_prefill)
    seq = list(prompt)
    token_ok = int(np.argmax(want_prefill[-1])) == tokens[0]
    for t in range(args.new):
        seq.append(tokens[t])
        if t + 1 >= len(tokens) and t >= got_steps.shape[0]:
            break
        want = reference(seq)[-1]
        worst = max(worst, rel(got_steps[t], want))
        if t + 1 < len(tokens):
            token_ok &= int(np.argmax(want)) == tokens[t + 1]
    recipe = manifest["recipe"]
    ok = worst <= args.tol and token_ok
    print(f"{'OK' if ok else 'MISMATCH'}: window {recipe['window']}, sinks {recipe['sinks']}, "
          f"fa-layers {recipe['fa_layers']}, fa-decode {recipe['fa_decode']}: prefill of "
          f"{args.prompt} and {args.new} decode steps, max error {worst:.2e} relative to the "
          f"largest logit; greedy tokens {'equal' if token_ok else 'DIFFER'}; {kv_line}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
