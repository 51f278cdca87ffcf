//===- AttentionOps.cpp - the attention ops of ONNX ---------------------===//
//
// See AttentionOps.h: shapes of the ONNX Attention op and the contrib
// GroupQueryAttention / MultiHeadAttention ops (step 1 of the import), and
// the emission of every attention that fusion recognized as one
// attn.attention (step 3), with the contrib ops' head splitting, RoPE,
// cache append and padding.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/AttentionOps.h"

#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace mlir::swaa::import;

bool mlir::swaa::import::isGroupQueryAttention(const onnx::NodeProto &node) {
  return node.domain() == "com.microsoft" &&
         node.op_type() == "GroupQueryAttention";
}

bool mlir::swaa::import::isMultiHeadAttention(const onnx::NodeProto &node) {
  return node.domain() == "com.microsoft" &&
         node.op_type() == "MultiHeadAttention";
}

bool mlir::swaa::import::isFusableOp(const onnx::NodeProto &node) {
  return ((node.domain().empty() || node.domain() == "ai.onnx") &&
          node.op_type() == "Attention") ||
         isGroupQueryAttention(node) || isMultiHeadAttention(node);
}

namespace {
/// com.microsoft MultiHeadAttention: query [B, S, H*D]; key/value
/// [B, Skv, H*D] or [B, H, Skv, D]; optional additive attention_bias.
LogicalResult inferMultiHeadAttention(GraphImporter &imp, NodeContext &c) {
  for (unsigned in : {3u, 4u, 6u, 7u, 8u})
    if (c.hasInput(in))
      return c.error("with bias, key_padding_mask or past/present inputs is "
                     "not supported yet");
  if (c.numOutputs() > 1 &&
      llvm::any_of(llvm::drop_begin(c.node.output()),
                   [](const std::string &o) { return !o.empty(); }))
    return c.error("with present outputs is not supported yet");
  int64_t heads = c.getInt("num_heads", 0);
  const TensorInfo &q = c.info(0), &k = c.info(1), &v = c.info(2);
  std::optional<int64_t> width =
      imp.getSymbols().resolve(q.shape.back()).getConstant();
  if (q.rank() != 3 || heads <= 0 || !width || *width % heads)
    return c.error(
        "needs a [batch, seq, heads * head_dim] query and num_heads");
  if (k.rank() != v.rank() || (k.rank() != 3 && k.rank() != 4))
    return c.error("needs 3-D or 4-D key and value");
  SymExpr vWidth = v.rank() == 3 ? v.shape[2] : v.shape[1] * v.shape[3];
  c.setOutput(0, {q.elementType,
                  {q.shape[0], q.shape[1], imp.getSymbols().resolve(vWidth)}});
  return success();
}
} // namespace

FailureOr<GqaShape> mlir::swaa::import::gqaShape(NodeContext &c) {
  GqaShape g;
  g.heads = c.getInt("num_heads", 0);
  g.kvHeads = c.getInt("kv_num_heads", 0);
  g.packed = !c.hasInput(1);
  if (g.heads <= 0 || g.kvHeads <= 0 || g.heads % g.kvHeads)
    return c.error("needs num_heads divisible by kv_num_heads");
  const TensorInfo &q = c.info(0);
  std::optional<int64_t> width =
      q.rank() == 3 ? c.imp.getSymbols().resolve(q.shape[2]).getConstant()
                    : std::nullopt;
  if (!width)
    return c.error(
        "needs a [batch, seq, hidden] query with a static hidden size");
  int64_t parts = g.packed ? g.heads + 2 * g.kvHeads : g.heads;
  if (*width % parts)
    return c.error("has a hidden size that does not split into heads");
  g.headDim = *width / parts;
  return g;
}

