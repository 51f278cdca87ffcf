//===- Ops.cpp - per-op inference and emission of the importer -----------===//
//
// One handler per supported ONNX op (see Ops.h). Inference folds shape
// subgraphs through `Known` contents; emission builds linalg/tensor/arith/math
// ops on tensors with symbolic sizes. The table at the end is the list of
// supported ops that error messages point to (`swaa-compile --list-ops`).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::swaa::import;

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

NodeContext::NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
                         int index, int64_t maxKnown)
    : imp(importer), node(node), index(index), loc(importer.nodeLoc(node)),
      opset(importer.getOpset(node.domain())), maxKnown(maxKnown) {}

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::getInt(llvm::StringRef name, int64_t dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeContext::getFloat(llvm::StringRef name, float dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeContext::getString(llvm::StringRef name,
                                   llvm::StringRef dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : dflt.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::getInts(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

LogicalResult NodeContext::error(const llvm::Twine &message) {
  return imp.error(loc, node.op_type() + " node: " + message);
}

LogicalResult NodeContext::outOfRange(const llvm::Twine &message) {
  imp.indexOutOfRange = true;
  return error(message);
}

void NodeContext::setOutput(unsigned i, TensorInfo info,
                            std::optional<Known> known) {
  if (i >= numOutputs() || node.output(i).empty())
    return;
  ValueState &s = out(i);
  s.info = std::move(info);
  s.inferred = true;
  s.known = std::move(known);
}

void NodeContext::setResult(unsigned i, Value v) {
  if (i >= numOutputs() || node.output(i).empty())
    return;
  ValueState &s = out(i);
  s.value = imp.conform(v, s.info, loc);
}

namespace {
using Shape = SmallVector<SymExpr>;

//===----------------------------------------------------------------------===//
// Shape and known-contents helpers
//===----------------------------------------------------------------------===//

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// A node's axis normalized for `rank`; fails, naming it, when out of range.
/// Inference checks every axis this way, so emission may use normAxis.
FailureOr<int64_t> checkedAxis(NodeContext &c, int64_t axis, int64_t rank,
                               int64_t limit = -1) {
  int64_t a = normAxis(axis, rank);
  if (limit < 0)
    limit = rank;
  if (a < 0 || a >= limit)
    return c.error("axis " + llvm::Twine(axis) + " is out of range for rank " +
                   llvm::Twine(rank));
  return a;
}

/// Constant sizes of a shape, or nullopt when one is symbolic.
std::optional<SmallVector<int64_t>> staticShape(const Shape &shape) {
  SmallVector<int64_t> dims;
  for (const SymExpr &d : shape) {
    std::optional<int64_t> c = d.getConstant();
    if (!c || *c < 0)
      return std::nullopt;
    dims.push_back(*c);
  }
  return dims;
}

std::optional<int64_t> numElements(const Shape &shape) {
  auto dims = staticShape(shape);
  if (!dims)
    return std::nullopt;
  // Saturating: a hostile model may declare sizes whose product overflows.
  int64_t n = 1;
  for (int64_t d : *dims)
    if (llvm::MulOverflow(n, d, n))
      return std::numeric_limits<int64_t>::max();
  return n;
}

bool isOne(const SymExpr &d) {
  return d.getConstant() == std::optional<int64_t>(1);
}

/// Numpy-style broadcast of several shapes; different symbolic sizes are
/// unified (the graph says they are equal at run time).
FailureOr<Shape> broadcastShapes(NodeContext &c, ArrayRef<Shape> shapes) {
  size_t rank = 0;
  for (const Shape &s : shapes)
    rank = std::max(rank, s.size());
  Shape out(rank, SymExpr(1));
  SizeSymbols &syms = c.imp.getSymbols();
  for (const Shape &s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      SymExpr &o = out[rank - s.size() + i];
      SymExpr d = syms.resolve(s[i]);
      if (isOne(d))
        continue;
      if (isOne(o)) {
        o = d;
        continue;
      }
      if (syms.resolve(o) == d)
        continue;
      if (!syms.require(o, d))
        return c.error("cannot broadcast sizes " + syms.str(o) + " and " +
                       syms.str(d));
      o = syms.resolve(o);
    }
  }
  return out;
}

/// One element of known contents.
struct Scalar {
  bool isFloat = false;
  SymExpr i;
  double f = 0;
  static Scalar ofInt(SymExpr v) { return {false, std::move(v), 0}; }
  static Scalar ofFloat(double v) { return {true, SymExpr(), v}; }
  std::optional<double> asDouble() const {
    if (isFloat)
      return f;
    if (auto ci = i.getConstant())
      return (double)*ci;
    return std::nullopt;
  }
};

Scalar knownAt(const Known &k, int64_t idx) {
  return k.isFloat ? Scalar::ofFloat(k.floats[idx])
                   : Scalar::ofInt(k.ints[idx]);
}

/// Appends element `i` of `src` to `dst` (same kind of contents).
void appendElement(Known &dst, const Known &src, int64_t i) {
  if (dst.isFloat)
    dst.floats.push_back(src.floats[i]);
  else
    dst.ints.push_back(src.ints[i]);
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = (int)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Flat index into a (broadcast) input for a flat index of the output.
int64_t broadcastIndex(int64_t flat, ArrayRef<int64_t> outShape,
                       ArrayRef<int64_t> inShape) {
  SmallVector<int64_t> outStrides = rowMajorStrides(outShape);
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  int64_t idx = 0;
  size_t offset = outShape.size() - inShape.size();
  for (size_t d = 0; d < outShape.size(); ++d) {
    int64_t coord = (flat / outStrides[d]) % std::max<int64_t>(outShape[d], 1);
    if (d >= offset && inShape[d - offset] != 1)
      idx += coord * inStrides[d - offset];
  }
  return idx;
}

/// Folds an elementwise op whose inputs are all known. `fn` returns nullopt
/// when an element cannot be folded (e.g. a comparison of symbols).
std::optional<Known>
foldElementwise(NodeContext &c, const Shape &outShape, bool outFloat,
                llvm::function_ref<std::optional<Scalar>(ArrayRef<Scalar>)> fn,
                unsigned numInputs = ~0u) {
  auto outDims = staticShape(outShape);
  if (!outDims)
    return std::nullopt;
  std::optional<int64_t> n = numElements(outShape);
  if (!n || *n > c.maxKnown)
    return std::nullopt;
  SmallVector<const Known *> ins;
  SmallVector<SmallVector<int64_t>> inDims;
  for (unsigned i = 0; i < std::min(numInputs, c.numInputs()); ++i) {
    if (!c.hasInput(i))
      continue;
    const Known *k = c.known(i);
    auto dims = staticShape(c.info(i).shape);
    if (!k || !dims)
      return std::nullopt;
    ins.push_back(k);
    inDims.push_back(*dims);
  }
  Known out;
  out.isFloat = outFloat;
  SmallVector<Scalar> args(ins.size());
  for (int64_t e = 0; e < *n; ++e) {
    for (size_t i = 0; i < ins.size(); ++i)
      args[i] = knownAt(*ins[i], broadcastIndex(e, *outDims, inDims[i]));
    std::optional<Scalar> r = fn(args);
    if (!r || r->isFloat != outFloat)
      return std::nullopt;
    if (outFloat)
      out.floats.push_back(r->f);
    else
      out.ints.push_back(c.imp.getSymbols().resolve(r->i));
  }
  return out;
}

/// Known contents that are a pure rearrangement of the input's (Reshape,
/// Squeeze, Identity...): same elements, new shape.
std::optional<Known> sameElements(NodeContext &c, unsigned input,
                                  const Shape &outShape) {
  const Known *k = c.known(input);
  if (!k || !staticShape(outShape))
    return std::nullopt;
  return *k;
}

/// Known integer vector of input `i` as constants, if every element is one.
std::optional<SmallVector<int64_t>> constInts(NodeContext &c, unsigned i) {
  if (!c.hasInput(i))
    return std::nullopt;
  const Known *k = c.known(i);
  if (!k || k->isFloat)
    return std::nullopt;
  SmallVector<int64_t> v;
  for (const SymExpr &e : k->ints) {
    std::optional<int64_t> ci = c.imp.getSymbols().resolve(e).getConstant();
    if (!ci)
      return std::nullopt;
    v.push_back(*ci);
  }
  return v;
}

std::optional<double> constScalar(NodeContext &c, unsigned i) {
  if (!c.hasInput(i))
    return std::nullopt;
  const Known *k = c.known(i);
  if (!k || k->size() != 1)
    return std::nullopt;
  return knownAt(*k, 0).asDouble();
}

Type i1(NodeContext &c) { return IntegerType::get(c.imp.getContext(), 1); }

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// True when some dimension of `shape` is the constant 0.
bool isEmptyShape(NodeContext &c, const Shape &shape) {
  return llvm::any_of(shape, [&](const SymExpr &d) {
    return c.imp.getSymbols().resolve(d).getConstant() ==
           std::optional<int64_t>(0);
  });
}

Value emptyTensor(NodeContext &c, const Shape &shape, Type elementType) {
  return tensor::EmptyOp::create(c.b(), c.loc, c.imp.mixedShape(shape),
                                 elementType);
}

/// An elementwise linalg.generic over `outShape`, broadcasting the inputs
/// (right-aligned; a static size-1 dimension broadcasts).
Value emitMap(NodeContext &c, const Shape &outShape, Type outType,
              ArrayRef<Value> inputs, BodyFn body) {
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = outShape.size();
  SmallVector<AffineMap> maps;
  for (Value in : inputs) {
    auto type = cast<RankedTensorType>(in.getType());
    unsigned r = type.getRank();
    SmallVector<AffineExpr> exprs;
    for (unsigned d = 0; d < r; ++d) {
      unsigned od = rank - r + d;
      bool bcast = type.getDimSize(d) == 1 && !isOne(outShape[od]);
      exprs.push_back(bcast ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(od, ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(c, outShape, outType);
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), inputs, ValueRange{init}, maps, its,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, body(nb, l, args.drop_back()));
             })
      .getResult(0);
}

Value floatConst(OpBuilder &b, Location loc, Type type, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
}

Value typedConst(OpBuilder &b, Location loc, Type type, double v) {
  if (isa<FloatType>(type))
    return floatConst(b, loc, type, v);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)v));
}

/// Converts a scalar between element types as ONNX Cast does.
Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (from == to)
    return v;
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
  if (fromFloat && toFloat) {
    if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    return arith::TruncFOp::create(b, loc, to, v);
  }
  if (to.isInteger(1)) {
    if (fromFloat)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   floatConst(b, loc, from, 0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 typedConst(b, loc, from, 0));
  }
  if (toFloat) {
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b, loc, to, v);
    return arith::SIToFPOp::create(b, loc, to, v);
  }
  if (fromFloat)
    return arith::FPToSIOp::create(b, loc, to, v);
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return from.isInteger(1) ? (Value)arith::ExtUIOp::create(b, loc, to, v)
                             : (Value)arith::ExtSIOp::create(b, loc, to, v);
  return arith::TruncIOp::create(b, loc, to, v);
}

