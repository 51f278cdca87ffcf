#!/usr/bin/env python3
"""Writes the execution tests of the reference lowering (test/Integration/CPU).

Each case becomes one lit test: random inputs (fixed seed, three decimals) as
dense constants, one `attn.attention`, a RUN line that lowers it with
`--swaa-reference-cpu`, runs it with mlir-runner, and compares the printed
result with the numpy reference in attn_reference.py.

Regenerate after changing a case:  python3 test/lib/make_attention_case.py
"""

import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "Integration", "CPU")

# name: (description, q shape, k shape, v head_dim, attributes, options)
CASES = {
    "reference-fa": (
        "full attention, not causal: every key visible",
        (1, 2, 5, 4), (1, 2, 5, 4), 4, dict(scale=0.5), {},
    ),
    "reference-causal": (
        "causal full attention, batch 2",
        (2, 2, 6, 4), (2, 2, 6, 4), 4, dict(scale=0.5, causal=True), {},
    ),
    "reference-window": (
        "sliding window 3: each query sees itself and the 2 keys before",
        (1, 2, 9, 4), (1, 2, 9, 4), 4, dict(scale=0.5, causal=True, window=3), {},
    ),
    "reference-window-sinks": (
        "sliding window 3 with 2 sink tokens that every query keeps",
        (1, 2, 10, 4), (1, 2, 10, 4), 4,
        dict(scale=0.5, causal=True, window=3, sinks=2), {},
    ),
    "reference-gqa": (
        "grouped-query attention: 8 query heads share 2 key/value heads",
        (1, 8, 6, 4), (1, 2, 6, 4), 4, dict(scale=0.5, causal=True), {},
    ),
    "reference-gqa-window-sinks": (
        "GQA (4 query heads, 2 key/value heads), window 4, sinks 2, batch 2",
        (2, 4, 11, 4), (2, 2, 11, 4), 4,
        dict(scale=0.4, causal=True, window=4, sinks=2), {},
    ),
    "reference-mqa": (
        "multi-query attention: 4 query heads share one key/value head",
        (1, 4, 5, 3), (1, 1, 5, 3), 3, dict(scale=0.6, causal=True, window=2), {},
    ),
    "reference-decode": (
        "decode step: one query at position 11 against a 12-token cache, "
        "window 4 and 3 sinks",
        (1, 2, 1, 4), (1, 2, 12, 4), 4,
        dict(scale=0.5, causal=True, window=4, sinks=3), {},
    ),
    "reference-chunk": (
        "prefill chunk: 3 queries at positions 7..9 against 10 keys, window 5, "
        "1 sink",
        (1, 2, 3, 4), (1, 2, 10, 4), 4,
        dict(scale=0.5, causal=True, window=5, sinks=1), {},
    ),
    "reference-window-covers-all": (
        "a window longer than the sequence is full causal attention",
        (1, 2, 6, 4), (1, 2, 6, 4), 4, dict(scale=0.5, causal=True, window=64), {},
    ),
    "reference-sinks-beyond-window": (
        "more sink tokens than the window: sinks still respect causality",
        (1, 1, 8, 4), (1, 1, 8, 4), 4,
        dict(scale=0.5, causal=True, window=2, sinks=5), {},
    ),
    "reference-mask": (
        "additive padding mask [batch, 1, 1, key_seq] that broadcasts over heads "
        "and queries; -inf on the first key leaves query 0 with no visible key",
        (2, 2, 5, 4), (2, 2, 5, 4), 4, dict(scale=0.5, causal=True),
        dict(mask=(2, 1, 1, 5)),
    ),
    "reference-value-dim": (
        "value head_dim 6 differs from the query/key head_dim 4",
        (1, 2, 5, 4), (1, 2, 5, 4), 6, dict(scale=0.5, causal=True, window=2), {},
    ),
    "reference-dynamic": (
        "dynamic batch and sequence sizes (the importer's symbolic dims)",
        (2, 2, 7, 4), (2, 2, 7, 4), 4,
        dict(scale=0.5, causal=True, window=3, sinks=1), dict(dynamic=True),
    ),
    "reference-f16": (
        "f16 inputs, accumulated in f32 and rounded to f16",
        (1, 2, 7, 8), (1, 2, 7, 8), 8,
        dict(scale=0.35, causal=True, window=3, sinks=1), dict(dtype="f16"),
    ),
    "reference-long-window-sinks": (
        "70 positions, window 13, 5 sinks, GQA 4/2: many query and key tiles "
        "of the tiled loop nest, windows that start mid-tile",
        (1, 4, 70, 8), (1, 2, 70, 8), 8,
        dict(scale=0.35, causal=True, window=13, sinks=5), {},
    ),
    "reference-softcap": (
        "logit soft-capping (Gemma 2): scores squashed to (-1.5, 1.5) by "
        "1.5 * tanh(s / 1.5) before the additive mask",
        (2, 2, 6, 4), (2, 2, 6, 4), 4,
        dict(scale=1.0, causal=True, softcap=1.5), dict(mask=(2, 1, 1, 6)),
    ),
    "reference-softcap-window": (
        "soft-capping with a window of 9, 2 sinks and GQA 4/2 over 40 "
        "positions: the capped scores in every tiled and vectorized path",
        (1, 4, 40, 8), (1, 2, 40, 8), 8,
        dict(scale=1.0, causal=True, window=9, sinks=2, softcap=2.0), {},
    ),
}