namespace {

/// com.microsoft GroupQueryAttention: output [B, S, H*D], present K/V
/// [B, Hkv, past + S, D].
LogicalResult inferGroupQueryAttention(GraphImporter &imp, NodeContext &c) {
  if (c.getFloat("softcap", 0.0f) < 0.0f)
    return c.error("with a negative softcap (" +
                   std::to_string(c.getFloat("softcap", 0.0f)) + ")");
  if (c.getInt("smooth_softmax", 0) || c.hasInput(11))
    return c.error("with smooth_softmax / head_sink (learned sink logits, not "
                   "sink tokens) is not supported");
  if (c.hasInput(10))
    return c.error("with attention_bias is not supported");
  if (!c.hasInput(3) || !c.hasInput(5))
    return c.error("needs past_key/past_value and seqlens_k");
  FailureOr<GqaShape> g = gqaShape(c);
  if (failed(g))
    return failure();
  const TensorInfo &q = c.info(0), &past = c.info(3);
  if (past.rank() != 4)
    return c.error("expects past_key as [batch, kv_heads, past_seq, head_dim]");
  // The builder names the cache's head size (kv_cache_dim): it is the op's.
  SizeSymbols &syms = imp.getSymbols();
  for (unsigned in : {3u, 4u}) {
    const TensorInfo &p = c.info(in);
    if (!syms.unify(p.shape[1], SymExpr(g->kvHeads)) ||
        !syms.unify(p.shape[3], SymExpr(g->headDim)) ||
        !syms.unify(p.shape[0], q.shape[0]))
      return c.error("has a past_key/past_value shape that does not match its "
                     "heads");
  }
  SymExpr seq = q.shape[1];
  c.setOutput(
      0, {q.elementType, {q.shape[0], seq, SymExpr(g->heads * g->headDim)}});
  TensorInfo present{q.elementType,
                     {q.shape[0], SymExpr(g->kvHeads),
                      imp.getSymbols().resolve(past.shape[2] + seq),
                      SymExpr(g->headDim)}};
  c.setOutput(1, present);
  c.setOutput(2, present);
  return success();
}
} // namespace

/// The ONNX Attention op (opset 23): Y, present_key, present_value.
static LogicalResult inferAttentionOp(GraphImporter &imp, NodeContext &c) {
  const TensorInfo &q = c.info(0), &k = c.info(1), &v = c.info(2);
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4)
    return c.error("with 3-D (packed-head) inputs is not supported yet; "
                   "4-D [batch, heads, seq, head_dim] inputs are");
  if (c.getFloat("softcap", 0.0f) != 0.0f)
    return c.error("with softcap is not supported: the ONNX Attention op caps "
                   "the scores after the mask is added, which attn.attention "
                   "(cap, then mask) does not express");
  if (c.numOutputs() > 3 && !c.node.output(3).empty() &&
      !imp.consumers(c.node.output(3)).empty())
    return c.error("with its qk_matmul_output used is not supported");
  SizeSymbols &syms = imp.getSymbols();
  TensorInfo presentK = k, presentV = v;
  if (c.hasInput(4) != c.hasInput(5))
    return c.error("needs past_key and past_value together");
  if (c.hasInput(4)) {
    presentK.shape[2] = syms.resolve(c.info(4).shape[2] + k.shape[2]);
    presentV.shape[2] = syms.resolve(c.info(5).shape[2] + v.shape[2]);
  }
  c.setOutput(
      0, {q.elementType, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]}});
  c.setOutput(1, presentK);
  c.setOutput(2, presentV);
  return success();
}

LogicalResult mlir::swaa::import::inferFusableOp(GraphImporter &imp,
                                                 NodeContext &c) {
  if (isGroupQueryAttention(c.node))
    return inferGroupQueryAttention(imp, c);
  if (isMultiHeadAttention(c.node))
    return inferMultiHeadAttention(imp, c);
  return inferAttentionOp(imp, c);
}

LogicalResult mlir::swaa::import::emitFusableOp(GraphImporter &imp,
                                                NodeContext &c) {
  return c.error("was not fused into an attention");
}

