//===- ReductionOps.cpp - the importer's reduction ops
//----------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): reductions,
// normalizations and softmax: Reduce*, LayerNormalization, RMSNormalization and
// the contrib (skip) norms, Softmax.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

namespace {
//===----------------------------------------------------------------------===//
// Reductions, normalizations, softmax
//===----------------------------------------------------------------------===//

LogicalResult inferReduce(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  llvm::StringRef op = c.node.op_type();
  int64_t inputOpset = op == "ReduceSum" ? 13 : 18;
  std::optional<SmallVector<int64_t>> axes = axesOf(c, inputOpset);
  if (c.opset >= inputOpset && c.hasInput(1) && !axes)
    return c.error("needs axes known at import time");
  bool keep = c.getInt("keepdims", 1);
  SmallVector<int64_t> norm;
  if (!axes || axes->empty()) {
    if (c.getInt("noop_with_empty_axes", 0)) {
      c.setOutput(0, in, c.in(0).known);
      return success();
    }
    for (int64_t i = 0; i < in.rank(); ++i)
      norm.push_back(i);
  } else {
    for (int64_t a : *axes) {
      FailureOr<int64_t> n = checkedAxis(c, a, in.rank());
      if (failed(n))
        return failure();
      norm.push_back(*n);
    }
  }
  Shape out;
  for (int64_t i = 0; i < in.rank(); ++i) {
    if (llvm::is_contained(norm, i)) {
      if (keep)
        out.push_back(SymExpr(1));
    } else {
      out.push_back(in.shape[i]);
    }
  }
  c.setOutput(0, {in.elementType, out});
  return success();
}

SmallVector<int64_t> reduceAxes(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  llvm::StringRef op = c.node.op_type();
  std::optional<SmallVector<int64_t>> axes =
      axesOf(c, op == "ReduceSum" ? 13 : 18);
  SmallVector<int64_t> norm;
  if (!axes || axes->empty())
    for (int64_t i = 0; i < in.rank(); ++i)
      norm.push_back(i);
  else
    for (int64_t a : *axes)
      norm.push_back(normAxis(a, in.rank()));
  llvm::sort(norm);
  norm.erase(std::unique(norm.begin(), norm.end()), norm.end());
  return norm;
}

LogicalResult emitReduce(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const TensorInfo &out = c.out(0).info;
  if (out.shape == in.shape && c.getInt("noop_with_empty_axes", 0)) {
    c.setResult(0, c.operand(0));
    return success();
  }
  llvm::StringRef op = c.node.op_type();
  SmallVector<int64_t> axes = reduceAxes(c);
  Type t = in.elementType;
  bool isMax = op == "ReduceMax", isMin = op == "ReduceMin";
  double init = isMax   ? -std::numeric_limits<double>::infinity()
                : isMin ? std::numeric_limits<double>::infinity()
                        : 0.0;
  if (!isa<FloatType>(t) && (isMax || isMin))
    init = isMax ? (double)std::numeric_limits<int64_t>::min()
                 : (double)std::numeric_limits<int64_t>::max();
  Value r = emitReduction(c, c.operand(0), in.shape, axes, init, t,
                          [&](OpBuilder &b, Location l, Value acc, Value x) {
                            if (isMax)
                              return binaryScalar(b, l, Bin::Max, acc, x);
                            if (isMin)
                              return binaryScalar(b, l, Bin::Min, acc, x);
                            if (op == "ReduceSumSquare")
                              x = binaryScalar(b, l, Bin::Mul, x, x);
                            return binaryScalar(b, l, Bin::Add, acc, x);
                          });
  Shape reducedShape;
  SymExpr count(1);
  for (int64_t i = 0; i < in.rank(); ++i)
    if (!llvm::is_contained(axes, i))
      reducedShape.push_back(in.shape[i]);
    else
      count = count * in.shape[i];
  if (op == "ReduceMean") {
    Value n = arith::IndexCastOp::create(c.b(), c.loc, c.b().getI64Type(),
                                         c.imp.indexValue(count));
    Value nf = castScalar(c.b(), c.loc, n, t);
    r = emitMap(c, reducedShape, t, {r},
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  return arith::DivFOp::create(b, l, a[0], nf);
                });
  }
  c.setResult(0, emitReshape(c, r, out.shape));
  return success();
}

