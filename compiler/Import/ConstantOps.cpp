//===- ConstantOps.cpp - the importer's constant ops
//------------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): constants and shape
// queries: Constant, Identity, Dropout, Shape, Size, ConstantOfShape, Range.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

namespace {
//===----------------------------------------------------------------------===//
// Constants and shape ops
//===----------------------------------------------------------------------===//

LogicalResult inferConstant(NodeContext &c) {
  const onnx::AttributeProto *a =
      c.node.attribute_size() ? &c.node.attribute(0) : nullptr;
  if (!a)
    return c.error("has no value attribute");
  MLIRContext *ctx = c.imp.getContext();
  Known k;
  TensorInfo info;
  if (a->name() == "value") {
    FailureOr<TensorInfo> ti = c.imp.tensorProtoInfo(a->t(), c.loc);
    if (failed(ti))
      return failure();
    info = *ti;
    if (numElements(info.shape).value_or(0) <= c.maxKnown) {
      FailureOr<Known> data = c.imp.readTensor(a->t(), c.loc);
      if (failed(data))
        return failure();
      c.setOutput(0, info, *data);
    } else {
      c.setOutput(0, info);
      // A large constant is a weight.
      c.out(0).initializer = &a->t();
    }
    return success();
  }
  if (a->name() == "value_float" || a->name() == "value_floats") {
    k.isFloat = true;
    if (a->name() == "value_float")
      k.floats.push_back(a->f());
    else
      k.floats.assign(a->floats().begin(), a->floats().end());
    info.elementType = Float32Type::get(ctx);
  } else if (a->name() == "value_int" || a->name() == "value_ints") {
    if (a->name() == "value_int")
      k.ints.push_back(SymExpr(a->i()));
    else
      for (int64_t v : a->ints())
        k.ints.push_back(SymExpr(v));
    info.elementType = IntegerType::get(ctx, 64);
  } else {
    return c.error("unsupported attribute '" + a->name() + "'");
  }
  if (a->name() == "value_floats" || a->name() == "value_ints")
    info.shape.push_back(SymExpr((int64_t)k.size()));
  c.setOutput(0, info, std::move(k));
  return success();
}

LogicalResult emitFromKnownOrInitializer(NodeContext &c) {
  // Known contents are materialized on use; large constants are arguments.
  for (unsigned i = 0; i < c.numOutputs(); ++i)
    if (!c.out(i).known && !c.out(i).initializer)
      return c.error("has no known value");
  return success();
}

LogicalResult inferIdentity(NodeContext &c) {
  ValueState &in = c.in(0);
  c.setOutput(0, in.info, in.known);
  return success();
}

LogicalResult emitIdentity(NodeContext &c) {
  c.setResult(0, c.operand(0));
  return success();
}

LogicalResult inferShape(NodeContext &c) {
  const Shape &s = c.info(0).shape;
  int64_t r = s.size();
  int64_t start = normAxis(c.getInt("start", 0), r);
  int64_t end = c.attr("end") ? normAxis(c.getInt("end", r), r) : r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, start, r);
  Known k;
  for (int64_t i = start; i < end; ++i)
    k.ints.push_back(c.imp.getSymbols().resolve(s[i]));
  c.setOutput(
      0, {IntegerType::get(c.imp.getContext(), 64), {SymExpr(end - start)}},
      std::move(k));
  return success();
}

LogicalResult inferSize(NodeContext &c) {
  SymExpr n(1);
  for (const SymExpr &d : c.info(0).shape)
    n = n * d;
  Known k;
  k.ints.push_back(n);
  c.setOutput(0, {IntegerType::get(c.imp.getContext(), 64), {}}, std::move(k));
  return success();
}

LogicalResult inferConstantOfShape(NodeContext &c) {
  const Known *shapeK = c.known(0);
  if (!shapeK)
    return c.error("needs a shape known at import time");
  Shape shape(shapeK->ints.begin(), shapeK->ints.end());
  for (const SymExpr &d : shape)
    if (d.getConstant().value_or(0) < 0)
      return c.error("has a negative size in its shape");
  Known value;
  value.isFloat = true;
  value.floats.push_back(0.0);
  Type t = Float32Type::get(c.imp.getContext());
  if (const onnx::AttributeProto *a = c.attr("value")) {
    FailureOr<TensorInfo> ti = c.imp.tensorProtoInfo(a->t(), c.loc);
    FailureOr<Known> v = c.imp.readTensor(a->t(), c.loc);
    if (failed(ti) || failed(v) || v->size() != 1)
      return c.error("expected a one-element 'value'");
    t = ti->elementType;
    value = *v;
  }
  std::optional<Known> known;
  std::optional<int64_t> n = numElements(shape);
  if (n && *n <= c.maxKnown) {
    Known k;
    k.isFloat = value.isFloat;
    for (int64_t i = 0; i < *n; ++i) {
      appendElement(k, value, 0);
    }
    known = std::move(k);
  }
  // Remember the fill value for emission.
  c.setOutput(0, {t, shape}, std::move(known));
  return success();
}

