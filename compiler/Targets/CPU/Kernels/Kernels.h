/*===- Kernels.h - the CPU micro-kernels that compiled models call ---------===*
 *
 * The dense contractions against weights (q/k/v/o projections, the MLP, the
 * LM head) are what a real model spends its time on. The swaa-cpu pipeline
 * rewrites each one (swaa-vectorize-contractions{library=true}) into a
 * parallel loop over tiles of the output, each iteration one call of
 *
 *   C[m0.., n0..] (+)= A[m0.., :] . B[:, n0..]
 *
 * on one thread; the compiled code owns the threads (OpenMP), this library
 * owns the tiling policy and the register kernels. It is linked statically
 * into every model.so, so an artifact depends on nothing new.
 *
 * The ABI is plain integers (pointers as uintptr_t), so the compiler calls
 * it with func.call on i64 values:
 *
 *   tiles  = swaa_gemm_tiles(m, n, k)
 *   for t in [0, tiles) in parallel:
 *     swaa_gemm_tile(t, m, n, k, a, lda, b, ldb, c, ldc, flags)
 *
 * A: [m, k] with row stride lda, B: [k, n] with row stride ldb, C: [m, n]
 * with row stride ldc (elements, not bytes); C is written, or accumulated
 * onto with SWAA_GEMM_ACCUMULATE. A and B are f32, or bf16 (their upper
 * 16 bits) with SWAA_GEMM_A_BF16 / SWAA_GEMM_B_BF16; C and the sums are
 * always f32. The tiles of one call write disjoint parts of C.
 *
 * How: the BLIS loop structure. A tile is up to 96 rows x 288 columns (72
 * columns for fewer than 16 rows, where the weights are streamed once and
 * the tile count is what spreads them over threads: fewer columns when
 * that makes the count divide among omp_get_max_threads()); K in blocks
 * of 256; B in 24-column panels: packed at compile time (swaa-pack-weights,
 * the layout SWAA_GEMM_B_PACKED names), else packed per tile (converted to
 * f32) when the tile has the rows to reuse it and read in place otherwise
 * (a transposed B, with few rows, by dot products of 8 columns at a time);
 * a 4 x 24 register kernel (12 AVX2 accumulators, one broadcast of A and
 * three loads of B per k); on AVX-512 CPUs, tiles of 16 rows or more take
 * an 8 x 48 kernel (two panels interleaved into one in L1, 24 zmm
 * accumulators). Machines without AVX2+FMA run a portable C kernel (chosen
 * once, at the first call; SWAA_GEMM_ISA overrides, see swaa_gemm_isa).
 *===----------------------------------------------------------------------===*/
#ifndef SWAA_CPU_KERNELS_H
#define SWAA_CPU_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per panel of a packed B.
#define SWAA_GEMM_PANEL 24

enum {
  SWAA_GEMM_ACCUMULATE = 1,
  SWAA_GEMM_A_BF16 = 2,
  SWAA_GEMM_B_BF16 = 4,
  /* B stored as ceil(n/24) panels of k x 24 (zero-padded columns; panel p
   * holds columns 24p..24p+23, row-major): how swaa-pack-weights stores a
   * weight; `ldb` is then unused. */
  SWAA_GEMM_B_PACKED = 8,
  /* B stored transposed: [n, k] row-major with row stride `ldb` (the
   * embedding table of a tied LM head, read in place). */
  SWAA_GEMM_B_TRANSPOSED = 16,
};

/// How many tiles swaa_gemm_tile splits an m x n x k contraction into
/// (at least 1 when m and n are positive, 0 when either is 0).
int64_t swaa_gemm_tiles(int64_t m, int64_t n, int64_t k);

/// Computes tile `tile` (0 <= tile < swaa_gemm_tiles(m, n, k)).
void swaa_gemm_tile(int64_t tile, int64_t m, int64_t n, int64_t k,
                    uintptr_t a, int64_t lda, uintptr_t b, int64_t ldb,
                    uintptr_t c, int64_t ldc, int64_t flags);

/// The register kernels in use: "avx512", "avx2" or "portable" (the best
/// this CPU runs, unless the environment variable SWAA_GEMM_ISA names
/// another one it runs).
const char *swaa_gemm_isa(void);

#ifdef __cplusplus
}
#endif

#endif
