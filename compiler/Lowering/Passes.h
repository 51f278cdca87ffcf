//===- Passes.h - lowerings of the attn dialect -----------------*- C++ -*-===//
//
// Declares the lowering passes of `attn` ops and the transforms they call.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_LOWERING_PASSES_H
#define SWAA_COMPILER_LOWERING_PASSES_H

#include "dialects/Attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Pass/Pass.h"

namespace mlir::swaa {

/// Replaces `op` with linalg/tensor/arith/math ops that compute the attention
/// contract with an explicit O(n^2) mask. Returns the value that replaced the
/// op's result.
FailureOr<Value> lowerAttentionToReference(RewriterBase &rewriter,
                                           attn::AttentionOp op);

/// Replaces `op` with the rows of its update written into their cache slots,
/// one after the other (an scf.for of insert_slices).
FailureOr<Value> lowerCacheAppendToReference(RewriterBase &rewriter,
                                             attn::CacheAppendOp op);

/// Replaces `op` with one parallel loop over the update's elements that
/// stores each row into its slot; of the rows that share a ring slot only
/// the last is stored, so the loop has no write conflicts
/// (CacheAppend.cpp). The cache is updated in place.
FailureOr<Value> lowerCacheAppendToParallel(RewriterBase &rewriter,
                                            attn::CacheAppendOp op);

/// The slot of absolute position `j` in a cache: `j` for a full cache
/// (null `ringWindow`); for a ring of `window` + `sinks` slots, `j` below the
/// sinks, else `sinks + (j - sinks) mod window`.
Value cacheSlot(OpBuilder &b, Location loc, Value j, IntegerAttr ringWindow,
                IntegerAttr ringSinks);

/// Replaces `op` with a gather of the cached keys/values of positions
/// 0 .. pos + n - 1 and the reference attention over them.
FailureOr<Value> lowerCacheAttentionToReference(RewriterBase &rewriter,
                                                attn::CacheAttentionOp op);

/// Replaces `op` (attn.attention or attn.cache_attention) with the tiled
/// online-softmax loop nest of the CPU target: vectorized across query rows
/// with `vectorWidth` lanes (VectorAttention.cpp) unless the op has a static
/// row count below it or the width is 0, else the scalar loop nest
/// (TiledAttention.cpp). With a width, the scalar nest (few rows: decode)
/// walks each key/value head's keys once for its query heads and splits
/// them across parallel iterations of `splitKeys` keys (0: no splits).
FailureOr<Value> lowerAttentionToTiled(RewriterBase &rewriter, Operation *op,
                                       int64_t queryTile, int64_t keyTile,
                                       int64_t vectorWidth = 0,
                                       int64_t splitKeys = 0);

/// Replaces `op` (attn.attention or attn.cache_attention) with `gpu.launch`
/// kernels (GPUAttention.cpp): for several query rows, a block of
/// `queryTile` threads per query tile with `keyTile` keys staged through
/// shared memory; for one row, a block of `decodeThreads` threads that split
/// the keys and combine through shared memory.
FailureOr<Value> lowerAttentionToGPU(RewriterBase &rewriter, Operation *op,
                                     int64_t queryTile, int64_t keyTile,
                                     int64_t decodeThreads);

/// Adds what the GPU pipelines need of upstream ops: the memory effects of
/// gpu.barrier (an external model; buffer deallocation asks every op).
void registerGPUExternalModels(DialectRegistry &registry);

/// The ops that swaa-chunk-rows would compute with `consumer` a chunk of
/// rows at a time (ChunkRows.cpp), in block order: the row-local linalg ops
/// that produce its input and that nothing else reads. Failure when
/// `consumer` is not a contraction against a weight or the chain does not
/// widen the rows.
/// The unit attribute of swaa-chunk-rows' loops: sequential loops whose
/// bodies keep their parallel loops.
constexpr llvm::StringLiteral kChunkLoopAttr = "swaa.chunk_loop";

FailureOr<SmallVector<Operation *>> rowChunkChain(linalg::LinalgOp consumer);

/// Replaces `consumer` and `chain` (what rowChunkChain returned for it)
/// with an scf.for over chunks of `rows` rows of the last row dimension,
/// each op tiled on the chunk; returns the loop.
FailureOr<scf::ForOp> chunkRows(RewriterBase &rewriter,
                                linalg::LinalgOp consumer,
                                ArrayRef<Operation *> chain, int64_t rows);

#define GEN_PASS_DECL
#include "compiler/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Lowering/Passes.h.inc"

} // namespace mlir::swaa

#endif // SWAA_COMPILER_LOWERING_PASSES_H