/// Reshapes `v` to `shape` (same number of elements).
Value emitReshape(NodeContext &c, Value v, const Shape &shape) {
  return c.imp.reshape(c.loc, v, shape);
}

/// Reduces `x` over `axes` (sorted, unique) with `combine`, starting from
/// `initValue`; the result drops the reduced axes.
Value emitReduce(
    NodeContext &c, Value x, const Shape &xShape, ArrayRef<int64_t> axes,
    double initValue, Type accType,
    llvm::function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = xShape.size();
  // Loop order: kept dims first (parallel), then reduced dims.
  SmallVector<unsigned> order;
  Shape outShape;
  for (unsigned d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, (int64_t)d)) {
      order.push_back(d);
      outShape.push_back(xShape[d]);
    }
  unsigned kept = order.size();
  for (int64_t a : axes)
    order.push_back(a);
  SmallVector<AffineExpr> inExprs(rank);
  for (unsigned loop = 0; loop < rank; ++loop)
    inExprs[order[loop]] = getAffineDimExpr(loop, ctx);
  SmallVector<AffineExpr> outExprs;
  for (unsigned loop = 0; loop < kept; ++loop)
    outExprs.push_back(getAffineDimExpr(loop, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, inExprs, ctx),
                                 AffineMap::get(rank, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> its(kept, utils::IteratorType::parallel);
  its.append(rank - kept, utils::IteratorType::reduction);
  Value init = linalg::FillOp::create(
                   c.b(), c.loc,
                   ValueRange{typedConst(c.b(), c.loc, accType, initValue)},
                   ValueRange{emptyTensor(c, outShape, accType)})
                   .getResult(0);
  return linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), ValueRange{x}, ValueRange{init},
             maps, its,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value in = castScalar(nb, l, args[0], accType);
               linalg::YieldOp::create(nb, l, combine(nb, l, args[1], in));
             })
      .getResult(0);
}

