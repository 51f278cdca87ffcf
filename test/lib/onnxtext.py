#!/usr/bin/env python3
"""Converts an ONNX text-format file (.onnxtext, onnx.parser syntax) to a
binary model, so importer tests can be written as readable text, the way
onnx-mlir's test/mlir/onnx/parse tests are.

  onnxtext.py INPUT.onnxtext OUTPUT.onnx
"""

import sys

import onnx
import onnx.parser


def main():
    text = open(sys.argv[1]).read()
    # Lines starting with ';' or '//' are lit/FileCheck directives.
    body = "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith((";", "//")))
    model = onnx.parser.parse_model(body)
    onnx.save(model, sys.argv[2])


if __name__ == "__main__":
    main()
