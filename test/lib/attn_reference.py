#!/usr/bin/env python3
"""Independent numpy reference for `attn.attention`, used by the lit suite.

Written from the attention contract (README.md, "The attn.attention op"),
not from any lowering:
a key at position j is visible to a query at position i when j <= i (causal)
and, with a window W, when i - W < j or j < sinks. The queries are the last
query_seq positions of the key sequence.

Usage (from a lit RUN line):
  attn_reference.py TEST.mlir RUNNER_OUTPUT [--causal] [--window W]
                    [--sinks S] --scale F [--rtol R] [--atol A]

TEST.mlir holds the inputs as `%q = arith.constant dense<...> : tensor<...>`
(likewise %k, %v and optionally %mask). RUNNER_OUTPUT is what mlir-runner
printed for the result (printMemrefF32). Prints one summary line and exits 0
when every value matches within the tolerance, 1 otherwise.
"""

import argparse
import re
import sys

import numpy as np

DTYPES = {"f64": np.float64, "f32": np.float32, "f16": np.float16}


def parse_float(token, dtype):
    """A float literal of a dense attribute; hex literals are bit patterns."""
    if token.startswith("0x"):
        bits = np.array([int(token, 16)], dtype={"f16": np.uint16, "f32": np.uint32, "f64": np.uint64}[dtype])
        return float(bits.view(DTYPES[dtype])[0])
    return float(token)


def parse_dense(text, name):
    """Returns the numpy array of `%name = arith.constant dense<...> : tensor<..>`."""
    pattern = (
        r"%" + re.escape(name) + r"\s*=\s*arith\.constant\s+dense<(.*?)>\s*:\s*"
        r"tensor<([0-9x]+)x(f16|f32|f64)>"
    )
    match = re.search(pattern, text, re.S)
    if not match:
        return None
    body, shape, dtype = match.groups()
    values = [
        parse_float(x, dtype)
        for x in re.findall(r"0x[0-9A-Fa-f]+|[-+]?(?:inf|[0-9.]+(?:e[-+]?\d+)?)", body)
    ]
    shape = tuple(int(s) for s in shape.split("x"))
    array = np.array(values, dtype=np.float64).reshape(shape)
    # Round to the element type the compiled code sees, then compute in f64.
    return array.astype(DTYPES[dtype]).astype(np.float64), DTYPES[dtype]


def parse_runner_output(text):
    """Returns (sizes, values) from printMemrefF32 output."""
    match = re.search(r"sizes = \[([0-9, ]*)\].*?data =\s*(.*)", text, re.S)
    if not match:
        raise SystemExit("attn_reference: no printMemrefF32 output found")
    sizes = tuple(int(s) for s in match.group(1).split(",") if s.strip())
    values = re.findall(r"[-+]?(?:inf|nan|[0-9.]+(?:e[-+]?\d+)?)", match.group(2))
    return sizes, np.array([float(v) for v in values], dtype=np.float64)


def visible(i, j, causal, window, sinks):
    """The mask contract: may query position i see key position j?"""
    if not causal:
        return True
    if j > i:
        return False
    if window is None:
        return True
    return i - window < j or j < sinks


def attention(q, k, v, mask, scale, causal, window, sinks, softcap=None):
    """Plain-loop attention over the visible keys of every query."""
    batch, q_heads, q_seq, _ = q.shape
    kv_heads, k_seq, v_dim = k.shape[1], k.shape[2], v.shape[3]
    group = q_heads // kv_heads
    out = np.zeros((batch, q_heads, q_seq, v_dim))
    for b in range(batch):
        for h in range(q_heads):
            kv = h // group
            for r in range(q_seq):
                i = r + k_seq - q_seq  # absolute position of this query
                keys = [j for j in range(k_seq) if visible(i, j, causal, window, sinks)]
                if not keys:
                    continue  # no visible key: the row is zero
                logits = np.array([scale * np.dot(q[b, h, r], k[b, kv, j]) for j in keys])
                if softcap is not None:  # logit soft-capping, before the mask
                    logits = softcap * np.tanh(logits / softcap)
                if mask is not None:
                    logits += np.array(
                        [
                            mask[
                                b % mask.shape[0],
                                h % mask.shape[1],
                                r % mask.shape[2],
                                j % mask.shape[3],
                            ]
                            for j in keys
                        ]
                    )
                if np.all(np.isneginf(logits)):
                    continue
                weights = np.exp(logits - logits.max())
                weights /= weights.sum()
                out[b, h, r] = sum(w * v[b, kv, j] for w, j in zip(weights, keys))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("test_file")
    parser.add_argument("runner_output")
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--window", type=int)
    parser.add_argument("--sinks", type=int, default=0)
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--softcap", type=float)
    parser.add_argument("--rtol", type=float)
    parser.add_argument("--atol", type=float)
    args = parser.parse_args()

    text = open(args.test_file).read()
    inputs = {}
    for name in ("q", "k", "v", "mask"):
        parsed = parse_dense(text, name)
        if parsed is None and name != "mask":
            raise SystemExit(f"attn_reference: no dense constant %{name} in {args.test_file}")
        inputs[name] = parsed
    q, dtype = inputs["q"]
    k, _ = inputs["k"]
    v, _ = inputs["v"]
    mask = inputs["mask"][0] if inputs["mask"] else None
    # The op's f32 scale attribute.
    scale = float(np.float32(args.scale))

    softcap = float(np.float32(args.softcap)) if args.softcap is not None else None
    expected = attention(q, k, v, mask, scale, args.causal, args.window, args.sinks,
                         softcap)
    # The compiled result is rounded to the element type.
    expected = expected.astype(dtype).astype(np.float64)
    sizes, got = parse_runner_output(open(args.runner_output).read())
    if sizes != expected.shape or got.size != expected.size:
        print(f"MISMATCH: shape {sizes} ({got.size} values) vs expected {expected.shape}")
        return 1

    narrow = dtype == np.float16
    rtol = args.rtol if args.rtol is not None else (2e-3 if narrow else 1e-5)
    atol = args.atol if args.atol is not None else (2e-3 if narrow else 1e-5)
    expected = expected.reshape(-1)
    err = np.abs(got - expected)
    bad = err > atol + rtol * np.abs(expected)
    if bad.any() or np.isnan(got).any():
        first = int(np.argmax(bad | np.isnan(got)))
        print(
            f"MISMATCH: {int(bad.sum())} of {got.size} values differ; first at flat "
            f"index {first}: got {got[first]}, expected {expected[first]:.7g}"
        )
        return 1
    print(f"OK: {got.size} values match numpy, max abs error {err.max():.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
