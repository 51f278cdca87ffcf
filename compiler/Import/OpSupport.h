//===- OpSupport.h - what the op families share ------------------*- C++
//-*-===//
//
// Internal to compiler/Import. The helpers of the op handlers: axes and
// static shapes, broadcasting, known contents (folding shape subgraphs),
// and the emission of elementwise maps, reshapes and reductions. Each op
// family (ElementwiseOps.cpp, ConstantOps.cpp, ShapeOps.cpp,
// ReductionOps.cpp, MatMulOps.cpp, RotaryOps.cpp, AttentionOps.cpp) uses
// them; the op table (Ops.cpp) collects the families.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_OPSUPPORT_H
#define SWAA_COMPILER_IMPORT_OPSUPPORT_H

#include "compiler/Import/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir::swaa::import {

using Shape = SmallVector<SymExpr>;
using Shape = SmallVector<SymExpr>;

//===----------------------------------------------------------------------===//
// Shape and known-contents helpers
//===----------------------------------------------------------------------===//

inline int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// A node's axis normalized for `rank`; fails, naming it, when out of range.
/// Inference checks every axis this way, so emission may use normAxis.
inline FailureOr<int64_t> checkedAxis(NodeContext &c, int64_t axis,
                                      int64_t rank, int64_t limit = -1) {
  int64_t a = normAxis(axis, rank);
  if (limit < 0)
    limit = rank;
  if (a < 0 || a >= limit)
    return c.error("axis " + llvm::Twine(axis) + " is out of range for rank " +
                   llvm::Twine(rank));
  return a;
}

/// Constant sizes of a shape, or nullopt when one is symbolic.
inline std::optional<SmallVector<int64_t>> staticShape(const Shape &shape) {
  SmallVector<int64_t> dims;
  for (const SymExpr &d : shape) {
    std::optional<int64_t> c = d.getConstant();
    if (!c || *c < 0)
      return std::nullopt;
    dims.push_back(*c);
  }
  return dims;
}

inline std::optional<int64_t> numElements(const Shape &shape) {
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

inline bool isOne(const SymExpr &d) {
  return d.getConstant() == std::optional<int64_t>(1);
}

/// Numpy-style broadcast of several shapes; different symbolic sizes are
/// unified (the graph says they are equal at run time).
inline FailureOr<Shape> broadcastShapes(NodeContext &c,
                                        ArrayRef<Shape> shapes) {
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

inline Scalar knownAt(const Known &k, int64_t idx) {
  return k.isFloat ? Scalar::ofFloat(k.floats[idx])
                   : Scalar::ofInt(k.ints[idx]);
}

/// Appends element `i` of `src` to `dst` (same kind of contents).
inline void appendElement(Known &dst, const Known &src, int64_t i) {
  if (dst.isFloat)
    dst.floats.push_back(src.floats[i]);
  else
    dst.ints.push_back(src.ints[i]);
}

inline SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = (int)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Flat index into a (broadcast) input for a flat index of the output.
inline int64_t broadcastIndex(int64_t flat, ArrayRef<int64_t> outShape,
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
inline std::optional<Known>
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
inline std::optional<Known> sameElements(NodeContext &c, unsigned input,
                                         const Shape &outShape) {
  const Known *k = c.known(input);
  if (!k || !staticShape(outShape))
    return std::nullopt;
  return *k;
}

/// Known integer vector of input `i` as constants, if every element is one.
inline std::optional<SmallVector<int64_t>> constInts(NodeContext &c,
                                                     unsigned i) {
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

inline std::optional<double> constScalar(NodeContext &c, unsigned i) {
  if (!c.hasInput(i))
    return std::nullopt;
  const Known *k = c.known(i);
  if (!k || k->size() != 1)
    return std::nullopt;
  return knownAt(*k, 0).asDouble();
}

inline Type i1(NodeContext &c) {
  return IntegerType::get(c.imp.getContext(), 1);
}

//===----------------------------------------------------------------------===//
// Emission helpers
//===----------------------------------------------------------------------===//

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// True when some dimension of `shape` is the constant 0.
inline bool isEmptyShape(NodeContext &c, const Shape &shape) {
  return llvm::any_of(shape, [&](const SymExpr &d) {
    return c.imp.getSymbols().resolve(d).getConstant() ==
           std::optional<int64_t>(0);
  });
}

inline Value emptyTensor(NodeContext &c, const Shape &shape, Type elementType) {
  return tensor::EmptyOp::create(c.b(), c.loc, c.imp.mixedShape(shape),
                                 elementType);
}

/// An elementwise linalg.generic over `outShape`, broadcasting the inputs
/// (right-aligned; a static size-1 dimension broadcasts).
inline Value emitMap(NodeContext &c, const Shape &outShape, Type outType,
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

inline Value floatConst(OpBuilder &b, Location loc, Type type, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
}

inline Value typedConst(OpBuilder &b, Location loc, Type type, double v) {
  if (isa<FloatType>(type))
    return floatConst(b, loc, type, v);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)v));
}

/// Converts a scalar between element types as ONNX Cast does.
inline Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
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
inline Value emitReshape(NodeContext &c, Value v, const Shape &shape) {
  return c.imp.reshape(c.loc, v, shape);
}

/// Reduces `x` over `axes` (sorted, unique) with `combine`, starting from
/// `initValue`; the result drops the reduced axes.
inline Value emitReduction(
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
inline Value emitWithRow(NodeContext &c, Value x, const Shape &shape, Value row,
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

/// A tensor of `shape` whose every element `element` computes from the
/// element's indices (a linalg.generic with no inputs): gathers, tiles.
inline Value emitIndexed(
    NodeContext &c, const Shape &shape, Type elementType,
    llvm::function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> element) {
  Value init = emptyTensor(c, shape, elementType);
  unsigned rank = shape.size();
  SmallVector<utils::IteratorType> its(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             c.b(), c.loc, init.getType(), ValueRange{}, ValueRange{init},
             ArrayRef<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(rank, c.imp.getContext())},
             its,
             [&](OpBuilder &b, Location l, ValueRange) {
               SmallVector<Value> iv;
               for (unsigned d = 0; d < rank; ++d)
                 iv.push_back(linalg::IndexOp::create(b, l, d));
               linalg::YieldOp::create(b, l, element(b, l, iv));
             })
      .getResult(0);
}

/// The binary elementwise ops.
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

inline Bin binKind(llvm::StringRef op) {
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

/// `x k y` on scalars (float or integer).
inline Value binaryScalar(OpBuilder &b, Location l, Bin k, Value x, Value y) {
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

/// Axes of Squeeze/Unsqueeze/Reduce*: the attribute before `inputOpset`, the
/// second input from it on.
inline std::optional<SmallVector<int64_t>>
axesOf(NodeContext &c, int64_t inputOpset, unsigned inputIndex = 1) {
  if (c.opset >= inputOpset)
    return constInts(c, inputIndex);
  return c.getInts("axes");
}

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_OPSUPPORT_H
