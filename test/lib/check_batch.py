#!/usr/bin/env python3
"""Checks that a batch of sequences in one session computes what separate
sessions compute, through the runtime's C API (ctypes on libswaa_runtime).

  check_batch.py LIB_DIR MODEL.swaa [--batch B] [--prompt N] [--new K]
"""

import argparse
import ctypes
import os
import sys

import numpy as np


class Options(ctypes.Structure):
    _fields_ = [("max_context", ctypes.c_size_t), ("batch", ctypes.c_size_t),
                ("all_logits", ctypes.c_int)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lib_dir")
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=3)
    p.add_argument("--prompt", type=int, default=9)
    p.add_argument("--new", type=int, default=6)
    args = p.parse_args()
    lib = ctypes.CDLL(os.path.join(args.lib_dir, "libswaa_runtime.so"))
    vp = ctypes.c_void_p
    lib.swaa_status_message.restype = ctypes.c_char_p
    lib.swaa_status_message.argtypes = [vp]
    for name in ("swaa_model_load", "swaa_session_create", "swaa_session_prefill",
                 "swaa_session_decode"):
        getattr(lib, name).restype = vp
    lib.swaa_model_vocab_size.restype = ctypes.c_size_t
    lib.swaa_model_vocab_size.argtypes = [vp]

    def check(status):
        if status:
            sys.exit("runtime error: " + lib.swaa_status_message(status).decode())

    model = vp()
    check(lib.swaa_model_load(args.model.encode(), ctypes.byref(model)))
    vocab = lib.swaa_model_vocab_size(model)

    def session(batch):
        s = vp()
        opts = Options(args.prompt + args.new + 1, batch)
        check(lib.swaa_session_create(model, ctypes.byref(opts), ctypes.byref(s)))
        return s

    def logits(s, batch):
        data = ctypes.POINTER(ctypes.c_float)()
        rows, v = ctypes.c_size_t(), ctypes.c_size_t()
        lib.swaa_session_logits.argtypes = [vp, ctypes.c_void_p, ctypes.c_void_p,
                                            ctypes.c_void_p]
        lib.swaa_session_logits(s, ctypes.byref(data), ctypes.byref(rows), ctypes.byref(v))
        return np.ctypeslib.as_array(data, (batch, rows.value, v.value)).copy()

    rng = np.random.default_rng(7)
    prompts = rng.integers(0, vocab, (args.batch, args.prompt)).astype(np.int64)
    steps = rng.integers(0, vocab, (args.new, args.batch)).astype(np.int64)

    def run(batch, rows):
        s = session(batch)
        p = np.ascontiguousarray(rows)
        check(lib.swaa_session_prefill(s, p.ctypes.data_as(vp), ctypes.c_size_t(args.prompt)))
        out = [logits(s, batch)[:, -1]]
        for t in range(args.new):
            tok = np.ascontiguousarray(steps[t][: batch] if batch == args.batch else
                                       steps[t][rows_index[0]: rows_index[0] + 1])
            check(lib.swaa_session_decode(s, tok.ctypes.data_as(vp)))
            out.append(logits(s, batch)[:, -1])
        lib.swaa_session_free(s)
        return np.stack(out, 1)  # [batch, steps + 1, vocab]

    rows_index = [0]
    together = run(args.batch, prompts)
    worst = 0.0
    for b in range(args.batch):
        rows_index[0] = b
        alone = run(1, prompts[b:b + 1])[0]
        worst = max(worst, float(np.max(np.abs(together[b] - alone)) /
                                 (np.abs(alone).max() + 1e-30)))
    ok = worst <= 1e-5
    print(f"{'OK' if ok else 'MISMATCH'}: a batch of {args.batch} sequences (prefill of "
          f"{args.prompt}, {args.new} decode steps) matches {args.batch} separate sessions, "
          f"max error {worst:.2e} relative to the largest logit")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
