#!/usr/bin/env python3
"""Measures how long swaa-compile takes to import a ~100M-parameter Llama and
how much memory it needs, against the size of the model's weights.

Exports a random LlamaForCausalLM (hidden 768, 12 layers, 12 heads, 4 K/V
heads, vocab 16000: ~110M parameters) with torch.onnx (TorchScript exporter)
into a temporary folder, then runs `swaa-compile --emit=mlir` under
/usr/bin/time -v and prints wall time, peak resident memory and the ratio of
peak memory to the weights' bytes. Needs torch and transformers.

  python3 bench/import_large.py [--swaa-compile build/bin/swaa-compile]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings


def export(path):
    import torch
    import transformers

    cfg = transformers.LlamaConfig(
        vocab_size=16000, hidden_size=768, intermediate_size=2048,
        num_hidden_layers=12, num_attention_heads=12, num_key_value_heads=4,
        max_position_embeddings=4096, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(cfg).eval()
    params = sum(p.numel() for p in model.parameters())

    class NoCache(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          use_cache=False).logits

    ids = torch.randint(0, 16000, (1, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(NoCache(model), (ids, torch.ones_like(ids)), path,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"},
                                        "logits": {0: "batch", 1: "seq"}},
                          opset_version=17, dynamo=False)
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaa-compile", default="build/bin/swaa-compile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "llama-110m.onnx")
        print("import_large: exporting a ~110M-parameter Llama (about a minute)...",
              flush=True)
        params = export(path)
        files = [os.path.join(work, f) for f in os.listdir(work)]
        weight_bytes = sum(os.path.getsize(f) for f in files)
        start = time.time()
        proc = subprocess.run(["/usr/bin/time", "-v", args.swaa_compile, path,
                               "--emit=mlir", "-o", os.path.join(work, "out.mlir")],
                              capture_output=True, text=True)
        wall = time.time() - start
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        with open(os.path.join(work, "out.mlir")) as f:
            attentions = f.read().count("attn.attention")
        if attentions != 12:
            print(f"import_large: expected 12 attn.attention ops, got {attentions}")
            return 1
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                                proc.stderr).group(1))
        print(f"model: {params / 1e6:.1f}M parameters, {weight_bytes / 2**20:.0f} MiB on disk")
        print(f"import: {attentions} attn.attention, {wall:.2f} s wall, peak RSS {peak_kb / 1024:.0f} MiB = "
              f"{peak_kb * 1024 / weight_bytes:.2f}x the model file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
