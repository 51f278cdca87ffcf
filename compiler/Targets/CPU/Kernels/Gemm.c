/*===- Gemm.c - tiles of C (+)= A . B for compiled models ------------------===*
 *
 * See Kernels.h for the ABI and the loop structure. One tile, on one thread:
 *
 *   for each K block of KC:                        (pc)
 *     B's KC x nc block -> 24-column f32 panels    (unless packed at compile
 *                                                   time; in place for < 16 rows)
 *     for each 24-column panel:                    (jr; the panel stays in L1)
 *       for each 4-row block of the tile:          (ir; A's block in L2)
 *         4 x 24 register kernel over the K block
 *
 * One row against packed B (decode) takes three panels at a time instead
 * (gemv3: three streams of B in flight per core, 15-19 -> 19-22 GB/s on
 * SmolLM2's decode shapes here, the STREAM triad's 21.6), or two (a tile
 * of 2 or 4 panels: grid_of's tiles for few rows divide among the
 * threads; SmolLM2's 192-column k/v projections on 2 threads on an
 * AVX-512 host, 20.0 -> 28.2 GB/s f32, 18.9 -> 22.9 GB/s bf16).
 *
 * B stored transposed (SWAA_GEMM_B_TRANSPOSED: a tied LM head reading the
 * embedding table) is packed per tile like unpacked B when the tile has 16
 * rows or more; with fewer, dot products of 8 stored rows at a time, and
 * for one row three streams of them (as gemv3: SmolLM2's head 14 -> 17-20
 * GB/s).
 *
 * The first K block writes C (or adds to it with SWAA_GEMM_ACCUMULATE), the
 * next ones add. Columns past the last full panel go through a zero-padded
 * panel and masked stores of C.
 *===----------------------------------------------------------------------===*/
#include "Kernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SWAA_X86 1
#endif

enum {
  MR = 4,       /* rows of the register kernel */
  NR = 24,      /* columns of the register kernel (three AVX2 vectors) */
  KC = 256,     /* K blocks: K in equal blocks of at most KC (a 24-column
                   panel of 256 is 24 KiB: L1) */
  MC = 96,      /* rows of a tile: A's 96 x 256 block is 96 KiB (L2) */
  NC = 288,     /* columns of a tile: 12 panels */
  NC_SMALL = 72 /* columns of a tile with fewer than SMALL_M rows: 3 panels */
};
enum { SMALL_M = 16 };

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

typedef struct {
  int64_t rows, cols, row_tiles, col_tiles;
} Grid;

/* The OpenMP threads that will share a call's tiles, read once: the grid
 * must not change between swaa_gemm_tiles and the tiles' calls. A weak
 * reference: the compiled code that calls this library brings libomp, a
 * program without it (gemm tests) counts as one thread. */
extern int omp_get_max_threads(void) __attribute__((weak));
static int64_t worker_count(void) {
  static int64_t count; /* racing first calls store the same value */
  int64_t n = __atomic_load_n(&count, __ATOMIC_RELAXED);
  if (n == 0) {
    n = omp_get_max_threads ? omp_get_max_threads() : 1;
    n = n < 1 ? 1 : n;
    __atomic_store_n(&count, n, __ATOMIC_RELAXED);
  }
  return n;
}

static Grid grid_of(int64_t m, int64_t n) {
  Grid g;
  g.rows = m < SMALL_M ? m : MC;
  g.cols = m < SMALL_M ? NC_SMALL : NC;
  if (m < SMALL_M && n > 0) {
    /* Few rows: the weights stream once, split by columns, and the tile
     * count is all that spreads them over the threads. When tiles of 3
     * panels are few and do not divide among the threads (SmolLM2's 192
     * columns: 3 tiles, 2 threads, one thread streaming two thirds), the
     * count is rounded up to a multiple of the threads, with fewer panels
     * per tile (192 columns: 4 tiles of 2). */
    int64_t panels = ceil_div(n, NR), tiles = ceil_div(panels, 3);
    int64_t workers = worker_count();
    if (tiles % workers != 0 && tiles < 4 * workers) {
      tiles = ceil_div(tiles, workers) * workers;
      g.cols = ceil_div(panels, tiles < panels ? tiles : panels) * NR;
    }
  }
  g.row_tiles = m > 0 ? ceil_div(m, g.rows) : 0;
  g.col_tiles = n > 0 ? ceil_div(n, g.cols) : 0;
  return g;
}

int64_t swaa_gemm_tiles(int64_t m, int64_t n, int64_t k) {
  (void)k;
  Grid g = grid_of(m, n);
  return g.row_tiles * g.col_tiles;
}

static inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = (uint32_t)v << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Per-thread scratch: the packed B block and A's block widened from bf16,
 * in thread-local storage (a dlopen'ed model.so gets it from the dynamic TLS
 * that the C library allocates per thread and frees when the thread ends). */
static _Thread_local float scratch_b[KC * NC] __attribute__((aligned(64)));
static _Thread_local float scratch_a[MC * KC] __attribute__((aligned(64)));

/* Packs B[0..kc, 0..cols] (row stride ldb, f32 or bf16; with `b_trans`
 * B is stored as [cols, kc] rows of stride ldb) into ceil(cols/24) f32
 * panels of kc x 24, zero-padded past cols. */
static void pack_b(int64_t kc, int64_t cols, const void *b, int64_t ldb,
                   int b_bf16, int b_trans, float *out) {
  for (int64_t p = 0; p * NR < cols; ++p) {
    int64_t c0 = p * NR, w = cols - c0 < NR ? cols - c0 : NR;
    float *dst = out + p * kc * NR;
    if (b_trans) {
      /* Column j of the panel is row c0 + j of the stored B. */
      for (int64_t j = 0; j < NR; ++j) {
        if (j >= w) {
          for (int64_t kk = 0; kk < kc; ++kk)
            dst[kk * NR + j] = 0.0f;
          continue;
        }
        for (int64_t kk = 0; kk < kc; ++kk)
          dst[kk * NR + j] =
              b_bf16 ? bf16_to_f32(((const uint16_t *)b)[(c0 + j) * ldb + kk])
                     : ((const float *)b)[(c0 + j) * ldb + kk];
      }
      continue;
    }
    for (int64_t kk = 0; kk < kc; ++kk, dst += NR) {
      if (b_bf16) {
        const uint16_t *src = (const uint16_t *)b + kk * ldb + c0;
        for (int64_t j = 0; j < w; ++j)
          dst[j] = bf16_to_f32(src[j]);
      } else {
        memcpy(dst, (const float *)b + kk * ldb + c0, (size_t)w * sizeof(float));
      }
      for (int64_t j = w; j < NR; ++j)
        dst[j] = 0.0f;
    }
  }
}

