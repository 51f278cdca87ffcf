#!/usr/bin/env python3
"""One onnxruntime measurement, in a process of its own (bench/run reads its
peak memory from the process): prints one JSON line.

  model   MODEL.onnx --form original|gqa --context N --decode K
          prefill of N random tokens, then K greedy decode steps, as swaa-run
          does; --warmup runs untimed, then --runs timed, each in a fresh
          state (empty past).
  attention --heads H --kv-heads G --head-dim D --context N [--window W]
          onnxruntime's fused attention alone (GroupQueryAttention, causal,
          no rotary) on the shapes of one layer: a prefill of N rows, and a
          decode step (one row against N cached keys).

Every run uses --threads intra-op threads (inter-op 1), the CPU provider.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, __import__("os").path.dirname(__file__))
import gqa_model  # noqa: E402


def session(model, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def generate(s, form, ids, decode):
    """Prefill + `decode` steps; returns (prefill seconds, decode seconds)."""
    t0 = time.perf_counter()
    if form == "gqa":
        out = s.run(None, gqa_model.feeds_gqa(s, ids))
    else:
        out = s.run(None, gqa_model.feeds_original(s, ids))
    t1 = time.perf_counter()
    names = [o.name for o in s.get_outputs()]
    total = ids.shape[1]
    for _ in range(decode):
        past = {n.replace("present", "past_key_values"): v
                for n, v in zip(names, out) if n.startswith("present")}
        step = np.array([[int(out[0][0, -1].argmax())]], np.int64)
        total += 1
        if form == "gqa":
            out = s.run(None, gqa_model.feeds_gqa(s, step, past))
        else:
            feed = {"input_ids": step, "attention_mask": np.ones((1, total), np.int64)}
            feed.update(past)
            out = s.run(None, feed)
    return t1 - t0, time.perf_counter() - t1


def measure_model(args):
    s = session(args.model, args.threads)
    vocab = s.get_outputs()[0].shape[2]
    ids = np.random.default_rng(0).integers(0, vocab, (1, args.context)).astype(np.int64)
    for _ in range(args.warmup):
        generate(s, args.form, ids, args.decode)
    runs = [generate(s, args.form, ids, args.decode) for _ in range(args.runs)]
    prefill = statistics.median(r[0] for r in runs)
    decode = statistics.median(r[1] for r in runs)
    return dict(prefill_s=prefill, decode_tok_s=args.decode / decode if args.decode else None)


def attention_model(heads, kv_heads, head_dim, window):
    """GroupQueryAttention alone: q [1, S, H*D], k/v [1, S, G*D], past [1, G, P, D]."""
    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("q", f, [1, "s", heads * head_dim]),
              helper.make_tensor_value_info("k", f, [1, "s", kv_heads * head_dim]),
              helper.make_tensor_value_info("v", f, [1, "s", kv_heads * head_dim]),
              helper.make_tensor_value_info("past_k", f, [1, kv_heads, "p", head_dim]),
              helper.make_tensor_value_info("past_v", f, [1, kv_heads, "p", head_dim]),
              helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [1]),
              helper.make_tensor_value_info("total", TensorProto.INT32, [])]
    outputs = [helper.make_tensor_value_info("o", f, [1, "s", heads * head_dim]),
               helper.make_tensor_value_info("present_k", f, None),
               helper.make_tensor_value_info("present_v", f, None)]
    node = helper.make_node(
        "GroupQueryAttention", ["q", "k", "v", "past_k", "past_v", "seqlens_k", "total"],
        ["o", "present_k", "present_v"], domain="com.microsoft", num_heads=heads,
        kv_num_heads=kv_heads, local_window_size=window or -1, scale=head_dim ** -0.5)
    model = helper.make_model(helper.make_graph([node], "gqa", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 17),
                                             helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model.SerializeToString()


def measure_attention(args):
    s = session(attention_model(args.heads, args.kv_heads, args.head_dim, args.window),
                args.threads)
    rng = np.random.default_rng(0)
    n, h, g, d = args.context, args.heads, args.kv_heads, args.head_dim

    def feed(rows, past):
        return {"q": rng.standard_normal((1, rows, h * d), np.float32),
                "k": rng.standard_normal((1, rows, g * d), np.float32),
                "v": rng.standard_normal((1, rows, g * d), np.float32),
                "past_k": rng.standard_normal((1, g, past, d), np.float32),
                "past_v": rng.standard_normal((1, g, past, d), np.float32),
                "seqlens_k": np.array([past + rows - 1], np.int32),
                "total": np.array(past + rows, np.int32)}

    result = {}
    for name, f in (("prefill_s", feed(n, 0)), ("decode_s", feed(1, n))):
        for _ in range(args.warmup):
            s.run(None, f)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            s.run(None, f)
            times.append(time.perf_counter() - t0)
        result[name] = statistics.median(times)
    return result


def peak_resident_mib():
    """This process's peak resident memory (VmHWM: from exec on, unlike the
    maxrss a child inherits from its parent's fork)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["model", "attention"])
    p.add_argument("model", nargs="?")
    p.add_argument("--form", choices=["original", "gqa"], default="original")
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--decode", type=int, default=0)
    p.add_argument("--heads", type=int)
    p.add_argument("--kv-heads", type=int)
    p.add_argument("--head-dim", type=int)
    p.add_argument("--window", type=int, default=None)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    if args.what == "model" and not args.model:
        p.error("model: give the ONNX file")
    result = measure_model(args) if args.what == "model" else measure_attention(args)
    result["peak_mib"] = peak_resident_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
