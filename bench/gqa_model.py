#!/usr/bin/env python3
"""onnxruntime's own sliding window: a Llama ONNX file rewritten around
com.microsoft.GroupQueryAttention.

Reads the weights of a Llama exported by torch.onnx (the TorchScript
exporter's node scopes: layers.L/self_attn/q_proj/MatMul, .../input_layernorm/
Mul_1, model/norm, lm_head, embed_tokens, the rotary inverse frequencies) and
writes the same model with each attention as one GroupQueryAttention node
(rotary inside it, `local_window_size` for a sliding window, -1 for full
attention) and RMS norms as SimplifiedLayerNormalization: the peer's fused
kernel, the form onnxruntime's own model builder writes. GroupQueryAttention
has no sink tokens, so a window here is a plain sliding window.

Inputs: input_ids [1, S], past_key_values.L.key/value [1, Hkv, P, D],
seqlens_k [1] (P + S - 1) and total_sequence_length (P + S); outputs logits
and present.L.key/value. `check` runs both files on a short prompt and
compares the logits (full attention), so a wrong reading fails loudly.

  python3 bench/gqa_model.py MODEL.onnx OUT.onnx [--window W] [--check]
"""

import argparse
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def read_llama(path):
    """The weights and shapes of a torch-exported Llama, by node scope."""
    m = onnx.load(path)
    values = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].type == onnx.AttributeProto.TENSOR:
            values[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        elif n.op_type == "Identity" and n.input[0] in values:
            # The exporter shares equal tensors (norm weights) this way.
            values[n.output[0]] = values[n.input[0]]
    w = {"layers": {}}

    def const_input(n):
        found = [values[i] for i in n.input if i in values]
        return found[0] if found else None

    for n in m.graph.node:
        layer = re.search(r"layers\.(\d+)/", n.name)
        L = int(layer.group(1)) if layer else None
        if n.op_type == "MatMul" and n.input[1] in values:
            proj = re.search(r"/(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)/", n.name)
            if proj and L is not None:
                w["layers"].setdefault(L, {})[proj.group(1)] = values[n.input[1]]
            elif "lm_head" in n.name:
                w["lm_head"] = values[n.input[1]]
        elif n.op_type == "Mul" and re.search(r"(input_layernorm|post_attention_layernorm|/norm)/Mul_1$", n.name):
            norm = const_input(n)
            if L is not None:
                key = "input_norm" if "input_layernorm" in n.name else "post_norm"
                w["layers"].setdefault(L, {})[key] = norm
            else:
                w["norm"] = norm
        elif n.op_type == "Add" and re.search(r"(input_layernorm|/norm)/Add$", n.name) and "eps" not in w:
            eps = const_input(n)
            if eps is not None:
                w["eps"] = float(eps)
        elif n.op_type == "Gather" and "embed_tokens" in n.name:
            w["embed"] = values[n.input[0]]
        elif n.op_type == "Constant" and n.name.endswith("rotary_emb/Constant_1"):
            w["inv_freq"] = values[n.output[0]].astype(np.float32)
    kv = [i for i in m.graph.input if i.name.startswith("past_key_values.0.key")]
    if not kv:
        raise SystemExit(f"{path}: no past_key_values inputs (export it with past key/values)")
    dims = kv[0].type.tensor_type.shape.dim
    w["kv_heads"], w["head_dim"] = dims[1].dim_value, dims[3].dim_value
    missing = [k for k in ("embed", "norm", "lm_head", "inv_freq", "eps") if k not in w]
    for L, layer in w["layers"].items():
        missing += [f"layers.{L}.{k}" for k in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                 "up_proj", "down_proj", "input_norm", "post_norm")
                    if k not in layer]
    if missing or not w["layers"]:
        raise SystemExit(f"{path}: not a torch-exported Llama this script reads "
                         f"(missing: {', '.join(missing) or 'layers'})")
    w["heads"] = w["layers"][0]["q_proj"].shape[1] // w["head_dim"]
    return w