/* The portable kernel: C[rows, cols] (+)= A[rows, kc] . B[kc, cols], with B
 * as f32 or bf16, element (kk, j) at kk * sk + j * sj. */
static void micro_portable(int64_t rows, int64_t cols, int64_t kc,
                           const float *a, int64_t lda, const void *b,
                           int64_t sk, int64_t sj, int b_bf16, float *c,
                           int64_t ldc, int load) {
  for (int64_t r = 0; r < rows; ++r) {
    float acc[NR];
    for (int64_t j = 0; j < cols; ++j)
      acc[j] = load ? c[r * ldc + j] : 0.0f;
    for (int64_t kk = 0; kk < kc; ++kk) {
      float x = a[r * lda + kk];
      for (int64_t j = 0; j < cols; ++j) {
        int64_t at = kk * sk + j * sj;
        acc[j] += x * (b_bf16 ? bf16_to_f32(((const uint16_t *)b)[at])
                              : ((const float *)b)[at]);
      }
    }
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = acc[j];
  }
}

#ifdef SWAA_X86
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 load_bf16x8(const uint16_t *p) {
  __m128i h = _mm_loadu_si128((const __m128i *)p);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The register kernel: C[R, 24] (+)= A[R, kc] . B[kc, 24] for R = 1..4,
 * with 3R accumulators (12 of the 16 ymm registers at R = 4), one
 * broadcast of A per row and three vector loads of B per k: 7 loads per 12
 * FMAs, which measured 5-10% faster than 6 x 16 (8 loads) on Zen 3. One
 * function per (R, B's element type, B's row stride): the stride of a
 * packed panel is the constant 24 (a run-time stride measured 10-15%
 * slower); a run-time stride serves unpacked B with few rows. The
 * accumulators are named variables, not an array: gcc kept an array's
 * elements on the stack too, storing them every k. `masked` (a panel past
 * the last column) loads and stores only the columns that m[0..2] select. */
#define ACC_ZERO(r)                                                           \
  __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = c##r##0, c##r##2 = c##r##0;
#define ACC_STEP(R, r)                                                        \
  if (R > r) {                                                                \
    __m256 x = _mm256_broadcast_ss(a + r * lda + kk);                         \
    c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);                                \
    c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);                                \
    c##r##2 = _mm256_fmadd_ps(x, b2, c##r##2);                                \
  }