/// `x` and a tensor reduced over the last axis of `x` (rank - 1), combined
/// elementwise: out[..., j] = fn(x[..., j], r[...]).
Value emitWithRow(NodeContext &c, Value x, const Shape &shape, Value row,
                  Type outType, BodyFn body) {
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = shape.size();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap rowMap = id.getMajorSubMap(rank - 1);
  Value init = emptyTensor(c, shape, outType);
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), ValueRange{x, row}, ValueRange{init},
             ArrayRef<AffineMap>{id, rowMap, id}, its,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, body(nb, l, args.drop_back()));
             })
      .getResult(0);
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

enum class Bin {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Max,
  Min,
  Mod,
  Eq,
  Lt,
  Le,
  Gt,
  Ge,
  And,
  Or,
  Xor
};

Bin binKind(llvm::StringRef op) {
  return llvm::StringSwitch<Bin>(op)
      .Case("Add", Bin::Add)
      .Case("Sub", Bin::Sub)
      .Case("Mul", Bin::Mul)
      .Case("Div", Bin::Div)
      .Case("Pow", Bin::Pow)
      .Case("Max", Bin::Max)
      .Case("Min", Bin::Min)
      .Case("Mod", Bin::Mod)
      .Case("Equal", Bin::Eq)
      .Case("Less", Bin::Lt)
      .Case("LessOrEqual", Bin::Le)
      .Case("Greater", Bin::Gt)
      .Case("GreaterOrEqual", Bin::Ge)
      .Case("And", Bin::And)
      .Case("Or", Bin::Or)
      .Default(Bin::Xor);
}

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

Value binaryScalar(OpBuilder &b, Location l, Bin k, Value x, Value y) {
  bool f = isa<FloatType>(x.getType());
  using FP = arith::CmpFPredicate;
  using IP = arith::CmpIPredicate;
  auto cmp = [&](FP fp, IP ip) -> Value {
    if (f)
      return arith::CmpFOp::create(b, l, fp, x, y);
    return arith::CmpIOp::create(b, l, ip, x, y);
  };
  switch (k) {
  case Bin::Add:
    return f ? (Value)arith::AddFOp::create(b, l, x, y)
             : arith::AddIOp::create(b, l, x, y);
  case Bin::Sub:
    return f ? (Value)arith::SubFOp::create(b, l, x, y)
             : arith::SubIOp::create(b, l, x, y);
  case Bin::Mul:
    return f ? (Value)arith::MulFOp::create(b, l, x, y)
             : arith::MulIOp::create(b, l, x, y);
  case Bin::Div:
    return f ? (Value)arith::DivFOp::create(b, l, x, y)
             : arith::DivSIOp::create(b, l, x, y);
  case Bin::Pow:
    return math::PowFOp::create(b, l, x, y);
  case Bin::Max:
    return f ? (Value)arith::MaximumFOp::create(b, l, x, y)
             : arith::MaxSIOp::create(b, l, x, y);
  case Bin::Min:
    return f ? (Value)arith::MinimumFOp::create(b, l, x, y)
             : arith::MinSIOp::create(b, l, x, y);
  case Bin::Mod:
    return f ? (Value)arith::RemFOp::create(b, l, x, y)
             : arith::RemSIOp::create(b, l, x, y);
  case Bin::Eq:
    return cmp(FP::OEQ, IP::eq);
  case Bin::Lt:
    return cmp(FP::OLT, IP::slt);
  case Bin::Le:
    return cmp(FP::OLE, IP::sle);
  case Bin::Gt:
    return cmp(FP::OGT, IP::sgt);
  case Bin::Ge:
    return cmp(FP::OGE, IP::sge);
  case Bin::And:
    return arith::AndIOp::create(b, l, x, y);
  case Bin::Or:
    return arith::OrIOp::create(b, l, x, y);
  case Bin::Xor:
    return arith::XOrIOp::create(b, l, x, y);
  }
  return {};
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

//===----------------------------------------------------------------------===//
// Reshape-like ops
//===----------------------------------------------------------------------===//

/// Axes of Squeeze/Unsqueeze/Reduce*: the attribute before `inputOpset`, the
/// second input from it on.
std::optional<SmallVector<int64_t>> axesOf(NodeContext &c, int64_t inputOpset,
                                           unsigned inputIndex = 1) {
  if (c.opset >= inputOpset)
    return constInts(c, inputIndex);
  return c.getInts("axes");
}

LogicalResult inferReshape(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const Known *target = c.known(1);
  if (!target)
    return c.error("needs a target shape known at import time");
  bool allowZero = c.getInt("allowzero", 0);
  SizeSymbols &syms = c.imp.getSymbols();
  Shape out;
  int inferred = -1;
  for (size_t i = 0; i < target->ints.size(); ++i) {
    SymExpr d = syms.resolve(target->ints[i]);
    std::optional<int64_t> cd = d.getConstant();
    if (cd == std::optional<int64_t>(0) && !allowZero) {
      if (i >= in.shape.size())
        return c.error("copies dimension " + llvm::Twine(i) +
                       " that the input does not have");
      out.push_back(in.shape[i]);
    } else if (cd == std::optional<int64_t>(-1)) {
      if (inferred >= 0)
        return c.error("has two -1 dimensions");
      inferred = i;
      out.push_back(SymExpr(1));
    } else {
      if (cd && *cd < 0)
        return c.error("has a negative size " + llvm::Twine(*cd));
      out.push_back(d);
    }
  }
  SymExpr total(1);
  for (const SymExpr &d : in.shape)
    total = total * syms.resolve(d);
  if (inferred >= 0) {
    SymExpr rest(1);
    for (size_t i = 0; i < out.size(); ++i)
      if ((int)i != inferred)
        rest = rest * out[i];
    std::optional<SymExpr> q = total.divideExactly(rest);
    if (!q)
      return c.error("cannot infer the -1 dimension: " + syms.str(total) +
                     " elements into " + syms.str(rest));
    out[inferred] = *q;
  }
  c.setOutput(0, {in.elementType, out}, sameElements(c, 0, out));
  return success();
}

LogicalResult emitReshapeLike(NodeContext &c) {
  c.setResult(0, emitReshape(c, c.operand(0), c.out(0).info.shape));
  return success();
}

LogicalResult inferUnsqueeze(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  std::optional<SmallVector<int64_t>> axes = axesOf(c, 13);
  if (!axes)
    return c.error("needs axes known at import time");
  int64_t r = in.rank() + axes->size();
  SmallVector<int64_t> norm;
  for (int64_t a : *axes) {
    FailureOr<int64_t> n = checkedAxis(c, a, r);
    if (failed(n))
      return failure();
    norm.push_back(*n);
  }
  llvm::sort(norm);
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < r; ++i) {
    if (llvm::is_contained(norm, i))
      out.push_back(SymExpr(1));
    else if (next < in.shape.size())
      out.push_back(in.shape[next++]);
    else
      return c.error("axis out of range");
  }
  c.setOutput(0, {in.elementType, out}, sameElements(c, 0, out));
  return success();
}

