#!/usr/bin/env python3
"""Writes test/models/onnx/mha-causal.onnx: a two-layer decoder block stack
built with onnx.helper around com.microsoft.MultiHeadAttention (3-D query,
key and value, unidirectional=1), the layout onnxruntime's transformer
optimizer and genai builder give that op. Checked with onnxruntime, which
runs it. (The genai builder's own fp32-on-CPU MHA export could not be used:
its mask subgraph broadcasts sequence_length against past + sequence_length,
which holds only for prompts or single-token steps.)
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
HIDDEN, HEADS, LAYERS = 64, 4, 2


def main():
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def weight(name, shape):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) * 0.1).astype(np.float32), name))
        return name

    x = "hidden"
    for layer in range(LAYERS):
        p = f"l{layer}"
        for proj in "qkv":
            nodes.append(helper.make_node(
                "MatMul", [x, weight(f"{p}.{proj}.weight", (HIDDEN, HIDDEN))],
                [f"{p}.{proj}"]))
        nodes.append(helper.make_node(
            "MultiHeadAttention", [f"{p}.q", f"{p}.k", f"{p}.v"], [f"{p}.attn"],
            domain="com.microsoft", num_heads=HEADS, unidirectional=1))
        nodes.append(helper.make_node(
            "MatMul", [f"{p}.attn", weight(f"{p}.o.weight", (HIDDEN, HIDDEN))],
            [f"{p}.out"]))
        nodes.append(helper.make_node("Add", [x, f"{p}.out"], [f"{p}.res"]))
        x = f"{p}.res"
    nodes.append(helper.make_node("Identity", [x], ["output"]))
    graph = helper.make_graph(
        nodes, "mha-causal",
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "mha-causal.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sess.run(None, {"hidden": rng.standard_normal((2, 5, HIDDEN)).astype(np.float32)})
    with open(path[:-5] + ".json", "w") as f:
        json.dump({"model": "onnx.helper decoder stack", "layers": LAYERS,
                   "kv_heads": HEADS, "window": None}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("written:", os.path.relpath(path))


if __name__ == "__main__":
    main()
