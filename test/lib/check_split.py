#!/usr/bin/env python3
"""Checks the prefill/decode split of models structurally.

For each MODEL (with past key/values), runs swaa-compile with the given
recipe flags and checks: @forward is gone; @prefill has exactly L
attn.attention (L = the layers of the model's JSON sidecar or its past
inputs / 2) and 2L cache arguments; @decode has L attn.cache_attention, one
index position argument and no attn.attention; no past or present tensor of
the model is left. Prints one line per model.

  check_split.py SWAA_COMPILE MODEL... -- [swaa-compile flags]
"""

import re
import subprocess
import sys

import onnx


def main():
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    compiler, models = argv[0], argv[1:]
    bad = 0
    for path in models:
        m = onnx.load(path, load_external_data=False)
        layers = sum(1 for i in m.graph.input if "past" in i.name) // 2
        out = subprocess.run([compiler, path, "--emit=mlir"] + flags,
                             capture_output=True, text=True)
        name = path.split("models/")[-1]
        if out.returncode:
            print(f"FAIL {name}: {out.stderr.strip()}")
            bad += 1
            continue
        text = out.stdout
        funcs = {}
        for chunk in text.split("  func.func @")[1:]:
            funcs[chunk.split("(", 1)[0]] = chunk
        problems = []
        if "forward" in funcs:
            problems.append("@forward is still there")
        pre, dec = funcs.get("prefill", ""), funcs.get("decode", "")
        if pre.count("attn.attention layer") != layers:
            problems.append(f"@prefill has {pre.count('attn.attention layer')} attention")
        if dec.count("attn.cache_attention layer") != layers:
            problems.append(f"@decode has {dec.count('attn.cache_attention layer')} "
                            "cache_attention")
        if "attn.attention" in dec:
            problems.append("@decode still has attn.attention")
        sig = dec.split("{\n")[0]
        if sig.count("swaa.position") != 1:
            problems.append("@decode has no position argument")
        if sig.count('policy = "') != 4 * layers:  # K and V, argument and result
            problems.append(f"@decode has {sig.count('policy = ')} cache tags, "
                            f"expected {4 * layers}")
        if re.search(r'role = "(past|present)"', text):
            problems.append("a past/present tensor of the model is left")
        if problems:
            print(f"FAIL {name}: " + "; ".join(problems))
            bad += 1
        else:
            print(f"OK {name}: {layers} layers split")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
