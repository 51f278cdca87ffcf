//===- ElementwiseOps.cpp - the importer's elementwise ops
//------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): elementwise ops:
// arithmetic, comparisons, logic, Where, unary math and activations, Cast.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

namespace {
//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

bool isComparison(Bin k) {
  return k == Bin::Eq || k == Bin::Lt || k == Bin::Le || k == Bin::Gt ||
         k == Bin::Ge;
}

/// Folds one binary op on known scalars. Max and Min of symbolic sizes
/// become derived sizes of `syms` when given.
std::optional<Scalar> foldBinary(Bin k, const Scalar &x, const Scalar &y,
                                 SizeSymbols *syms = nullptr) {
  if (x.isFloat || y.isFloat) {
    std::optional<double> a = x.asDouble(), b = y.asDouble();
    if (!a || !b)
      return std::nullopt;
    auto boolean = [](bool v) { return Scalar::ofInt(SymExpr(v ? 1 : 0)); };
    switch (k) {
    case Bin::Add:
      return Scalar::ofFloat(*a + *b);
    case Bin::Sub:
      return Scalar::ofFloat(*a - *b);
    case Bin::Mul:
      return Scalar::ofFloat(*a * *b);
    case Bin::Div:
      return Scalar::ofFloat(*a / *b);
    case Bin::Pow:
      return Scalar::ofFloat(std::pow(*a, *b));
    case Bin::Max:
      return Scalar::ofFloat(std::max(*a, *b));
    case Bin::Min:
      return Scalar::ofFloat(std::min(*a, *b));
    case Bin::Mod:
      return Scalar::ofFloat(std::fmod(*a, *b));
    case Bin::Eq:
      return boolean(*a == *b);
    case Bin::Lt:
      return boolean(*a < *b);
    case Bin::Le:
      return boolean(*a <= *b);
    case Bin::Gt:
      return boolean(*a > *b);
    case Bin::Ge:
      return boolean(*a >= *b);
    default:
      return std::nullopt;
    }
  }
  const SymExpr &a = x.i, &b = y.i;
  std::optional<int64_t> ca = a.getConstant(), cb = b.getConstant();
  switch (k) {
  case Bin::Add:
    return Scalar::ofInt(a + b);
  case Bin::Sub:
    return Scalar::ofInt(a - b);
  case Bin::Mul:
    return Scalar::ofInt(a * b);
  case Bin::Div:
    // ONNX integer Div truncates toward zero.
    if (ca && cb && *cb != 0)
      return Scalar::ofInt(SymExpr(*ca / *cb));
    if (auto q = a.divideExactly(b))
      return Scalar::ofInt(*q);
    return std::nullopt;
  default:
    break;
  }
  if (!ca || !cb) {
    // Equal of identical symbolic sizes is true.
    if (k == Bin::Eq && a == b)
      return Scalar::ofInt(SymExpr(1));
    // Sizes are never negative: a size compared with a negative constant
    // (torch's "-1 means keep" shape logic) folds.
    auto nonNegative = [](const SymExpr &e) {
      return llvm::all_of(e.terms(),
                          [](const auto &t) { return t.second >= 0; });
    };
    bool aSize = !ca && nonNegative(a) && cb && *cb < 0;
    bool bSize = !cb && nonNegative(b) && ca && *ca < 0;
    if (aSize || bSize) {
      // With x >= 0 > c: x == c false, x > c true (and mirrored).
      bool greater = aSize; // a > b holds
      switch (k) {
      case Bin::Eq:
        return Scalar::ofInt(SymExpr(0));
      case Bin::Lt:
      case Bin::Le:
        return Scalar::ofInt(SymExpr(greater ? 0 : 1));
      case Bin::Gt:
      case Bin::Ge:
        return Scalar::ofInt(SymExpr(greater ? 1 : 0));
      case Bin::Max:
        return Scalar::ofInt(greater ? a : b);
      case Bin::Min:
        return Scalar::ofInt(greater ? b : a);
      default:
        break;
      }
    }
    // torch.export's shape logic: Max(0, past - 4) and the like.
    if (syms && k == Bin::Min)
      return Scalar::ofInt(syms->minOf(a, b));
    if (syms && k == Bin::Max)
      return Scalar::ofInt(syms->maxOf(a, b));
    return std::nullopt;
  }
  int64_t p = *ca, q = *cb;
  switch (k) {
  case Bin::Max:
    return Scalar::ofInt(SymExpr(std::max(p, q)));
  case Bin::Min:
    return Scalar::ofInt(SymExpr(std::min(p, q)));
  case Bin::Mod:
    return q ? std::optional(Scalar::ofInt(SymExpr(p % q))) : std::nullopt;
  case Bin::Pow:
    return Scalar::ofInt(SymExpr((int64_t)std::pow(p, q)));
  case Bin::Eq:
    return Scalar::ofInt(SymExpr(p == q));
  case Bin::Lt:
    return Scalar::ofInt(SymExpr(p < q));
  case Bin::Le:
    return Scalar::ofInt(SymExpr(p <= q));
  case Bin::Gt:
    return Scalar::ofInt(SymExpr(p > q));
  case Bin::Ge:
    return Scalar::ofInt(SymExpr(p >= q));
  case Bin::And:
    return Scalar::ofInt(SymExpr(p && q));
  case Bin::Or:
    return Scalar::ofInt(SymExpr(p || q));
  case Bin::Xor:
    return Scalar::ofInt(SymExpr((p != 0) != (q != 0)));
  default:
    return std::nullopt;
  }
}

LogicalResult inferBinary(NodeContext &c) {
  Bin k = binKind(c.node.op_type());
  SmallVector<Shape> shapes;
  for (unsigned i = 0; i < c.numInputs(); ++i)
    shapes.push_back(c.info(i).shape);
  FailureOr<Shape> out = broadcastShapes(c, shapes);
  if (failed(out))
    return failure();
  Type inType = c.info(0).elementType;
  Type outType = isComparison(k) ? i1(c) : inType;
  std::optional<Known> known =
      foldElementwise(c, *out, isa<FloatType>(outType),
                      [&](ArrayRef<Scalar> args) -> std::optional<Scalar> {
                        std::optional<Scalar> acc = args[0];
                        for (size_t i = 1; i < args.size() && acc; ++i)
                          acc =
                              foldBinary(k, *acc, args[i], &c.imp.getSymbols());
                        return acc;
                      });
  c.setOutput(0, {outType, *out}, std::move(known));
  return success();
}

LogicalResult emitBinary(NodeContext &c) {
  Bin k = binKind(c.node.op_type());
  const TensorInfo &out = c.out(0).info;
  // x^2 and x^0.5 as multiplication and sqrt: exact and cheaper.
  if (k == Bin::Pow && c.info(0).isFloat()) {
    std::optional<double> e = constScalar(c, 1);
    if (e && (*e == 2.0 || *e == 0.5 || *e == 1.0)) {
      double ex = *e;
      c.setResult(0,
                  emitMap(c, out.shape, out.elementType, {c.operand(0)},
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            if (ex == 2.0)
                              return arith::MulFOp::create(b, l, a[0], a[0]);
                            if (ex == 0.5)
                              return math::SqrtOp::create(b, l, a[0]);
                            return a[0];
                          }));
      return success();
    }
  }
  SmallVector<Value> ins;
  for (unsigned i = 0; i < c.numInputs(); ++i)
    ins.push_back(c.operand(i));
  Type elem = c.info(0).elementType;
  c.setResult(0, emitMap(c, out.shape, out.elementType, ins,
                         [&](OpBuilder &b, Location l, ValueRange a) {
                           Value acc = castScalar(b, l, a[0], elem);
                           for (size_t i = 1; i < a.size(); ++i)
                             acc = binaryScalar(b, l, k, acc,
                                                castScalar(b, l, a[i], elem));
                           return acc;
                         }));
  return success();
}

