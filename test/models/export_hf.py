#!/usr/bin/env python3
"""Exports the Hugging Face fixtures of the importer tests (test/models/hf/).

Tiny random configs (2-3 layers, hidden 64, vocab 128) of real architectures,
exported by torch.onnx with the TorchScript-based exporter (dynamo=False) and
the dynamo exporter (at opset 18, and at opset 23 where it writes the ONNX
Attention, RMSNormalization and RotaryEmbedding ops), with use_cache=False
and with past-key-value inputs and outputs. Needs torch and transformers (not needed by the tests, which use the
committed .onnx files). Prints one line per fixture: written or why not.

Also transformers' own OnnxExporter (transformers.exporters) on the tiny
Llama, with and without past key/values, into llama-onnxexporter[-cache]/.

Also "llama4", the fixture for SWAA recipes and benchmarks: a larger random
Llama (4 layers, hidden 256, head_dim 64, GQA 4/2, intermediate 384, vocab
512), exported only with the TorchScript exporter and only with past
key/values (which serve prefill too, with an empty past), to keep the
repository small (EXPORTERS and CACHE_ONLY).

Also "llama512" (hidden 512, 8/4 heads of 64, intermediate 768), the
benchmark family's larger member, written only on request (bench/run does
it): python3 test/models/export_hf.py --only llama512 --out DIR

  python3 test/models/export_hf.py [--only NAME_SUBSTRING] [--out DIR]
"""

import argparse
import json
import os
import warnings

import onnx
import torch
import transformers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf")
COMMON = dict(vocab_size=128, max_position_embeddings=256, tie_word_embeddings=False)

# name: (model class, config class, config kwargs)
MODELS = {
    "llama": ("LlamaForCausalLM", "LlamaConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, **COMMON)),
    "qwen2": ("Qwen2ForCausalLM", "Qwen2Config", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, **COMMON)),
    "mistral": ("MistralForCausalLM", "MistralConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, sliding_window=None, **COMMON)),
    "mistral-sw6": ("MistralForCausalLM", "MistralConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, sliding_window=6, **COMMON)),
    # Windows wider than every test prompt of the fixtures above: the mask
    # analysis must find them from the mask's own constants.
    "mistral-sw32": ("MistralForCausalLM", "MistralConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, sliding_window=32, **COMMON)),
    "mistral-sw4096": ("MistralForCausalLM", "MistralConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, sliding_window=4096, **COMMON)),
    # Layers that differ: Gemma3's sliding layers around a full one (each
    # kind with its own RoPE base), Qwen2's sliding window from layer
    # max_window_layers on.
    "gemma3": ("Gemma3ForCausalLM", "Gemma3TextConfig", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        query_pre_attn_scalar=16, sliding_window=16,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        **COMMON)),
    "qwen2-sw": ("Qwen2ForCausalLM", "Qwen2Config", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, use_sliding_window=True,
        sliding_window=16, max_window_layers=1, **COMMON)),
    # Logit soft-capping (tanh(s / c) * c before the softmax), sliding and
    # full layers in turn. Gemma 2 ships c = 50 with trained weights; random
    # weights of std 0.02 give scores far below any cap, so this fixture's
    # weights are larger (std 0.3) and its cap 1: without the cap its logits
    # differ by half the largest one, so a lost cap cannot pass.
    "gemma2": ("Gemma2ForCausalLM", "Gemma2Config", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        query_pre_attn_scalar=16, sliding_window=16, initializer_range=0.3,
        attn_logit_softcapping=1.0, final_logit_softcapping=30.0, **COMMON)),
    # Partial interleaved rotary (Tile, GatherND in the exports).
    "gptj": ("GPTJForCausalLM", "GPTJConfig", dict(
        n_embd=64, n_layer=2, n_head=4, rotary_dim=8, n_positions=256,
        vocab_size=128, tie_word_embeddings=False)),
    "falcon": ("FalconForCausalLM", "FalconConfig", dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        vocab_size=128, max_position_embeddings=256)),
    "gpt2": ("GPT2LMHeadModel", "GPT2Config", dict(
        n_embd=64, n_layer=2, n_head=4, n_positions=256, vocab_size=128)),
    "phi3": ("Phi3ForCausalLM", "Phi3Config", dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, pad_token_id=0, **COMMON)),
    # The fixture of the SWAA recipes and benchmarks: 4 layers, hidden 256,
    # head_dim 64.
    "llama4": ("LlamaForCausalLM", "LlamaConfig", dict(
        hidden_size=256, intermediate_size=384, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, vocab_size=512,
        max_position_embeddings=32768, tie_word_embeddings=False)),
    # The benchmark family's larger member (bench/run exports it on demand:
    # 33 MB, too large for the repository): hidden 512, head_dim 64, GQA 8/4.
    "llama512": ("LlamaForCausalLM", "LlamaConfig", dict(
        hidden_size=512, intermediate_size=768, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=4, vocab_size=512,
        max_position_embeddings=32768, tie_word_embeddings=False)),
}

