//===- TiledAttention.cpp - attention as a tiled online-softmax loop nest -===//
//
// Lowers `attn.attention` and `attn.cache_attention` to the CPU target's
// loop nest (flash attention, as IREE's online attention, with the key loop
// bounded by the visibility contract instead of masked; the GPU's kernels,
// GPUAttention.cpp, visit the same key ranges):
//
//   scf.parallel (b, h, query tile)            -- CPU threads
//     m = -inf, l = 0, acc = 0                 -- running max, sum, output
//                                                 (buffers of one tile)
//     for key tile in [0, sink end)            -- the sink tokens below the
//     window for key tile in [window start, last row] -- the keys the window
//     meets
//       s = scale * q.k + mask  (hidden: -inf) -- per row and key of the tile
//       m' = max(m, rowmax s); p = exp(s - m')
//       l = l * exp(m - m') + sum p; acc = acc * exp(m - m') + p.v
//     out = l > 0 ? acc / l : 0
//
// For a query tile whose rows sit at absolute positions i0..i1, a key j is
// visible when j <= i (causal) and, with a window W, when i - W < j or j <
// sinks. The window loop starts at i0 - W + 1 and the sink loop stops below
// it, so a windowed layer visits O(n * (W + S)) keys, not O(n^2). The cache
// form reads key position j from its slot (ring or full). The loops work on
// buffers (bufferization.to_buffer of the operands) so that the whole model's
// one-shot bufferization keeps them in place.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/AttentionView.h"
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::swaa;

namespace {
class TiledBuilder : KernelBuilder {
public:
  TiledBuilder(RewriterBase &b, const AttentionView &a, int64_t queryTile,
               int64_t keyTile)
      : KernelBuilder(b, a.op->getLoc()), a(a), tq(queryTile), tk(keyTile) {}

