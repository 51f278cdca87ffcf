//===- ReferenceLowering.cpp - attn.attention as an O(n^2) reference ------===//
//
// Lowers `attn.attention` to linalg.generic ops that compute the attention
// contract literally, step by step:
//
//   1. expand grouped key/value heads to the query heads (copies);
//   2. scores[b,h,i,j]  = sum_d q[b,h,i,d] * k[b,h,j,d]
//   3. logits[b,h,i,j]  = visible(i, j) ? scale * scores + mask : -inf
//   4. rowMax[b,h,i]    = max_j logits
//   5. probs[b,h,i,j]   = logits == -inf ? 0 : exp(logits - rowMax)
//      rowSum[b,h,i]    = sum_j probs
//   6. acc[b,h,i,e]     = sum_j probs * v[b,h,j,e]
//   7. out[b,h,i,e]     = rowSum == 0 ? 0 : acc / rowSum
//
// visible(i, j) is the attention contract (README.md) with the query row `i` at
// absolute position `i + key_seq - query_seq`. Nothing is tiled or skipped:
// this is the golden model that faster lowerings are checked against.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"

#include <limits>

using namespace mlir;
using namespace mlir::swaa;

namespace {
using utils::IteratorType;

/// Builds the linalg.generic ops of one attention. Holds the sizes and types
/// that every step shares.
class ReferenceBuilder {
public:
  ReferenceBuilder(RewriterBase &rewriter, attn::AttentionOp op)
      : b(rewriter), op(op), loc(op.getLoc()), ctx(op.getContext()) {
    elementType = op.getQuery().getType().getElementType();
    // Accumulate in at least f32 so that f16/bf16 models get a trustworthy
    // reference.
    computeType = elementType.getIntOrFloatBitWidth() < 32
                      ? Float32Type::get(ctx)
                      : cast<FloatType>(elementType);
  }

  Value build() {
    SmallVector<OpFoldResult> q = tensor::getMixedSizes(b, loc, op.getQuery());
    OpFoldResult keySeq = tensor::getMixedSize(b, loc, op.getKey(), 2);
    OpFoldResult keyDim = tensor::getMixedSize(b, loc, op.getKey(), 3);
    OpFoldResult valueDim =
        tensor::getMixedSize(b, loc, op.getValue(), /*dim=*/3);
    OpFoldResult batch = q[0], heads = q[1], querySeq = q[2];
    scoreShape = {batch, heads, querySeq, keySeq};
    rowShape = {batch, heads, querySeq};
    outShape = {batch, heads, querySeq, valueDim};

    Value key = expandHeads(op.getKey(), {batch, heads, keySeq, keyDim});
    Value value = expandHeads(op.getValue(), {batch, heads, keySeq, valueDim});
    Value scores = computeScores(op.getQuery(), key);
    Value logits = applyMask(scores, querySeq, keySeq);
    Value rowMax = reduceRows(logits, /*isMax=*/true);
    Value probs = exponentiate(logits, rowMax);
    Value rowSum = reduceRows(probs, /*isMax=*/false);
    Value acc = weightedValues(probs, value);
    return normalize(acc, rowSum);
  }

private:
  RewriterBase &b;
  attn::AttentionOp op;
  Location loc;
  MLIRContext *ctx;
  Type elementType;
  FloatType computeType;
  // Sizes shared by the steps: [B, H, Sq, Sk], [B, H, Sq] and [B, H, Sq, Dv].
  SmallVector<OpFoldResult> scoreShape, rowShape, outShape;

  AffineExpr d(unsigned i) { return getAffineDimExpr(i, ctx); }
  AffineMap map(unsigned numDims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(numDims, 0, results, ctx);
  }
  Value floatConst(double value) {
    return arith::ConstantOp::create(b, loc,
                                     b.getFloatAttr(computeType, value));
  }
  Value indexValue(OpFoldResult size) {
    return getValueOrCreateConstantIndexOp(b, loc, size);
  }
  Value toCompute(OpBuilder &nb, Value v) {
    if (v.getType() == computeType)
      return v;
    return arith::ExtFOp::create(nb, loc, computeType, v);
  }
  Value empty(ArrayRef<OpFoldResult> shape, Type type) {
    return tensor::EmptyOp::create(b, loc, shape, type);
  }
  Value filled(ArrayRef<OpFoldResult> shape, double value) {
    return linalg::FillOp::create(b, loc, ValueRange{floatConst(value)},
                                  ValueRange{empty(shape, computeType)})
        .getResult(0);
  }
  static SmallVector<IteratorType> iterators(unsigned parallel,
                                             unsigned reduction = 0) {
    SmallVector<IteratorType> its(parallel, IteratorType::parallel);
    its.append(reduction, IteratorType::reduction);
    return its;
  }

