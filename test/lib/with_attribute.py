#!/usr/bin/env python3
"""Copies an ONNX model (and its external-data files) into a folder, with an
attribute set on every node of one op type: how the tests make a variant of
a committed fixture (GroupQueryAttention with softcap, say) without
committing a second copy of its weights.

  with_attribute.py MODEL OUT_DIR OP_TYPE NAME=VALUE   (VALUE: int or float)
"""

import os
import shutil
import sys

import onnx
from onnx import helper


def main():
    model_path, out_dir, op_type, setting = sys.argv[1:5]
    name, text = setting.split("=", 1)
    value = float(text) if any(c in text for c in ".e") else int(text)
    os.makedirs(out_dir, exist_ok=True)
    m = onnx.load(model_path, load_external_data=False)
    hits = 0
    for node in m.graph.node:
        if node.op_type != op_type:
            continue
        kept = [a for a in node.attribute if a.name != name]
        del node.attribute[:]
        node.attribute.extend(kept + [helper.make_attribute(name, value)])
        hits += 1
    if not hits:
        sys.exit(f"with_attribute: no {op_type} node in {model_path}")
    base = os.path.dirname(os.path.abspath(model_path))
    for t in m.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                shutil.copy(os.path.join(base, entry.value), out_dir)
    for extra in ("model.json",):
        src = os.path.join(base, extra)
        if os.path.exists(src):
            shutil.copy(src, out_dir)
    onnx.save(m, os.path.join(out_dir, os.path.basename(model_path)))
    print(f"set {name}={value} on {hits} {op_type} node(s)")


if __name__ == "__main__":
    main()
