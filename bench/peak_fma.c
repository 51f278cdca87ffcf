/*===- bench/peak_fma.c - the machine's measured f32 FMA throughput --------===*
 *
 * Each thread runs 12 independent chains of fused multiply-adds on the
 * machine's widest vectors (enough chains to cover the FMA latency on two
 * FMA ports, few enough to stay in registers), with
 * nothing else in the loop; prints the best of three timings as GFLOP/s
 * (2 FLOPs per lane per FMA). bench/run compiles it with -O3 -march=native
 * and uses it as the peak that the attention kernel is measured against.
 *
 *   cc -O3 -march=native -pthread bench/peak_fma.c -o peak_fma
 *   ./peak_fma THREADS
 *===----------------------------------------------------------------------===*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The machine's own vector width: 16 lanes with AVX-512, else 8 (AVX2). A
 * 64-byte vector on an AVX2 machine is two registers per chain, 24 for 12
 * chains, more than the 16 there are: the chains spill and the figure is
 * the stack's, not the FMA units'. */
#if defined(__AVX512F__)
enum { LANES = 16 };
#else
enum { LANES = 8 };
#endif
typedef float v16 __attribute__((vector_size(LANES * 4)));
enum { CHAINS = 12 };
static const long ITERATIONS = 100000000;

static void *chains(void *out) {
  v16 acc[CHAINS], m, c;
  for (int i = 0; i < LANES; ++i) {
    m[i] = 0.999f;
    c[i] = 0.001f;
  }
  for (int j = 0; j < CHAINS; ++j)
    for (int i = 0; i < LANES; ++i)
      acc[j][i] = (float)j;
  for (long it = 0; it < ITERATIONS; ++it) {
#pragma GCC unroll 12
    for (int j = 0; j < CHAINS; ++j)
      acc[j] = acc[j] * m + c;
  }
  float sum = 0; /* keeps the chains live */
  for (int j = 0; j < CHAINS; ++j)
    sum += acc[j][0];
  *(float *)out = sum;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 1024) {
    fprintf(stderr, "peak_fma: expected a thread count, got '%s'\n", argv[1]);
    return 1;
  }
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    pthread_t tid[1024];
    float out[1024];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < threads; ++t)
      pthread_create(&tid[t], NULL, chains, &out[t]);
    for (int t = 0; t < threads; ++t)
      pthread_join(tid[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    double gflops = threads * (double)ITERATIONS * CHAINS * LANES * 2 / s / 1e9;
    if (gflops > best)
      best = gflops;
  }
  printf("peak f32 FMA: %.1f GFLOP/s on %d threads\n", best, threads);
  return 0;
}