/// present = concat(past, fresh) along the sequence axis of [B, H, S, D]
/// tensors; also becomes the value of the `present` graph value, if named.
static Value appendToCache(GraphImporter &imp, Location loc, Value past,
                           const TensorInfo &pastInfo, Value fresh,
                           ArrayRef<SymExpr> freshShape,
                           llvm::StringRef present) {
  OpBuilder &b = imp.builder();
  SmallVector<SymExpr> shape(freshShape.begin(), freshShape.end());
  shape[2] = imp.getSymbols().resolve(pastInfo.shape[2] + freshShape[2]);
  Value acc = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape),
                                      pastInfo.elementType);
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  SmallVector<OpFoldResult> zero(4, b.getIndexAttr(0));
  acc = tensor::InsertSliceOp::create(b, loc, past, acc, zero,
                                      imp.mixedShape(pastInfo.shape), strides);
  SmallVector<OpFoldResult> at = zero;
  at[2] = imp.mixedShape({pastInfo.shape[2]})[0];
  acc = tensor::InsertSliceOp::create(b, loc, fresh, acc, at,
                                      imp.mixedShape(freshShape), strides);
  if (!present.empty())
    imp.state(present).value = imp.conform(acc, imp.state(present).info, loc);
  return acc;
}

/// [B, H, S, D] -> [B, S, H*D].
static Value mergeHeads(GraphImporter &imp, Location loc, Value x,
                        const SmallVector<SymExpr> &bhsd, Type elem) {
  OpBuilder &b = imp.builder();
  SmallVector<SymExpr> bshd = {bhsd[0], bhsd[2], bhsd[1], bhsd[3]};
  Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(bshd), elem);
  Value t = linalg::TransposeOp::create(b, loc, x, init,
                                        ArrayRef<int64_t>{0, 2, 1, 3})
                ->getResult(0);
  SmallVector<SymExpr> merged = {bhsd[0], bhsd[2],
                                 imp.getSymbols().resolve(bhsd[1] * bhsd[3])};
  return imp.reshape(loc, t, merged);
}

/// [B, S, H*D] (a slice of the last axis starting at `offset`) -> [B, H, S, D].
static Value splitHeads(GraphImporter &imp, Location loc, Value x,
                        const TensorInfo &xi, int64_t offset, int64_t heads,
                        int64_t headDim) {
  OpBuilder &b = imp.builder();
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(offset)};
  SmallVector<SymExpr> sliceShape = {xi.shape[0], xi.shape[1],
                                     SymExpr(heads * headDim)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  Value part = tensor::ExtractSliceOp::create(
      b, loc, x, offsets, imp.mixedShape(sliceShape), strides);
  SmallVector<SymExpr> bshd = {xi.shape[0], xi.shape[1], SymExpr(heads),
                               SymExpr(headDim)};
  Value r = imp.reshape(loc, part, bshd);
  SmallVector<SymExpr> bhsd = {xi.shape[0], SymExpr(heads), xi.shape[1],
                               SymExpr(headDim)};
  Value init =
      tensor::EmptyOp::create(b, loc, imp.mixedShape(bhsd), xi.elementType);
  return linalg::TransposeOp::create(b, loc, r, init,
                                     ArrayRef<int64_t>{0, 2, 1, 3})
      ->getResult(0);
}