LogicalResult inferUnary(NodeContext &c) {
  llvm::StringRef op = c.node.op_type();
  const TensorInfo &in = c.info(0);
  Type outType = (op == "IsNaN" || op == "IsInf") ? i1(c) : in.elementType;
  std::optional<Known> known =
      foldElementwise(c, in.shape, isa<FloatType>(outType),
                      [&](ArrayRef<Scalar> a) -> std::optional<Scalar> {
                        if (!a[0].isFloat) {
                          if (op == "Neg")
                            return Scalar::ofInt(-a[0].i);
                          if (op == "Not")
                            if (auto v = a[0].i.getConstant())
                              return Scalar::ofInt(SymExpr(*v == 0));
                          if (op == "Abs")
                            if (auto v = a[0].i.getConstant())
                              return Scalar::ofInt(SymExpr(*v < 0 ? -*v : *v));
                          return std::nullopt;
                        }
                        double x = a[0].f;
                        if (op == "Neg")
                          return Scalar::ofFloat(-x);
                        if (op == "Sqrt")
                          return Scalar::ofFloat(std::sqrt(x));
                        if (op == "Reciprocal")
                          return Scalar::ofFloat(1.0 / x);
                        if (op == "Exp")
                          return Scalar::ofFloat(std::exp(x));
                        if (op == "Log")
                          return Scalar::ofFloat(std::log(x));
                        if (op == "Abs")
                          return Scalar::ofFloat(std::fabs(x));
                        if (op == "Floor")
                          return Scalar::ofFloat(std::floor(x));
                        if (op == "Ceil")
                          return Scalar::ofFloat(std::ceil(x));
                        if (op == "IsNaN")
                          return Scalar::ofInt(SymExpr(std::isnan(x) ? 1 : 0));
                        return std::nullopt;
                      });
  c.setOutput(0, {outType, in.shape}, std::move(known));
  return success();
}

