#!/usr/bin/env python3
"""Checks a compiled SWAA recipe against an independent reference.

The reference is onnxruntime running the ONNX file itself, edited so that
every attention's Softmax takes the raw scores (the model's own masks, the
Adds between the score MatMul and the Softmax, are bypassed) plus one
additive mask built in numpy from the attention contract (query i sees key j when j <= i and, in a windowed
layer, i - W < j or j < S), one mask per layer. A row per query: prompt
positions use the layer's prefill visibility, generated positions its decode
visibility (full with FA decode), which is what prefill + decode through the
caches compute. Every logit is compared: the prefill's at every prompt
position, and each decode step's against the last row of a reference run
over the whole sequence so far (teacher-forced with swaa's tokens); the
greedy tokens must also be the reference's argmax at every step.

  check_recipe.py MODEL BIN_DIR --prompt N --new K [--window W] [--sinks S]
                  [--fa-layers SPEC] [--fa-decode] [--override-native-windows]
                  [--tol T]

Each layer's configuration is derived here, independently of the compiler,
from the recipe and the model's own windows (the fixture's .json `windows`,
written by test/models/export_hf.py) under the README's semantics: a layer
with the model's own window keeps it (no sinks, windowed decode) unless
--override-native-windows; the other layers get the recipe (full when
--fa-layers selects them; window W + S sinks; full decode with
--fa-decode). The compiled manifest must say the same, and the reference
masks are built from this derivation.

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


def raw_scores(g, name):
    """The scores before the model's own masks: back from the Softmax input
    through Adds, keeping the operand that comes from the score MatMul."""
    producer = {o: n for n in g.node for o in n.output}

    def from_matmul(v, depth=6):
        n = producer.get(v)
        if n is None or depth == 0:
            return False
        if n.op_type == "MatMul":
            return True
        return n.op_type in ("Mul", "Div", "Cast", "Tanh", "Add") and any(
            from_matmul(i, depth - 1) for i in n.input)

    while name in producer and producer[name].op_type == "Add":
        ins = [i for i in producer[name].input if from_matmul(i)]
        if len(ins) != 1:
            break
        name = ins[0]
    return name


def masked_model(path, layers):
    """The model with the scores of layer L going to its Softmax without the
    model's own masks, plus an input swaa_mask_L."""
    m = onnx.load(path)
    g = m.graph
    softmax = [n for n in g.node if n.op_type == "Softmax"]
    if len(softmax) != layers:
        sys.exit(f"check_recipe: {len(softmax)} Softmax nodes, expected {layers}")
    for node in softmax:
        node.input[0] = raw_scores(g, node.input[0])
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


def parse_spec(spec, layers):
    """The layers a layer spec selects (the README's syntax)."""
    out = set()
    for item in spec.split(","):
        item = item.strip()
        if item in ("none", "false", ""):
            continue
        if item in ("all", "true"):
            out |= set(range(layers))
        elif item == "odd":
            out |= set(range(1, layers, 2))
        elif item == "even":
            out |= set(range(0, layers, 2))
        elif item.startswith("every:"):
            parts = item.split(":")
            step, offset = int(parts[1]), int(parts[3]) if len(parts) > 3 else 0
            out |= set(range(offset, layers, step))
        elif item.startswith("first:"):
            out |= set(range(int(item[6:])))
        elif item.startswith("last:"):
            out |= set(range(layers - int(item[5:]), layers))
        elif "-" in item:
            a, b = item.split("-")
            out |= set(range(int(a), int(b) + 1))
        else:
            out.add(int(item))
    return out


def expected_layers(args, layers):
    """Each layer's (prefill window, sinks, decode window) under the
    documented semantics, from the recipe and the model's own windows."""
    meta_path = args.model[:-5] + ".json"
    native = [None] * layers
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        native = meta.get("windows") or [meta.get("window")] * layers
    full = parse_spec(args.fa_layers, layers)
    result = []
    for l in range(layers):
        own = native[l]
        if own is not None and not args.override_native_windows:
            result.append((own, 0, own))
            continue
        if l in full:
            result.append((None, 0, None))
            continue
        w, s = (args.window, args.sinks) if args.window else (own, 0)
        result.append((w, s if w is not None else 0,
                       None if (args.fa_decode or w is None) else w))
    return result


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
    p.add_argument("--override-native-windows", action="store_true")
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
    if args.override_native_windows:
        flags += ["--override-native-windows"]
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

    want_layers = expected_layers(args, len(layers))
    got_layers = [(l["prefill"]["window"], l["prefill"]["sinks"] if l["prefill"]["window"]
                   is not None else 0, l["decode"]["window"]) for l in layers]
    if got_layers != want_layers:
        print("MISMATCH: the compiled layers (prefill window, sinks, decode window) are "
              f"{got_layers}, the recipe and the model's own windows give {want_layers}")
        return 1

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
        for i, (w, sinks, decode_w) in enumerate(want_layers):
            if w is not None and args.reference_window:
                w = args.reference_window
            full_from = args.prompt if (w is not None and decode_w is None) else 1 << 40
            feeds[f"swaa_mask_{i}"] = contract_mask(n, w, sinks, full_from)
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
    kinds = " ".join("full" if w is None else f"{w}" + (f"+{s}" if s else "") +
                     ("" if d == w else "/fa-decode") for w, s, d in want_layers)
    print(f"{'OK' if ok else 'MISMATCH'}: window {recipe['window']}, sinks {recipe['sinks']}, "
          f"fa-layers {recipe['fa_layers']}, fa-decode {recipe['fa_decode']} (layers: {kinds}): prefill of "
          f"{args.prompt} and {args.new} decode steps, max error {worst:.2e} relative to the "
          f"largest logit; greedy tokens {'equal' if token_ok else 'DIFFER'}; {kv_line}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