  Value build() {
    Value q = buffer(a.query), k = buffer(a.key), v = buffer(a.value);
    Value mask = a.mask ? buffer(a.mask) : Value();
    AttentionSizes sizes = attentionSizes(b, loc, a);
    batch = sizes.batch;
    heads = sizes.heads;
    rows = sizes.rows;
    headDim = dim(a.query, 3);
    valueDim = sizes.valueDim;
    keys = sizes.keys;
    offset = sizes.offset;
    group = sizes.group;
    Value out = allocResult(b, loc, a, sizes);

    Value zero = idx(0), one = idx(1), tqV = idx(tq);
    Value qTiles = arith::CeilDivUIOp::create(b, loc, rows, tqV);
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero, zero}, ValueRange{batch, heads, qTiles},
        ValueRange{one, one, one}, [&](OpBuilder &, Location, ValueRange ivs) {
          tileBody(ivs, q, k, v, mask, out);
        });
    return bufferization::ToTensorOp::create(b, loc, a.resultType, out,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

private:
  const AttentionView &a;
  int64_t tq, tk;

  Value tileBuffer(MemRefType type, ValueRange sizes = {}) {
    return memref::AllocOp::create(b, loc, type, sizes);
  }
  Value batch, heads, rows, headDim, valueDim, keys, offset, group;

  /// Reassociation for the dot products (so they vectorize) and contraction
  /// into FMAs.
  arith::FastMathFlags fast() {
    return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  }
  Value dim(Value t, int64_t d) {
    return b.createOrFold<tensor::DimOp>(loc, t, d);
  }

  /// The slot of key position j in the key/value operand.
  Value slot(Value j) {
    return cacheSlot(b, loc, j, a.ringWindow, a.ringSinks);
  }

  /// A mask index: 0 where the mask broadcasts (static size 1).
  Value maskIndex(Value mask, unsigned d, Value i) {
    auto type = cast<MemRefType>(mask.getType());
    return type.getDimSize(d) == 1 ? idx(0) : i;
  }

  /// One (batch, head, query tile): online softmax over the visible keys.
  void tileBody(ValueRange ivs, Value q, Value k, Value v, Value mask,
                Value out) {
    Value bIdx = ivs[0], h = ivs[1];
    Value hk = arith::DivUIOp::create(b, loc, h, group);
    Value q0 = mul(ivs[2], idx(tq));
    Value nRows = minI(idx(tq), sub(rows, q0));
    // The tile's state, one per parallel iteration (buffer deallocation frees
    // it at the end of the iteration; stack allocas would grow the stack of
    // the loop that a parallel loop becomes, and canonicalization hoists them
    // out of any alloca scope).
    auto rowVec = MemRefType::get({tq}, f32);
    Value m = tileBuffer(rowVec);
    Value l = tileBuffer(rowVec);
    Value acc = tileBuffer(MemRefType::get({tq, ShapedType::kDynamic}, f32),
                           ValueRange{valueDim});
    Value s = tileBuffer(MemRefType::get({tq, tk}, f32));
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zeroF = fconst(0.0);
    Value zero = idx(0), one = idx(1);
    forLoop(zero, nRows, [&](Value r) {
      memref::StoreOp::create(b, loc, negInf, m, r);
      memref::StoreOp::create(b, loc, zeroF, l, r);
      forLoop(zero, valueDim, [&](Value e) {
        memref::StoreOp::create(b, loc, zeroF, acc, ValueRange{r, e});
      });
    });

    // Key ranges: positions of the first and last rows bound them.
    Value i0 = add(offset, q0);
    Value i1 = add(i0, sub(nRows, one));
    KeyRanges ranges = visibleKeyRanges(b, loc, a, keys, i0, i1);
    if (a.window && a.sinks > 0)
      keyRange(zero, ranges.sinkEnd, bIdx, h, hk, q0, nRows, q, k, v, mask, m,
               l, acc, s);
    keyRange(ranges.start, ranges.end, bIdx, h, hk, q0, nRows, q, k, v, mask, m,
             l, acc, s);

    // out = l > 0 ? acc / l : 0 (a row with no visible key gives zeros).
    Type outElem = cast<MemRefType>(out.getType()).getElementType();
    forLoop(zero, nRows, [&](Value r) {
      Value lr = memref::LoadOp::create(b, loc, l, r);
      Value any =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, lr, zeroF);
      Value inv = arith::DivFOp::create(b, loc, fconst(1.0), lr);
      forLoop(zero, valueDim, [&](Value e) {
        Value x = memref::LoadOp::create(b, loc, acc, ValueRange{r, e});
        Value y = arith::SelectOp::create(
            b, loc, any, arith::MulFOp::create(b, loc, x, inv), zeroF);
        if (outElem != f32)
          y = arith::TruncFOp::create(b, loc, outElem, y);
        memref::StoreOp::create(b, loc, y, out,
                                ValueRange{bIdx, h, add(q0, r), e});
      });
    });
  }

  /// The key tiles of [from, to).
  void keyRange(Value from, Value to, Value bIdx, Value h, Value hk, Value q0,
                Value nRows, Value q, Value k, Value v, Value mask, Value m,
                Value l, Value acc, Value s) {
    scf::ForOp::create(b, loc, from, to, idx(tk), ValueRange{},
                       [&](OpBuilder &, Location, Value k0, ValueRange) {
                         Value nKeys = minI(idx(tk), sub(to, k0));
                         keyTile(k0, nKeys, bIdx, h, hk, q0, nRows, q, k, v,
                                 mask, m, l, acc, s);
                         scf::YieldOp::create(b, loc);
                       });
  }

