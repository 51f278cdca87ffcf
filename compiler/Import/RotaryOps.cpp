//===- RotaryOps.cpp - the importer's rotary ops
//----------------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): rotary position
// embeddings: RotaryEmbedding (opset 23) and com.microsoft RotaryEmbedding;
// emitRope is shared with GroupQueryAttention.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

//===----------------------------------------------------------------------===//
// RotaryEmbedding (opset 23)
//===----------------------------------------------------------------------===//
namespace {

LogicalResult inferRotary(NodeContext &c) {
  const TensorInfo &x = c.info(0);
  if (x.rank() != 4 && x.rank() != 3)
    return c.error("expects a 3-D or 4-D input");
  if (x.rank() == 3 && c.getInt("num_heads", 0) <= 0)
    return c.error("with a 3-D input needs 'num_heads'");
  c.setOutput(0, x);
  return success();
}

} // namespace

/// out = x rotated by the cached angles of each token's position: halves
/// (x1, x2) or interleaved pairs, real = x1 cos - x2 sin, imag = x1 sin +
/// x2 cos; dimensions past `rotaryDim` pass through. `x` is [B, H, S, D]
/// (bhsd) or [B, S, H*D]; cos/sin are [maxPos, rotaryDim/2] read at
/// `positions` [B, S], or [B, S, rotaryDim/2] when `positions` is null.
Value mlir::swaa::import::emitRope(NodeContext &c, Value xv,
                                   const TensorInfo &x, bool bhsd,
                                   int64_t headDim, int64_t rotary,
                                   bool interleaved, Value cosv, Value sinv,
                                   Value pos) {
  int64_t half = rotary / 2, hd = headDim;
  Type t = x.elementType;
  bool hasPositions = (bool)pos;
  return emitMap(
      c, x.shape, t, {xv},
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        auto idx = [&](int64_t v) {
          return (Value)arith::ConstantIndexOp::create(b, l, v);
        };
        SmallVector<Value> iv;
        for (int64_t d = 0; d < x.rank(); ++d)
          iv.push_back(linalg::IndexOp::create(b, l, d));
        Value bi = iv[0], si = bhsd ? iv[2] : iv[1];
        Value di =
            bhsd ? iv[3] : (Value)arith::RemUIOp::create(b, l, iv[2], idx(hd));
        Value rotated = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                              di, idx(rotary));
        // Pair index j, partner element, and whether this is the first of the
        // pair.
        Value first, j, partner;
        if (interleaved) {
          Value odd = arith::RemUIOp::create(b, l, di, idx(2));
          first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, odd,
                                        idx(0));
          j = arith::DivUIOp::create(b, l, di, idx(2));
          partner = arith::SelectOp::create(
              b, l, first, arith::AddIOp::create(b, l, di, idx(1)),
              arith::SubIOp::create(b, l, di, idx(1)));
        } else {
          first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, di,
                                        idx(half));
          j = arith::SelectOp::create(
              b, l, first, di, arith::SubIOp::create(b, l, di, idx(half)));
          partner = arith::SelectOp::create(
              b, l, first, arith::AddIOp::create(b, l, di, idx(half)),
              arith::SubIOp::create(b, l, di, idx(half)));
        }
        // Keep indices in range for lanes that pass through.
        j = arith::SelectOp::create(b, l, rotated, j, idx(0));
        partner = arith::SelectOp::create(b, l, rotated, partner, di);
        SmallVector<Value> pidx = iv;
        if (bhsd)
          pidx[3] = partner;
        else
          pidx[2] = arith::AddIOp::create(
              b, l, arith::SubIOp::create(b, l, iv[2], di), partner);
        Value other = tensor::ExtractOp::create(b, l, xv, pidx);
        SmallVector<Value> cidx;
        if (hasPositions) {
          Value p = tensor::ExtractOp::create(b, l, pos, ValueRange{bi, si});
          cidx = {arith::IndexCastOp::create(b, l, b.getIndexType(), p), j};
        } else {
          cidx = {bi, si, j};
        }
        Value cs =
            castScalar(b, l, tensor::ExtractOp::create(b, l, cosv, cidx), t);
        Value sn =
            castScalar(b, l, tensor::ExtractOp::create(b, l, sinv, cidx), t);
        Value self = a[0];
        // first: x1 cos - x2 sin (x1 = self, x2 = other)
        // second: x1 sin + x2 cos (x1 = other, x2 = self)
        Value r1 =
            arith::SubFOp::create(b, l, arith::MulFOp::create(b, l, self, cs),
                                  arith::MulFOp::create(b, l, other, sn));
        Value r2 =
            arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, other, sn),
                                  arith::MulFOp::create(b, l, self, cs));
        Value r = arith::SelectOp::create(b, l, first, r1, r2);
        return arith::SelectOp::create(b, l, rotated, r, self);
      });
}