/// com.microsoft GroupQueryAttention: split the (packed) projections into
/// heads, apply RoPE at each token's position (seqlens_k[b] + 1 - S + s),
/// append the new K/V to the past (present outputs), attend causally with
/// the op's local window, with keys past seqlens_k[b] masked as padding, and
/// merge the heads back to [B, S, H*D].
LogicalResult emitGroupQueryAttention(GraphImporter &imp, NodeContext &c,
                                      const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = c.loc;
  MLIRContext *ctx = imp.getContext();
  const onnx::NodeProto &node = *f.contrib;
  GqaShape g = *gqaShape(c);
  const TensorInfo &qi = c.info(0);
  Type elem = qi.elementType;
  Value x = c.operand(0);
  Value q = splitHeads(imp, loc, x, qi, 0, g.heads, g.headDim);
  Value k, v;
  if (g.packed) {
    k = splitHeads(imp, loc, x, qi, g.heads * g.headDim, g.kvHeads, g.headDim);
    v = splitHeads(imp, loc, x, qi, (g.heads + g.kvHeads) * g.headDim,
                   g.kvHeads, g.headDim);
  } else {
    k = splitHeads(imp, loc, c.operand(1), c.info(1), 0, g.kvHeads, g.headDim);
    v = splitHeads(imp, loc, c.operand(2), c.info(2), 0, g.kvHeads, g.headDim);
  }
  SymExpr batch = qi.shape[0], seq = qi.shape[1];
  Value seqlens = c.operand(5);
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  if (c.getInt("do_rotary", 0)) {
    // Positions [B, S]: position_ids if given, else from seqlens_k.
    Value positions;
    if (c.hasInput(9)) {
      positions = c.operand(9);
    } else {
      Value seqV = imp.indexValue(seq);
      Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape({batch, seq}),
                                           b.getI64Type());
      positions =
          linalg::GenericOp::create(
              b, loc, init.getType(), ValueRange{}, ValueRange{init},
              ArrayRef<AffineMap>{id2},
              SmallVector<utils::IteratorType>(2,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location l, ValueRange) {
                Value bi = linalg::IndexOp::create(nb, l, 0);
                Value si = linalg::IndexOp::create(nb, l, 1);
                Value len =
                    tensor::ExtractOp::create(nb, l, seqlens, ValueRange{bi});
                Value lenI =
                    arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
                Value one = arith::ConstantIndexOp::create(nb, l, 1);
                Value p = arith::AddIOp::create(
                    nb, l,
                    arith::SubIOp::create(
                        nb, l, arith::AddIOp::create(nb, l, lenI, one), seqV),
                    si);
                linalg::YieldOp::create(
                    nb, l,
                    arith::IndexCastOp::create(nb, l, nb.getI64Type(), p)
                        .getResult());
              })
              .getResult(0);
    }
    const TensorInfo &cosInfo = c.info(7);
    std::optional<int64_t> half =
        imp.getSymbols().resolve(cosInfo.shape.back()).getConstant();
    if (!half)
      return c.error("needs a static cos_cache width");
    bool interleaved = c.getInt("rotary_interleaved", 0);
    TensorInfo qInfo{elem, {batch, SymExpr(g.heads), seq, SymExpr(g.headDim)}};
    TensorInfo kInfo{elem,
                     {batch, SymExpr(g.kvHeads), seq, SymExpr(g.headDim)}};
    q = emitRope(c, q, qInfo, true, g.headDim, 2 * *half, interleaved,
                 c.operand(7), c.operand(8), positions);
    k = emitRope(c, k, kInfo, true, g.headDim, 2 * *half, interleaved,
                 c.operand(7), c.operand(8), positions);
  }
  SmallVector<SymExpr> freshShape = {batch, SymExpr(g.kvHeads), seq,
                                     SymExpr(g.headDim)};
  Value keys = appendToCache(imp, loc, c.operand(3), c.info(3), k, freshShape,
                             f.presentKey);
  Value values = appendToCache(imp, loc, c.operand(4), c.info(4), v, freshShape,
                               f.presentValue);
  // Padding: key j of batch b is valid when j <= seqlens_k[b].
  SymExpr total = imp.state(node.output(1)).info.shape[2];
  SmallVector<SymExpr> maskShape = {batch, SymExpr(1), SymExpr(1), total};
  Value maskInit =
      tensor::EmptyOp::create(b, loc, imp.mixedShape(maskShape), elem);
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  Value mask =
      linalg::GenericOp::create(
          b, loc, maskInit.getType(), ValueRange{}, ValueRange{maskInit},
          ArrayRef<AffineMap>{id4},
          SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange) {
            Value bi = linalg::IndexOp::create(nb, l, 0);
            Value j = linalg::IndexOp::create(nb, l, 3);
            Value len =
                tensor::ExtractOp::create(nb, l, seqlens, ValueRange{bi});
            Value lenI =
                arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
            Value valid = arith::CmpIOp::create(
                nb, l, arith::CmpIPredicate::sle, j, lenI);
            Value zero =
                arith::ConstantOp::create(nb, l, nb.getFloatAttr(elem, 0));
            Value ninf = arith::ConstantOp::create(
                nb, l, nb.getFloatAttr(elem, -INFINITY));
            linalg::YieldOp::create(
                nb, l,
                arith::SelectOp::create(nb, l, valid, zero, ninf).getResult());
          })
          .getResult(0);
  SmallVector<SymExpr> outShape = {batch, SymExpr(g.heads), seq,
                                   SymExpr(g.headDim)};
  auto op = swaa::attn::AttentionOp::create(
      b, loc, imp.tensorType({elem, outShape}), q, keys, values, mask,
      b.getI64IntegerAttr(f.layer), b.getF32FloatAttr(f.scale), b.getUnitAttr(),
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(0),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  Value out = mergeHeads(imp, loc, op.getResult(), outShape, elem);
  imp.state(f.output).value = imp.conform(out, imp.state(f.output).info, loc);
  return success();
}