LogicalResult inferSqueeze(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  std::optional<SmallVector<int64_t>> axes = axesOf(c, 13);
  if (axes)
    for (int64_t a : *axes)
      if (failed(checkedAxis(c, a, in.rank())))
        return failure();
  Shape out;
  for (int64_t i = 0; i < in.rank(); ++i) {
    bool drop = axes ? llvm::any_of(*axes,
                                    [&](int64_t a) {
                                      return normAxis(a, in.rank()) == i;
                                    })
                     : isOne(in.shape[i]);
    if (drop && !isOne(c.imp.getSymbols().resolve(in.shape[i])) &&
        in.shape[i].isConstant())
      return c.error("squeezes axis " + llvm::Twine(i) + " of size " +
                     c.imp.getSymbols().str(in.shape[i]));
    if (!drop)
      out.push_back(in.shape[i]);
  }
  c.setOutput(0, {in.elementType, out}, sameElements(c, 0, out));
  return success();
}

LogicalResult inferFlatten(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  FailureOr<int64_t> checked =
      checkedAxis(c, c.getInt("axis", 1), in.rank(), in.rank() + 1);
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  SymExpr a(1), b(1);
  for (int64_t i = 0; i < in.rank(); ++i)
    (i < axis ? a : b) = (i < axis ? a : b) * in.shape[i];
  Shape out = {a, b};
  c.setOutput(0, {in.elementType, out}, sameElements(c, 0, out));
  return success();
}

LogicalResult inferTranspose(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  SmallVector<int64_t> perm;
  if (auto p = c.getInts("perm"))
    perm = *p;
  else
    for (int64_t i = in.rank() - 1; i >= 0; --i)
      perm.push_back(i);
  if ((int64_t)perm.size() != in.rank())
    return c.error("has a perm of the wrong length");
  SmallVector<int64_t> sorted = perm;
  llvm::sort(sorted);
  for (int64_t i = 0; i < in.rank(); ++i)
    if (sorted[i] != i)
      return c.error("has a perm that is not a permutation");
  Shape out;
  for (int64_t p : perm)
    out.push_back(in.shape[p]);
  std::optional<Known> known;
  if (const Known *k = c.known(0)) {
    auto dims = staticShape(in.shape);
    auto odims = staticShape(out);
    if (dims && odims) {
      Known t;
      t.isFloat = k->isFloat;
      SmallVector<int64_t> inStrides = rowMajorStrides(*dims);
      SmallVector<int64_t> outStrides = rowMajorStrides(*odims);
      int64_t n = numElements(out).value_or(0);
      for (int64_t e = 0; e < n; ++e) {
        int64_t src = 0;
        for (size_t d = 0; d < perm.size(); ++d)
          src += ((e / outStrides[d]) % (*odims)[d]) * inStrides[perm[d]];
        appendElement(t, *k, src);
      }
      known = std::move(t);
    }
  }
  c.setOutput(0, {in.elementType, out}, std::move(known));
  return success();
}

SmallVector<int64_t> transposePerm(NodeContext &c) {
  if (auto p = c.getInts("perm"))
    return *p;
  SmallVector<int64_t> perm;
  for (int64_t i = c.info(0).rank() - 1; i >= 0; --i)
    perm.push_back(i);
  return perm;
}

LogicalResult emitTranspose(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  Value init = emptyTensor(c, out.shape, out.elementType);
  c.setResult(0, linalg::TransposeOp::create(c.b(), c.loc, c.operand(0), init,
                                             transposePerm(c))
                     ->getResult(0));
  return success();
}

LogicalResult inferExpand(NodeContext &c) {
  const Known *shapeK = c.known(1);
  if (!shapeK)
    return c.error("needs a target shape known at import time");
  Shape target(shapeK->ints.begin(), shapeK->ints.end());
  for (const SymExpr &d : target)
    if (d.getConstant().value_or(0) < 0)
      return c.error("has a negative size in its shape");
  FailureOr<Shape> out = broadcastShapes(c, {c.info(0).shape, target});
  if (failed(out))
    return failure();
  std::optional<Known> known;
  if (c.known(0)) {
    // Fold over the data input only.
    known = foldElementwise(
        c, *out, c.info(0).isFloat(),
        [](ArrayRef<Scalar> a) { return std::optional<Scalar>(a[0]); },
        /*numInputs=*/1);
  }
  c.setOutput(0, {c.info(0).elementType, *out}, std::move(known));
  return success();
}