namespace {
/// com.microsoft RotaryEmbedding: (input, position_ids, cos_cache, sin_cache)
/// on a [batch, seq, hidden] input; the head size is num_heads-derived or,
/// with num_heads = 0, twice the cache width.
LogicalResult inferContribRotary(NodeContext &c) {
  if (!c.hasInput(3))
    return c.error("needs input, position_ids, cos_cache and sin_cache");
  if (c.info(0).rank() != 3)
    return c.error("is only supported on a 3-D [batch, seq, hidden] input");
  if (c.getFloat("scale", 1.0f) != 1.0f)
    return c.error("with a scale other than 1 is not supported");
  if (c.info(2).rank() != 2)
    return c.error("expects a [max_position, rotary_dim / 2] cos_cache");
  c.setOutput(0, c.info(0));
  return success();
}

LogicalResult emitContribRotary(NodeContext &c) {
  const TensorInfo &x = c.info(0);
  SizeSymbols &syms = c.imp.getSymbols();
  std::optional<int64_t> hidden = syms.resolve(x.shape[2]).getConstant();
  std::optional<int64_t> half = syms.resolve(c.info(2).shape[1]).getConstant();
  if (!hidden || !half)
    return c.error("needs static hidden and cache sizes");
  int64_t heads = c.getInt("num_heads", 0);
  int64_t rotary = c.getInt("rotary_embedding_dim", 0);
  int64_t headDim = heads > 0 ? *hidden / heads : (rotary ? rotary : 2 * *half);
  if (rotary == 0)
    rotary = 2 * *half;
  if (headDim <= 0 || *hidden % headDim || rotary > headDim)
    return c.error("has a head size that does not divide the hidden size");
  c.setResult(0, emitRope(c, c.operand(0), x, /*bhsd=*/false, headDim, rotary,
                          c.getInt("interleaved", 0), c.operand(2),
                          c.operand(3), c.operand(1)));
  return success();
}

LogicalResult emitRotary(NodeContext &c) {
  const TensorInfo &x = c.info(0);
  bool bhsd = x.rank() == 4; // [B, H, S, D]; else [B, S, H*D]
  int64_t heads = c.getInt("num_heads", 0);
  std::optional<int64_t> headDim =
      bhsd ? c.imp.getSymbols().resolve(x.shape[3]).getConstant()
           : c.imp.getSymbols().resolve(x.shape[2]).getConstant();
  if (!headDim)
    return c.error("needs a static head size");
  if (!bhsd)
    *headDim /= heads;
  int64_t rotary = c.getInt("rotary_embedding_dim", 0);
  if (rotary == 0)
    rotary = *headDim;
  if (rotary % 2 || rotary > *headDim)
    return c.error("has an invalid rotary_embedding_dim " +
                   llvm::Twine(rotary));
  Value pos = c.hasInput(3) ? c.operand(3) : Value();
  c.setResult(0, emitRope(c, c.operand(0), x, bhsd, *headDim, rotary,
                          c.getInt("interleaved", 0), c.operand(1),
                          c.operand(2), pos));
  return success();
}

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::rotaryOps() {
  static const OpEntry ops[] = {
      {"", "RotaryEmbedding", {inferRotary, emitRotary}},
      {"com.microsoft",
       "RotaryEmbedding",
       {inferContribRotary, emitContribRotary}},
  };
  return ops;
}