LogicalResult inferSoftmax(NodeContext &c) {
  int64_t dflt = c.opset >= 13 ? -1 : 1;
  if (c.info(0).rank() < 1 ||
      failed(checkedAxis(c, c.getInt("axis", dflt), c.info(0).rank())))
    return failure();
  c.setOutput(0, c.info(0));
  return success();
}

/// Normalizes over the last axis: LayerNormalization (mean and variance) or
/// RMS norm (SimplifiedLayerNormalization, RMSNormalization).
/// Normalizes `x` (shape of input 0) over its last axis and applies `scale`
/// (and `bias`, if any).
Value emitNormValues(NodeContext &c, Value x, Value scaleV, Value biasV,
                     bool rms) {
  const TensorInfo &in = c.info(0);
  int64_t axis = in.rank() - 1;
  Type t = in.elementType;
  // Statistics in at least f32.
  Type acc = t.getIntOrFloatBitWidth() < 32 ? c.b().getF32Type() : t;
  float eps = c.getFloat("epsilon", 1e-5f);
  SmallVector<int64_t> last = {axis};
  Shape rowShape(in.shape.begin(), in.shape.end() - 1);
  Value n =
      castScalar(c.b(), c.loc,
                 arith::IndexCastOp::create(c.b(), c.loc, c.b().getI64Type(),
                                            c.imp.indexValue(in.shape[axis])),
                 acc);
  auto sum = [&](OpBuilder &b, Location l, Value a, Value v) {
    return (Value)arith::AddFOp::create(b, l, a, v);
  };
  Value mean;
  if (!rms) {
    Value s = emitReduction(c, x, in.shape, last, 0.0, acc, sum);
    mean = emitMap(c, rowShape, acc, {s},
                   [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                     return arith::DivFOp::create(b, l, a[0], n);
                   });
  }
  // sum((x - mean)^2), or sum(x^2)
  Value centered = x;
  if (!rms)
    centered = emitWithRow(
        c, x, in.shape, mean, acc,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::SubFOp::create(b, l, castScalar(b, l, a[0], acc), a[1]);
        });
  Value sq =
      emitReduction(c, centered, in.shape, last, 0.0, acc,
                    [&](OpBuilder &b, Location l, Value a, Value v) -> Value {
                      return arith::AddFOp::create(
                          b, l, a, arith::MulFOp::create(b, l, v, v));
                    });
  Value inv = emitMap(c, rowShape, acc, {sq},
                      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value var = arith::DivFOp::create(b, l, a[0], n);
                        Value e = floatConst(b, l, acc, eps);
                        return math::RsqrtOp::create(
                            b, l, arith::AddFOp::create(b, l, var, e));
                      });
  Value normed = emitWithRow(
      c, centered, in.shape, inv, acc,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        return arith::MulFOp::create(b, l, castScalar(b, l, a[0], acc), a[1]);
      });
  SmallVector<Value> ins = {normed, scaleV};
  bool hasBias = (bool)biasV;
  if (hasBias)
    ins.push_back(biasV);
  return emitMap(
      c, in.shape, t, ins,
      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
        Value y =
            arith::MulFOp::create(b, l, a[0], castScalar(b, l, a[1], acc));
        if (hasBias)
          y = arith::AddFOp::create(b, l, y, castScalar(b, l, a[2], acc));
        return castScalar(b, l, y, t);
      });
}

LogicalResult checkNormOutputs(NodeContext &c, unsigned firstStat,
                               unsigned lastStat) {
  const TensorInfo &in = c.info(0);
  int64_t axis = normAxis(c.getInt("axis", -1), in.rank());
  if (axis != in.rank() - 1)
    return c.error("normalizes over axis " + llvm::Twine(axis) +
                   "; only the last axis is supported");
  for (unsigned i = firstStat; i <= lastStat && i < c.numOutputs(); ++i)
    if (!c.node.output(i).empty() &&
        (!c.imp.consumers(c.node.output(i)).empty() ||
         c.imp.isGraphOutput(c.node.output(i))))
      return c.error(
          "uses its mean/inv_std_dev outputs, which are not supported");
  return success();
}

LogicalResult emitNorm(NodeContext &c, bool rms) {
  if (failed(checkNormOutputs(c, 1, 2)))
    return failure();
  c.setResult(0, emitNormValues(c, c.operand(0), c.operand(1),
                                c.hasInput(2) ? c.operand(2) : Value(), rms));
  return success();
}