LogicalResult emitConstantOfShape(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  double v = 0;
  if (const onnx::AttributeProto *a = c.attr("value")) {
    FailureOr<Known> k = c.imp.readTensor(a->t(), c.loc);
    if (failed(k))
      return failure();
    v = *knownAt(*k, 0).asDouble();
  }
  Value fill = typedConst(c.b(), c.loc, out.elementType, v);
  c.setResult(0, linalg::FillOp::create(
                     c.b(), c.loc, ValueRange{fill},
                     ValueRange{emptyTensor(c, out.shape, out.elementType)})
                     .getResult(0));
  return success();
}

LogicalResult inferRange(NodeContext &c) {
  const Known *start = c.known(0), *limit = c.known(1), *delta = c.known(2);
  if (!start || !limit || !delta)
    return c.error("needs start, limit and delta known at import time");
  Type t = c.info(0).elementType;
  Scalar s = knownAt(*start, 0), l = knownAt(*limit, 0), d = knownAt(*delta, 0);
  Shape shape;
  std::optional<Known> known;
  if (!s.isFloat) {
    std::optional<int64_t> step = d.i.getConstant();
    if (!step || *step == 0)
      return c.error("needs a constant nonzero delta");
    SymExpr span = c.imp.getSymbols().resolve(l.i - s.i);
    SymExpr len;
    if (auto cs = span.getConstant()) {
      int64_t n = (*cs + *step - (*step > 0 ? 1 : -1)) / *step;
      len = SymExpr(std::max<int64_t>(n, 0));
    } else if (*step == 1) {
      len = span;
    } else if (auto q = span.divideExactly(SymExpr(*step))) {
      len = *q;
    } else {
      return c.error("cannot size a range of " + c.imp.getSymbols().str(span) +
                     " with step " + llvm::Twine(*step));
    }
    shape.push_back(len);
    if (auto n = len.getConstant(); n && *n <= c.maxKnown) {
      Known k;
      for (int64_t i = 0; i < *n; ++i)
        k.ints.push_back(s.i + SymExpr(i * *step));
      known = std::move(k);
    }
  } else {
    double sf = *s.asDouble(), lf = *l.asDouble(), df = *d.asDouble();
    int64_t n = std::max<int64_t>((int64_t)std::ceil((lf - sf) / df), 0);
    shape.push_back(SymExpr(n));
    if (n <= c.maxKnown) {
      Known k;
      k.isFloat = true;
      for (int64_t i = 0; i < n; ++i)
        k.floats.push_back(sf + i * df);
      known = std::move(k);
    }
  }
  c.setOutput(0, {t, shape}, std::move(known));
  return success();
}

LogicalResult emitRange(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  Scalar s = knownAt(*c.known(0), 0), d = knownAt(*c.known(2), 0);
  Type t = out.elementType;
  Value start = isa<FloatType>(t)
                    ? floatConst(c.b(), c.loc, t, *s.asDouble())
                    : castScalar(c.b(), c.loc,
                                 arith::IndexCastOp::create(
                                     c.b(), c.loc, c.b().getI64Type(),
                                     c.imp.indexValue(s.i)),
                                 t);
  Value step = typedConst(c.b(), c.loc, t, *d.asDouble());
  Value init = emptyTensor(c, out.shape, t);
  MLIRContext *ctx = c.imp.getContext();
  c.setResult(
      0,
      linalg::GenericOp::create(
          c.b(), c.loc, init.getType(), ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(1, ctx)},
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &b, Location l, ValueRange) {
            Value i = linalg::IndexOp::create(b, l, 0);
            Value iv = castScalar(
                b, l, arith::IndexCastOp::create(b, l, b.getI64Type(), i), t);
            Value r =
                isa<FloatType>(t)
                    ? (Value)arith::AddFOp::create(
                          b, l, start, arith::MulFOp::create(b, l, iv, step))
                    : arith::AddIOp::create(
                          b, l, start, arith::MulIOp::create(b, l, iv, step));
            linalg::YieldOp::create(b, l, r);
          })
          .getResult(0));
  return success();
}

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::constantOps() {
  static const OpEntry ops[] = {
      {"", "Constant", {inferConstant, emitFromKnownOrInitializer}},
      {"", "Identity", {inferIdentity, emitIdentity}},
      {"", "Dropout", {inferIdentity, emitIdentity}},
      {"", "Shape", {inferShape, emitFromKnownOrInitializer}},
      {"", "Size", {inferSize, emitFromKnownOrInitializer}},
      {"", "ConstantOfShape", {inferConstantOfShape, emitConstantOfShape}},
      {"", "Range", {inferRange, emitRange}},
  };
  return ops;
}
