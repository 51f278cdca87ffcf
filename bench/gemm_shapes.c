/*===- bench/gemm_shapes.c - the CPU kernel library on a model's shapes ---===*
 *
 * Times swaa's matmul kernels (compiler/Targets/CPU/Kernels, the code every
 * model.so links) on given shapes, the way compiled models call them: B a
 * weight packed in 24-column panels (swaa-pack-weights), the tiles of
 * swaa_gemm_tiles spread over THREADS OpenMP threads. Prints one line per
 * shape: "M N K seconds GFLOP/s weight-GB/s" (the best of REPS runs, after
 * one untimed run); bench/run compares GFLOP/s with peak_fma and the weight
 * bytes per second of one-row products with stream_triad. A shape of fewer
 * than 16 rows (decode's) runs over enough copies of its weight to fill
 * 256 MiB, one after the other, as a model's layers do: the weights come
 * from memory, not from the last level cache.
 *
 *   cc -O3 -march=native -fopenmp -Icompiler/Targets/CPU/Kernels \
 *      bench/gemm_shapes.c build/lib/libswaa_cpu_kernels.a -o gemm_shapes
 *   OMP_NUM_THREADS=2 ./gemm_shapes REPS M,N,K [M,N,K ...] [bf16]
 *===----------------------------------------------------------------------===*/
#include "Kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: gemm_shapes REPS M,N,K [M,N,K ...] [bf16]\n");
    return 1;
  }
  int reps = atoi(argv[1]);
  int bf16 = strcmp(argv[argc - 1], "bf16") == 0;
  for (int i = 2; i < argc - bf16; ++i) {
    long m, n, k;
    if (sscanf(argv[i], "%ld,%ld,%ld", &m, &n, &k) != 3 || m < 1 || n < 1 ||
        k < 1) {
      fprintf(stderr, "gemm_shapes: bad shape '%s' (M,N,K)\n", argv[i]);
      return 1;
    }
    long panels = (n + SWAA_GEMM_PANEL - 1) / SWAA_GEMM_PANEL;
    size_t width = bf16 ? 2 : 4;
    float *a = aligned_alloc(64, sizeof(float) * (size_t)(m * k + 16));
    float *c = aligned_alloc(64, sizeof(float) * (size_t)(m * n + 16));
    size_t bbytes = width * (size_t)(panels * k * SWAA_GEMM_PANEL);
    size_t stride = (bbytes + 63) / 64 * 64;
    long copies = m < 16 ? (long)((256u << 20) / stride) + 1 : 1;
    unsigned char *b = aligned_alloc(64, stride * (size_t)copies);
    if (!a || !b || !c) {
      fprintf(stderr, "gemm_shapes: out of memory for %s\n", argv[i]);
      return 1;
    }
    for (long j = 0; j < m * k; ++j)
      a[j] = (float)(j % 7) * 0.01f;
    for (size_t j = 0; j < stride * (size_t)copies; ++j)
      /* Small normal values: the high byte of each element is 0x3c (about
       * 2^-7). Denormal weights would time the CPU's microcode assists
       * (on Intel cores 10x slower FMAs), not the kernels. */
      b[j] = (unsigned char)(j % width == width - 1 ? 0x3c : j % 3);
    long tiles = swaa_gemm_tiles(m, n, k);
    long flags = SWAA_GEMM_B_PACKED | (bf16 ? SWAA_GEMM_B_BF16 : 0);
    double best = 1e30;
    for (int r = 0; r <= reps; ++r) {
      double t0 = now();
      for (long copy = 0; copy < copies; ++copy) {
        uintptr_t bc = (uintptr_t)(b + stride * (size_t)copy);
#pragma omp parallel for schedule(static)
        for (long t = 0; t < tiles; ++t)
          swaa_gemm_tile(t, m, n, k, (uintptr_t)a, k, bc, 0, (uintptr_t)c, n,
                         flags);
      }
      double dt = (now() - t0) / (double)copies;
      if (r > 0 && dt < best)
        best = dt;
    }
    printf("%ld %ld %ld %.6f %.1f %.2f\n", m, n, k, best,
           2.0 * m * n * k / best / 1e9, (double)bbytes / best / 1e9);
    free(a);
    free(b);
    free(c);
  }
  return 0;
}
