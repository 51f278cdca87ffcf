/*===- gemm_check.c - the CPU kernel library against the definition --------===*
 *
 * swaa-gemm-check: every tile of swaa_gemm_tile over shapes that cross each
 * blocking edge of Gemm.c (rows around the 4- and 8-row kernels, the 16-row
 * small-M switch and the 96-row tile; columns around the 24-column panel,
 * the 48-column panel pair and the 72/288-column tiles; K around the 256
 *block), for each flag combination (accumulate, A and B in bf16, B packed in
 *panels or stored transposed), against C = init + A . B computed from the
 *definition in int64. The inputs are small integers, so every f32 sum is exact
 *and the comparison is equality; C starts as NaN where it is written, not read,
 *so a tile that misses an element or writes past its columns is caught. Prints
 *one line per shape and a summary naming the kernels that ran (SWAA_GEMM_ISA
 *picks them); exits 1 on the first mismatch (naming it). The library spreads
 *few-row products over as many column tiles as there are OpenMP threads;
 *this program has no OpenMP runtime, so it answers the library's
 *omp_get_max_threads itself, from OMP_NUM_THREADS, to check those grids.
 *===----------------------------------------------------------------------===*/
#include "compiler/Targets/CPU/Kernels/Kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's weak reference resolves to this: OMP_NUM_THREADS, else 1. */
int omp_get_max_threads(void) {
  const char *v = getenv("OMP_NUM_THREADS");
  int n = v ? atoi(v) : 1;
  return n > 0 ? n : 1;
}

static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16); /* small integers: exact */
}

static uint64_t state = 88172645463325252ull;
static int small_int(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (int)(state % 7) - 3;
}

static int check(int64_t m, int64_t n, int64_t k, int flags) {
  const int64_t panel = SWAA_GEMM_PANEL, panels = (n + panel - 1) / panel;
  const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2; /* strides != sizes */
  const int64_t ldbt = k + 5; /* the transposed B's rows */
  float *a = malloc(sizeof(float) * (size_t)(m * lda + 1));
  float *b = malloc(sizeof(float) * (size_t)(k * ldb + 1));
  float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1));
  float *init = malloc(sizeof(float) * (size_t)(m * ldc + 1));
  uint16_t *a16 = malloc(2 * (size_t)(m * lda + 1));
  uint16_t *b16 = malloc(2 * (size_t)(k * ldb + 1));
  float *bp = calloc((size_t)(panels * k * panel + 1), sizeof(float));
  uint16_t *bp16 = calloc((size_t)(panels * k * panel + 1), 2);
  float *bt = calloc((size_t)(n * ldbt + 1), sizeof(float));
  uint16_t *bt16 = calloc((size_t)(n * ldbt + 1), 2);
  for (int64_t i = 0; i < m * lda; ++i)
    a16[i] = to_bf16(a[i] = (float)small_int());
  for (int64_t i = 0; i < k * ldb; ++i)
    b16[i] = to_bf16(b[i] = (float)small_int());
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = 0; j < n; ++j) {
      int64_t at = (j / panel * k + r) * panel + j % panel;
      bp[at] = b[r * ldb + j];
      bp16[at] = b16[r * ldb + j];
      bt[j * ldbt + r] = b[r * ldb + j];
      bt16[j * ldbt + r] = b16[r * ldb + j];
    }
  int accumulate = flags & SWAA_GEMM_ACCUMULATE;
  for (int64_t i = 0; i < m * ldc; ++i) {
    init[i] = (float)small_int();
    c[i] = accumulate ? init[i] : NAN;
  }
  uintptr_t pa = flags & SWAA_GEMM_A_BF16 ? (uintptr_t)a16 : (uintptr_t)a;
  int b16flag = flags & SWAA_GEMM_B_BF16;
  uintptr_t pb = flags & SWAA_GEMM_B_PACKED
                     ? (b16flag ? (uintptr_t)bp16 : (uintptr_t)bp)
                 : flags & SWAA_GEMM_B_TRANSPOSED
                     ? (b16flag ? (uintptr_t)bt16 : (uintptr_t)bt)
                     : (b16flag ? (uintptr_t)b16 : (uintptr_t)b);
  int64_t pldb = flags & SWAA_GEMM_B_TRANSPOSED ? ldbt : ldb;
  int64_t tiles = swaa_gemm_tiles(m, n, k);
  /* Backwards: a tile must not depend on the others having run. */
  for (int64_t t = tiles - 1; t >= 0; --t)
    swaa_gemm_tile(t, m, n, k, pa, lda, pb, pldb, (uintptr_t)c, ldc, flags);
  int ok = 1;
  for (int64_t i = 0; i < m && ok; ++i)
    for (int64_t j = 0; j < ldc && ok; ++j) {
      float got = c[i * ldc + j];
      if (j >= n) { /* between rows: never written */
        float want = accumulate ? init[i * ldc + j] : NAN;
        if (!(got == want || (isnan(got) && isnan(want)))) {
          printf("m=%lld n=%lld k=%lld flags=%d: C[%lld][%lld] past the "
                 "columns was written\n",
                 (long long)m, (long long)n, (long long)k, flags,
                 (long long)i, (long long)j);
          ok = 0;
        }
        continue;
      }
      int64_t want = accumulate ? (int64_t)init[i * ldc + j] : 0;
      for (int64_t q = 0; q < k; ++q)
        want += (int64_t)a[i * lda + q] * (int64_t)b[q * ldb + j];
      if (got != (float)want) {
        printf("m=%lld n=%lld k=%lld flags=%d: C[%lld][%lld] = %g, expected "
               "%lld\n",
               (long long)m, (long long)n, (long long)k, flags, (long long)i,
               (long long)j, got, (long long)want);
        ok = 0;
      }
    }
  free(a), free(b), free(c), free(init), free(a16), free(b16), free(bp),
      free(bp16), free(bt), free(bt16);
  return ok;
}

int main(void) {
  const int64_t ms[] = {1, 3, 4, 5, 15, 16, 17, 97, 200};
  const int64_t ns[] = {1, 23, 24, 25, 47, 48, 49, 72, 73, 192, 289, 600};
  const int64_t ks[] = {1, 7, 256, 257, 600};
  int shapes = 0, runs = 0;
  for (size_t mi = 0; mi < sizeof ms / sizeof *ms; ++mi)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ++ni)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ++ki) {
        int64_t m = ms[mi], n = ns[ni], k = ks[ki];
        if (m * n * k > 20000000) /* keeps the run under a few seconds */
          continue;
        for (int flags = 0; flags < 32; ++flags) {
          if ((flags & SWAA_GEMM_B_PACKED) && (flags & SWAA_GEMM_B_TRANSPOSED))
            continue; /* one layout of B at a time */
          if (!check(m, n, k, flags))
            return 1;
          ++runs;
        }
        ++shapes;
      }
  if (swaa_gemm_tiles(0, 5, 5) != 0 || swaa_gemm_tiles(5, 0, 5) != 0) {
    printf("empty shapes must have no tiles\n");
    return 1;
  }
  printf("gemm (%s kernels, tiles for %d thread%s): %d shapes x 24 flag sets, "
         "%d runs, all exact\n",
         swaa_gemm_isa(), omp_get_max_threads(),
         omp_get_max_threads() == 1 ? "" : "s", shapes, runs);
  return 0;
}