#define ACC_STORE(R, r)                                                       \
  if (R > r) {                                                                \
    float *cr = c + r * ldc;                                                  \
    if (!masked) {                                                            \
      if (load) {                                                             \
        c##r##0 = _mm256_add_ps(c##r##0, _mm256_loadu_ps(cr));                \
        c##r##1 = _mm256_add_ps(c##r##1, _mm256_loadu_ps(cr + 8));            \
        c##r##2 = _mm256_add_ps(c##r##2, _mm256_loadu_ps(cr + 16));           \
      }                                                                       \
      _mm256_storeu_ps(cr, c##r##0);                                          \
      _mm256_storeu_ps(cr + 8, c##r##1);                                      \
      _mm256_storeu_ps(cr + 16, c##r##2);                                     \
    } else {                                                                  \
      if (load) {                                                             \
        c##r##0 = _mm256_add_ps(c##r##0, _mm256_maskload_ps(cr, m[0]));       \
        c##r##1 = _mm256_add_ps(c##r##1, _mm256_maskload_ps(cr + 8, m[1]));   \
        c##r##2 = _mm256_add_ps(c##r##2, _mm256_maskload_ps(cr + 16, m[2]));  \
      }                                                                       \
      _mm256_maskstore_ps(cr, m[0], c##r##0);                                 \
      _mm256_maskstore_ps(cr + 8, m[1], c##r##1);                             \
      _mm256_maskstore_ps(cr + 16, m[2], c##r##2);                            \
    }                                                                         \
  }
#define MICRO(NAME, R, BT, LOAD, STRIDE)                                      \
  AVX2 static void NAME##_##R(int64_t kc, const float *a, int64_t lda,        \
                              const BT *b, int64_t ldb, float *c,             \
                              int64_t ldc, int load, int masked,              \
                              const __m256i *m) {                             \
    (void)ldb;                                                                \
    ACC_ZERO(0) ACC_ZERO(1) ACC_ZERO(2) ACC_ZERO(3)                           \
    for (int64_t kk = 0; kk < kc; ++kk) {                                     \
      const BT *bk = b + kk * (STRIDE);                                       \
      if (R == 1) /* one row: a stream of B, fetched ahead */                 \
        _mm_prefetch((const char *)(bk + 16 * (STRIDE)), _MM_HINT_T0);        \
      __m256 b0 = LOAD(bk), b1 = LOAD(bk + 8), b2 = LOAD(bk + 16);            \
      ACC_STEP(R, 0) ACC_STEP(R, 1) ACC_STEP(R, 2) ACC_STEP(R, 3)             \
    }                                                                         \
    ACC_STORE(R, 0) ACC_STORE(R, 1) ACC_STORE(R, 2) ACC_STORE(R, 3)           \
  }
#define LOAD_F32(p) _mm256_loadu_ps(p)
#define LOAD_BF16(p) load_bf16x8(p)
#define MICRO_ROWS(NAME, BT, LOAD, STRIDE)                                    \
  MICRO(NAME, 1, BT, LOAD, STRIDE) MICRO(NAME, 2, BT, LOAD, STRIDE)           \
  MICRO(NAME, 3, BT, LOAD, STRIDE) MICRO(NAME, 4, BT, LOAD, STRIDE)
MICRO_ROWS(packed_f32, float, LOAD_F32, NR)
MICRO_ROWS(packed_bf16, uint16_t, LOAD_BF16, NR)
MICRO_ROWS(strided_f32, float, LOAD_F32, ldb)
MICRO_ROWS(strided_bf16, uint16_t, LOAD_BF16, ldb)

typedef void (*MicroF32)(int64_t, const float *, int64_t, const float *,
                         int64_t, float *, int64_t, int, int, const __m256i *);
typedef void (*MicroBF16)(int64_t, const float *, int64_t, const uint16_t *,
                          int64_t, float *, int64_t, int, int,
                          const __m256i *);
#define ROW_TABLE(NAME) {0, NAME##_1, NAME##_2, NAME##_3, NAME##_4}
static const MicroF32 packed_f32[MR + 1] = ROW_TABLE(packed_f32);
static const MicroBF16 packed_bf16[MR + 1] = ROW_TABLE(packed_bf16);
static const MicroF32 strided_f32[MR + 1] = ROW_TABLE(strided_f32);
static const MicroBF16 strided_bf16[MR + 1] = ROW_TABLE(strided_bf16);

/* One row against NP (2 or 3) 24-column panels at once (decode's products:
 * B streams from memory once, and several streams in flight per core
 * instead of one keep more of its bandwidth busy). `ps`: elements from one
 * panel to the next. */
#define GEMV(NAME, NP, BT, LOAD)                                               \
  AVX2 static void NAME(int64_t kc, const float *a, const BT *b, int64_t ps,   \
                        float *c, int load) {                                  \
    __m256 s[NP][3];                                                           \
    for (int p = 0; p < NP; ++p)                                               \
      s[p][0] = s[p][1] = s[p][2] = _mm256_setzero_ps();                       \
    for (int64_t kk = 0; kk < kc; ++kk) {                                      \
      for (int p = 0; p < NP; ++p)                                             \
        _mm_prefetch((const char *)(b + p * ps + (kk + 16) * NR),              \
                     _MM_HINT_T0);                                             \
      __m256 x = _mm256_broadcast_ss(a + kk);                                  \
      for (int p = 0; p < NP; ++p) {                                           \
        const BT *q = b + p * ps + kk * NR;                                    \
        s[p][0] = _mm256_fmadd_ps(x, LOAD(q), s[p][0]);                        \
        s[p][1] = _mm256_fmadd_ps(x, LOAD(q + 8), s[p][1]);                    \
        s[p][2] = _mm256_fmadd_ps(x, LOAD(q + 16), s[p][2]);                   \
      }                                                                        \
    }                                                                          \
    for (int p = 0; p < NP; ++p)                                               \
      for (int v = 0; v < 3; ++v) {                                            \
        float *cv = c + NR * p + 8 * v;                                        \
        __m256 out = s[p][v];                                                  \
        if (load)                                                              \
          out = _mm256_add_ps(out, _mm256_loadu_ps(cv));                       \
        _mm256_storeu_ps(cv, out);                                             \
      }                                                                        \
  }
GEMV(gemv3_f32, 3, float, LOAD_F32)
GEMV(gemv3_bf16, 3, uint16_t, LOAD_BF16)
GEMV(gemv2_f32, 2, float, LOAD_F32)
GEMV(gemv2_bf16, 2, uint16_t, LOAD_BF16)

/* The sum of each of 8 vectors, as one vector. */
AVX2 static inline __m256 sum8(__m256 v0, __m256 v1, __m256 v2, __m256 v3,
                               __m256 v4, __m256 v5, __m256 v6, __m256 v7) {
  __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
  __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(v4, v5), _mm256_hadd_ps(v6, v7));
  return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20),
                       _mm256_permute2f128_ps(t0, t1, 0x31));
}

AVX2 static inline float sum1(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#define DOT8_STEP(T, LOAD)                                                    \
  acc##T = _mm256_fmadd_ps(x, LOAD(bt + (j0 + T) * ldb + kk), acc##T);

/* C[rows, cols] (+)= A[rows, kc] . B with B stored transposed ([cols, kc],
 * row stride ldb): dot products, 8 columns at a time (each row of the
 * stored B read once per row of A, from L1 after the first), their sums
 * reduced together into one vector. For few rows (decode, a prefill's last
 * row against a tied LM head). */
#define DOT_ROWS(NAME, BT, LOAD, SCALAR)                                       \
  AVX2 static void NAME(int64_t rows, int64_t cols, int64_t kc,               \
                        const float *a, int64_t lda, const BT *bt,            \
                        int64_t ldb, float *c, int64_t ldc, int load) {       \
    int64_t kv = kc / 8 * 8;                                                  \
    int64_t j0 = 0;                                                           \
    if (rows == 1) {                                                          \
      /* Three streams: thirds of the columns, each in memory order (more    \
       * of the memory's bandwidth busy than one, as gemv3). */              \
      int64_t third = cols / 24 * 8;                                          \
      for (int64_t g = 0; g < third; g += 8) {                                \
        __m256 s[3][8];                                                       \
        for (int t = 0; t < 8; ++t) {                                         \
          const BT *r0 = bt + (g + t) * ldb, *r1 = r0 + third * ldb,          \
                   *r2 = r1 + third * ldb;                                    \
          __m256 e0 = _mm256_setzero_ps(), e1 = e0, e2 = e0, o0 = e0,         \
                 o1 = e0, o2 = e0;                                            \
          int64_t kk = 0;                                                     \
          for (; kk + 16 <= kv; kk += 16) {                                   \
            __m256 x = _mm256_loadu_ps(a + kk), y = _mm256_loadu_ps(a + kk + 8);\
            e0 = _mm256_fmadd_ps(x, LOAD(r0 + kk), e0);                       \
            e1 = _mm256_fmadd_ps(x, LOAD(r1 + kk), e1);                       \
            e2 = _mm256_fmadd_ps(x, LOAD(r2 + kk), e2);                       \
            o0 = _mm256_fmadd_ps(y, LOAD(r0 + kk + 8), o0);                   \
            o1 = _mm256_fmadd_ps(y, LOAD(r1 + kk + 8), o1);                   \
            o2 = _mm256_fmadd_ps(y, LOAD(r2 + kk + 8), o2);                   \
          }                                                                   \
          if (kk < kv) {                                                      \
            __m256 x = _mm256_loadu_ps(a + kk);                               \
            e0 = _mm256_fmadd_ps(x, LOAD(r0 + kk), e0);                       \
            e1 = _mm256_fmadd_ps(x, LOAD(r1 + kk), e1);                       \
            e2 = _mm256_fmadd_ps(x, LOAD(r2 + kk), e2);                       \
          }                                                                   \
          s[0][t] = _mm256_add_ps(e0, o0);                                    \
          s[1][t] = _mm256_add_ps(e1, o1);                                    \
          s[2][t] = _mm256_add_ps(e2, o2);                                    \
        }                                                                     \
        for (int p = 0; p < 3; ++p) {                                         \
          float out[8];                                                       \
          _mm256_storeu_ps(out, sum8(s[p][0], s[p][1], s[p][2], s[p][3],      \
                                     s[p][4], s[p][5], s[p][6], s[p][7]));    \
          for (int t = 0; t < 8; ++t) {                                       \
            int64_t j = p * third + g + t;                                    \
            for (int64_t kk = kv; kk < kc; ++kk)                              \
              out[t] += a[kk] * SCALAR(bt[j * ldb + kk]);                     \
            c[j] = load ? c[j] + out[t] : out[t];                             \
          }                                                                   \
        }                                                                     \
      }                                                                       \
      j0 = 3 * third;                                                         \
    }                                                                         \
    if (rows == 1) /* what is left: one stream, in memory order */            \
      for (; j0 + 8 <= cols; j0 += 8) {                                       \
        __m256 s[8];                                                          \
        for (int t = 0; t < 8; ++t) {                                         \
          const BT *row = bt + (j0 + t) * ldb;                                \
          __m256 even = _mm256_setzero_ps(), odd = even;                      \
          int64_t kk = 0;                                                     \
          for (; kk + 16 <= kv; kk += 16) {                                   \
            even = _mm256_fmadd_ps(_mm256_loadu_ps(a + kk), LOAD(row + kk),   \
                                   even);                                     \
            odd = _mm256_fmadd_ps(_mm256_loadu_ps(a + kk + 8),                \
                                  LOAD(row + kk + 8), odd);                   \
          }                                                                   \
          if (kk < kv)                                                        \
            even = _mm256_fmadd_ps(_mm256_loadu_ps(a + kk), LOAD(row + kk),   \
                                   even);                                     \
          s[t] = _mm256_add_ps(even, odd);                                    \
        }                                                                     \
        float out[8];                                                         \
        _mm256_storeu_ps(out, sum8(s[0], s[1], s[2], s[3], s[4], s[5], s[6],  \
                                   s[7]));                                    \
        for (int t = 0; t < 8; ++t) {                                         \
          for (int64_t kk = kv; kk < kc; ++kk)                                \
            out[t] += a[kk] * SCALAR(bt[(j0 + t) * ldb + kk]);                \
          c[j0 + t] = load ? c[j0 + t] + out[t] : out[t];                     \
        }                                                                     \
      }                                                                       \
    for (; j0 + 8 <= cols; j0 += 8)                                           \
      for (int64_t r = 0; r < rows; ++r) {                                    \
        const float *ar = a + r * lda;                                        \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0,          \
               acc3 = acc0, acc4 = acc0, acc5 = acc0, acc6 = acc0,            \
               acc7 = acc0;                                                   \
        for (int64_t kk = 0; kk < kv; kk += 8) {                              \
          __m256 x = _mm256_loadu_ps(ar + kk);                                \
          DOT8_STEP(0, LOAD) DOT8_STEP(1, LOAD) DOT8_STEP(2, LOAD)            \
          DOT8_STEP(3, LOAD) DOT8_STEP(4, LOAD) DOT8_STEP(5, LOAD)            \
          DOT8_STEP(6, LOAD) DOT8_STEP(7, LOAD)                               \
        }                                                                     \
        __m256 s = sum8(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);      \
        float out[8];                                                         \
        _mm256_storeu_ps(out, s);                                             \
        for (int t = 0; t < 8; ++t) {                                         \
          for (int64_t kk = kv; kk < kc; ++kk)                                \
            out[t] += ar[kk] * SCALAR(bt[(j0 + t) * ldb + kk]);               \
          float *cr = c + r * ldc + j0 + t;                                   \
          *cr = load ? *cr + out[t] : out[t];                                 \
        }                                                                     \
      }                                                                       \
    for (; j0 < cols; ++j0)                                                   \
      for (int64_t r = 0; r < rows; ++r) {                                    \
        const float *ar = a + r * lda;                                        \
        __m256 acc = _mm256_setzero_ps();                                     \
        for (int64_t kk = 0; kk < kv; kk += 8)                                \
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(ar + kk),                     \
                                LOAD(bt + j0 * ldb + kk), acc);               \
        float out = sum1(acc);                                                \
        for (int64_t kk = kv; kk < kc; ++kk)                                  \
          out += ar[kk] * SCALAR(bt[j0 * ldb + kk]);                          \
        float *cr = c + r * ldc + j0;                                         \
        *cr = load ? *cr + out : out;                                         \
      }                                                                       \
  }
#define SCALAR_F32(v) (v)
DOT_ROWS(dot_rows_f32, float, LOAD_F32, SCALAR_F32)
DOT_ROWS(dot_rows_bf16, uint16_t, LOAD_BF16, bf16_to_f32)

AVX2 static void dot_rows(int64_t rows, int64_t cols, int64_t kc,
                          const float *a, int64_t lda, const void *b,
                          int64_t ldb, int b_bf16, float *c, int64_t ldc,
                          int load) {
  if (b_bf16)
    dot_rows_bf16(rows, cols, kc, a, lda, (const uint16_t *)b, ldb, c, ldc,
                  load);
  else
    dot_rows_f32(rows, cols, kc, a, lda, (const float *)b, ldb, c, ldc, load);
}

AVX2 static void column_masks(int64_t cols, __m256i *m) {
  int32_t lanes[NR];
  for (int j = 0; j < NR; ++j)
    lanes[j] = j < cols ? -1 : 0;
  for (int v = 0; v < NR / 8; ++v)
    m[v] = _mm256_loadu_si256((const __m256i *)(lanes + 8 * v));
}

/* A bf16 panel of kc x 24 as f32 (dst 32-byte aligned). */
AVX2 static void widen_panel(int64_t kc, const uint16_t *src, float *dst) {
  for (int64_t e = 0; e < kc * NR; e += 8)
    _mm256_store_ps(dst + e, load_bf16x8(src + e));
}

/* The K block [k0, k0+kc) of a rows x cols tile, AVX2. B is `b` as the
 * caller passes it: panels of 16 columns (`b_packed`: b points at the
 * tile's first panel, already offset to k0, panels `panel_stride` elements
 * apart), or rows of stride ldb. Unpacked B is packed here when the tile has
 * the rows to reuse it, read in place otherwise. */
AVX2 static void block_avx2(int64_t rows, int64_t cols, int64_t kc,
                            const float *a, int64_t lda, const void *b,
                            int64_t ldb, int b_bf16, int b_packed, int b_trans,
                            int64_t panel_stride, float *c, int64_t ldc,
                            int load) {
  if (b_trans && rows < SMALL_M) {
    dot_rows(rows, cols, kc, a, lda, b, ldb, b_bf16, c, ldc, load);
    return;
  }
  int pack = !b_packed && rows >= SMALL_M;
  if (pack) {
    float *panels = scratch_b;
    pack_b(kc, cols, b, ldb, b_bf16, b_trans, panels);
    b = panels;
    b_bf16 = 0;
    b_packed = 1;
    panel_stride = kc * NR;
  }
  float tail[KC * NR] __attribute__((aligned(64)));
  int64_t j_first = 0;
  if (rows == 1 && b_packed)
    /* Three panels at a time, then two (a tile of 2 or 4 panels). */
    for (int np = 3; np >= 2; --np)
      for (; j_first + np * NR <= cols; j_first += np * NR) {
        int64_t at = (j_first / NR) * panel_stride;
        const uint16_t *h = (const uint16_t *)b + at;
        const float *f = (const float *)b + at;
        if (np == 3 && b_bf16)
          gemv3_bf16(kc, a, h, panel_stride, c + j_first, load);
        else if (np == 3)
          gemv3_f32(kc, a, f, panel_stride, c + j_first, load);
        else if (b_bf16)
          gemv2_bf16(kc, a, h, panel_stride, c + j_first, load);
        else
          gemv2_f32(kc, a, f, panel_stride, c + j_first, load);
      }
  for (int64_t j0 = j_first; j0 < cols; j0 += NR) {
    int64_t w = cols - j0 < NR ? cols - j0 : NR;
    __m256i m[NR / 8];
    int masked = w < NR;
    if (masked)
      column_masks(w, m);
    const void *bj;
    int packed_here = b_packed;
    if (b_packed) {
      bj = b_bf16 ? (const void *)((const uint16_t *)b + (j0 / NR) * panel_stride)
                  : (const void *)((const float *)b + (j0 / NR) * panel_stride);
    } else if (masked) {
      /* A partial panel in place would read past B's row: pad it. */
      pack_b(kc, w, b_bf16 ? (const void *)((const uint16_t *)b + j0)
                           : (const void *)((const float *)b + j0),
             ldb, b_bf16, 0, tail);
      bj = tail;
      packed_here = 1;
    } else {
      bj = b_bf16 ? (const void *)((const uint16_t *)b + j0)
                  : (const void *)((const float *)b + j0);
    }
    if (b_packed && b_bf16 && rows >= SMALL_M) {
      /* A bf16 panel that several row blocks read is widened once, to L1
       * (kc <= KC here), instead of in every row block's kernel (two more
       * ops per 8 elements of B; SmolLM2's bf16 prefill shapes on 2 threads
       * here: 156-187 -> 202-213 GFLOP/s, as f32's 181-221). */
      widen_panel(kc, (const uint16_t *)bj, tail);
      bj = tail;
    }
    int bj_bf16 = b_bf16 && bj != tail;
    for (int64_t i0 = 0; i0 < rows; i0 += MR) {
      int64_t h = rows - i0 < MR ? rows - i0 : MR;
      const float *ai = a + i0 * lda;
      float *ci = c + i0 * ldc + j0;
      if (packed_here && bj_bf16)
        packed_bf16[h](kc, ai, lda, bj, NR, ci, ldc, load, masked, m);
      else if (packed_here)
        packed_f32[h](kc, ai, lda, bj, NR, ci, ldc, load, masked, m);
      else if (bj_bf16)
        strided_bf16[h](kc, ai, lda, bj, ldb, ci, ldc, load, 0, m);
      else
        strided_f32[h](kc, ai, lda, bj, ldb, ci, ldc, load, 0, m);
    }
  }
}

/* AVX-512 (cores with two 512-bit FMA units run the 4 x 24 AVX2 kernel at
 * half their peak: SmolLM2's prefill shapes at 191-193 of 458 GFLOP/s on
 * 2 threads here). The artifact's panels are 24 columns; the register
 * kernel takes two adjacent ones, 48 columns, as three zmm vectors per row,
 * after block_avx512 has interleaved the pair into one 48-column panel in
 * L1 (row kk: the first panel's 24 columns, then the second's), once per
 * K block for all the tile's rows (36 KiB per 96 rows x 48 columns x 192:
 * ~2% of the FMAs' time). 8 rows: 24 accumulators of the 32 registers, 3
 * vectors of B, the broadcasts of A folded into the FMAs; 24 FMAs per 3
 * loads of B and 8 of A. Against reading the two panels in place (the
 * third vector assembled from two halves with an insert, a shuffle on an
 * FMA port), on SmolLM2's prefill shapes on 2 threads here: f32 the same
 * (285-312 GFLOP/s, 62-68% of the peak: one thread with B and A in L2
 * reached 73% in place, 82% contiguous: at 2 threads something outside the
 * register kernel bounds it, unmeasured without PMU counters), bf16
 * 264-299 -> 297-323 (the pair is widened in the same pass). Neither
 * packing A per tile (8 rows interleaved) nor K blocks of 128-384 nor
 * walking a tile column's rows first (B kept in L2) measured faster. */
#define AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
enum { MR512 = 8, NR512 = 2 * NR };

#define Z_ZERO(r)                                                              \
  __m512 z##r##0 = _mm512_setzero_ps(), z##r##1 = z##r##0, z##r##2 = z##r##0;
#define Z_STEP(R, r)                                                           \
  if (R > r) {                                                                 \
    __m512 x = _mm512_set1_ps(a[r * lda + kk]);                                \
    z##r##0 = _mm512_fmadd_ps(x, b0, z##r##0);                                 \
    z##r##1 = _mm512_fmadd_ps(x, b1, z##r##1);                                 \
    z##r##2 = _mm512_fmadd_ps(x, b2, z##r##2);                                 \
  }
/* Row r's 48 columns, three vectors; m0..m2 select the columns to write. */
#define Z_STORE(R, r)                                                          \
  if (R > r) {                                                                 \
    float *cr = c + r * ldc;                                                   \
    if (load) {                                                                \
      z##r##0 = _mm512_add_ps(z##r##0, _mm512_maskz_loadu_ps(m0, cr));         \
      z##r##1 = _mm512_add_ps(z##r##1, _mm512_maskz_loadu_ps(m1, cr + 16));    \
      z##r##2 = _mm512_add_ps(z##r##2, _mm512_maskz_loadu_ps(m2, cr + 32));    \
    }                                                                          \
    _mm512_mask_storeu_ps(cr, m0, z##r##0);                                    \
    _mm512_mask_storeu_ps(cr + 16, m1, z##r##1);                               \
    _mm512_mask_storeu_ps(cr + 32, m2, z##r##2);                               \
  }
/* The macro calls below are statements, one per line. */
/* clang-format off */
#define MICRO512(R)                                                            \
  AVX512 static void pair512_##R(int64_t kc, const float *a, int64_t lda,      \
                                 const float *p, float *c, int64_t ldc,        \
                                 int load, __mmask16 m0, __mmask16 m1,         \
                                 __mmask16 m2) {                               \
    Z_ZERO(0) Z_ZERO(1) Z_ZERO(2) Z_ZERO(3)                                    \
    Z_ZERO(4) Z_ZERO(5) Z_ZERO(6) Z_ZERO(7)                                    \
    for (int64_t kk = 0; kk < kc; ++kk) {                                      \
      const float *q = p + kk * NR512;                                         \
      __m512 b0 = _mm512_load_ps(q), b1 = _mm512_load_ps(q + 16),              \
             b2 = _mm512_load_ps(q + 32);                                      \
      Z_STEP(R, 0) Z_STEP(R, 1) Z_STEP(R, 2) Z_STEP(R, 3)                      \
      Z_STEP(R, 4) Z_STEP(R, 5) Z_STEP(R, 6) Z_STEP(R, 7)                      \
    }                                                                          \
    Z_STORE(R, 0) Z_STORE(R, 1) Z_STORE(R, 2) Z_STORE(R, 3)                    \
    Z_STORE(R, 4) Z_STORE(R, 5) Z_STORE(R, 6) Z_STORE(R, 7)                    \
  }
MICRO512(1) MICRO512(2) MICRO512(3) MICRO512(4)
MICRO512(5) MICRO512(6) MICRO512(7) MICRO512(8)
/* clang-format on */
typedef void (*Pair512)(int64_t, const float *, int64_t, const float *,
                        float *, int64_t, int, __mmask16, __mmask16,
                        __mmask16);
static const Pair512 pair512[9] = {0,         pair512_1, pair512_2,
                                   pair512_3, pair512_4, pair512_5,
                                   pair512_6, pair512_7, pair512_8};

/* The low `n` (clamped to [0, bits]) bits set. */
static inline uint32_t low_bits(int64_t n, int bits) {
  if (n <= 0)
    return 0;
  return n >= bits ? (uint32_t)((1ull << bits) - 1) : (uint32_t)((1u << n) - 1);
}

/* Two kc x 24 panels (f32, or bf16 widened) as one kc x 48 panel: row kk
 * is p0's row kk, then p1's (dst 64-byte aligned). */
AVX512 static void interleave_pair(int64_t kc, const void *p0, const void *p1,
                                   int bf16, float *dst) {
  const __mmask16 low8 = 0x00ff, high8 = 0xff00;
  for (int64_t kk = 0; kk < kc; ++kk, dst += NR512) {
    __m512 v0, v1, v2;
    if (bf16) {
      const uint16_t *s0 = (const uint16_t *)p0 + kk * NR,
                     *s1 = (const uint16_t *)p1 + kk * NR;
      __m512i h0 = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const void *)s0));
      __m512i h1 = _mm512_cvtepu16_epi32(_mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128((const void *)(s0 + 16))),
          _mm_loadu_si128((const void *)s1), 1));
      __m512i h2 =
          _mm512_cvtepu16_epi32(_mm256_loadu_si256((const void *)(s1 + 8)));
      v0 = _mm512_castsi512_ps(_mm512_slli_epi32(h0, 16));
      v1 = _mm512_castsi512_ps(_mm512_slli_epi32(h1, 16));
      v2 = _mm512_castsi512_ps(_mm512_slli_epi32(h2, 16));
    } else {
      const float *s0 = (const float *)p0 + kk * NR,
                  *s1 = (const float *)p1 + kk * NR;
      v0 = _mm512_loadu_ps(s0);
      /* s0's columns 16-23, then s1's 0-7 */
      v1 = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(high8, s1 - 8), low8,
                                s0 + 16);
      v2 = _mm512_loadu_ps(s1 + 8);
    }
    _mm512_store_ps(dst, v0);
    _mm512_store_ps(dst + 16, v1);
    _mm512_store_ps(dst + 32, v2);
  }
}

