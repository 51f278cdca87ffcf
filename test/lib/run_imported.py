#!/usr/bin/env python3
"""Runs an imported model through the reference lowering and compares its
outputs with onnxruntime on the same ONNX file.

Imports MODEL with BIN_DIR/swaa-compile, appends a @main that passes random inputs
and the model's weights (as exact hex dense constants) to @forward and
prints every output, lowers with `swaa-opt --swaa-reference-cpu`, runs
mlir-runner (from PATH), and compares each output with onnxruntime's. Slow (the
reference attention is O(n^2) and everything runs as scalar loops): for tiny
fixtures and short prompts (with --past, a KV cache of that length). The full numerical checks
(every fixture, decode steps, SWAA recipes) come with the CPU back end.

  run_imported.py MODEL BIN_DIR LLVM_LIB_DIR [--seq N] [--batch B] [--tol T]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

NP = {1: np.float32, 7: np.int64, 6: np.int32, 9: np.bool_, 10: np.float16}
MLIR = {np.float32: "f32", np.int64: "i64", np.int32: "i32", np.bool_: "i1", np.float16: "f16"}


def dense(array):
    t = MLIR[array.dtype.type]
    shape = "x".join(str(d) for d in array.shape)
    data = np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        data = data.astype(np.uint8)
    return f'dense<"0x{data.tobytes().hex().upper()}"> : tensor<{shape}x{t}>'


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("bin_dir")
    p.add_argument("lib_dir")
    p.add_argument("--seq", type=int, default=5)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--past", type=int, default=0,
                   help="past length for inputs whose size names contain 'past'")
    p.add_argument("--dim", action="append", default=[],
                   help="NAME=VALUE for a symbolic input size")
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args()
    dims = {k: int(v) for k, v in (d.split("=") for d in args.dim)}
    rng = np.random.default_rng(0)
    model = onnx.load(args.model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}

    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = []
        for i, d in enumerate(tt.shape.dim):
            name = d.dim_param
            if d.dim_value:
                shape.append(d.dim_value)
            elif name in dims:
                shape.append(dims[name])
            elif i == 0:
                shape.append(args.batch)
            elif "past" in name:
                shape.append(args.past)
            elif "total" in name:
                shape.append(args.past + args.seq)
            else:
                shape.append(args.seq)
        dtype = NP[tt.elem_type]
        if vi.name == "input_ids":
            feeds[vi.name] = rng.integers(0, 100, shape).astype(dtype)
        elif dtype in (np.int64, np.int32):
            feeds[vi.name] = (np.ones(shape) if "mask" in vi.name else
                              np.tile(np.arange(shape[-1]), shape[:-1] + [1])).astype(dtype)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(dtype)
    expected = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).run(None, feeds)

    with tempfile.TemporaryDirectory() as work:
        imported = subprocess.run([os.path.join(args.bin_dir, "swaa-compile"), args.model,
                                   "--emit=mlir"], capture_output=True, text=True, check=True).stdout
        sig = re.search(r"func\.func @forward\((.*?)\) -> \((.*?)\) \{", imported, re.S)
        arg_types, arg_names = [], []
        for m in re.finditer(r"%arg\d+: (tensor<[^>]*>) \{swaa\.(input|weight) = \"([^\"]*)\"", sig.group(1)):
            arg_types.append(m.group(1))
            arg_names.append(m.group(3))
        result_types = re.findall(r"(tensor<[^>]*>) \{", sig.group(2))
        lines = ["func.func private @printMemrefF32(tensor<*xf32>)", "func.func @main() {"]
        call_args = []
        for i, (name, t) in enumerate(zip(arg_names, arg_types)):
            value = feeds[name] if name in feeds else inits[name]
            lines.append(f"  %c{i} = arith.constant {dense(value)}")
            static = dense(value).split(" : ")[1]
            if static != t:
                lines.append(f"  %a{i} = tensor.cast %c{i} : {static} to {t}")
                call_args.append(f"%a{i}")
            else:
                call_args.append(f"%c{i}")
        outs = ", ".join(f"%r{i}" for i in range(len(result_types)))
        lines.append(f"  {outs} = call @forward({', '.join(call_args)}) : ({', '.join(arg_types)}) -> ({', '.join(result_types)})")
        for i, t in enumerate(result_types):
            lines.append(f"  %u{i} = tensor.cast %r{i} : {t} to tensor<*xf32>")
            lines.append(f"  call @printMemrefF32(%u{i}) : (tensor<*xf32>) -> ()")
        lines += ["  return", "}"]
        module = imported.rstrip().rstrip("}") + "\n" + "\n".join(lines) + "\n}\n"
        path = os.path.join(work, "run.mlir")
        open(path, "w").write(module)
        lowered = subprocess.run([os.path.join(args.bin_dir, "swaa-opt"), path,
                                  "--swaa-reference-cpu"], capture_output=True, text=True)
        if lowered.returncode != 0:
            sys.exit("swaa-opt --swaa-reference-cpu failed:\n" + lowered.stderr[-3000:])
        lowered = lowered.stdout
        libs = ",".join(os.path.join(args.lib_dir, l) for l in
                        ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
        run = subprocess.run(["mlir-runner", "-e", "main", "-entry-point-result=void",
                              f"-shared-libs={libs}"], input=lowered, capture_output=True,
                             text=True)
        if run.returncode:
            print(run.stderr[-2000:])
            return 1
    blocks = re.split(r"Unranked Memref[^\n]*\n", run.stdout)[1:]
    worst = 0.0
    for i, (block, want) in enumerate(zip(blocks, expected)):
        got = np.array([float(x) for x in re.findall(r"[-+]?(?:nan|inf|[0-9.]+(?:e[-+]?\d+)?)", block)])
        want = want.astype(np.float64).reshape(-1)
        if got.size != want.size:
            print(f"MISMATCH output {i}: {got.size} values, expected {want.size}")
            return 1
        err = np.max(np.abs(got - want) / (np.abs(want).max() + 1e-30))
        worst = max(worst, err)
    if worst <= args.tol:
        print(f"OK: {len(expected)} outputs match onnxruntime, max error relative "
              f"to each output's max {worst:.2e}")
        return 0
    print(f"MISMATCH: {len(expected)} outputs differ from onnxruntime beyond "
          f"{args.tol:g}, max error relative to each output's max {worst:.2e}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
