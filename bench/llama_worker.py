#!/usr/bin/env python3
"""One llama.cpp measurement through llama-cpp-python, in a process of its
own (the caller reads its peak memory): prints one JSON line.

  llama_worker.py MODEL.gguf --context N --decode K --threads T [--runs R]

Prefill of N random tokens with llm.eval (n_batch = min(N, 2048),
n_ubatch = 512: the settings that gave llama.cpp its best prefill here),
then K decode steps of one token each (llm.eval([token])), in a fresh
context per run; the median of --runs. Same tokens as swaa-run's
--random-prompt is not needed: the cost does not depend on the ids.
"""

import argparse
import json
import os
import random
import statistics
import time


def peak_resident_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--decode", type=int, default=16)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args()
    from llama_cpp import Llama
    n = args.context
    llm = Llama(model_path=args.model, n_ctx=n + args.decode + 8,
                n_threads=args.threads, n_threads_batch=args.threads,
                n_batch=min(n, 2048), n_ubatch=512, verbose=False)
    rng = random.Random(0)
    ids = [rng.randrange(100, llm.n_vocab()) for _ in range(n + args.decode)]
    prefill, decode = [], []
    for _ in range(args.runs):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids[:n])
        prefill.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(args.decode):
            llm.eval([ids[n + i]])
        decode.append(time.perf_counter() - t0)
    print(json.dumps({"prefill_s": statistics.median(prefill),
                      "decode_tok_s": args.decode / statistics.median(decode),
                      "peak_mib": peak_resident_mib()}))


if __name__ == "__main__":
    main()