/* As block_avx2, with tiles of 16 rows or more on the 8 x 48 kernel: B
 * packed (here if it was not at compile time), two panels at a time
 * interleaved into one (widened from bf16 on the way); an odd last panel
 * and tiles of fewer rows (decode's products, which memory bandwidth
 * bounds, not FMAs) go to the AVX2 code. */
AVX512 static void block_avx512(int64_t rows, int64_t cols, int64_t kc,
                                const float *a, int64_t lda, const void *b,
                                int64_t ldb, int b_bf16, int b_packed,
                                int b_trans, int64_t panel_stride, float *c,
                                int64_t ldc, int load) {
  if (rows < SMALL_M) {
    block_avx2(rows, cols, kc, a, lda, b, ldb, b_bf16, b_packed, b_trans,
               panel_stride, c, ldc, load);
    return;
  }
  if (!b_packed) {
    pack_b(kc, cols, b, ldb, b_bf16, b_trans, scratch_b);
    b = scratch_b;
    b_bf16 = 0;
    panel_stride = kc * NR;
  }
  size_t width = b_bf16 ? 2 : 4;
  float wide[KC * NR512] __attribute__((aligned(64)));
  int64_t j0 = 0;
  for (; j0 + NR < cols; j0 += NR512) {
    const char *p0 =
        (const char *)b + (size_t)((j0 / NR) * panel_stride) * width;
    interleave_pair(kc, p0, p0 + (size_t)panel_stride * width, b_bf16, wide);
    int64_t w = cols - j0; /* > 24 */
    __mmask16 m0 = (__mmask16)0xffff, m1 = (__mmask16)low_bits(w - 16, 16),
              m2 = (__mmask16)low_bits(w - 32, 16);
    for (int64_t i0 = 0; i0 < rows; i0 += MR512) {
      int64_t h = rows - i0 < MR512 ? rows - i0 : MR512;
      pair512[h](kc, a + i0 * lda, lda, wide, c + i0 * ldc + j0, ldc, load, m0,
                 m1, m2);
    }
  }
  if (j0 < cols) { /* one panel left */
    const void *last =
        b_bf16 ? (const void *)((const uint16_t *)b + (j0 / NR) * panel_stride)
               : (const void *)((const float *)b + (j0 / NR) * panel_stride);
    block_avx2(rows, cols - j0, kc, a, lda, last, ldb, b_bf16, 1, 0,
               panel_stride, c + j0, ldc, load);
  }
}
#endif