  /// Step 1: `[B, Hkv, S, D]` -> `[B, Hq, S, D]`, query head h reading
  /// key/value head h / G. Skipped when the group size is statically 1.
  Value expandHeads(Value kv, SmallVector<OpFoldResult> shape) {
    std::optional<int64_t> group = op.getGroupSize();
    if (group && *group == 1)
      return kv;
    Value groupSize;
    if (group) {
      groupSize = arith::ConstantIndexOp::create(b, loc, *group);
    } else {
      Value qHeads = tensor::DimOp::create(b, loc, op.getQuery(), 1);
      Value kvHeads = tensor::DimOp::create(b, loc, kv, 1);
      groupSize = arith::DivUIOp::create(b, loc, qHeads, kvHeads);
    }
    auto kvType = cast<RankedTensorType>(kv.getType());
    Value init = empty(shape, kvType.getElementType());
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{}, ValueRange{init},
               ArrayRef<AffineMap>{identity}, iterators(4),
               [&](OpBuilder &nb, Location l, ValueRange) {
                 SmallVector<Value> idx;
                 for (unsigned i = 0; i < 4; ++i)
                   idx.push_back(linalg::IndexOp::create(nb, l, i));
                 idx[1] = arith::DivUIOp::create(nb, l, idx[1], groupSize);
                 Value x = tensor::ExtractOp::create(nb, l, kv, idx);
                 linalg::YieldOp::create(nb, l, x);
               })
        .getResult(0);
  }

