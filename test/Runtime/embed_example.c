/*===- embed_example.c - an app that embeds the swaa runtime ---------------===*
 *
 * Loads a compiled model, and in two threads at once runs two independent
 * sessions over the same prompt: prefill, then greedy decoding. Prints each
 * session's tokens (they must agree) and its KV-cache bytes. Uses only the
 * C API of swaa/runtime.h.
 *
 *   embed_example MODEL.swaa [new_tokens]
 *
 *===----------------------------------------------------------------------===*/

#include "swaa/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const swaa_model *model;
  int new_tokens;
  int64_t out[64];
  char error[512];
  size_t kv_bytes;
} job;

static int fail(job *j, swaa_status *s) {
  snprintf(j->error, sizeof j->error, "%s", swaa_status_message(s));
  swaa_status_free(s);
  return 1;
}

static size_t argmax(const float *row, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

static void *run(void *arg) {
  job *j = (job *)arg;
  swaa_session_options options = {64, 1};
  swaa_session *session = NULL;
  swaa_status *s = swaa_session_create(j->model, &options, &session);
  if (s && fail(j, s))
    return NULL;
  int64_t prompt[5] = {1, 2, 3, 4, 5};
  if ((s = swaa_session_prefill(session, prompt, 5)) && fail(j, s)) {
    swaa_session_free(session);
    return NULL;
  }
  for (int i = 0; i < j->new_tokens; ++i) {
    const float *logits;
    size_t rows, vocab;
    swaa_session_logits(session, &logits, &rows, &vocab);
    int64_t next = (int64_t)argmax(logits + (rows - 1) * vocab, vocab);
    j->out[i] = next;
    if ((s = swaa_session_decode(session, &next)) && fail(j, s)) {
      swaa_session_free(session);
      return NULL;
    }
  }
  j->kv_bytes = swaa_session_kv_cache_bytes(session);
  swaa_session_free(session);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: embed_example MODEL.swaa [new_tokens]\n");
    return 2;
  }
  int new_tokens = argc > 2 ? atoi(argv[2]) : 8;
  if (new_tokens < 1 || new_tokens > 64)
    new_tokens = 8;
  swaa_model *model = NULL;
  swaa_status *s = swaa_model_load(argv[1], &model);
  if (s) {
    fprintf(stderr, "embed_example: %s\n", swaa_status_message(s));
    swaa_status_free(s);
    return 1;
  }
  job jobs[2];
  pthread_t threads[2];
  for (int t = 0; t < 2; ++t) {
    memset(&jobs[t], 0, sizeof jobs[t]);
    jobs[t].model = model;
    jobs[t].new_tokens = new_tokens;
    pthread_create(&threads[t], NULL, run, &jobs[t]);
  }
  int rc = 0;
  for (int t = 0; t < 2; ++t) {
    pthread_join(threads[t], NULL);
    if (jobs[t].error[0]) {
      fprintf(stderr, "embed_example: session %d: %s\n", t, jobs[t].error);
      rc = 1;
      continue;
    }
    printf("session %d:", t);
    for (int i = 0; i < new_tokens; ++i)
      printf(" %lld", (long long)jobs[t].out[i]);
    printf(" (kv cache %zu bytes)\n", jobs[t].kv_bytes);
  }
  if (!rc && memcmp(jobs[0].out, jobs[1].out, sizeof jobs[0].out) != 0) {
    fprintf(stderr, "embed_example: the two sessions disagree\n");
    rc = 1;
  }
  if (!rc)
    printf("the two sessions agree\n");
  swaa_model_free(model);
  return rc;
}