/// com.microsoft MultiHeadAttention: split the heads of the 3-D operands,
/// attend with the proven (or kept) mask, merge the heads.
LogicalResult emitMultiHeadAttention(GraphImporter &imp, NodeContext &c,
                                     const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = c.loc;
  const TensorInfo &qi = c.info(0), &ki = c.info(1), &vi = c.info(2);
  Type elem = qi.elementType;
  int64_t heads = c.getInt("num_heads", 1);
  int64_t headDim =
      *imp.getSymbols().resolve(qi.shape[2]).getConstant() / heads;
  Value q = splitHeads(imp, loc, c.operand(0), qi, 0, heads, headDim);
  auto kv = [&](unsigned in, const TensorInfo &info) -> Value {
    if (info.rank() == 4)
      return c.operand(in);
    int64_t d = *imp.getSymbols().resolve(info.shape[2]).getConstant() / heads;
    return splitHeads(imp, loc, c.operand(in), info, 0, heads, d);
  };
  Value k = kv(1, ki), v = kv(2, vi);
  Value mask;
  if (!f.mask.empty()) {
    if (imp.state(f.mask).info.rank() != 4)
      return c.error("needs a 4-D attention_bias");
    mask = imp.materialize(f.mask, loc);
  } else if (!f.paddingInput.empty()) {
    return c.error("with a padding mask proven from its attention_bias is not "
                   "supported yet");
  }
  int64_t vDim =
      vi.rank() == 4
          ? *imp.getSymbols().resolve(vi.shape[3]).getConstant()
          : *imp.getSymbols().resolve(vi.shape[2]).getConstant() / heads;
  SmallVector<SymExpr> outShape = {qi.shape[0], SymExpr(heads), qi.shape[1],
                                   SymExpr(vDim)};
  auto op = swaa::attn::AttentionOp::create(
      b, loc, imp.tensorType({elem, outShape}), q, k, v, mask,
      b.getI64IntegerAttr(f.layer), b.getF32FloatAttr(f.scale),
      f.causal ? b.getUnitAttr() : nullptr,
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(0),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  Value out = mergeHeads(imp, loc, op.getResult(), outShape, elem);
  imp.state(f.output).value = imp.conform(out, imp.state(f.output).info, loc);
  return success();
}

LogicalResult mlir::swaa::import::emitFusedAttention(GraphImporter &imp,
                                                     NodeContext &c,
                                                     const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = NameLoc::get(StringAttr::get(imp.getContext(), f.nodeName),
                              imp.modelLoc());
  if (f.contrib && isGroupQueryAttention(*f.contrib))
    return emitGroupQueryAttention(imp, c, f);
  if (f.contrib)
    return emitMultiHeadAttention(imp, c, f);
  Value q = imp.materialize(f.query, loc);
  Value k = imp.materialize(f.key, loc);
  Value v = imp.materialize(f.value, loc);
  const TensorInfo &qi = imp.state(f.query).info;
  if (!f.pastKey.empty()) {
    // The Attention op's cache: present = concat(past, new).
    k = appendToCache(imp, loc, imp.materialize(f.pastKey, loc),
                      imp.state(f.pastKey).info, k, imp.state(f.key).info.shape,
                      f.presentKey);
    v = appendToCache(imp, loc, imp.materialize(f.pastValue, loc),
                      imp.state(f.pastValue).info, v,
                      imp.state(f.value).info.shape, f.presentValue);
  } else {
    // Without a cache, present K/V are the inputs themselves.
    if (!f.presentKey.empty())
      imp.state(f.presentKey).value =
          imp.conform(k, imp.state(f.presentKey).info, loc);
    if (!f.presentValue.empty())
      imp.state(f.presentValue).value =
          imp.conform(v, imp.state(f.presentValue).info, loc);
  }
  if (!f.keyPerm.empty()) {
    const TensorInfo &ki = imp.state(f.key).info;
    SmallVector<OpFoldResult> sizes;
    SmallVector<SymExpr> shape;
    for (int64_t p : f.keyPerm)
      shape.push_back(ki.shape[p]);
    Value init =
        tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), ki.elementType);
    k = linalg::TransposeOp::create(b, loc, k, init, f.keyPerm)->getResult(0);
  }
  Type elem = qi.elementType;
  Value mask;
  if (!f.mask.empty()) {
    const TensorInfo &mi = imp.state(f.mask).info;
    Value m = imp.materialize(f.mask, loc);
    SmallVector<SymExpr> shape = mi.shape;
    while (shape.size() < 4)
      shape.insert(shape.begin(), SymExpr(1));
    if (mi.rank() < 4)
      m = imp.reshape(loc, m, shape);
    if (f.maskIsCondition || mi.elementType != elem) {
      // Visible -> 0, hidden -> -inf, in the attention's element type.
      bool cond = f.maskIsCondition, keep = f.keepWhen;
      Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), elem);
      MLIRContext *ctx = imp.getContext();
      AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
      m = linalg::GenericOp::create(
              b, loc, init.getType(), ValueRange{m}, ValueRange{init},
              ArrayRef<AffineMap>{id, id},
              SmallVector<utils::IteratorType>(4,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location l, ValueRange a) {
                Value x = a[0];
                Value r;
                if (cond) {
                  Value t =
                      x.getType().isInteger(1)
                          ? x
                          : (Value)arith::CmpFOp::create(
                                nb, l, arith::CmpFPredicate::UNE, x,
                                arith::ConstantOp::create(
                                    nb, l, nb.getFloatAttr(x.getType(), 0)));
                  Value zero = arith::ConstantOp::create(
                      nb, l, nb.getFloatAttr(elem, 0));
                  Value ninf = arith::ConstantOp::create(
                      nb, l, nb.getFloatAttr(elem, -INFINITY));
                  r = keep ? arith::SelectOp::create(nb, l, t, zero, ninf)
                           : arith::SelectOp::create(nb, l, t, ninf, zero);
                } else {
                  r = arith::ExtFOp::create(nb, l, elem, x);
                }
                linalg::YieldOp::create(nb, l, r);
              })
              .getResult(0);
    }
    mask = m;
  } else if (!f.paddingInput.empty()) {
    // [B, Sk] 0/1 -> [B, 1, 1, Sk] of 0 / -inf.
    const TensorInfo &pi = imp.state(f.paddingInput).info;
    Value p = imp.materialize(f.paddingInput, loc);
    SmallVector<SymExpr> shape = {pi.shape[0], SymExpr(1), SymExpr(1),
                                  pi.shape[1]};
    Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), elem);
    MLIRContext *ctx = imp.getContext();
    AffineMap in = AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(3, ctx)}, ctx);
    mask =
        linalg::GenericOp::create(
            b, loc, init.getType(), ValueRange{p}, ValueRange{init},
            ArrayRef<AffineMap>{in, AffineMap::getMultiDimIdentityMap(4, ctx)},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value x = a[0];
              Value zeroI = arith::ConstantOp::create(
                  nb, l, nb.getIntegerAttr(x.getType(), 0));
              Value present = arith::CmpIOp::create(
                  nb, l, arith::CmpIPredicate::ne, x, zeroI);
              Value zero =
                  arith::ConstantOp::create(nb, l, nb.getFloatAttr(elem, 0));
              Value ninf = arith::ConstantOp::create(
                  nb, l, nb.getFloatAttr(elem, -INFINITY));
              linalg::YieldOp::create(
                  nb, l,
                  arith::SelectOp::create(nb, l, present, zero, ninf)
                      .getResult());
            })
            .getResult(0);
  }
  const TensorInfo &out = imp.state(f.output).info;
  RankedTensorType resultType = imp.tensorType(out);
  auto op = attn::AttentionOp::create(
      b, loc, resultType, q, k, v, mask, b.getI64IntegerAttr(f.layer),
      b.getF32FloatAttr(f.scale), f.causal ? b.getUnitAttr() : nullptr,
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(f.sinks),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  imp.state(f.output).value = op.getResult();
  return success();
}