  void keyTile(Value k0, Value nKeys, Value bIdx, Value h, Value hk, Value q0,
               Value nRows, Value q, Value k, Value v, Value mask, Value m,
               Value l, Value acc, Value s) {
    Value zero = idx(0);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zeroF = fconst(0.0);
    Value scale = fconst(a.scale);
    forLoop(zero, nRows, [&](Value r) {
      Value row = add(q0, r);
      Value i = add(offset, row);
      // Scores of the tile's keys, and their max.
      Value rowMax =
          forLoopReduce(zero, nKeys, negInf, [&](Value c, Value best) {
            Value j = add(k0, c);
            Value kj = slot(j);
            Value dot =
                forLoopReduce(zero, headDim, zeroF, [&](Value d, Value sum) {
                  Value x = load(q, {bIdx, h, row, d});
                  Value y = load(k, {bIdx, hk, kj, d});
                  return arith::AddFOp::create(
                      b, loc, sum, arith::MulFOp::create(b, loc, x, y, fast()),
                      fast());
                });
            Value score = arith::MulFOp::create(b, loc, dot, scale);
            if (a.softcap)
              score = softcapScore(score, *a.softcap);
            if (mask) {
              Value mv =
                  load(mask, {maskIndex(mask, 0, bIdx), maskIndex(mask, 1, h),
                              maskIndex(mask, 2, row), maskIndex(mask, 3, j)});
              score = arith::AddFOp::create(b, loc, score, mv);
            }
            Value visible = visibleKey(i, j);
            if (visible)
              score = arith::SelectOp::create(b, loc, visible, score, negInf);
            memref::StoreOp::create(b, loc, score, s, ValueRange{r, c});
            return arith::MaximumFOp::create(b, loc, best, score).getResult();
          });
      Value mOld = memref::LoadOp::create(b, loc, m, r);
      Value mNew = arith::MaximumFOp::create(b, loc, mOld, rowMax);
      // Nothing visible yet in this row: keep its state.
      Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                         mNew, negInf);
      scf::IfOp::create(b, loc, live, [&](OpBuilder &, Location) {
        Value alpha = math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, mOld, mNew));
        Value sum = forLoopReduce(zero, nKeys, zeroF, [&](Value c, Value t) {
          Value x = memref::LoadOp::create(b, loc, s, ValueRange{r, c});
          Value p = math::ExpOp::create(b, loc,
                                        arith::SubFOp::create(b, loc, x, mNew));
          memref::StoreOp::create(b, loc, p, s, ValueRange{r, c});
          return arith::AddFOp::create(b, loc, t, p).getResult();
        });
        Value lOld = memref::LoadOp::create(b, loc, l, r);
        memref::StoreOp::create(
            b, loc,
            arith::AddFOp::create(
                b, loc, arith::MulFOp::create(b, loc, lOld, alpha), sum),
            l, r);
        // acc = acc * alpha + sum_c p[c] * v[c, :], keys outermost so that
        // the innermost loop runs along contiguous value rows.
        forLoop(zero, valueDim, [&](Value e) {
          Value old = memref::LoadOp::create(b, loc, acc, ValueRange{r, e});
          memref::StoreOp::create(b, loc,
                                  arith::MulFOp::create(b, loc, old, alpha),
                                  acc, ValueRange{r, e});
        });
        forLoop(zero, nKeys, [&](Value c) {
          Value p = memref::LoadOp::create(b, loc, s, ValueRange{r, c});
          Value kj = slot(add(k0, c));
          forLoop(zero, valueDim, [&](Value e) {
            Value y = load(v, {bIdx, hk, kj, e});
            Value old = memref::LoadOp::create(b, loc, acc, ValueRange{r, e});
            memref::StoreOp::create(
                b, loc,
                arith::AddFOp::create(
                    b, loc, old, arith::MulFOp::create(b, loc, p, y, fast()),
                    fast()),
                acc, ValueRange{r, e});
          });
        });
        memref::StoreOp::create(b, loc, mNew, m, r);
        scf::YieldOp::create(b, loc);
      });
    });
  }

  Value visibleKey(Value i, Value j) {
    return swaa::visibleKey(b, loc, a, i, j);
  }

  Value forLoopReduce(Value from, Value to, Value init,
                      function_ref<Value(Value, Value)> body) {
    auto loop = scf::ForOp::create(
        b, loc, from, to, idx(1), ValueRange{init},
        [&](OpBuilder &, Location, Value iv, ValueRange iter) {
          scf::YieldOp::create(b, loc, body(iv, iter[0]));
        });
    return loop.getResult(0);
  }
};
} // namespace

Value KernelBuilder::buffer(Value tensor) {
  return rowContiguousBuffer(b, loc, tensor);
}

Value KernelBuilder::load(Value buf, ValueRange indices) {
  Value x = memref::LoadOp::create(b, loc, buf, indices);
  if (x.getType() != f32)
    x = arith::ExtFOp::create(b, loc, f32, x);
  return x;
}