def dense(array):
    def fmt(a):
        if a.ndim == 1:
            return "[" + ", ".join(
                "0xFF800000" if np.isneginf(x) else f"{x:.3f}" for x in a) + "]"
        return "[" + ", ".join(fmt(x) for x in a) + "]"
    return f"dense<{fmt(array)}>"


def tensor_type(shape, dtype, dynamic_axes=()):
    dims = ["?" if axis in dynamic_axes else str(size) for axis, size in enumerate(shape)]
    return f"tensor<{'x'.join(dims)}x{dtype}>"


def write_case(name, seed):
    description, q_shape, k_shape, v_dim, attrs, options = CASES[name]
    dtype = options.get("dtype", "f32")
    dynamic = options.get("dynamic", False)
    rng = np.random.default_rng(seed)
    v_shape = k_shape[:3] + (v_dim,)
    out_shape = q_shape[:3] + (v_dim,)
    arrays = {
        "q": np.round(rng.uniform(-1, 1, q_shape), 3),
        "k": np.round(rng.uniform(-1, 1, k_shape), 3),
        "v": np.round(rng.uniform(-1, 1, v_shape), 3),
    }
    if "mask" in options:
        mask = np.round(rng.uniform(-2, 0, options["mask"]), 3)
        mask[0, 0, 0, 0] = -np.inf
        arrays["mask"] = mask

    flags = [f"--scale {attrs['scale']}"]
    op_attrs = [f"layer 0"]
    if attrs.get("causal"):
        flags.insert(0, "--causal")
        op_attrs.append("causal")
    if "window" in attrs:
        flags.insert(1, f"--window {attrs['window']}")
        op_attrs.append(f"window {attrs['window']}")
    if attrs.get("sinks"):
        flags.insert(2, f"--sinks {attrs['sinks']}")
        op_attrs.append(f"sinks {attrs['sinks']}")
    op_attrs.append(f"scale {attrs['scale']}")
    if "softcap" in attrs:
        flags.append(f"--softcap {attrs['softcap']}")
        op_attrs.append(f"softcap {attrs['softcap']}")

    static_types = {n: tensor_type(a.shape, dtype) for n, a in arrays.items()}
    # Dynamic cases make batch and sequence sizes symbolic, as the importer
    # does; a mask's broadcast (size 1) dimensions stay static.
    seq_axes = (0, 2) if dynamic else ()
    arg_types = {n: tensor_type(a.shape, dtype, seq_axes) for n, a in arrays.items()}
    if "mask" in arrays:
        mask_axes = [a for a in (0, 3) if dynamic and arrays["mask"].shape[a] != 1]
        arg_types["mask"] = tensor_type(arrays["mask"].shape, dtype, mask_axes)
    result_type = tensor_type(out_shape, dtype, seq_axes)
    names = [n for n in ("q", "k", "v", "mask") if n in arrays]
    count = int(np.prod(out_shape))

    lines = [
        f"// Generated by test/lib/make_attention_case.py; edit the case there.",
        f"// Reference lowering, executed: {description}.",
        f"// RUN: swaa-opt %s --swaa-reference-cpu | %run-cpu > %t",
        f"// RUN: %attn-ref %s %t {' '.join(flags)} | FileCheck %s",
        f"// The tiled loop nests compute the same, with tiles smaller than the",
        f"// window and ragged edges: the pipeline's default (rows below 16 lanes:",
        f"// the row kernel of grouped heads), the kernel vectorized across query",
        f"// rows with 4 lanes (query tiles of 2 row vectors, blocks of 4 keys, a",
        f"// key left over), and the row kernel on every row count with the keys",
        f"// split into parallel splits of 4 (2 key tiles) merged afterwards:",
        f'// RUN: swaa-opt %s --swaa-tiled-cpu="query-tile=3 key-tile=2" | %run-cpu > %t.tiled',
        f"// RUN: %attn-ref %s %t.tiled {' '.join(flags)} | FileCheck %s",
        f'// RUN: swaa-opt %s --swaa-tiled-cpu="query-tile=8 key-tile=5 vector-width=4" | %run-cpu > %t.vector',
        f"// RUN: %attn-ref %s %t.vector {' '.join(flags)} | FileCheck %s",
        f'// RUN: swaa-opt %s --swaa-tiled-cpu="query-tile=3 key-tile=2 vector-width=128 split-keys=3" | %run-cpu > %t.split',
        f"// RUN: %attn-ref %s %t.split {' '.join(flags)} | FileCheck %s",
        f"// CHECK: OK: {count} values match numpy",
        "",
        "func.func private @printMemrefF32(tensor<*xf32>)",
        "",
        "func.func @attention("
        + ", ".join(f"%{n}: {arg_types[n]}" for n in names)
        + f") -> {result_type} {{",
        f"  %o = attn.attention {' '.join(op_attrs)}",
        f"         ins(%q, %k, %v : {arg_types['q']}, {arg_types['k']}, {arg_types['v']})",
    ]
    if "mask" in arrays:
        lines.append(f"         mask(%mask : {arg_types['mask']})")
    lines += [f"         -> {result_type}", f"  return %o : {result_type}", "}", ""]
    lines.append("func.func @main() {")
    for n in names:
        lines.append(f"  %{n} = arith.constant {dense(arrays[n])} : {static_types[n]}")
    call_args = []
    for n in names:
        if arg_types[n] != static_types[n]:
            lines.append(f"  %{n}_d = tensor.cast %{n} : {static_types[n]} to {arg_types[n]}")
            call_args.append(f"%{n}_d")
        else:
            call_args.append(f"%{n}")
    lines.append(
        f"  %o = call @attention({', '.join(call_args)}) : ("
        + ", ".join(arg_types[n] for n in names) + f") -> {result_type}")
    printed, printed_type = "%o", result_type
    if dtype != "f32":
        f32_type = result_type.replace(dtype, "f32")
        lines.append(f"  %o32 = arith.extf %o : {result_type} to {f32_type}")
        printed, printed_type = "%o32", f32_type
    lines += [
        f"  %u = tensor.cast {printed} : {printed_type} to tensor<*xf32>",
        "  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()",
        "  return",
        "}",
    ]
    path = os.path.join(OUT_DIR, name + ".mlir")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for seed, name in enumerate(CASES):
        print("wrote", os.path.relpath(write_case(name, seed)))


if __name__ == "__main__":
    main()
