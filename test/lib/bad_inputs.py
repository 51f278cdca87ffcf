#!/usr/bin/env python3
"""Feeds swaa-compile broken models and checks each is refused cleanly.

For a valid fixture MODEL, writes into WORKDIR: the model truncated at 10
offsets, random bytes, an empty file, the model with one node renamed to an
unknown op type, with an unknown opset version, with an unknown domain, with
its weights moved to an external-data file that is then deleted, and a model
without attention. Each must make swaa-compile exit with code 1 (not crash,
not hang: 60 s limit) and print exactly one line naming the problem. Prints
"<case>: exit 1: <message>" per case; exits 1 if any case misbehaves.

  bad_inputs.py SWAA_COMPILE MODEL WORKDIR
"""

import os
import random
import subprocess
import sys

import onnx
from onnx import TensorProto, helper


def cases(model_path, work):
    data = open(model_path, "rb").read()
    rng = random.Random(1234)
    for k, frac in enumerate([0.001, 0.01, 0.05, 0.1, 0.25, 0.4, 0.5, 0.75, 0.9, 0.999]):
        path = os.path.join(work, f"truncated-{k}.onnx")
        open(path, "wb").write(data[: max(1, int(len(data) * frac))])
        yield f"truncated at {int(len(data) * frac)} of {len(data)} bytes", path
    path = os.path.join(work, "random.onnx")
    open(path, "wb").write(bytes(rng.randrange(256) for _ in range(4096)))
    yield "random bytes", path
    path = os.path.join(work, "empty.onnx")
    open(path, "wb").write(b"")
    yield "empty file", path

    model = onnx.load(model_path)
    renamed = onnx.ModelProto()
    renamed.CopyFrom(model)
    node = next(n for n in renamed.graph.node if n.op_type == "MatMul")
    node.op_type = "FancyMatMul"
    path = os.path.join(work, "renamed.onnx")
    onnx.save(renamed, path)
    yield "an op renamed to FancyMatMul", path

    future = onnx.ModelProto()
    future.CopyFrom(model)
    future.opset_import[0].version = 99
    path = os.path.join(work, "opset99.onnx")
    onnx.save(future, path)
    yield "default-domain opset 99", path

    domain = onnx.ModelProto()
    domain.CopyFrom(model)
    domain.opset_import.append(helper.make_opsetid("com.example.custom", 1))
    path = os.path.join(work, "domain.onnx")
    onnx.save(domain, path)
    yield "an unknown opset domain", path

    external = onnx.ModelProto()
    external.CopyFrom(model)
    path = os.path.join(work, "external.onnx")
    onnx.save(external, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="external.weights", size_threshold=1024)
    os.remove(os.path.join(work, "external.weights"))
    yield "missing external-data file", path

    # External data through a symbolic link (to a file the model's folder
    # does not hold): refused, never copied into an artifact.
    linked = os.path.join(work, "linked")
    os.makedirs(linked, exist_ok=True)
    path = os.path.join(linked, "linked.onnx")
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    onnx.save(copy, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="linked.weights", size_threshold=1024)
    os.rename(os.path.join(linked, "linked.weights"), os.path.join(work, "elsewhere.weights"))
    os.symlink(os.path.join(work, "elsewhere.weights"), os.path.join(linked, "linked.weights"))
    yield "external data through a symbolic link", path

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 8], [0.1] * 64)
    mlp = helper.make_model(
        helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["h"]),
                           helper.make_node("Relu", ["h"], ["y"])],
                          "mlp", [x], [y], [w]),
        opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(work, "no-attention.onnx")
    onnx.save(mlp, path)
    yield "a model without attention", path


def main():
    compiler, model_path, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    bad = 0
    for label, path in cases(model_path, work):
        try:
            proc = subprocess.run([compiler, path, "--emit=mlir", "-o", os.devnull],
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            print(f"{label}: HANG")
            bad += 1
            continue
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        message = lines[0] if lines else "(no message)"
        message = message.replace(work + "/", "")
        status = f"exit {proc.returncode}" if proc.returncode >= 0 else f"CRASH (signal {-proc.returncode})"
        if proc.returncode != 1 or len(lines) != 1 or "error:" not in message:
            bad += 1
            status += f" UNEXPECTED ({len(lines)} lines)"
        print(f"{label}: {status}: {message}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