/// com.microsoft Skip(Simplified)LayerNormalization: s = input + skip
/// (+ bias); output 0 = norm(s) * gamma (+ beta); output 3 = s.
LogicalResult emitSkipNorm(NodeContext &c, bool rms) {
  if (failed(checkNormOutputs(c, 1, 2)))
    return failure();
  const TensorInfo &in = c.info(0);
  SmallVector<Value> ins = {c.operand(0), c.operand(1)};
  unsigned biasInput = rms ? 3 : 4, betaInput = 3;
  if (c.hasInput(biasInput))
    ins.push_back(c.operand(biasInput));
  Value sum = emitMap(c, in.shape, in.elementType, ins,
                      [](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value r = arith::AddFOp::create(b, l, a[0], a[1]);
                        if (a.size() > 2)
                          r = arith::AddFOp::create(b, l, r, a[2]);
                        return r;
                      });
  Value beta = !rms && c.hasInput(betaInput) ? c.operand(betaInput) : Value();
  c.setResult(0, emitNormValues(c, sum, c.operand(2), beta, rms));
  c.setResult(3, sum);
  return success();
}

LogicalResult inferSkipNorm(NodeContext &c) {
  c.setOutput(0, c.info(0));
  c.setOutput(3, c.info(0));
  return success();
}
LogicalResult emitSkipLayerNorm(NodeContext &c) {
  return emitSkipNorm(c, false);
}
LogicalResult emitSkipRmsNorm(NodeContext &c) { return emitSkipNorm(c, true); }

LogicalResult inferNorm(NodeContext &c) {
  if (c.info(0).rank() < 1 ||
      failed(checkedAxis(c, c.getInt("axis", -1), c.info(0).rank())))
    return failure();
  c.setOutput(0, c.info(0));
  return success();
}
LogicalResult emitLayerNorm(NodeContext &c) { return emitNorm(c, false); }
LogicalResult emitRmsNorm(NodeContext &c) { return emitNorm(c, true); }

LogicalResult emitSoftmax(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  int64_t axis = normAxis(c.getInt("axis", c.opset >= 13 ? -1 : 1), in.rank());
  if (axis != in.rank() - 1)
    return c.error("softmax over axis " + llvm::Twine(axis) +
                   " is not supported; only the last axis");
  Type t = in.elementType;
  Value x = c.operand(0);
  SmallVector<int64_t> last = {axis};
  Value mx = emitReduction(
      c, x, in.shape, last, -std::numeric_limits<double>::infinity(), t,
      [](OpBuilder &b, Location l, Value a, Value v) -> Value {
        return arith::MaximumFOp::create(b, l, a, v);
      });
  Value e = emitWithRow(c, x, in.shape, mx, t,
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return math::ExpOp::create(
                              b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                        });
  Value s =
      emitReduction(c, e, in.shape, last, 0.0, t,
                    [](OpBuilder &b, Location l, Value a, Value v) -> Value {
                      return arith::AddFOp::create(b, l, a, v);
                    });
  c.setResult(0,
              emitWithRow(c, e, in.shape, s, t,
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return arith::DivFOp::create(b, l, a[0], a[1]);
                          }));
  return success();
}

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::reductionOps() {
  static const OpEntry ops[] = {
      {"", "ReduceMean", {inferReduce, emitReduce}},
      {"", "ReduceSum", {inferReduce, emitReduce}},
      {"", "ReduceSumSquare", {inferReduce, emitReduce}},
      {"", "ReduceMax", {inferReduce, emitReduce}},
      {"", "ReduceMin", {inferReduce, emitReduce}},
      {"", "Softmax", {inferSoftmax, emitSoftmax}},
      {"", "LayerNormalization", {inferNorm, emitLayerNorm}},
      {"", "SimplifiedLayerNormalization", {inferNorm, emitRmsNorm}},
      {"com.microsoft",
       "SimplifiedLayerNormalization",
       {inferNorm, emitRmsNorm}},
      {"", "RMSNormalization", {inferNorm, emitRmsNorm}},
      {"com.microsoft",
       "SkipSimplifiedLayerNormalization",
       {inferSkipNorm, emitSkipRmsNorm}},
      {"com.microsoft",
       "SkipLayerNormalization",
       {inferSkipNorm, emitSkipLayerNorm}},
  };
  return ops;
}