LogicalResult emitExpand(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  c.setResult(
      0, emitMap(c, out.shape, out.elementType, {c.operand(0)},
                 [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
  return success();
}

LogicalResult inferConcat(NodeContext &c) {
  const TensorInfo &first = c.info(0);
  FailureOr<int64_t> checked =
      checkedAxis(c, c.getInt("axis", 0), first.rank());
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  Shape out = first.shape;
  SymExpr total(0);
  bool allKnown = true;
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    const TensorInfo &in = c.info(i);
    if (in.rank() != first.rank())
      return c.error("concatenates tensors of different ranks");
    total = total + in.shape[axis];
    for (int64_t d = 0; d < in.rank(); ++d)
      if (d != axis && !c.imp.getSymbols().require(out[d], in.shape[d]))
        return c.error("concatenates mismatched sizes");
    allKnown &= c.known(i) != nullptr;
  }
  out[axis] = c.imp.getSymbols().resolve(total);
  std::optional<Known> known;
  auto outDims = staticShape(out);
  if (allKnown && outDims &&
      numElements(out).value_or(c.maxKnown + 1) <= c.maxKnown) {
    // Row-major: for each index before the axis, the inputs' blocks in turn.
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= (*outDims)[d];
    Known k;
    k.isFloat = first.isFloat();
    for (int64_t o = 0; o < outer; ++o)
      for (unsigned i = 0; i < c.numInputs(); ++i) {
        const Known *ki = c.known(i);
        int64_t block = ki->size() / std::max<int64_t>(outer, 1);
        for (int64_t e = o * block; e < (o + 1) * block; ++e) {
          appendElement(k, *ki, e);
        }
      }
    known = std::move(k);
  }
  c.setOutput(0, {first.elementType, out}, std::move(known));
  return success();
}

LogicalResult emitConcat(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  int64_t axis = normAxis(c.getInt("axis", 0), out.rank());
  Value acc = emptyTensor(c, out.shape, out.elementType);
  SymExpr offset(0);
  for (unsigned i = 0; i < c.numInputs(); ++i) {
    const TensorInfo &in = c.info(i);
    if (isEmptyShape(c, in.shape))
      continue;
    SmallVector<OpFoldResult> offsets(out.rank(), c.b().getIndexAttr(0));
    offsets[axis] = c.imp.mixedShape({offset})[0];
    SmallVector<OpFoldResult> strides(out.rank(), c.b().getIndexAttr(1));
    acc =
        tensor::InsertSliceOp::create(c.b(), c.loc, c.operand(i), acc, offsets,
                                      c.imp.mixedShape(in.shape), strides);
    offset = offset + in.shape[axis];
  }
  c.setResult(0, acc);
  return success();
}

/// Start, size and step of one sliced axis of size `dim`.
struct SliceAxis {
  SymExpr start, size;
  int64_t step = 1;
};

std::optional<SliceAxis> sliceAxis(SizeSymbols &syms, SymExpr dim,
                                   SymExpr start, SymExpr end, int64_t step) {
  constexpr int64_t kHuge = (int64_t)1 << 60;
  dim = syms.resolve(dim);
  auto clampIndex = [&](SymExpr v, bool isEnd) -> std::optional<SymExpr> {
    v = syms.resolve(v);
    std::optional<int64_t> cv = v.getConstant(), cd = dim.getConstant();
    if (cv) {
      if (*cv >= kHuge)
        return step > 0 ? dim : dim - SymExpr(1);
      if (*cv <= -kHuge)
        return step > 0 ? SymExpr(0) : SymExpr(-1);
      // A negative index below -1 on a symbolic axis ("the last k") clamps
      // at run time when the axis is shorter than k: dim + v becomes
      // max(dim - k, 0) = dim - min(dim, k), a derived size. Backwards
      // slices are not modeled, so they are refused rather than assumed
      // long enough.
      if (*cv < -1 && !cd) {
        if (step < 0)
          return std::nullopt;
        return dim - syms.minOf(dim, SymExpr(-*cv));
      }
      if (*cv < 0)
        v = dim + v;
      if (cd) {
        int64_t x = *v.getConstant();
        int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? *cd : *cd - 1;
        if (isEnd && step > 0)
          hi = *cd;
        return SymExpr(std::clamp(x, lo, hi));
      }
      return v;
    }
    return v; // symbolic: assumed in range
  };
  std::optional<SymExpr> s = clampIndex(start, false),
                         e = clampIndex(end, true);
  if (!s || !e)
    return std::nullopt;
  SymExpr span = step > 0 ? *e - *s : *s - *e;
  int64_t absStep = step > 0 ? step : -step;
  SymExpr size;
  if (auto cs = span.getConstant())
    size = SymExpr(std::max<int64_t>((*cs + absStep - 1) / absStep, 0));
  else if (absStep == 1)
    size = span;
  else
    return std::nullopt;
  return SliceAxis{*s, size, step};
}

LogicalResult inferSlice(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const Known *starts = c.known(1), *ends = c.known(2);
  if (!starts || !ends)
    return c.error("needs starts and ends known at import time");
  SmallVector<int64_t> axes, steps;
  if (c.hasInput(3)) {
    auto a = constInts(c, 3);
    if (!a)
      return c.error("needs constant axes");
    axes = *a;
  } else {
    for (size_t i = 0; i < starts->ints.size(); ++i)
      axes.push_back(i);
  }
  if (c.hasInput(4)) {
    auto s = constInts(c, 4);
    if (!s)
      return c.error("needs constant steps");
    steps = *s;
  } else {
    steps.assign(axes.size(), 1);
  }
  Shape out = in.shape;
  SmallVector<SliceAxis> sliced(in.rank());
  for (int64_t d = 0; d < in.rank(); ++d)
    sliced[d] = {SymExpr(0), in.shape[d], 1};
  if (starts->size() != axes.size() || ends->size() != axes.size() ||
      steps.size() != axes.size())
    return c.error("has starts, ends, axes and steps of different lengths");
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> checked = checkedAxis(c, axes[i], in.rank());
    if (failed(checked))
      return failure();
    int64_t axis = *checked;
    if (steps[i] == 0)
      return c.error("has a zero step");
    std::optional<SliceAxis> s =
        sliceAxis(c.imp.getSymbols(), in.shape[axis], starts->ints[i],
                  ends->ints[i], steps[i]);
    if (!s)
      return c.error("cannot size the slice of axis " + llvm::Twine(axis) +
                     " (size " + c.imp.getSymbols().str(in.shape[axis]) +
                     "): only forward slices of a symbolic axis, or "
                     "backward slices with known bounds, are supported");
    sliced[axis] = *s;
    out[axis] = s->size;
  }
  std::optional<Known> known;
  if (const Known *k = c.known(0); k && in.rank() == 1) {
    auto n = out[0].getConstant();
    auto s0 = sliced[0].start.getConstant();
    if (n && s0) {
      Known r;
      r.isFloat = k->isFloat;
      for (int64_t i = 0; i < *n; ++i) {
        int64_t src = *s0 + i * sliced[0].step;
        if (src < 0 || src >= (int64_t)k->size())
          return c.outOfRange("slices out of range");
        appendElement(r, *k, src);
      }
      known = std::move(r);
    }
  }
  c.setOutput(0, {in.elementType, out}, std::move(known));
  return success();
}

LogicalResult emitSlice(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const TensorInfo &out = c.out(0).info;
  // An empty slice (Phi-3's x[..., rotary_dim:] with a full rotary_dim) may
  // start at the end of the axis, where extract_slice does not reach.
  if (isEmptyShape(c, out.shape)) {
    c.setResult(0, emptyTensor(c, out.shape, out.elementType));
    return success();
  }
  const Known *starts = c.known(1), *ends = c.known(2);
  SmallVector<int64_t> axes, steps;
  for (size_t i = 0; i < starts->ints.size(); ++i)
    axes.push_back(i);
  if (c.hasInput(3))
    axes = *constInts(c, 3);
  steps.assign(axes.size(), 1);
  if (c.hasInput(4))
    steps = *constInts(c, 4);
  SmallVector<OpFoldResult> offsets(in.rank(), c.b().getIndexAttr(0));
  SmallVector<OpFoldResult> strides(in.rank(), c.b().getIndexAttr(1));
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = normAxis(axes[i], in.rank());
    if (steps[i] < 0)
      return c.error("negative steps are not supported");
    std::optional<SliceAxis> s =
        sliceAxis(c.imp.getSymbols(), in.shape[axis], starts->ints[i],
                  ends->ints[i], steps[i]);
    offsets[axis] = c.imp.mixedShape({s->start})[0];
    strides[axis] = c.b().getIndexAttr(steps[i]);
  }
  c.setResult(
      0, tensor::ExtractSliceOp::create(c.b(), c.loc, c.operand(0), offsets,
                                        c.imp.mixedShape(out.shape), strides));
  return success();
}