typedef void (*BlockFn)(int64_t, int64_t, int64_t, const float *, int64_t,
                        const void *, int64_t, int, int, int, int64_t, float *,
                        int64_t, int);

static void block_portable(int64_t rows, int64_t cols, int64_t kc,
                           const float *a, int64_t lda, const void *b,
                           int64_t ldb, int b_bf16, int b_packed, int b_trans,
                           int64_t panel_stride, float *c, int64_t ldc,
                           int load) {
  size_t width = b_bf16 ? 2 : 4;
  for (int64_t j0 = 0; j0 < cols; j0 += NR) {
    int64_t w = cols - j0 < NR ? cols - j0 : NR;
    int64_t first = b_packed ? (j0 / NR) * panel_stride
                    : b_trans ? j0 * ldb
                              : j0;
    const char *bj = (const char *)b + first * width;
    micro_portable(rows, w, kc, a, lda, bj,
                   b_packed ? NR : b_trans ? 1 : ldb, b_trans ? ldb : 1,
                   b_bf16, c + j0, ldc, load);
  }
}

/* The kernels this CPU runs, best first; SWAA_GEMM_ISA (portable, avx2,
 * avx512) picks one of them instead (for tests of each path and for A/B
 * timings; a name the CPU cannot run is ignored). */
typedef struct {
  const char *name;
  BlockFn run;
} Isa;

