#!/usr/bin/env python3
"""Builds the onnxruntime-genai fixtures of the importer tests (test/models/genai/).

Saves tiny random Hugging Face models (with a word-level tokenizer, which the
builder requires) and runs onnxruntime-genai's model builder on them, which
writes com.microsoft.GroupQueryAttention (packed QKV, past K/V, RoPE inside
the op, optionally local_window_size), SkipSimplifiedLayerNormalization and
external weight data (model.onnx + model.onnx.data). Needs torch,
transformers and onnxruntime-genai; the tests use the committed files.

  python3 test/models/export_genai.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "genai")

MODELS = {
    # name: (model class, config class, config, expected window)
    "llama-gqa": ("LlamaForCausalLM", "LlamaConfig", dict(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        tie_word_embeddings=False), None),
    "mistral-gqa-sw8": ("MistralForCausalLM", "MistralConfig", dict(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=256,
        sliding_window=8, tie_word_embeddings=False), 8),
}


def build(name, work):
    model_cls, cfg_cls, kwargs, window = MODELS[name]
    cfg = getattr(transformers, cfg_cls)(**kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)(cfg)
    hf = os.path.join(work, name + "-hf")
    model.save_pretrained(hf)
    vocab = {f"t{i}": i for i in range(kwargs["vocab_size"])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="t0", bos_token="t1",
        eos_token="t2").save_pretrained(hf)
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder",
                    "-i", hf, "-o", out, "-p", "fp32", "-e", "cpu",
                    "-c", os.path.join(work, "cache")],
                   check=True, capture_output=True)
    if window:
        # The 0.18 builder does not carry Mistral's sliding_window into the
        # graph; the builder's paths for models that have one (Phi-3 small,
        # Gemma 2) write it as GroupQueryAttention's local_window_size, which
        # is what this fixture exercises.
        import onnx
        path = os.path.join(out, "model.onnx")
        graph_model = onnx.load(path, load_external_data=False)
        for node in graph_model.graph.node:
            if node.op_type == "GroupQueryAttention":
                for attr in node.attribute:
                    if attr.name == "local_window_size":
                        attr.i = window
        onnx.save(graph_model, path)
    # Keep the model and its weights; drop the tokenizer and genai config.
    for f in os.listdir(out):
        if f not in ("model.onnx", "model.onnx.data"):
            os.remove(os.path.join(out, f))
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump({"model": model_cls, "exporter": "onnxruntime-genai builder",
                   "layers": kwargs["num_hidden_layers"],
                   "kv_heads": kwargs["num_key_value_heads"], "window": window},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        for name in MODELS:
            print("written:", os.path.relpath(build(name, work)))


if __name__ == "__main__":
    main()