LogicalResult inferSplit(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  FailureOr<int64_t> checked = checkedAxis(c, c.getInt("axis", 0), in.rank());
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  SmallVector<int64_t> sizes;
  if (c.hasInput(1)) {
    auto s = constInts(c, 1);
    if (!s)
      return c.error("needs constant split sizes");
    sizes = *s;
  } else if (auto s = c.getInts("split")) {
    sizes = *s;
  }
  Shape base = in.shape;
  if (sizes.empty()) {
    auto dim = c.imp.getSymbols().resolve(in.shape[axis]).getConstant();
    int64_t n = c.numOutputs();
    if (!dim || *dim % n != 0)
      return c.error("cannot split axis " + llvm::Twine(axis) + " evenly");
    sizes.assign(n, *dim / n);
  }
  if (sizes.size() != c.numOutputs() ||
      llvm::any_of(sizes, [](int64_t v) { return v < 0; }))
    return c.error("has split sizes that do not match its outputs");
  for (unsigned i = 0; i < c.numOutputs(); ++i) {
    Shape s = base;
    s[axis] = SymExpr(sizes[i]);
    c.setOutput(i, {in.elementType, s});
  }
  return success();
}

LogicalResult emitSplit(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  int64_t axis = normAxis(c.getInt("axis", 0), in.rank());
  Value src = c.operand(0);
  int64_t offset = 0;
  for (unsigned i = 0; i < c.numOutputs(); ++i) {
    const TensorInfo &out = c.out(i).info;
    SmallVector<OpFoldResult> offsets(in.rank(), c.b().getIndexAttr(0));
    offsets[axis] = c.b().getIndexAttr(offset);
    SmallVector<OpFoldResult> strides(in.rank(), c.b().getIndexAttr(1));
    c.setResult(i, tensor::ExtractSliceOp::create(c.b(), c.loc, src, offsets,
                                                  c.imp.mixedShape(out.shape),
                                                  strides));
    offset += *out.shape[axis].getConstant();
  }
  return success();
}

LogicalResult inferGather(NodeContext &c) {
  const TensorInfo &data = c.info(0), &idx = c.info(1);
  FailureOr<int64_t> checked = checkedAxis(c, c.getInt("axis", 0), data.rank());
  if (failed(checked))
    return failure();
  int64_t axis = *checked;
  Shape out(data.shape.begin(), data.shape.begin() + axis);
  out.append(idx.shape.begin(), idx.shape.end());
  out.append(data.shape.begin() + axis + 1, data.shape.end());
  std::optional<Known> known;
  const Known *dk = c.known(0);
  auto ids = constInts(c, 1);
  auto dataDims = staticShape(data.shape);
  if (dk && ids && dataDims &&
      numElements(out).value_or(c.maxKnown + 1) <= c.maxKnown) {
    // out[pre, i, post] = data[pre, ids[i], post]
    int64_t pre = 1, post = 1, dim = (*dataDims)[axis];
    for (int64_t d = 0; d < axis; ++d)
      pre *= (*dataDims)[d];
    for (int64_t d = axis + 1; d < data.rank(); ++d)
      post *= (*dataDims)[d];
    Known k;
    k.isFloat = dk->isFloat;
    for (int64_t p = 0; p < pre; ++p)
      for (int64_t id : *ids) {
        int64_t j = id < 0 ? id + dim : id;
        if (j < 0 || j >= dim)
          return c.outOfRange("gathers index " + llvm::Twine(id) +
                              " of a size-" +
                         llvm::Twine(dim) + " axis");
        for (int64_t q = 0; q < post; ++q) {
          int64_t src = (p * dim + j) * post + q;
          appendElement(k, *dk, src);
        }
      }
    known = std::move(k);
  }
  c.setOutput(0, {data.elementType, out}, std::move(known));
  return success();
}

LogicalResult emitGather(NodeContext &c) {
  const TensorInfo &data = c.info(0), &idx = c.info(1);
  const TensorInfo &out = c.out(0).info;
  int64_t axis = normAxis(c.getInt("axis", 0), data.rank());
  Value dataV = c.operand(0), idxV = c.operand(1);
  Value dim = c.imp.indexValue(data.shape[axis]);
  Value init = emptyTensor(c, out.shape, out.elementType);
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = out.rank(), q = idx.rank();
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  c.setResult(
      0,
      linalg::GenericOp::create(
          c.b(), c.loc, init.getType(), ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)},
          its,
          [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> iv;
            for (unsigned d = 0; d < rank; ++d)
              iv.push_back(linalg::IndexOp::create(b, l, d));
            SmallVector<Value> idxPos(iv.begin() + axis, iv.begin() + axis + q);
            Value id = tensor::ExtractOp::create(b, l, idxV, idxPos);
            Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), id);
            Value zero = arith::ConstantIndexOp::create(b, l, 0);
            Value neg =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
            i = arith::SelectOp::create(b, l, neg,
                                        arith::AddIOp::create(b, l, i, dim), i);
            SmallVector<Value> pos(iv.begin(), iv.begin() + axis);
            pos.push_back(i);
            pos.append(iv.begin() + axis + q, iv.end());
            linalg::YieldOp::create(
                b, l, tensor::ExtractOp::create(b, l, dataV, pos).getResult());
          })
          .getResult(0));
  return success();
}

LogicalResult inferGatherND(NodeContext &c) {
  const TensorInfo &data = c.info(0), &idx = c.info(1);
  int64_t batchDims = c.getInt("batch_dims", 0);
  if (idx.rank() < 1 || batchDims != 0)
    return c.error("with batch_dims or scalar indices is not supported");
  auto last = idx.shape.back().getConstant();
  if (!last || *last < 1 || *last > data.rank())
    return c.error("needs a static last index dimension within the data rank");
  Shape out(idx.shape.begin(), idx.shape.end() - 1);
  out.append(data.shape.begin() + batchDims + *last, data.shape.end());
  std::optional<Known> known;
  auto dims = staticShape(data.shape);
  auto ids = constInts(c, 1);
  const Known *dk = c.known(0);
  if (batchDims == 0 && dk && ids && dims &&
      numElements(out).value_or(c.maxKnown + 1) <= c.maxKnown) {
    SmallVector<int64_t> strides = rowMajorStrides(*dims);
    int64_t slice = 1;
    for (size_t d = *last; d < dims->size(); ++d)
      slice *= (*dims)[d];
    Known k;
    k.isFloat = dk->isFloat;
    for (size_t t = 0; t + *last <= ids->size(); t += *last) {
      int64_t base = 0;
      for (int64_t d = 0; d < *last; ++d) {
        int64_t v = (*ids)[t + d];
        if (v < 0)
          v += (*dims)[d];
        if (v < 0 || v >= (*dims)[d])
          return c.outOfRange("gathers index " + llvm::Twine((*ids)[t + d]) +
                         " of a size-" + llvm::Twine((*dims)[d]) + " axis");
        base += v * strides[d];
      }
      for (int64_t e = 0; e < slice; ++e) {
        appendElement(k, *dk, base + e);
      }
    }
    known = std::move(k);
  }
  c.setOutput(0, {data.elementType, out}, std::move(known));
  return success();
}

