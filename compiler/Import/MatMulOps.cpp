//===- MatMulOps.cpp - the importer's matmul ops
//----------------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): contractions: MatMul
// and Gemm.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

namespace {
//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

LogicalResult inferMatMul(NodeContext &c) {
  const TensorInfo &a = c.info(0), &b = c.info(1);
  if (a.rank() < 2 || b.rank() < 2)
    return c.error("on a rank-1 operand is not supported");
  Shape ab(a.shape.begin(), a.shape.end() - 2),
      bb(b.shape.begin(), b.shape.end() - 2);
  FailureOr<Shape> batch = broadcastShapes(c, {ab, bb});
  if (failed(batch))
    return failure();
  if (!c.imp.getSymbols().require(a.shape.back(), b.shape[b.rank() - 2]))
    return c.error("contracts mismatched sizes " +
                   c.imp.getSymbols().str(a.shape.back()) + " and " +
                   c.imp.getSymbols().str(b.shape[b.rank() - 2]));
  Shape out = *batch;
  out.push_back(a.shape[a.rank() - 2]);
  out.push_back(b.shape.back());
  c.setOutput(0, {a.elementType, out});
  return success();
}

/// C[batch..., m, n] += A[batch..., m, k] * B[batch..., k, n], with batch
/// broadcasting; `transA`/`transB` read A/B transposed in their last two dims.
Value emitContraction(NodeContext &c, Value a, Value b, const Shape &outShape,
                      bool transA, bool transB, Type elem) {
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = outShape.size(); // loops: out dims, then k
  unsigned kDim = rank;
  auto operandMap = [&](Value v, bool isA, bool trans) {
    auto type = cast<RankedTensorType>(v.getType());
    unsigned r = type.getRank();
    SmallVector<AffineExpr> exprs;
    for (unsigned d = 0; d + 2 < r; ++d) {
      unsigned od = rank - 2 - (r - 2) + d;
      bool bcast = type.getDimSize(d) == 1 && !isOne(outShape[od]);
      exprs.push_back(bcast ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(od, ctx));
    }
    AffineExpr outer = getAffineDimExpr(isA ? rank - 2 : rank - 1, ctx);
    AffineExpr k = getAffineDimExpr(kDim, ctx);
    if (isA != trans) {
      exprs.push_back(outer);
      exprs.push_back(k);
    } else {
      exprs.push_back(k);
      exprs.push_back(outer);
    }
    return AffineMap::get(rank + 1, 0, exprs, ctx);
  };
  SmallVector<AffineMap> maps = {
      operandMap(a, true, transA), operandMap(b, false, transB),
      AffineMap::getMultiDimIdentityMap(rank + 1, ctx).getMajorSubMap(rank)};
  Value init = linalg::FillOp::create(
                   c.b(), c.loc, ValueRange{floatConst(c.b(), c.loc, elem, 0)},
                   ValueRange{emptyTensor(c, outShape, elem)})
                   .getResult(0);
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  its.push_back(utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), ValueRange{a, b}, ValueRange{init},
             maps, its,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value p = arith::MulFOp::create(nb, l, args[0], args[1]);
               linalg::YieldOp::create(
                   nb, l, arith::AddFOp::create(nb, l, args[2], p).getResult());
             })
      .getResult(0);
}

LogicalResult emitMatMul(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  if (!out.isFloat())
    return c.error("integer MatMul is not supported");
  // B stored as the transpose of another weight (a tied LM head): that
  // weight, read transposed.
  const std::string &copyOf = c.imp.state(c.node.input(1)).transposeOf;
  Value b = copyOf.empty() ? c.operand(1) : c.imp.materialize(copyOf, c.loc);
  c.setResult(0, emitContraction(c, c.operand(0), b, out.shape, false,
                                 !copyOf.empty(), out.elementType));
  return success();
}

LogicalResult inferGemm(NodeContext &c) {
  const TensorInfo &a = c.info(0), &b = c.info(1);
  if (a.rank() != 2 || b.rank() != 2)
    return c.error("expects rank-2 operands");
  bool ta = c.getInt("transA", 0), tb = c.getInt("transB", 0);
  SymExpr m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  SymExpr k2 = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  if (!c.imp.getSymbols().require(k, k2))
    return c.error("contracts mismatched sizes");
  c.setOutput(0, {a.elementType, {m, n}});
  return success();
}

LogicalResult emitGemm(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  Type t = out.elementType;
  float alpha = c.getFloat("alpha", 1.0f), beta = c.getFloat("beta", 1.0f);
  Value y = emitContraction(c, c.operand(0), c.operand(1), out.shape,
                            c.getInt("transA", 0), c.getInt("transB", 0), t);
  SmallVector<Value> ins = {y};
  bool hasC = c.hasInput(2);
  if (hasC)
    ins.push_back(c.operand(2));
  if (alpha != 1.0f || hasC)
    y = emitMap(
        c, out.shape, t, ins,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value r = a[0];
          if (alpha != 1.0f)
            r = arith::MulFOp::create(b, l, r, floatConst(b, l, t, alpha));
          if (hasC) {
            Value cv = a[1];
            if (beta != 1.0f)
              cv = arith::MulFOp::create(b, l, cv, floatConst(b, l, t, beta));
            r = arith::AddFOp::create(b, l, r, cv);
          }
          return r;
        });
  c.setResult(0, y);
  return success();
}

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::matmulOps() {
  static const OpEntry ops[] = {
      {"", "MatMul", {inferMatMul, emitMatMul}},
      {"", "Gemm", {inferGemm, emitGemm}},
  };
  return ops;
}
