#!/usr/bin/env python3
"""Checks the module that swaa-compile imported from a test fixture.

Reads the fixture's .json (written by test/models/export_hf.py: layer count,
K/V heads, window) and the emitted MLIR, and checks that:
  - there are exactly `layers` attn.attention ops, with layers 0..L-1;
  - every one has the model's logit soft-capping (`softcap`, if any);
  - every one is causal, with its layer's own window: the fixture's
    per-layer `windows` (None: full attention), or its one `window`;
  - the key/value operands have the model's K/V head count (GQA kept, not
    expanded to the query heads);
  - no [batch, heads, query, key] scores tensor is left outside them, i.e.
    no attention was left unfused;
  - every Softmax (or Attention op) of the ONNX graph was an attention, so
    none is missed.
Prints one line; exits 1 with the reason when a check fails.
"""

import json
import re
import sys

import onnx


def main():
    model_path, mlir_path = sys.argv[1], sys.argv[2]
    meta = json.load(open(model_path[:-5] + ".json"))
    text = open(mlir_path).read()
    layers = meta["layers"]
    ops = re.findall(
        r"attn\.attention layer (\d+) (causal )?(?:window (\d+) )?(?:sinks \d+ )?"
        r"scale \S+(?: softcap (\S+))?\s+ins\([^:]*: (tensor<[^>]*>), (tensor<[^>]*>), "
        r"(tensor<[^>]*>)\)",
        text,
    )
    problems = []
    if len(ops) != layers:
        problems.append(f"{len(ops)} attn.attention ops, expected {layers}")
    if sorted(int(o[0]) for o in ops) != list(range(len(ops))):
        problems.append("layer indices are not 0..L-1")
    windows = meta.get("windows") or [meta.get("window")] * layers
    want_cap = meta.get("softcap")
    for layer, causal, window, cap, q, k, v in ops:
        if (float(cap) if cap else None) != want_cap:
            problems.append(f"layer {layer} has softcap {cap or 'none'}, expected {want_cap}")
        if not causal:
            problems.append(f"layer {layer} is not causal")
        want = windows[int(layer)] if int(layer) < len(windows) else None
        if (int(window) if window else None) != want:
            problems.append(f"layer {layer} has window {window or 'none'}, expected {want}")
        for t in (k, v):
            heads = t.split("<")[1].split("x")[1]
            if heads != str(meta["kv_heads"]):
                problems.append(f"layer {layer} K/V {t} has {heads} heads, expected {meta['kv_heads']}")
        q_heads = q.split("<")[1].split("x")[1]
        scores = f"tensor<?x{q_heads}x?x?x"
        if scores in text:
            problems.append(f"a scores tensor {scores}...> is left outside attn.attention")
    graph = onnx.load(model_path, load_external_data=False).graph
    attentions = sum(1 for n in graph.node if n.op_type in
                     ("Softmax", "Attention", "GroupQueryAttention", "MultiHeadAttention"))
    if attentions != layers:
        problems.append(f"the ONNX graph has {attentions} Softmax/Attention nodes "
                        f"for {layers} layers")
    name = "/".join(model_path.split("/")[-2:]) if model_path.endswith("/model.onnx") else model_path.split("/")[-1]
    if problems:
        print(f"FAIL {name}: " + "; ".join(problems))
        return 1
    kinds = sorted({("window " + w) if w else "causal" for _, _, w, _, _, _, _ in ops})
    per_layer = ""
    if len(kinds) > 1:
        by_layer = {int(o[0]): o[2] or "full" for o in ops}
        per_layer = "; per layer: " + " ".join(by_layer[i] for i in sorted(by_layer))
    cap = f", softcap {want_cap:g}" if want_cap else ""
    print(f"OK {name}: {layers} attn.attention ({', '.join(kinds)}), K/V heads "
          f"{meta['kv_heads']}{cap}{per_layer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