Value KernelBuilder::softcapScore(Value s, double c) {
  auto constant = [&](double v) -> Value {
    Value x = fconst(v);
    if (auto vt = dyn_cast<VectorType>(s.getType()))
      x = vector::BroadcastOp::create(b, loc, vt, x);
    return x;
  };
  Value e = math::ExpOp::create(
      b, loc, arith::MulFOp::create(b, loc, s, constant(2.0 / c)));
  Value denom = arith::AddFOp::create(b, loc, e, constant(1.0));
  return arith::SubFOp::create(
      b, loc, constant(c),
      arith::DivFOp::create(b, loc, constant(2.0 * c), denom));
}

void KernelBuilder::forLoop(Value from, Value to, Value step,
                            function_ref<void(Value)> body) {
  scf::ForOp::create(b, loc, from, to, step, ValueRange{},
                     [&](OpBuilder &, Location, Value iv, ValueRange) {
                       body(iv);
                       scf::YieldOp::create(b, loc);
                     });
}

FailureOr<AttentionView> swaa::viewAttention(Operation *op) {
  AttentionView view;
  view.op = op;
  if (auto a = dyn_cast<attn::AttentionOp>(op)) {
    view.query = a.getQuery();
    view.key = a.getKey();
    view.value = a.getValue();
    view.mask = a.getMask();
    view.scale = a.getScale().convertToDouble();
    if (a.getSoftcapAttr())
      view.softcap = a.getSoftcapAttr().getValueAsDouble();
    view.causal = a.getCausal();
    if (a.getWindowAttr())
      view.window = a.getWindowAttr().getInt();
    view.sinks = a.getSinksAttr().getInt();
    view.resultType = a.getType();
    return view;
  }
  if (auto c = dyn_cast<attn::CacheAttentionOp>(op)) {
    view.query = c.getQuery();
    view.key = c.getKeyCache();
    view.value = c.getValueCache();
    view.mask = c.getMask();
    view.scale = c.getScale().convertToDouble();
    if (c.getSoftcapAttr())
      view.softcap = c.getSoftcapAttr().getValueAsDouble();
    view.causal = c.getCausal();
    if (c.getWindowAttr())
      view.window = c.getWindowAttr().getInt();
    view.sinks = c.getSinksAttr().getInt();
    view.pos = c.getPos();
    view.ringWindow = c.getRingWindowAttr();
    view.ringSinks = c.getRingSinksAttr();
    view.resultType = c.getType();
    return view;
  }
  return op->emitOpError("is not an attention op");
}

KeyRanges swaa::visibleKeyRanges(OpBuilder &b, Location loc,
                                 const AttentionView &a, Value keys, Value i0,
                                 Value i1) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = idx(0), one = idx(1);
  KeyRanges r;
  r.end = a.causal ? arith::MinSIOp::create(
                         b, loc, keys, arith::AddIOp::create(b, loc, i1, one))
                         .getResult()
                   : keys;
  r.start = zero;
  if (a.window)
    r.start = arith::MaxSIOp::create(
        b, loc, zero,
        arith::AddIOp::create(
            b, loc, arith::SubIOp::create(b, loc, i0, idx(*a.window)), one));
  r.start = arith::MinSIOp::create(b, loc, r.start, r.end);
  r.sinkEnd = zero;
  if (a.window && a.sinks > 0)
    r.sinkEnd = arith::MinSIOp::create(b, loc, idx(a.sinks), r.start);
  return r;
}

Value swaa::visibleKey(OpBuilder &b, Location loc, const AttentionView &a,
                       Value i, Value j) {
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, p, x, y);
  };
  Value vis;
  if (a.causal)
    vis = cmp(arith::CmpIPredicate::ule, j, i);
  if (a.window) {
    // i - W < j, written j + W > i to stay unsigned.
    Value w = arith::ConstantIndexOp::create(b, loc, *a.window);
    Value inWindow =
        cmp(arith::CmpIPredicate::ugt, arith::AddIOp::create(b, loc, j, w), i);
    if (a.sinks > 0)
      inWindow = arith::OrIOp::create(
          b, loc, inWindow,
          cmp(arith::CmpIPredicate::ult, j,
              arith::ConstantIndexOp::create(b, loc, a.sinks)));
    vis = vis ? arith::AndIOp::create(b, loc, vis, inWindow).getResult()
              : inWindow;
  }
  return vis;
}

