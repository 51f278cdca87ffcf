/*===- swaa/runtime.h - the swaa runtime's C API ---------------------------===*
 *
 * Loads a model compiled by swaa-compile (a `model.swaa` directory), owns the
 * KV cache of each session and runs prefill and decode steps. C API, opaque
 * handles; every call that can fail returns a status: NULL on success, or a
 * status object whose message says what went wrong (free it with
 * swaa_status_free). A model is read-only once loaded and may be shared by
 * sessions on different threads; a session is used by one thread at a time.
 * No C++ exception leaves a call: an allocation that fails is a status.
 *
 * Trust: an artifact is code. swaa_model_load runs the artifact's model.so
 * (its constructors run when it is loaded; symbolic links in the artifact
 * are followed), so load only artifacts you trust, as you would a shared
 * library. The checks below catch damaged or mismatched artifacts, not
 * malicious ones.
 *
 * Lifetimes: swaa_model_free releases the caller's handle; a session keeps
 * its model alive, and the model is freed with its last session. Each load
 * gets its own copy of the code, so reloading an artifact recompiled at the
 * same path gives the new code while the old model still runs the old one
 * (load new, then free old).
 *
 *   swaa_model *model;
 *   swaa_status *s = swaa_model_load("model.swaa", &model);
 *   swaa_session_options opts = {.max_context = 4096, .batch = 1};
 *   swaa_session *session;
 *   s = swaa_session_create(model, &opts, &session);
 *   s = swaa_session_prefill(session, prompt, prompt_len);
 *   const float *logits; size_t rows, vocab;
 *   swaa_session_logits(session, &logits, &rows, &vocab);
 *   s = swaa_session_decode(session, &next_token);
 *
 *===----------------------------------------------------------------------===*/

#ifndef SWAA_RUNTIME_H
#define SWAA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SWAA_RUNTIME_BUILD)
#define SWAA_API __attribute__((visibility("default")))
#else
#define SWAA_API
#endif

/* The artifact format version this runtime reads. */
#define SWAA_ARTIFACT_FORMAT_VERSION 2

typedef struct swaa_status swaa_status;
typedef struct swaa_model swaa_model;
typedef struct swaa_session swaa_session;

/* Status: NULL is success. */
SWAA_API const char *swaa_status_message(const swaa_status *status);
SWAA_API void swaa_status_free(swaa_status *status);

/* Loads `dir` (manifest.json, model.so, weights.safetensors): checks the
 * format version and every size before use, reads only regular files of
 * bounded size, and compares the manifest with the signature model.so
 * exports (each entry's arguments and results) before any call. */
SWAA_API swaa_status *swaa_model_load(const char *dir, swaa_model **out);
/* Releases the caller's handle (the model lives on while sessions of it
 * exist). */
SWAA_API void swaa_model_free(swaa_model *model);
/* Vocabulary size (the logits' last dimension), attention layers. */
SWAA_API size_t swaa_model_vocab_size(const swaa_model *model);
SWAA_API size_t swaa_model_num_layers(const swaa_model *model);
/* Whether the model has a decode program (models exported without past
 * key/values have prefill only; swaa_session_decode then runs prefill over
 * the whole sequence, which is correct but costs O(n) per token). */
SWAA_API int swaa_model_has_decode(const swaa_model *model);
/* The recipe the model was compiled with, one line. */
SWAA_API const char *swaa_model_recipe(const swaa_model *model);

typedef struct swaa_session_options {
  /* Longest sequence (prompt + generated tokens) the session holds. */
  size_t max_context;
  /* Sequences run together (every call takes `batch` x n tokens). */
  size_t batch;
  /* 0 (the default): a prefill computes the logits of its last row only,
   * which is what generation needs (the LM head is the largest matmul of a
   * small model). 1: every row's, to score a text. */
  int all_logits;
} swaa_session_options;

/* Allocates the session's KV cache: full caches of max_context positions,
 * ring caches of window + sinks slots (constant in the context length). A
 * size that overflows, or caches larger than the machine's memory (or the
 * cgroup's limit), is a status that says how many bytes they need. The
 * session holds a reference to `model`. */
SWAA_API swaa_status *swaa_session_create(const swaa_model *model,
                                 const swaa_session_options *options,
                                 swaa_session **out);
SWAA_API void swaa_session_free(swaa_session *session);

/* Starts a new sequence: runs `n` tokens per batch row (tokens is
 * batch x n, row-major) from position 0. A rejected call (a token outside
 * the vocabulary, n of 0 or beyond max_context) leaves the session as it
 * was, its sequence and logits included; so does a rejected decode. Only a
 * failure inside the compiled code (a CUDA error) loses the sequence, and
 * its status says so. */
SWAA_API swaa_status *swaa_session_prefill(swaa_session *session,
                                  const int64_t *tokens, size_t n);
/* Runs one new token per batch row at the next position. */
SWAA_API swaa_status *swaa_session_decode(swaa_session *session,
                                 const int64_t *tokens);
/* Logits of the last call: batch x rows x vocab floats, valid until the
 * next call on the session. rows is 1 after a decode, and after a prefill
 * unless the session was created with all_logits (then the prompt's length). */
SWAA_API void swaa_session_logits(const swaa_session *session, const float **data,
                         size_t *rows, size_t *vocab);
/* Tokens held so far (the next position). */
SWAA_API size_t swaa_session_position(const swaa_session *session);
/* Bytes of KV cache the session holds. */
SWAA_API size_t swaa_session_kv_cache_bytes(const swaa_session *session);
/* Time per op kind: while profiling is on, prefill and decode add the
 * seconds their ops take (attention, KV-cache writes, matmuls and other
 * contractions, everything else) to the session's totals. */
typedef struct swaa_profile {
  double attention, kv_cache, matmul, other;
} swaa_profile;
SWAA_API void swaa_session_set_profiling(swaa_session *session, int on);
SWAA_API void swaa_session_profile(const swaa_session *session,
                                   swaa_profile *out);

/* Forgets the sequence (the next call must be a prefill). */
SWAA_API void swaa_session_reset(swaa_session *session);

#ifdef __cplusplus
}
#endif

#endif /* SWAA_RUNTIME_H */
