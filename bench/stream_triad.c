/*===- bench/stream_triad.c - the machine's measured memory bandwidth ------===*
 *
 * A STREAM-style triad, a[i] = b[i] + s * c[i], over three arrays of 32 M
 * floats each (384 MiB, far beyond any cache), split evenly over THREADS
 * pthreads; prints the best of five passes as GB/s counting 12 bytes per
 * element (two reads, one write; the write-allocate read is not counted,
 * as in STREAM). bench/run compiles it with -O3 -march=native and reports
 * decode's matrix-vector products against it.
 *
 *   cc -O3 -march=native -pthread bench/stream_triad.c -o stream_triad
 *   ./stream_triad THREADS
 *===----------------------------------------------------------------------===*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { N = 32 * 1024 * 1024 };
static float *a, *b, *c;

typedef struct {
  long begin, end;
  int first;
} Range;

static void *triad(void *arg) {
  Range *r = (Range *)arg;
  if (r->first) { /* first touch by the thread that streams it */
    for (long i = r->begin; i < r->end; ++i) {
      b[i] = 1.0f;
      c[i] = 2.0f;
      a[i] = 0.0f;
    }
    return NULL;
  }
  const float s = 3.0f;
  for (long i = r->begin; i < r->end; ++i)
    a[i] = b[i] + s * c[i];
  return NULL;
}

static double pass(int threads, int first) {
  pthread_t tid[256];
  Range ranges[256];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t < threads; ++t) {
    ranges[t].begin = (long)N * t / threads;
    ranges[t].end = (long)N * (t + 1) / threads;
    ranges[t].first = first;
    pthread_create(&tid[t], NULL, triad, &ranges[t]);
  }
  for (int t = 0; t < threads; ++t)
    pthread_join(tid[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "stream_triad: expected a thread count (1-256), got '%s'\n",
            argc > 1 ? argv[1] : "");
    return 1;
  }
  a = aligned_alloc(64, sizeof(float) * N);
  b = aligned_alloc(64, sizeof(float) * N);
  c = aligned_alloc(64, sizeof(float) * N);
  if (!a || !b || !c) {
    fprintf(stderr, "stream_triad: cannot allocate 384 MiB\n");
    return 1;
  }
  pass(threads, 1);
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    double s = pass(threads, 0);
    if (s < best)
      best = s;
  }
  if (a[N / 2] != 7.0f) { /* keeps the stores live */
    fprintf(stderr, "stream_triad: wrong result %g\n", a[N / 2]);
    return 1;
  }
  printf("triad bandwidth: %.1f GB/s on %d threads\n", 12.0 * N / best / 1e9,
         threads);
  return 0;
}
