#!/usr/bin/env python3
"""Runs a model split into @prefill and @decode (swaa-compile with a recipe)
through the reference lowering and checks its logits.

Compiles MODEL with BIN_DIR/swaa-compile and the given recipe flags, appends
a @main that prefills a prompt of --prompt tokens into zeroed caches, then
runs --steps decode steps (teacher-forced with fixed random tokens), and
prints every logit; lowers with `swaa-opt --swaa-reference-cpu` and runs
mlir-runner. Checks, with --check:

  ort      the logits of the prefill and of every decode step against
           onnxruntime running the ONNX file itself with its own KV cache
           (full attention recipes, or windows that cover the context);
  prefill  every decode step's logits against the last row of a @prefill of
           the whole sequence so far (any recipe: decode through the caches,
           ring buffers included, must compute what prefill computes).

  run_split.py MODEL BIN_DIR LLVM_LIB_DIR --check ort|prefill
               [--prompt N] [--steps T] [--tol T] -- [swaa-compile flags]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

NP = {1: np.float32, 7: np.int64, 6: np.int32}
MLIR = {np.float32: "f32", np.int64: "i64", np.int32: "i32"}


def dense(array):
    t = MLIR[array.dtype.type]
    shape = "x".join(str(d) for d in array.shape)
    return (f'dense<"0x{np.ascontiguousarray(array).tobytes().hex().upper()}"> '
            f': tensor<{shape}x{t}>')


def signature(module, name):
    m = re.search(r"func\.func @" + name + r"\((.*?)\) -> \((.*?)\) (?:attributes \{[^\n]*\} )?\{",
                  module, re.S)
    if not m:
        sys.exit(f"run_split: no @{name} in the compiled module")
    args = []
    for a in re.finditer(r"%arg\d+: (tensor<[^>]*>|index)(?: \{([^\n]*?)\})?(?=, %arg|$)",
                         m.group(1)):
        args.append((a.group(1), a.group(2) or ""))
    results = re.findall(r"(tensor<[^>]*>)(?: \{[^}]*(?:\{[^}]*\}[^}]*)?\})?", m.group(2))
    return args, results


class Main:
    """Builds the text of @main."""

    def __init__(self):
        self.lines = ["func.func private @printMemrefF32(tensor<*xf32>)",
                      "func.func @main() {"]
        self.n = 0

    def const(self, array, type_):
        self.n += 1
        v = f"%v{self.n}"
        self.lines.append(f"  {v} = arith.constant {dense(array)}")
        static = dense(array).split(" : ")[1]
        if static != type_:
            self.lines.append(f"  {v}c = tensor.cast {v} : {static} to {type_}")
            v += "c"
        return v

    def index(self, value):
        self.n += 1
        self.lines.append(f"  %i{self.n} = arith.constant {value} : index")
        return f"%i{self.n}"

    def call(self, name, args, arg_types, result_types):
        self.n += 1
        outs = [f"%r{self.n}_{i}" for i in range(len(result_types))]
        self.lines.append(f"  {', '.join(outs)} = call @{name}({', '.join(args)}) : "
                          f"({', '.join(arg_types)}) -> ({', '.join(result_types)})")
        return outs

    def print(self, value, type_):
        self.n += 1
        self.lines.append(f"  %p{self.n} = tensor.cast {value} : {type_} to tensor<*xf32>")
        self.lines.append(f"  call @printMemrefF32(%p{self.n}) : (tensor<*xf32>) -> ()")


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("bin_dir")
    p.add_argument("lib_dir")
    p.add_argument("--check", choices=["ort", "prefill"], required=True)
    p.add_argument("--prompt", type=int, default=5)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--pipeline", default="swaa-reference-cpu",
                   help="swaa-opt pipeline that lowers the module (e.g. "
                        "'swaa-tiled-cpu{query-tile=2 key-tile=3}')")
    args = p.parse_args(argv)

    model = onnx.load(args.model)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    vocab = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim][-1]
    rng = np.random.default_rng(1)
    total = args.prompt + args.steps
    tokens = rng.integers(0, vocab, total).astype(np.int64)

    compiled = subprocess.run([os.path.join(args.bin_dir, "swaa-compile"), args.model,
                               "--emit=mlir"] + extra, capture_output=True, text=True)
    if compiled.returncode:
        sys.exit("swaa-compile failed:\n" + compiled.stderr)
    module = compiled.stdout
    pre_args, pre_results = signature(module, "prefill")
    dec_args, dec_results = signature(module, "decode")

    def inputs(arg_list, pos, n, caches):
        """Values for the arguments of @prefill / @decode at `pos` with n tokens."""
        values, types = [], []
        cache_i = 0
        for type_, attrs in arg_list:
            types.append(type_)
            name = re.search(r'swaa\.(?:input|weight) = "([^"]*)"', attrs)
            if "swaa.position" in attrs:
                values.append(m.index(pos))
            elif "swaa.logits_from" in attrs:
                values.append(m.index(0))  # every row's logits
            elif "swaa.kv_cache" in attrs:
                values.append(caches[cache_i])
                cache_i += 1
            elif name and name.group(1) in inits:
                values.append(m.const(inits[name.group(1)], type_))
            elif name and name.group(1) == "input_ids":
                values.append(m.const(tokens[pos:pos + n].reshape(1, n), type_))
            elif name and name.group(1) == "attention_mask":
                values.append(m.const(np.ones((1, pos + n), np.int64), type_))
            elif name and name.group(1) == "position_ids":
                values.append(m.const(np.arange(pos, pos + n).reshape(1, n), type_))
            else:
                sys.exit(f"run_split: no value for argument {type_} {{{attrs}}}")
        return values, types

    def fresh_caches(arg_list):
        caches = []
        for type_, attrs in arg_list:
            if "swaa.kv_cache" not in attrs:
                continue
            dims = re.match(r"tensor<(.*)x(f\d+)>", type_).group(1).split("x")
            shape = [1 if i == 0 else (total if d == "?" else int(d))
                     for i, d in enumerate(dims)]
            caches.append(m.const(np.zeros(shape, np.float32), type_))
        return caches

    m = Main()
    # Prefill of the prompt, then decode steps through the caches.
    values, types = inputs(pre_args, 0, args.prompt, fresh_caches(pre_args))
    outs = m.call("prefill", values, types, pre_results)
    m.print(outs[0], pre_results[0])
    caches = outs[len(outs) - sum("swaa.kv_cache" in a for _, a in pre_args):]
    for t in range(args.steps):
        pos = args.prompt + t
        values, types = inputs(dec_args, pos, 1, caches)
        outs = m.call("decode", values, types, dec_results)
        m.print(outs[0], dec_results[0])
        caches = outs[1:]
    if args.check == "prefill":
        # A prefill of each whole prefix: its last row is what the decode
        # step at that position must give.
        for t in range(args.steps):
            n = args.prompt + t + 1
            values, types = inputs(pre_args, 0, n, fresh_caches(pre_args))
            outs = m.call("prefill", values, types, pre_results)
            m.print(outs[0], pre_results[0])
    m.lines += ["  return", "}"]
    text = module.rstrip().rstrip("}") + "\n" + "\n".join(m.lines) + "\n}\n"

    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "run.mlir")
        open(path, "w").write(text)
        lowered = subprocess.run([os.path.join(args.bin_dir, "swaa-opt"), path,
                                  f"--pass-pipeline=builtin.module({args.pipeline})"],
                                 capture_output=True, text=True)
        if lowered.returncode:
            sys.exit(f"swaa-opt {args.pipeline} failed:\n" + lowered.stderr[-3000:])
        libs = ",".join(os.path.join(args.lib_dir, l) for l in
                        ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
        run = subprocess.run(["mlir-runner", "-e", "main", "-entry-point-result=void",
                              f"-shared-libs={libs}"], input=lowered.stdout,
                             capture_output=True, text=True)
        if run.returncode:
            sys.exit("mlir-runner failed:\n" + run.stderr[-2000:])
    blocks = [np.array([float(x) for x in
                        re.findall(r"[-+]?(?:nan|inf|[0-9.]+(?:e[-+]?\d+)?)", b)])
              for b in re.split(r"Unranked Memref[^\n]*\n", run.stdout)[1:]]
    prefill = blocks[0].reshape(args.prompt, vocab)
    steps = [b.reshape(vocab) for b in blocks[1:1 + args.steps]]

    if args.check == "ort":
        import onnxruntime as ort
        sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
        past_names = [i.name for i in sess.get_inputs() if "past" in i.name]
        present_names = [o.name for o in sess.get_outputs()[1:]]
        if not past_names:
            sys.exit("run_split: --check ort needs a model with past key/values")
        # An empty past of the caches' heads and head size, in layer order
        # (key, value) like the cache arguments.
        cache_types = [t for t, a in pre_args if "swaa.kv_cache" in a]
        past = {}
        for name, type_ in zip(past_names, cache_types):
            dims = type_[len("tensor<"):].split("x")
            past[name] = np.zeros((1, int(dims[1]), 0, int(dims[3])), np.float32)
        expected = []
        for pos, n in [(0, args.prompt)] + [(args.prompt + t, 1) for t in range(args.steps)]:
            feeds = dict(past)
            names = {i.name for i in sess.get_inputs()}
            feeds["input_ids"] = tokens[pos:pos + n].reshape(1, n)
            if "attention_mask" in names:
                feeds["attention_mask"] = np.ones((1, pos + n), np.int64)
            if "position_ids" in names:
                feeds["position_ids"] = np.arange(pos, pos + n).reshape(1, n)
            outs = sess.run(None, feeds)
            expected.append(outs[0].reshape(n, vocab))
            past = dict(zip(past_names, outs[1:1 + len(past_names)]))
        want = [expected[0]] + [e.reshape(vocab) for e in expected[1:]]
        what = "onnxruntime"
    else:
        want = [None] + [blocks[1 + args.steps + t].reshape(-1, vocab)[-1]
                         for t in range(args.steps)]
        what = "a prefill of the whole sequence"
    got = [prefill] + steps
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            continue
        err = np.max(np.abs(g - w)) / (np.abs(w).max() + 1e-30)
        worst = max(worst, err)
    checked = "prefill and " if args.check == "ort" else ""
    if worst <= args.tol and all(np.isfinite(g).all() for g in got):
        print(f"OK: {checked}{args.steps} decode steps match {what}, max error "
              f"relative to the logits' max {worst:.2e}")
        return 0
    print(f"MISMATCH: {checked}{args.steps} decode steps differ from {what} beyond "
          f"{args.tol:g}: {worst:.2e}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