def build(w, window, max_positions):
    """The GroupQueryAttention model (window None: full attention)."""
    nodes, inits = [], []
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "seq", w["lm_head"].shape[1]])]

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, ins, outs, domain="", **attrs):
        nodes.append(helper.make_node(op, ins, outs, domain=domain or None, **attrs))
        return outs[0]

    pos = np.arange(max_positions, dtype=np.float32)[:, None] * w["inv_freq"][None, :]
    cos, sin = init("cos_cache", np.cos(pos)), init("sin_cache", np.sin(pos))
    hkv, d = w["kv_heads"], w["head_dim"]
    inputs += [helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [1]),
               helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, [])]
    x = node("Gather", [init("embed", w["embed"]), "input_ids"], ["x0"])
    for L in sorted(w["layers"]):
        p = w["layers"][L]
        norm = lambda src, weight, name: node(
            "SimplifiedLayerNormalization", [src, init(name, weight)], [name + "_out"],
            axis=-1, epsilon=w["eps"])
        h = norm(x, p["input_norm"], f"l{L}_in_norm")
        q, k, v = (node("MatMul", [h, init(f"l{L}_{n}", p[n])], [f"l{L}_{n}_out"])
                   for n in ("q_proj", "k_proj", "v_proj"))
        past_k, past_v = f"past_key_values.{L}.key", f"past_key_values.{L}.value"
        for name in (past_k, past_v):
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, hkv, "past", d]))
        present = [f"present.{L}.key", f"present.{L}.value"]
        for name in present:
            outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, hkv, "total", d]))
        a = node("GroupQueryAttention",
                 [q, k, v, past_k, past_v, "seqlens_k", "total_sequence_length", cos, sin],
                 [f"l{L}_attn"] + present, domain="com.microsoft",
                 num_heads=w["heads"], kv_num_heads=hkv, do_rotary=1, rotary_interleaved=0,
                 local_window_size=window if window else -1, scale=float(d) ** -0.5)
        x = node("Add", [x, node("MatMul", [a, init(f"l{L}_o", p["o_proj"])], [f"l{L}_o_out"])],
                 [f"l{L}_x1"])
        h = norm(x, p["post_norm"], f"l{L}_post_norm")
        g = node("MatMul", [h, init(f"l{L}_gate", p["gate_proj"])], [f"l{L}_g"])
        silu = node("Mul", [g, node("Sigmoid", [g], [f"l{L}_sig"])], [f"l{L}_silu"])
        u = node("MatMul", [h, init(f"l{L}_up", p["up_proj"])], [f"l{L}_u"])
        m = node("Mul", [silu, u], [f"l{L}_mlp_in"])
        x = node("Add", [x, node("MatMul", [m, init(f"l{L}_down", p["down_proj"])], [f"l{L}_mlp"])],
                 [f"l{L}_x2"])
    h = node("SimplifiedLayerNormalization", [x, init("norm", w["norm"])], ["final_norm"],
             axis=-1, epsilon=w["eps"])
    node("MatMul", [h, init("lm_head", w["lm_head"])], ["logits"])
    graph = helper.make_graph(nodes, "llama_gqa", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


def write(src, dst, window=None, max_positions=32768):
    onnx.save(build(read_llama(src), window, max_positions), dst)


def feeds_original(model, ids):
    import onnxruntime as ort  # noqa: F401
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    for i in model.get_inputs():
        if i.name.startswith("past_key_values"):
            feed[i.name] = np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
    return feed


def feeds_gqa(model, ids, past=None):
    """Inputs of the GQA model for `ids` after `past` (name -> array)."""
    feed = {"input_ids": ids}
    total = ids.shape[1]
    for i in model.get_inputs():
        if i.name.startswith("past_key_values"):
            feed[i.name] = past[i.name] if past else np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
    if past:
        total += next(iter(past.values())).shape[2]
    feed["seqlens_k"] = np.array([total - 1], np.int32)
    feed["total_sequence_length"] = np.array(total, np.int32)
    return feed


def check(src, dst, tokens=40, tol=1e-3):
    """Full-attention logits of both files on one prompt, then two decode
    steps; exits non-zero when they differ by more than `tol` (relative)."""
    import onnxruntime as ort
    a = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(dst, providers=["CPUExecutionProvider"])
    vocab = b.get_outputs()[0].shape[2]
    ids = np.random.default_rng(0).integers(0, vocab, (1, tokens)).astype(np.int64)
    ref = a.run(["logits"], feeds_original(a, ids))[0]
    out = b.run(None, feeds_gqa(b, ids))
    err = np.abs(out[0] - ref).max() / np.abs(ref).max()
    past = {o.name.replace("present", "past_key_values"): v
            for o, v in zip(b.get_outputs(), out) if o.name.startswith("present")}
    step = np.array([[int(out[0][0, -1].argmax())]], np.int64)
    out2 = b.run(None, feeds_gqa(b, step, past))[0]
    ids2 = np.concatenate([ids, step], axis=1)
    ref2 = a.run(["logits"], feeds_original(a, ids2))[0][:, -1:]
    err = max(err, np.abs(out2 - ref2).max() / np.abs(ref2).max())
    if not err <= tol:
        sys.exit(f"gqa_model: {dst} differs from {src}: max relative error {err:.2e} > {tol}")
    return err


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--window", type=int, default=None,
                   help="local_window_size (default: full attention)")
    p.add_argument("--check", action="store_true",
                   help="compare with the original (full attention only)")
    args = p.parse_args()
    write(args.model, args.out, args.window)
    if args.check:
        print(f"gqa_model: {args.out} matches {args.model}: max relative error "
              f"{check(args.model, args.out):.2e}")


if __name__ == "__main__":
    main()