  /// Step 2: scores = Q K^T over head_dim (no scale yet).
  Value computeScores(Value query, Value key) {
    // (b, h, i, j, d)
    AffineMap qMap = map(5, {d(0), d(1), d(2), d(4)});
    AffineMap kMap = map(5, {d(0), d(1), d(3), d(4)});
    AffineMap sMap = map(5, {d(0), d(1), d(2), d(3)});
    Value init = filled(scoreShape, 0.0);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{query, key}, ValueRange{init},
               ArrayRef<AffineMap>{qMap, kMap, sMap}, iterators(4, 1),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value qd = toCompute(nb, args[0]);
                 Value kd = toCompute(nb, args[1]);
                 Value prod = arith::MulFOp::create(nb, l, qd, kd);
                 linalg::YieldOp::create(
                     nb, l,
                     arith::AddFOp::create(nb, l, args[2], prod).getResult());
               })
        .getResult(0);
  }

  /// Step 3: scale, add the mask, and set invisible keys to -inf.
  Value applyMask(Value scores, OpFoldResult querySeq, OpFoldResult keySeq) {
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {identity};
    if (Value mask = op.getMask()) {
      // A mask dimension of static size 1 broadcasts.
      ArrayRef<int64_t> maskShape =
          cast<RankedTensorType>(mask.getType()).getShape();
      SmallVector<AffineExpr> exprs;
      for (unsigned i = 0; i < 4; ++i)
        exprs.push_back(maskShape[i] == 1 ? getAffineConstantExpr(0, ctx)
                                          : d(i));
      inputs.push_back(mask);
      maps.push_back(map(4, exprs));
    }
    maps.push_back(identity);

    Value scale = floatConst(op.getScale().convertToDouble());
    Value softcap = op.getSoftcapAttr()
                        ? floatConst(op.getSoftcapAttr().getValueAsDouble())
                        : Value();
    bool causal = op.getCausal();
    std::optional<uint64_t> window = op.getWindow();
    Value offset, negInf, windowSize, sinkCount;
    if (causal) {
      // Query row r sits at absolute position r + (keySeq - querySeq).
      offset = arith::SubIOp::create(b, loc, indexValue(keySeq),
                                     indexValue(querySeq));
      negInf = floatConst(-std::numeric_limits<double>::infinity());
    }
    if (window) {
      windowSize = arith::ConstantIndexOp::create(b, loc, *window);
      sinkCount = arith::ConstantIndexOp::create(b, loc, op.getSinks());
    }
    Value init = empty(scoreShape, computeType);

    return linalg::GenericOp::create(
               b, loc, init.getType(), inputs, ValueRange{init}, maps,
               iterators(4),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value logit = arith::MulFOp::create(nb, l, args[0], scale);
                 if (softcap) // softcap * tanh(logit / softcap)
                   logit = arith::MulFOp::create(
                       nb, l, softcap,
                       math::TanhOp::create(
                           nb, l,
                           arith::DivFOp::create(nb, l, logit, softcap)));
                 if (op.getMask())
                   logit = arith::AddFOp::create(nb, l, logit,
                                                 toCompute(nb, args[1]));
                 if (causal) {
                   Value row = linalg::IndexOp::create(nb, l, 2);
                   Value j = linalg::IndexOp::create(nb, l, 3);
                   Value i = arith::AddIOp::create(nb, l, row, offset);
                   Value visible = arith::CmpIOp::create(
                       nb, l, arith::CmpIPredicate::sle, j, i);
                   if (window) {
                     // i - W < j  or  j < sinks
                     Value lo = arith::SubIOp::create(nb, l, i, windowSize);
                     Value inWindow = arith::CmpIOp::create(
                         nb, l, arith::CmpIPredicate::sgt, j, lo);
                     Value isSink = arith::CmpIOp::create(
                         nb, l, arith::CmpIPredicate::slt, j, sinkCount);
                     Value kept = arith::OrIOp::create(nb, l, inWindow, isSink);
                     visible = arith::AndIOp::create(nb, l, visible, kept);
                   }
                   logit =
                       arith::SelectOp::create(nb, l, visible, logit, negInf);
                 }
                 linalg::YieldOp::create(nb, l, logit);
               })
        .getResult(0);
  }

  /// Steps 4 and 5 (sums): reduce the key dimension of a `[B, H, Sq, Sk]`
  /// tensor by max or by sum.
  Value reduceRows(Value x, bool isMax) {
    AffineMap inMap = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineMap outMap = map(4, {d(0), d(1), d(2)});
    Value init = filled(rowShape,
                        isMax ? -std::numeric_limits<double>::infinity() : 0.0);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{x}, ValueRange{init},
               ArrayRef<AffineMap>{inMap, outMap}, iterators(3, 1),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value r =
                     isMax ? arith::MaximumFOp::create(nb, l, args[1], args[0])
                                 .getResult()
                           : arith::AddFOp::create(nb, l, args[1], args[0])
                                 .getResult();
                 linalg::YieldOp::create(nb, l, r);
               })
        .getResult(0);
  }

  /// Step 5: probs = exp(logits - rowMax), exactly 0 for invisible keys (this
  /// also keeps a row without any visible key free of NaN).
  Value exponentiate(Value logits, Value rowMax) {
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineMap rowMap = map(4, {d(0), d(1), d(2)});
    Value negInf = floatConst(-std::numeric_limits<double>::infinity());
    Value zero = floatConst(0.0);
    Value init = empty(scoreShape, computeType);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{logits, rowMax},
               ValueRange{init},
               ArrayRef<AffineMap>{identity, rowMap, identity}, iterators(4),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value masked = arith::CmpFOp::create(
                     nb, l, arith::CmpFPredicate::OEQ, args[0], negInf);
                 Value shifted = arith::SubFOp::create(nb, l, args[0], args[1]);
                 Value e = math::ExpOp::create(nb, l, shifted);
                 linalg::YieldOp::create(
                     nb, l,
                     arith::SelectOp::create(nb, l, masked, zero, e)
                         .getResult());
               })
        .getResult(0);
  }

  /// Step 6: acc = probs V over the key dimension.
  Value weightedValues(Value probs, Value value) {
    // (b, h, i, e, j)
    AffineMap pMap = map(5, {d(0), d(1), d(2), d(4)});
    AffineMap vMap = map(5, {d(0), d(1), d(4), d(3)});
    AffineMap oMap = map(5, {d(0), d(1), d(2), d(3)});
    Value init = filled(outShape, 0.0);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{probs, value},
               ValueRange{init}, ArrayRef<AffineMap>{pMap, vMap, oMap},
               iterators(4, 1),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value prod = arith::MulFOp::create(nb, l, args[0],
                                                    toCompute(nb, args[1]));
                 linalg::YieldOp::create(
                     nb, l,
                     arith::AddFOp::create(nb, l, args[2], prod).getResult());
               })
        .getResult(0);
  }

  /// Step 7: out = acc / rowSum, 0 for a row without visible keys.
  Value normalize(Value acc, Value rowSum) {
    AffineMap identity = AffineMap::getMultiDimIdentityMap(4, ctx);
    AffineMap rowMap = map(4, {d(0), d(1), d(2)});
    Value zero = floatConst(0.0);
    Value init = empty(outShape, elementType);
    return linalg::GenericOp::create(
               b, loc, init.getType(), ValueRange{acc, rowSum},
               ValueRange{init},
               ArrayRef<AffineMap>{identity, rowMap, identity}, iterators(4),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value empty = arith::CmpFOp::create(
                     nb, l, arith::CmpFPredicate::OEQ, args[1], zero);
                 Value quotient =
                     arith::DivFOp::create(nb, l, args[0], args[1]);
                 Value out =
                     arith::SelectOp::create(nb, l, empty, zero, quotient);
                 if (out.getType() != elementType)
                   out = arith::TruncFOp::create(nb, l, elementType, out);
                 linalg::YieldOp::create(nb, l, out);
               })
        .getResult(0);
  }
};
} // namespace