static Isa choose_isa(void) {
  Isa isas[3];
  int count = 0;
#ifdef SWAA_X86
  __builtin_cpu_init();
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vl"))
    isas[count++] = (Isa){"avx512", block_avx512};
  if (avx2)
    isas[count++] = (Isa){"avx2", block_avx2};
#endif
  isas[count++] = (Isa){"portable", block_portable};
  const char *want = getenv("SWAA_GEMM_ISA");
  for (int i = 0; want && i < count; ++i)
    if (strcmp(want, isas[i].name) == 0)
      return isas[i];
  return isas[0];
}

static Isa current_isa(void) {
  static BlockFn block; /* racing first calls store the same values */
  static const char *name;
  BlockFn run = __atomic_load_n(&block, __ATOMIC_ACQUIRE);
  if (!run) {
    Isa isa = choose_isa();
    __atomic_store_n(&name, isa.name, __ATOMIC_RELAXED);
    __atomic_store_n(&block, isa.run, __ATOMIC_RELEASE);
    return isa;
  }
  return (Isa){__atomic_load_n(&name, __ATOMIC_RELAXED), run};
}

const char *swaa_gemm_isa(void) { return current_isa().name; }

void swaa_gemm_tile(int64_t tile, int64_t m, int64_t n, int64_t k,
                    uintptr_t a_addr, int64_t lda, uintptr_t b_addr,
                    int64_t ldb, uintptr_t c_addr, int64_t ldc,
                    int64_t flags) {
  BlockFn run = current_isa().run;
  Grid g = grid_of(m, n);
  if (tile < 0 || tile >= g.row_tiles * g.col_tiles)
    return;
  int64_t m0 = tile / g.col_tiles * g.rows, n0 = tile % g.col_tiles * g.cols;
  int64_t rows = m - m0 < g.rows ? m - m0 : g.rows;
  int64_t cols = n - n0 < g.cols ? n - n0 : g.cols;
  int a_bf16 = (flags & SWAA_GEMM_A_BF16) != 0;
  int b_bf16 = (flags & SWAA_GEMM_B_BF16) != 0;
  int b_packed = (flags & SWAA_GEMM_B_PACKED) != 0;
  int b_trans = !b_packed && (flags & SWAA_GEMM_B_TRANSPOSED) != 0;
  size_t b_width = b_bf16 ? 2 : 4;
  float *c = (float *)c_addr + m0 * ldc + n0;
  int load = (flags & SWAA_GEMM_ACCUMULATE) != 0;
  if (k == 0) {
    if (!load)
      for (int64_t r = 0; r < rows; ++r)
        memset(c + r * ldc, 0, (size_t)cols * sizeof(float));
    return;
  }
  /* With few rows there is no reuse of B to block for: one K block (the
   * weights stream once, each panel or stored row front to back; a bf16 A
   * is widened whole, where it fits the scratch: in blocks, a bf16 model's
   * decode read its LM head's rows in three pieces, 16 GB/s instead of
   * 24). Else K in equal blocks of at most KC (576 = 3 x 192, not 256 +
   * 256 + 64: each block reads and writes C once). */
  int64_t kblock = rows < SMALL_M && (b_packed || b_trans) &&
                           (!a_bf16 || rows * k <= MC * KC)
                       ? k
                       : ceil_div(k, ceil_div(k, KC));
  for (int64_t k0 = 0; k0 < k; k0 += kblock) {
    int64_t kc = k - k0 < kblock ? k - k0 : kblock;
    const float *a;
    int64_t a_stride;
    if (a_bf16) {
      /* Widen A's block once; every panel reads it. */
      float *wide = scratch_a;
      const uint16_t *src = (const uint16_t *)a_addr + m0 * lda + k0;
      a_stride = kc > KC ? kc : KC;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t kk = 0; kk < kc; ++kk)
          wide[r * a_stride + kk] = bf16_to_f32(src[r * lda + kk]);
      a = wide;
    } else {
      a = (const float *)a_addr + m0 * lda + k0;
      a_stride = lda;
    }
    /* Packed B: panel n0/24 onwards, row k0 of each; transposed: row n0,
     * column k0; else row k0, column n0. */
    int64_t offset = b_packed  ? (n0 / NR) * k * NR + k0 * NR
                     : b_trans ? n0 * ldb + k0
                               : k0 * ldb + n0;
    const void *b = (const char *)b_addr + (size_t)offset * b_width;
    run(rows, cols, kc, a, a_stride, b, ldb, b_bf16, b_packed, b_trans, k * NR,
        c, ldc, load || k0 > 0);
  }
}