/// GatherND (batch_dims 0) at run time: out[i..., rest...] =
/// data[idx[i..., 0], ..., idx[i..., last-1], rest...], negative indices
/// counted from the end.
LogicalResult emitGatherND(NodeContext &c) {
  const TensorInfo &data = c.info(0), &idx = c.info(1);
  const TensorInfo &out = c.out(0).info;
  int64_t last = *idx.shape.back().getConstant();
  Value dataV = c.operand(0), idxV = c.operand(1);
  SmallVector<Value> dims;
  for (int64_t d = 0; d < last; ++d)
    dims.push_back(c.imp.indexValue(data.shape[d]));
  Value init = emptyTensor(c, out.shape, out.elementType);
  MLIRContext *ctx = c.imp.getContext();
  unsigned rank = out.rank(), q = idx.rank();
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  c.setResult(
      0,
      linalg::GenericOp::create(
          c.b(), c.loc, init.getType(), ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)},
          its,
          [&](OpBuilder &b, Location l, ValueRange) {
            SmallVector<Value> iv;
            for (unsigned d = 0; d < rank; ++d)
              iv.push_back(linalg::IndexOp::create(b, l, d));
            SmallVector<Value> pos;
            Value zero = arith::ConstantIndexOp::create(b, l, 0);
            for (int64_t t = 0; t < last; ++t) {
              SmallVector<Value> at(iv.begin(), iv.begin() + (q - 1));
              at.push_back(arith::ConstantIndexOp::create(b, l, t));
              Value id = tensor::ExtractOp::create(b, l, idxV, at);
              Value i =
                  arith::IndexCastOp::create(b, l, b.getIndexType(), id);
              Value neg = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, i, zero);
              pos.push_back(arith::SelectOp::create(
                  b, l, neg, arith::AddIOp::create(b, l, i, dims[t]), i));
            }
            pos.append(iv.begin() + (q - 1), iv.end());
            linalg::YieldOp::create(
                b, l, tensor::ExtractOp::create(b, l, dataV, pos).getResult());
          })
          .getResult(0));
  return success();
}

/// Tile: out[d] = in[d] * repeats[d] (repeats known at import time).
LogicalResult inferTile(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const Known *reps = c.known(1);
  if (!reps || reps->isFloat || (int64_t)reps->size() != in.rank())
    return c.error("needs repeats known at import time, one per axis of its "
                   "rank-" +
                   llvm::Twine(in.rank()) + " input");
  Shape out;
  for (int64_t d = 0; d < in.rank(); ++d) {
    std::optional<int64_t> r = reps->ints[d].getConstant();
    if (r && *r < 0)
      return c.error("has a negative repeat (" + llvm::Twine(*r) + ")");
    out.push_back(c.imp.getSymbols().resolve(in.shape[d] * reps->ints[d]));
  }
  std::optional<Known> known;
  auto inDims = staticShape(in.shape);
  auto outDims = staticShape(out);
  if (const Known *k = c.known(0); k && inDims && outDims &&
      numElements(out).value_or(c.maxKnown + 1) <= c.maxKnown) {
    SmallVector<int64_t> inStrides = rowMajorStrides(*inDims);
    SmallVector<int64_t> outStrides = rowMajorStrides(*outDims);
    Known r;
    r.isFloat = k->isFloat;
    int64_t n = numElements(out).value_or(0);
    for (int64_t e = 0; e < n; ++e) {
      int64_t src = 0;
      for (size_t d = 0; d < outDims->size(); ++d)
        src += ((e / outStrides[d]) % (*outDims)[d] % (*inDims)[d]) *
               inStrides[d];
      appendElement(r, *k, src);
    }
    known = std::move(r);
  }
  c.setOutput(0, {in.elementType, out}, std::move(known));
  return success();
}

LogicalResult emitTile(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  const TensorInfo &out = c.out(0).info;
  Value inV = c.operand(0);
  SmallVector<Value> dims;
  for (const SymExpr &d : in.shape)
    dims.push_back(c.imp.indexValue(d));
  Value init = emptyTensor(c, out.shape, out.elementType);
  unsigned rank = out.rank();
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  c.setResult(
      0, linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), ValueRange{}, ValueRange{init},
             ArrayRef<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(rank, c.imp.getContext())},
             its,
             [&](OpBuilder &b, Location l, ValueRange) {
               SmallVector<Value> pos;
               for (unsigned d = 0; d < rank; ++d)
                 pos.push_back(arith::RemUIOp::create(
                     b, l, linalg::IndexOp::create(b, l, d), dims[d]));
               linalg::YieldOp::create(
                   b, l, tensor::ExtractOp::create(b, l, inV, pos).getResult());
             })
             .getResult(0));
  return success();
}

LogicalResult inferTrilu(NodeContext &c) {
  const TensorInfo &in = c.info(0);
  if (in.rank() < 2)
    return c.error("expects a rank >= 2 input");
  std::optional<Known> known;
  auto dims = staticShape(in.shape);
  std::optional<double> kk = c.hasInput(1) ? constScalar(c, 1) : 0.0;
  if (const Known *k = c.known(0); k && dims && kk) {
    bool upper = c.getInt("upper", 1);
    int64_t rows = (*dims)[in.rank() - 2], cols = (*dims)[in.rank() - 1];
    Known r = *k;
    for (size_t e = 0; e < r.size(); ++e) {
      int64_t i = (e / cols) % rows, j = e % cols;
      bool keep = upper ? j - i >= (int64_t)*kk : j - i <= (int64_t)*kk;
      if (!keep) {
        if (r.isFloat)
          r.floats[e] = 0;
        else
          r.ints[e] = SymExpr(0);
      }
    }
    known = std::move(r);
  }
  c.setOutput(0, in, std::move(known));
  return success();
}