FailureOr<Value> swaa::lowerAttentionToReference(RewriterBase &rewriter,
                                                 attn::AttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Value result = ReferenceBuilder(rewriter, op).build();
  // The result type may carry static sizes that the computation only knows
  // dynamically: cast to the op's type.
  if (result.getType() != op.getType())
    result =
        tensor::CastOp::create(rewriter, op.getLoc(), op.getType(), result);
  rewriter.replaceOp(op, result);
  return result;
}

//===----------------------------------------------------------------------===//
// KV cache ops
//===----------------------------------------------------------------------===//

Value swaa::cacheSlot(OpBuilder &b, Location loc, Value j,
                      IntegerAttr ringWindow, IntegerAttr ringSinks) {
  if (!ringWindow)
    return j;
  Value sinks = arith::ConstantIndexOp::create(b, loc, ringSinks.getInt());
  Value window = arith::ConstantIndexOp::create(b, loc, ringWindow.getInt());
  Value past = arith::SubIOp::create(b, loc, j, sinks);
  Value ring = arith::AddIOp::create(
      b, loc, sinks, arith::RemUIOp::create(b, loc, past, window));
  Value isSink =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j, sinks);
  return arith::SelectOp::create(b, loc, isSink, j, ring);
}

FailureOr<Value> swaa::lowerCacheAppendToReference(RewriterBase &rewriter,
                                                   attn::CacheAppendOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value update = op.getUpdate();
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, update);
  SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  // Row by row, in order: a ring keeps the last rows that map to a slot.
  Value rows = tensor::DimOp::create(rewriter, loc, update, 2);
  auto loop = scf::ForOp::create(
      rewriter, loc, zero, rows, one, ValueRange{op.getCache()},
      [&](OpBuilder &b, Location l, Value r, ValueRange iter) {
        Value j = arith::AddIOp::create(b, l, op.getPos(), r);
        Value slot =
            cacheSlot(b, l, j, op.getRingWindowAttr(), op.getRingSinksAttr());
        SmallVector<OpFoldResult> rowSizes = sizes;
        rowSizes[2] = b.getIndexAttr(1);
        SmallVector<OpFoldResult> at(4, b.getIndexAttr(0));
        at[2] = r;
        Value row =
            tensor::ExtractSliceOp::create(b, l, update, at, rowSizes, strides);
        at[2] = slot;
        Value next = tensor::InsertSliceOp::create(b, l, row, iter[0], at,
                                                   rowSizes, strides);
        scf::YieldOp::create(b, l, next);
      });
  rewriter.replaceOp(op, loop.getResult(0));
  return loop.getResult(0);
}

FailureOr<Value>
swaa::lowerCacheAttentionToReference(RewriterBase &rewriter,
                                     attn::CacheAttentionOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  // Gather the keys and values of positions 0 .. pos + n - 1 from their
  // slots (positions a ring has overwritten are never visible), then run the
  // reference attention over them.
  Value rows = tensor::DimOp::create(rewriter, loc, op.getQuery(), 2);
  Value total = arith::AddIOp::create(rewriter, loc, op.getPos(), rows);
  auto gather = [&](Value cache) -> Value {
    auto type = cast<RankedTensorType>(cache.getType());
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, cache);
    sizes[2] = total;
    SmallVector<int64_t> shape(type.getShape());
    shape[2] = ShapedType::kDynamic;
    Value init =
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{id},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> idx;
          for (unsigned d = 0; d < 4; ++d)
            idx.push_back(linalg::IndexOp::create(b, l, d));
          idx[2] = cacheSlot(b, l, idx[2], op.getRingWindowAttr(),
                             op.getRingSinksAttr());
          Value v = tensor::ExtractOp::create(b, l, cache, idx);
          linalg::YieldOp::create(b, l, v);
        });
    return generic.getResult(0);
  };
  Value keys = gather(op.getKeyCache());
  Value values = gather(op.getValueCache());
  auto attention = attn::AttentionOp::create(
      rewriter, loc, op.getType(), op.getQuery(), keys, values, op.getMask(),
      op.getLayerAttr(), op.getScaleAttr(), op.getCausalAttr(),
      op.getWindowAttr(), op.getSinksAttr(), op.getSoftcapAttr());
  FailureOr<Value> result = lowerAttentionToReference(rewriter, attention);
  if (failed(result))
    return failure();
  rewriter.replaceOp(op, *result);
  return *result;
}