/* The entry points that compiled code calls (MLIR's C interface: each 2-D
 * memref is a pointer to its descriptor). The compiler passes identity
 * layouts (unit column stride), so a descriptor's row stride is the leading
 * dimension. */
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2D;

/* Packed B (SWAA_GEMM_B_PACKED): a [panels, k, 24] memref; n is C's. */
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} MemRef3D;

/* One tile from descriptors: B as its address, row stride (unused when
 * packed) and flags; n is C's width, so packed and plain B agree. */
static void gemm_memref(int64_t tile, const MemRef2D *a, uintptr_t b,
                        int64_t ldb, const MemRef2D *c, int64_t accumulate,
                        int64_t flags) {
  int a_bf16 = (flags & SWAA_GEMM_A_BF16) != 0;
  uintptr_t pa = (uintptr_t)a->aligned + (uintptr_t)a->offset * (a_bf16 ? 2 : 4);
  uintptr_t pc = (uintptr_t)c->aligned + (uintptr_t)c->offset * 4;
  swaa_gemm_tile(tile, a->sizes[0], c->sizes[1], a->sizes[1], pa,
                 a->strides[0], b, ldb, pc, c->strides[0],
                 flags | (accumulate ? SWAA_GEMM_ACCUMULATE : 0));
}

static uintptr_t data_of(void *aligned, int64_t offset, int64_t flags) {
  return (uintptr_t)aligned +
         (uintptr_t)offset * ((flags & SWAA_GEMM_B_BF16) ? 2 : 4);
}