LogicalResult emitTrilu(NodeContext &c) {
  const TensorInfo &out = c.out(0).info;
  std::optional<double> kk = c.hasInput(1) ? constScalar(c, 1) : 0.0;
  if (!kk)
    return c.error("needs a constant k");
  bool upper = c.getInt("upper", 1);
  int64_t k = *kk;
  unsigned rank = out.rank();
  Type t = out.elementType;
  c.setResult(0, emitMap(c, out.shape, t, {c.operand(0)},
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value i = linalg::IndexOp::create(b, l, rank - 2);
                           Value j = linalg::IndexOp::create(b, l, rank - 1);
                           Value diff = arith::SubIOp::create(b, l, j, i);
                           Value kv = arith::ConstantIndexOp::create(b, l, k);
                           Value keep = arith::CmpIOp::create(
                               b, l,
                               upper ? arith::CmpIPredicate::sge
                                     : arith::CmpIPredicate::sle,
                               diff, kv);
                           return arith::SelectOp::create(
                               b, l, keep, a[0], typedConst(b, l, t, 0));
                         }));
  return success();
}

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
  Value r = emitReduce(c, c.operand(0), in.shape, axes, init, t,
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
    Value s = emitReduce(c, x, in.shape, last, 0.0, acc, sum);
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
      emitReduce(c, centered, in.shape, last, 0.0, acc,
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
  Value mx =
      emitReduce(c, x, in.shape, last, -std::numeric_limits<double>::infinity(),
                 t, [](OpBuilder &b, Location l, Value a, Value v) -> Value {
                   return arith::MaximumFOp::create(b, l, a, v);
                 });
  Value e = emitWithRow(c, x, in.shape, mx, t,
                        [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          return math::ExpOp::create(
                              b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                        });
  Value s = emitReduce(c, e, in.shape, last, 0.0, t,
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
  c.setResult(0, emitContraction(c, c.operand(0), c.operand(1), out.shape,
                                 false, false, out.elementType));
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

//===----------------------------------------------------------------------===//
// RotaryEmbedding (opset 23)
//===----------------------------------------------------------------------===//
} // namespace
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

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

struct Entry {
  const char *domain;
  const char *opType;
  OpHandler handler;
};

/// Inputs an op needs at least (handlers read them unchecked); default 1.
unsigned requiredInputs(llvm::StringRef op) {
  return llvm::StringSwitch<unsigned>(op)
      .Cases({"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less"}, 2)
      .Cases({"LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"},
             2)
      .Cases({"Reshape", "Expand", "Gather", "GatherND", "MatMul", "Gemm",
              "Tile"},
             2)
      .Cases({"LayerNormalization", "SimplifiedLayerNormalization"}, 2)
      .Cases({"RMSNormalization"}, 2)
      .Cases({"Where", "Range", "Slice", "RotaryEmbedding"}, 3)
      .Case("MultiHeadAttention", 3)
      .Cases({"SkipSimplifiedLayerNormalization", "SkipLayerNormalization"}, 3)
      .Case("Attention", 3)
      .Case("Constant", 0)
      .Default(1);
}

const Entry kOps[] = {
    // Elementwise.
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
    // Constants and shapes.
    {"", "Constant", {inferConstant, emitFromKnownOrInitializer}},
    {"", "Identity", {inferIdentity, emitIdentity}},
    {"", "Dropout", {inferIdentity, emitIdentity}},
    {"", "Shape", {inferShape, emitFromKnownOrInitializer}},
    {"", "Size", {inferSize, emitFromKnownOrInitializer}},
    {"", "ConstantOfShape", {inferConstantOfShape, emitConstantOfShape}},
    {"", "Range", {inferRange, emitRange}},
    {"", "Reshape", {inferReshape, emitReshapeLike}},
    {"", "Unsqueeze", {inferUnsqueeze, emitReshapeLike}},
    {"", "Squeeze", {inferSqueeze, emitReshapeLike}},
    {"", "Flatten", {inferFlatten, emitReshapeLike}},
    {"", "Transpose", {inferTranspose, emitTranspose}},
    {"", "Expand", {inferExpand, emitExpand}},
    {"", "Concat", {inferConcat, emitConcat}},
    {"", "Slice", {inferSlice, emitSlice}},
    {"", "Split", {inferSplit, emitSplit}},
    {"", "Gather", {inferGather, emitGather}},
    {"", "GatherND", {inferGatherND, emitGatherND}},
    {"", "Tile", {inferTile, emitTile}},
    {"", "Trilu", {inferTrilu, emitTrilu}},
    // Reductions and normalizations.
    {"", "ReduceMean", {inferReduce, emitReduce}},
    {"", "ReduceSum", {inferReduce, emitReduce}},
    {"", "ReduceSumSquare", {inferReduce, emitReduce}},
    {"", "ReduceMax", {inferReduce, emitReduce}},
    {"", "ReduceMin", {inferReduce, emitReduce}},
    {"", "Softmax", {inferSoftmax, emitSoftmax}},
    {"", "LayerNormalization", {inferNorm, emitLayerNorm}},
    {"", "SimplifiedLayerNormalization", {inferNorm, emitRmsNorm}},
    {"com.microsoft", "SimplifiedLayerNormalization", {inferNorm, emitRmsNorm}},
    {"", "RMSNormalization", {inferNorm, emitRmsNorm}},
    {"", "RotaryEmbedding", {inferRotary, emitRotary}},
    {"com.microsoft",
     "RotaryEmbedding",
     {inferContribRotary, emitContribRotary}},
    {"com.microsoft",
     "SkipSimplifiedLayerNormalization",
     {inferSkipNorm, emitSkipRmsNorm}},
    {"com.microsoft",
     "SkipLayerNormalization",
     {inferSkipNorm, emitSkipLayerNorm}},
    // Contractions.
    {"", "MatMul", {inferMatMul, emitMatMul}},
    {"", "Gemm", {inferGemm, emitGemm}},
};
} // namespace

const OpHandler *mlir::swaa::import::lookupOp(llvm::StringRef domain,
                                              llvm::StringRef opType) {
  if (domain == "ai.onnx")
    domain = "";
  for (const Entry &e : kOps)
    if (domain == e.domain && opType == e.opType)
      return &e.handler;
  return nullptr;
}

unsigned mlir::swaa::import::minInputs(llvm::StringRef opType) {
  return requiredInputs(opType);
}

std::string mlir::swaa::import::supportedOpsText() {
  std::string text;
  for (const Entry &e : kOps)
    text +=
        std::string(*e.domain ? e.domain : "ai.onnx") + " " + e.opType + "\n";
  text +=
      "ai.onnx Attention (opset 23-25, 4-D inputs; becomes attn.attention)\n"
      "com.microsoft GroupQueryAttention (becomes attn.attention)\n"
      "com.microsoft MultiHeadAttention (3-D query, 3-D or 4-D key/value; "
      "becomes attn.attention)\n";
  return text;
}