AttentionSizes swaa::attentionSizes(OpBuilder &b, Location loc,
                                    const AttentionView &a) {
  auto dim = [&](Value t, int64_t d) {
    return b.createOrFold<tensor::DimOp>(loc, t, d);
  };
  AttentionSizes s;
  s.batch = dim(a.query, 0);
  s.heads = dim(a.query, 1);
  s.rows = dim(a.query, 2);
  s.kvHeads = dim(a.key, 1);
  s.valueDim = dim(a.value, 3);
  if (a.pos) {
    s.offset = a.pos;
    s.keys = arith::AddIOp::create(b, loc, a.pos, s.rows);
  } else {
    s.keys = dim(a.key, 2);
    s.offset = arith::SubIOp::create(b, loc, s.keys, s.rows);
  }
  s.group = arith::DivUIOp::create(b, loc, s.heads, s.kvHeads);
  return s;
}

Value swaa::allocResult(OpBuilder &b, Location loc, const AttentionView &a,
                        const AttentionSizes &sizes) {
  Value all[] = {sizes.batch, sizes.heads, sizes.rows, sizes.valueDim};
  SmallVector<Value> dynamic;
  for (auto [i, s] : llvm::enumerate(a.resultType.getShape()))
    if (ShapedType::isDynamic(s))
      dynamic.push_back(all[i]);
  return memref::AllocOp::create(
      b, loc,
      MemRefType::get(a.resultType.getShape(), a.resultType.getElementType()),
      dynamic);
}

Value swaa::rowContiguousBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  strides.back() = 1;
  auto layout =
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType(), layout),
      tensor, /*read_only=*/true);
}

FailureOr<Value> swaa::lowerAttentionToTiled(RewriterBase &rewriter,
                                             Operation *op, int64_t queryTile,
                                             int64_t keyTile,
                                             int64_t vectorWidth) {
  FailureOr<AttentionView> view = viewAttention(op);
  if (failed(view))
    return failure();
  if (queryTile < 1 || keyTile < 1)
    return op->emitOpError("needs positive tile sizes");
  if (vectorWidth < 0 || vectorWidth == 1)
    return op->emitOpError("needs a vector width of 0 (scalar) or at least 2");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op->getLoc();
  auto scalar = [&]() {
    return TiledBuilder(rewriter, *view, queryTile, keyTile).build();
  };
  // Vectors across query rows pay off when a tile has rows to fill them:
  // with fewer rows than lanes (decode) the scalar loop nest runs, whose dot
  // products vectorize along the head dimension instead. A dynamic row
  // count decides at run time.
  int64_t staticRows = view->resultType.getDimSize(2);
  Value result;
  if (vectorWidth == 0 ||
      (!ShapedType::isDynamic(staticRows) && staticRows < vectorWidth)) {
    result = scalar();
  } else {
    VectorTiling tiling = VectorTiling::get(queryTile, keyTile, vectorWidth);
    auto vectorized = [&]() {
      return buildVectorTiledAttention(rewriter, *view, tiling);
    };
    if (!ShapedType::isDynamic(staticRows)) {
      result = vectorized();
    } else {
      Value rows = rewriter.createOrFold<tensor::DimOp>(loc, view->query, 2);
      Value few = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ult, rows,
          arith::ConstantIndexOp::create(rewriter, loc, vectorWidth));
      auto choice =
          scf::IfOp::create(rewriter, loc, TypeRange{view->resultType}, few,
                            /*withElseRegion=*/true);
      rewriter.setInsertionPointToStart(choice.thenBlock());
      scf::YieldOp::create(rewriter, loc, scalar());
      rewriter.setInsertionPointToStart(choice.elseBlock());
      scf::YieldOp::create(rewriter, loc, vectorized());
      result = choice.getResult(0);
    }
  }
  rewriter.replaceOp(op, result);
  return result;
}