/* _mlir_ciface_swaa_gemm_<A>_<B>, ..._packed and ..._t (B given as its
 * transpose, [n, k]) for each element type pair. */
#define ENTRIES(A, B, FLAGS)                                                  \
  void _mlir_ciface_swaa_gemm_##A##_##B(int64_t tile, const MemRef2D *a,      \
                                        const MemRef2D *b, const MemRef2D *c, \
                                        int64_t accumulate) {                 \
    gemm_memref(tile, a, data_of(b->aligned, b->offset, FLAGS),               \
                b->strides[0], c, accumulate, FLAGS);                         \
  }                                                                           \
  void _mlir_ciface_swaa_gemm_##A##_##B##_packed(                             \
      int64_t tile, const MemRef2D *a, const MemRef3D *b, const MemRef2D *c,  \
      int64_t accumulate) {                                                   \
    gemm_memref(tile, a, data_of(b->aligned, b->offset, FLAGS), 0, c,         \
                accumulate, (FLAGS) | SWAA_GEMM_B_PACKED);                    \
  }                                                                           \
  void _mlir_ciface_swaa_gemm_##A##_##B##_t(int64_t tile, const MemRef2D *a,  \
                                          const MemRef2D *b,                  \
                                          const MemRef2D *c,                  \
                                          int64_t accumulate) {               \
    gemm_memref(tile, a, data_of(b->aligned, b->offset, FLAGS),               \
                b->strides[0], c, accumulate,                                 \
                (FLAGS) | SWAA_GEMM_B_TRANSPOSED);                            \
  }
ENTRIES(f32, f32, 0)
ENTRIES(f32, bf16, SWAA_GEMM_B_BF16)
ENTRIES(bf16, f32, SWAA_GEMM_A_BF16)
ENTRIES(bf16, bf16, SWAA_GEMM_A_BF16 | SWAA_GEMM_B_BF16)

/* f32 -> bf16, rounding to nearest even: LLVM calls this (a compiler-rt /
 * libgcc >= 13 routine) for an fptrunc to bfloat on x86 without AVX512-BF16,
 * which its optimizer may form from swaa-expand-bf16's integer code. The
 * system's libgcc (GCC 12 here) lacks it, so the kernel library, which
 * every model.so links, provides it (weak: a libgcc that has it wins). The
 * bf16 result is returned in the low 16 bits of xmm0, as the ABI returns a
 * __bf16; a float return puts it there. */
#if defined(__x86_64__)
__attribute__((weak)) float __truncsfbf2(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  uint32_t out;
  if ((bits & 0x7fffffffu) > 0x7f800000u) /* NaN: stays a quiet NaN */
    out = (bits >> 16) | 0x40u;
  else
    out = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  float r;
  memcpy(&r, &out, sizeof r);
  return r;
}
#endif
