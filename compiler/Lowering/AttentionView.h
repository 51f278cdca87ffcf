//===- AttentionView.h - what the attention ops share -----------*- C++ -*-===//
//
// `attn.attention` and `attn.cache_attention` seen through one struct, so
// that each lowering (tiled CPU loop nest, GPU kernels) handles both forms
// with one code path.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_LOWERING_ATTENTIONVIEW_H
#define SWAA_COMPILER_LOWERING_ATTENTIONVIEW_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace mlir::swaa {

struct AttentionView {
  Operation *op = nullptr;
  /// [B, H, N, D] queries, [B, Hkv, K, D] keys, [B, Hkv, K, Dv] values, and
  /// an optional additive mask broadcastable to [B, H, N, K].
  Value query, key, value, mask;
  double scale = 1.0;
  /// Logit soft-capping: scores become softcap * tanh(score / softcap).
  std::optional<double> softcap;
  bool causal = false;
  std::optional<int64_t> window;
  int64_t sinks = 0;
  /// Cache form: the first query's absolute position, and the cache policy
  /// (null ringWindow: a full cache).
  Value pos;
  IntegerAttr ringWindow, ringSinks;
  RankedTensorType resultType;
};

/// What every attention kernel builder spells in one line: index constants
/// and arithmetic, comparisons, f32 constants, operand buffers and loads,
/// loops, at its rewriter and the op's location. The builders derive from
/// it.
class KernelBuilder {
protected:
  KernelBuilder(RewriterBase &b, Location loc)
      : b(b), loc(loc), f32(b.getF32Type()) {}
  RewriterBase &b;
  Location loc;
  Type f32;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value minI(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxI(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value fconst(double v) {
    return arith::ConstantFloatOp::create(b, loc, cast<FloatType>(f32),
                                          APFloat((float)v));
  }
  /// c * tanh(s / c), spelled c - 2c / (exp(2s / c) + 1) so that the
  /// exp takes the kernels' own approximation (exact at both tails: exp
  /// overflowing to inf gives c, underflowing to 0 gives -c). `s` may be a
  /// scalar or a vector of f32.
  Value softcapScore(Value s, double c);
  /// An operand's buffer (rowContiguousBuffer), and an element of it as f32.
  Value buffer(Value tensor);
  Value load(Value buf, ValueRange indices);
  /// Stores the f32 `x` into `buf`, rounded to its element type.
  void store(Value x, Value buf, ValueRange indices);
  /// scf.for from `from` to `to` (step 1 unless given) around `body`.
  void forLoop(Value from, Value to, Value step,
               function_ref<void(Value)> body);
  void forLoop(Value from, Value to, function_ref<void(Value)> body) {
    forLoop(from, to, idx(1), body);
  }
};

/// The view of an attn.attention or attn.cache_attention; emits an error on
/// any other op.
FailureOr<AttentionView> viewAttention(Operation *op);

/// The sizes both lowerings derive from the operands: batch, query heads,
/// query rows, key/value heads and value dimension, the number of key
/// positions, the absolute position of query row 0 (`keys - rows`, or the
/// cache form's `pos`) and the query heads per key/value head.
struct AttentionSizes {
  Value batch, heads, rows, kvHeads, valueDim, keys, offset, group;
};
AttentionSizes attentionSizes(OpBuilder &b, Location loc,
                              const AttentionView &a);

/// A fresh buffer of the op's result type ([batch, heads, rows, valueDim]).
Value allocResult(OpBuilder &b, Location loc, const AttentionView &a,
                  const AttentionSizes &sizes);

/// The key positions that queries at absolute positions i0..i1 can see:
/// the sinks [0, sinkEnd) (empty unless the layer has a window and sinks)
/// and the window [start, end). Both lowerings visit exactly these.
struct KeyRanges {
  Value sinkEnd, start, end;
};
KeyRanges visibleKeyRanges(OpBuilder &b, Location loc, const AttentionView &a,
                           Value keys, Value i0, Value i1);

/// The contract's visibility of key position j to the query at i, or null
/// when every key of the ranges is visible.
Value visibleKey(OpBuilder &b, Location loc, const AttentionView &a, Value i,
                 Value j);

/// The buffer of an operand (bufferization.to_buffer, read-only) in a layout
/// with contiguous rows and any other strides: every [.., head_dim] operand
/// the importer and the split produce has one.
Value rowContiguousBuffer(OpBuilder &b, Location loc, Value tensor);

/// The shape of the CPU's scalar loop nest (TiledAttention.cpp): query rows
/// and keys per tile; whether the query heads that share a key/value head
/// walk its keys together (state rows = group x query rows: the cache is
/// read once per group, which decode is bound by); and keys per split of
/// each tile's visible keys (split-K, as flash decoding: each split in its
/// own parallel iteration, a second parallel loop merges their softmax
/// states), 0 for one split.
struct ScalarTiling {
  int64_t queryTile, keyTile;
  bool groupHeads = false;
  int64_t splitKeys = 0;
  /// Lanes of the row kernel's dot-product chunks (8, or 16 on a 16-lane
  /// target where the head size allows).
  int64_t dotLanes = 8;
};

/// The shape of the CPU kernel vectorized across query rows
/// (VectorAttention.cpp): query rows per tile (a multiple of the vector
/// width), keys per tile, lanes per vector, and its register blocks: row
/// vectors by keys for the scores, row vectors by value dimensions for the
/// output.
struct VectorTiling {
  int64_t queryTile, keyTile, vectorWidth;
  int64_t rowVectorsPerBlock, keysPerBlock, valueDimsPerBlock;
  /// The tiling for the requested tile sizes (the query tile rounded up to
  /// a multiple of the vector width) and register blocks that fit the
  /// vector registers of that width.
  static VectorTiling get(int64_t queryTile, int64_t keyTile,
                          int64_t vectorWidth);
};

/// The vectorized CPU kernel of the attention op of `view`, built at the
/// rewriter's insertion point, writing its result into the buffer `out`
/// (allocResult's).
void buildVectorTiledAttention(RewriterBase &rewriter,
                               const AttentionView &view,
                               const VectorTiling &tiling, Value out);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_LOWERING_ATTENTIONVIEW_H