LogicalResult emitUnary(NodeContext &c) {
  llvm::StringRef op = c.node.op_type();
  const TensorInfo &out = c.out(0).info;
  std::string approximate = c.getString("approximate", "none");
  float alpha = c.getFloat("alpha", 0.01f);
  c.setResult(
      0,
      emitMap(c, out.shape, out.elementType, {c.operand(0)},
              [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                Value x = a[0];
                Type t = x.getType();
                bool f = isa<FloatType>(t);
                auto cst = [&](double v) { return typedConst(b, l, t, v); };
                if (op == "Neg")
                  return f ? (Value)arith::NegFOp::create(b, l, x)
                           : arith::SubIOp::create(b, l, cst(0), x);
                if (op == "Sqrt")
                  return math::SqrtOp::create(b, l, x);
                if (op == "Reciprocal")
                  return arith::DivFOp::create(b, l, cst(1), x);
                if (op == "Exp")
                  return math::ExpOp::create(b, l, x);
                if (op == "Log")
                  return math::LogOp::create(b, l, x);
                if (op == "Cos")
                  return math::CosOp::create(b, l, x);
                if (op == "Sin")
                  return math::SinOp::create(b, l, x);
                if (op == "Tanh")
                  return math::TanhOp::create(b, l, x);
                if (op == "Erf")
                  return math::ErfOp::create(b, l, x);
                if (op == "Floor")
                  return math::FloorOp::create(b, l, x);
                if (op == "Ceil")
                  return math::CeilOp::create(b, l, x);
                if (op == "Abs")
                  return f ? (Value)math::AbsFOp::create(b, l, x)
                           : math::AbsIOp::create(b, l, x);
                if (op == "Not")
                  return arith::XOrIOp::create(b, l, x, typedConst(b, l, t, 1));
                if (op == "IsNaN")
                  return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO,
                                               x, x);
                if (op == "Relu")
                  return arith::MaximumFOp::create(b, l, x, cst(0));
                if (op == "LeakyRelu") {
                  Value neg = arith::MulFOp::create(b, l, x, cst(alpha));
                  Value pos = arith::CmpFOp::create(
                      b, l, arith::CmpFPredicate::OGT, x, cst(0));
                  return arith::SelectOp::create(b, l, pos, x, neg);
                }
                if (op == "Sigmoid") {
                  Value e =
                      math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
                  return arith::DivFOp::create(
                      b, l, cst(1), arith::AddFOp::create(b, l, cst(1), e));
                }
                if (op == "Softplus")
                  return math::Log1pOp::create(b, l,
                                               math::ExpOp::create(b, l, x));
                // Gelu (opset 20, and the contrib op): exact erf form, or tanh
                // form.
                if (approximate == "tanh") {
                  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                  Value x3 = arith::MulFOp::create(
                      b, l, arith::MulFOp::create(b, l, x, x), x);
                  Value inner = arith::AddFOp::create(
                      b, l, x, arith::MulFOp::create(b, l, x3, cst(0.044715)));
                  Value th = math::TanhOp::create(
                      b, l,
                      arith::MulFOp::create(b, l, inner,
                                            cst(std::sqrt(2.0 / M_PI))));
                  return arith::MulFOp::create(
                      b, l, arith::MulFOp::create(b, l, x, cst(0.5)),
                      arith::AddFOp::create(b, l, cst(1), th));
                }
                Value erf = math::ErfOp::create(
                    b, l, arith::MulFOp::create(b, l, x, cst(M_SQRT1_2)));
                return arith::MulFOp::create(
                    b, l, arith::MulFOp::create(b, l, x, cst(0.5)),
                    arith::AddFOp::create(b, l, cst(1), erf));
              }));
  return success();
}

