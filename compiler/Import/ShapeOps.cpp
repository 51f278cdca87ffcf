//===- ShapeOps.cpp - the importer's shape ops
//------------------------------===//
//
// An op family of the importer (see Ops.h, OpSupport.h): shape and index ops:
// Reshape, Unsqueeze, Squeeze, Flatten, Transpose, Expand, Concat, Slice,
// Split, Gather, GatherND, Tile, Trilu.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/OpSupport.h"

using namespace mlir;
using namespace mlir::swaa::import;

namespace {
//===----------------------------------------------------------------------===//
// Reshape-like ops
//===----------------------------------------------------------------------===//

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
                              " of a size-" + llvm::Twine(dim) + " axis");
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

/// An index read from a tensor as an `index`, negative ones counted from
/// the end of an axis of size `dim`.
Value wrapIndex(OpBuilder &b, Location l, Value id, Value dim) {
  Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), id);
  Value zero = arith::ConstantIndexOp::create(b, l, 0);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  return arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, dim),
                                 i);
}

LogicalResult emitGather(NodeContext &c) {
  const TensorInfo &data = c.info(0), &idx = c.info(1);
  const TensorInfo &out = c.out(0).info;
  int64_t axis = normAxis(c.getInt("axis", 0), data.rank());
  Value dataV = c.operand(0), idxV = c.operand(1);
  Value dim = c.imp.indexValue(data.shape[axis]);
  unsigned q = idx.rank();
  c.setResult(
      0, emitIndexed(
             c, out.shape, out.elementType,
             [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
               SmallVector<Value> idxPos(iv.begin() + axis,
                                         iv.begin() + axis + q);
               Value id = tensor::ExtractOp::create(b, l, idxV, idxPos);
               SmallVector<Value> pos(iv.begin(), iv.begin() + axis);
               pos.push_back(wrapIndex(b, l, id, dim));
               pos.append(iv.begin() + axis + q, iv.end());
               return tensor::ExtractOp::create(b, l, dataV, pos).getResult();
             }));
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
                              " of a size-" + llvm::Twine((*dims)[d]) +
                              " axis");
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
  unsigned q = idx.rank();
  c.setResult(
      0, emitIndexed(
             c, out.shape, out.elementType,
             [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
               SmallVector<Value> pos;
               for (int64_t t = 0; t < last; ++t) {
                 SmallVector<Value> at(iv.begin(), iv.begin() + (q - 1));
                 at.push_back(arith::ConstantIndexOp::create(b, l, t));
                 Value id = tensor::ExtractOp::create(b, l, idxV, at);
                 pos.push_back(wrapIndex(b, l, id, dims[t]));
               }
               pos.append(iv.begin() + (q - 1), iv.end());
               return tensor::ExtractOp::create(b, l, dataV, pos).getResult();
             }));
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
  if (const Known *k = c.known(0);
      k && inDims && outDims &&
      numElements(out).value_or(c.maxKnown + 1) <= c.maxKnown) {
    SmallVector<int64_t> inStrides = rowMajorStrides(*inDims);
    SmallVector<int64_t> outStrides = rowMajorStrides(*outDims);
    Known r;
    r.isFloat = k->isFloat;
    int64_t n = numElements(out).value_or(0);
    for (int64_t e = 0; e < n; ++e) {
      int64_t src = 0;
      for (size_t d = 0; d < outDims->size(); ++d)
        src +=
            ((e / outStrides[d]) % (*outDims)[d] % (*inDims)[d]) * inStrides[d];
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
  c.setResult(
      0, emitIndexed(
             c, out.shape, out.elementType,
             [&](OpBuilder &b, Location l, ArrayRef<Value> iv) {
               SmallVector<Value> pos;
               for (size_t d = 0; d < iv.size(); ++d)
                 pos.push_back(arith::RemUIOp::create(b, l, iv[d], dims[d]));
               return tensor::ExtractOp::create(b, l, inV, pos).getResult();
             }));
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

} // namespace

llvm::ArrayRef<OpEntry> mlir::swaa::import::shapeOps() {
  static const OpEntry ops[] = {
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
  };
  return ops;
}
