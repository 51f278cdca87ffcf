#!/usr/bin/env python3
"""Seeds for swaa-runtime-fuzz(er) from a compiled artifact: one input per
parser, each the parser's letter followed by its bytes (RuntimeFuzzer.cpp).

  make_seeds.py ARTIFACT.swaa OUT_DIR

m: the manifest; g: the signature model.so exports (the manifest's entries
in the signature's wrapper, which is what swaa-compile writes there); c: the
two joined by a NUL byte; s: a small safetensors file of two tensors and the
artifact's own weights header with its data cut to 4 KiB.
"""

import json
import os
import struct
import sys


def safetensors(tensors):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    artifact, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(artifact, "manifest.json"), "rb") as f:
        manifest = f.read()
    entries = json.loads(manifest)["entries"]
    signature = json.dumps({"format_version": 2, "entries": entries}).encode()
    with open(os.path.join(artifact, "weights.safetensors"), "rb") as f:
        weights = f.read()
    (n,) = struct.unpack("<Q", weights[:8])
    seeds = {
        "manifest": b"m" + manifest,
        "signature": b"g" + signature,
        "pair": b"c" + manifest + b"\0" + signature,
        "weights-small": b"s" + safetensors({
            "a": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
            "b": ("BF16", [3], b"\0\x3f" * 3 + b"\0\0")}),
        "weights-artifact": b"s" + weights[:8 + n + 4096],
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