LogicalResult inferWhere(NodeContext &c) {
  FailureOr<Shape> out =
      broadcastShapes(c, {c.info(0).shape, c.info(1).shape, c.info(2).shape});
  if (failed(out))
    return failure();
  Type t = c.info(1).elementType;
  std::optional<Known> known =
      foldElementwise(c, *out, isa<FloatType>(t),
                      [&](ArrayRef<Scalar> a) -> std::optional<Scalar> {
                        std::optional<int64_t> cond = a[0].i.getConstant();
                        if (!cond)
                          return std::nullopt;
                        return *cond ? a[1] : a[2];
                      });
  c.setOutput(0, {t, *out}, std::move(known));
  return success();
}

LogicalResult emitWhere(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  c.setResult(0, emitMap(c, out.shape, out.elementType,
                         {c.operand(0), c.operand(1), c.operand(2)},
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           return arith::SelectOp::create(b, l, a[0], a[1],
                                                          a[2]);
                         }));
  return success();
}

LogicalResult inferCast(NodeContext &c) {
  Type to = c.imp.elementType(c.getInt("to", 1));
  if (!to)
    return c.error("unsupported target type " + llvm::Twine(c.getInt("to", 1)));
  const TensorInfo &in = c.info(0);
  bool toFloat = isa<FloatType>(to);
  std::optional<Known> known = foldElementwise(
      c, in.shape, toFloat, [&](ArrayRef<Scalar> a) -> std::optional<Scalar> {
        if (toFloat) {
          std::optional<double> d = a[0].asDouble();
          if (!d)
            return std::nullopt;
          return Scalar::ofFloat(*d);
        }
        if (!a[0].isFloat) {
          if (to.isInteger(1)) {
            auto v = a[0].i.getConstant();
            if (!v)
              return std::nullopt;
            return Scalar::ofInt(SymExpr(*v != 0));
          }
          return a[0];
        }
        if (to.isInteger(1))
          return Scalar::ofInt(SymExpr(a[0].f != 0));
        return Scalar::ofInt(SymExpr((int64_t)std::trunc(a[0].f)));
      });
  c.setOutput(0, {to, in.shape}, std::move(known));
  return success();
}

LogicalResult emitCast(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  Type to = out.elementType;
  c.setResult(0, emitMap(c, out.shape, to, {c.operand(0)},
                         [&](OpBuilder &b, Location l, ValueRange a) {
                           return castScalar(b, l, a[0], to);
                         }));
  return success();
}

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::elementwiseOps() {
  static const OpEntry ops[] = {
      {"", "Add", {inferBinary, emitBinary}},
      {"", "Sub", {inferBinary, emitBinary}},
      {"", "Mul", {inferBinary, emitBinary}},
      {"", "Div", {inferBinary, emitBinary}},
      {"", "Pow", {inferBinary, emitBinary}},
      {"", "Max", {inferBinary, emitBinary}},
      {"", "Min", {inferBinary, emitBinary}},
      {"", "Mod", {inferBinary, emitBinary}},
      {"", "Equal", {inferBinary, emitBinary}},
      {"", "Less", {inferBinary, emitBinary}},
      {"", "LessOrEqual", {inferBinary, emitBinary}},
      {"", "Greater", {inferBinary, emitBinary}},
      {"", "GreaterOrEqual", {inferBinary, emitBinary}},
      {"", "And", {inferBinary, emitBinary}},
      {"", "Or", {inferBinary, emitBinary}},
      {"", "Xor", {inferBinary, emitBinary}},
      {"", "Where", {inferWhere, emitWhere}},
      {"", "Neg", {inferUnary, emitUnary}},
      {"", "Sqrt", {inferUnary, emitUnary}},
      {"", "Reciprocal", {inferUnary, emitUnary}},
      {"", "Exp", {inferUnary, emitUnary}},
      {"", "Log", {inferUnary, emitUnary}},
      {"", "Cos", {inferUnary, emitUnary}},
      {"", "Sin", {inferUnary, emitUnary}},
      {"", "Tanh", {inferUnary, emitUnary}},
      {"", "Erf", {inferUnary, emitUnary}},
      {"", "Abs", {inferUnary, emitUnary}},
      {"", "Floor", {inferUnary, emitUnary}},
      {"", "Ceil", {inferUnary, emitUnary}},
      {"", "Not", {inferUnary, emitUnary}},
      {"", "IsNaN", {inferUnary, emitUnary}},
      {"", "Relu", {inferUnary, emitUnary}},
      {"", "LeakyRelu", {inferUnary, emitUnary}},
      {"", "Sigmoid", {inferUnary, emitUnary}},
      {"", "Softplus", {inferUnary, emitUnary}},
      {"", "Gelu", {inferUnary, emitUnary}},
      {"com.microsoft", "Gelu", {inferUnary, emitUnary}},
      {"", "Cast", {inferCast, emitCast}},
  };
  return ops;
}