# The exporters of each model, where not all three (TorchScript only keeps the
# larger fixtures' share of the repository small).
ALL_EXPORTERS = ("torchscript", "dynamo", "dynamo23")
EXPORTERS = {"llama4": ("torchscript",), "llama512": ("torchscript",),
             "mistral-sw32": ("torchscript", "dynamo"),
             "mistral-sw4096": ("torchscript", "dynamo"),
             "gemma3": ("torchscript", "dynamo"),
             "qwen2-sw": ("torchscript", "dynamo"),
             "gemma2": ("torchscript", "dynamo"),
             "gptj": ("torchscript", "dynamo"),
             "falcon": ("torchscript", "dynamo")}
CACHE_ONLY = {"llama4", "llama512"}
# Written only when --only names them (into --out), never into the tests'.
BENCH_ONLY = {"llama512"}
# The attention implementation of models without an SDPA one in transformers.
DEFAULT_ATTN = {"gemma2": "eager"}


def layer_count(cfg):
    return getattr(cfg, "num_hidden_layers", None) or cfg.n_layer


def layer_windows(cfg):
    """Each layer's own sliding window (None: full attention), as the
    model's attention computes it: `layer_types` where the config has them,
    else the config's sliding_window on every layer."""
    layers = layer_count(cfg)
    window = getattr(cfg, "sliding_window", None)
    types = getattr(cfg, "layer_types", None)
    if types:
        return [window if t == "sliding_attention" else None for t in types]
    return [window] * layers


def kv_shape(cfg, batch, past):
    heads = getattr(cfg, "num_attention_heads", None) or cfg.n_head
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    if getattr(cfg, "multi_query", False) and not getattr(
            cfg, "new_decoder_architecture", False):
        kv_heads = 1  # Falcon-7B style: one K/V head
    hidden = getattr(cfg, "hidden_size", None) or cfg.n_embd
    return (batch, kv_heads, past, hidden // heads)


class NoCache(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          use_cache=False).logits


class WithCache(torch.nn.Module):
    """Flat past/present tensors around the model's Cache object."""

    def __init__(self, model, layers):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, input_ids, attention_mask, *past):
        cache = transformers.DynamicCache(config=self.model.config)
        for i in range(self.layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         past_key_values=cache, use_cache=True)
        present = []
        for layer in out.past_key_values.layers:
            present += [layer.keys, layer.values]
        return (out.logits, *present)


def export(name, exporter, cache, attn_impl, out=OUT):
    model_cls, cfg_cls, kwargs = MODELS[name]
    cfg = getattr(transformers, cfg_cls)(**kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)._from_config(
        cfg, attn_implementation=attn_impl).eval()
    layers = layer_count(cfg)
    batch, seq, past = 2, 5, 3
    ids = torch.randint(0, 128, (batch, seq))
    inputs = [ids]
    names = ["input_ids", "attention_mask"]
    outputs = ["logits"]
    axes = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    if cache:
        inputs.append(torch.ones(batch, past + seq, dtype=torch.int64))
        axes["attention_mask"] = {0: "batch", 1: "total_seq"}
        for i in range(layers):
            for kind in ("key", "value"):
                inputs.append(torch.randn(kv_shape(cfg, batch, past)))
                names.append(f"past_key_values.{i}.{kind}")
                outputs.append(f"present.{i}.{kind}")
                axes[names[-1]] = {0: "batch", 2: "past_seq"}
                axes[outputs[-1]] = {0: "batch", 2: "total_seq"}
        module = WithCache(model, layers)
    else:
        inputs.append(torch.ones(batch, seq, dtype=torch.int64))
        axes["attention_mask"] = {0: "batch", 1: "seq"}
        module = NoCache(model)

    suffix = "-cache" if cache else ""
    impl = "" if attn_impl == DEFAULT_ATTN.get(name, "sdpa") else f"-{attn_impl}"
    path = os.path.join(out, f"{name}{impl}-{exporter}{suffix}.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opset = 23 if exporter == "dynamo23" else 18
        if exporter == "torchscript":
            torch.onnx.export(module, tuple(inputs), path, input_names=names,
                              output_names=outputs, dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        else:
            batch_dim = torch.export.Dim("batch", min=1, max=64)
            seq_dim = torch.export.Dim("seq", min=1, max=256)
            shapes = [{0: batch_dim, 1: seq_dim}]
            if cache:
                # torch.export cannot spell past + seq for the mask: give it
                # its own dimension and let export relate them.
                past_dim = torch.export.Dim("past_seq", min=1, max=256)
                total_dim = torch.export.Dim("total_seq", min=2, max=512)
                shapes.append({0: batch_dim, 1: total_dim})
                # The *past varargs are one tuple to torch.export.
                shapes.append(tuple([{0: batch_dim, 2: past_dim}] * (2 * layers)))
            else:
                shapes.append({0: batch_dim, 1: seq_dim})
            program = torch.onnx.export(module, tuple(inputs), input_names=names,
                                        output_names=outputs, dynamic_shapes=shapes,
                                        opset_version=opset, dynamo=True,
                                        verbose=False)
            program.save(path, external_data=False)
    model_proto = onnx.load(path)
    onnx.checker.check_model(model_proto)
    meta = {"model": model_cls, "exporter": exporter, "cache": cache,
            "attn_implementation": attn_impl, "layers": layers,
            "kv_heads": kv_shape(cfg, 1, 1)[1],
            "window": kwargs.get("sliding_window"),
            "windows": layer_windows(cfg),
            "softcap": getattr(cfg, "attn_logit_softcapping", None)}
    with open(path[:-5] + ".json", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    return path


def export_onnxexporter(name, cache, out=OUT):
    """transformers' own OnnxExporter (transformers.exporters, dynamo-based,
    onnxscript-optimized): weights in model.onnx.data, every dimension its
    own symbol (the past keys' and past values' lengths differ), into
    OUT/<name>-onnxexporter[-cache]/model.onnx."""
    from transformers.exporters.exporter_onnx import OnnxConfig, OnnxExporter
    model_cls, cfg_cls, kwargs = MODELS[name]
    cfg = getattr(transformers, cfg_cls)(**kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)._from_config(
        cfg, attn_implementation="sdpa").eval()
    layers = layer_count(cfg)
    batch, seq, past = 2, 5, 3
    ids = torch.randint(0, 128, (batch, seq))
    if cache:
        dyn = transformers.DynamicCache(config=cfg)
        for i in range(layers):
            dyn.update(torch.randn(kv_shape(cfg, batch, past)),
                       torch.randn(kv_shape(cfg, batch, past)), i)
        inputs = dict(input_ids=ids, use_cache=True, past_key_values=dyn,
                      attention_mask=torch.ones(batch, past + seq, dtype=torch.int64))
    else:
        inputs = dict(input_ids=ids, use_cache=False,
                      attention_mask=torch.ones(batch, seq, dtype=torch.int64))
    folder = os.path.join(out, f"{name}-onnxexporter" + ("-cache" if cache else ""))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = OnnxExporter().export(model, inputs, config=OnnxConfig(dynamic=True))
        exported.save_pretrained(folder)
    for extra in ("config.json", "export.json"):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    meta = {"model": model_cls, "exporter": "onnxexporter", "cache": cache,
            "attn_implementation": "sdpa", "layers": layers,
            "kv_heads": kv_shape(cfg, 1, 1)[1], "window": kwargs.get("sliding_window"),
            "windows": layer_windows(cfg), "softcap": None}
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    return os.path.join(folder, "model.onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--out", default=OUT, help="output folder (default: test/models/hf)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    # dynamo23: the dynamo exporter at opset 23, which writes the ONNX
    # Attention, RMSNormalization and RotaryEmbedding ops.
    jobs = [(n, e, c, DEFAULT_ATTN.get(n, "sdpa")) for n in MODELS
            for e in EXPORTERS.get(n, ALL_EXPORTERS)
            for c in ((True,) if n in CACHE_ONLY else (False, True))]
    jobs.append(("llama", "torchscript", False, "eager"))
    for cache in (False, True):
        label = f"llama onnxexporter cache={cache}"
        if args.only in label:
            try:
                path = export_onnxexporter("llama", cache, out=args.out)
                print(f"written: {os.path.relpath(path)}")
            except Exception as e:  # data, as for the other exporters
                print(f"not exported: {label}: {type(e).__name__}: "
                      f"{str(e).splitlines()[0][:200]}")
    for job in jobs:
        label = f"{job[0]} {job[1]} cache={job[2]} attn={job[3]}"
        if args.only not in label or (job[0] in BENCH_ONLY and not args.only.startswith(job[0])):
            continue
        try:
            path = export(*job, out=args.out)
            print(f"written: {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")
        except Exception as e:  # an exporter that cannot take a model is data
            print(f"not exported: {label}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")


if __name__ == "__main__":
    main()
