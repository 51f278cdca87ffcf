//===- VectorAttention.cpp - CPU attention vectorized across query rows ---===//
//
// The CPU target's attention kernel for several query rows (prefill): the
// same loop nest and key ranges as TiledAttention.cpp (flash attention with
// the key loop bounded by the visibility contract), with every step written
// in the vector dialect, vectorized across the query rows of a tile. Working
// on transposed tiles makes every softmax step a lane-wise operation (no
// horizontal reductions) and reads keys and values as contiguous rows of the
// cache, broadcast one element at a time, as a GEMM micro-kernel does:
//
//   scf.parallel (b, h, query tile of T rows)   T a multiple of the vector
//     Qt[d, r] = scale * q[r, d]                 width V; rows past the end 0
//     m[r] = -inf, l[r] = 0, accT[e, r] = 0      (vectors of V rows)
//     for key tile [k0, k0 + n) of the visible ranges:
//       St[c, r] = sum_d k[c, d] * Qt[d, r]      register blocks of kb keys x
//                                                rvb row vectors, FMA on a
//                                                broadcast key element
//       St[c, r] = -inf where (c, r) is hidden    only in tiles the window or
//                                                causal edge cuts
//       m' = max(m, max_c St); p = exp(St - m')  lane-wise, per row vector
//       l = l * exp(m - m') + sum_c p
//       accT[e, r] = accT * alpha + sum_c v[c, e] * St[c, r]
//     out[r, e] = accT[e, r] / l[r]               (0 where no key is visible)
//
// A tile's work is 2 * n * T * (head_dim + value_dim) FLOPs against O(T +
// n) element loads per vector step, so the kernel runs at the FMA units'
// rate rather than the scalar loop's; the transposes (of Q once per query
// tile, of the output once) are outside the key loop. Rows past the last
// row compute on zero queries and are never stored. `math.exp` on vectors
// is expanded to a polynomial by the pass (no libm call per lane).
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/AttentionView.h"
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::swaa;

namespace {
class VectorTiledBuilder : KernelBuilder {
public:
  VectorTiledBuilder(RewriterBase &b, const AttentionView &a,
                     const VectorTiling &t)
      : KernelBuilder(b, a.op->getLoc()), a(a), tq(t.queryTile), tk(t.keyTile),
        vw(t.vectorWidth), rv(t.queryTile / t.vectorWidth),
        rvb(t.rowVectorsPerBlock), kb(t.keysPerBlock), eb(t.valueDimsPerBlock) {
    vt = VectorType::get({vw}, f32);
  }

  void build(Value out) {
    Value q = buffer(a.query), k = buffer(a.key), v = buffer(a.value);
    Value mask = a.mask ? buffer(a.mask) : Value();
    AttentionSizes sizes = attentionSizes(b, loc, a);
    rows = sizes.rows;
    headDim = b.createOrFold<tensor::DimOp>(loc, a.query, 3);
    valueDim = sizes.valueDim;
    keys = sizes.keys;
    offset = sizes.offset;
    group = sizes.group;

    Value zero = idx(0), one = idx(1);
    Value qTiles = arith::CeilDivUIOp::create(b, loc, rows, idx(tq));
    scf::ParallelOp::create(b, loc, ValueRange{zero, zero, zero},
                            ValueRange{sizes.batch, sizes.heads, qTiles},
                            ValueRange{one, one, one},
                            [&](OpBuilder &, Location, ValueRange ivs) {
                              tileBody(ivs, q, k, v, mask, out);
                            });
  }

private:
  const AttentionView &a;
  /// Query rows and keys per tile, lanes per vector, row vectors per tile,
  /// and the register block shapes: row vectors x keys (scores), row
  /// vectors x value dimensions (output).
  int64_t tq, tk, vw, rv, rvb, kb, eb;
  VectorType vt;
  Value rows, headDim, valueDim, keys, offset, group;

  /// The state of the current (batch, head, query tile).
  struct Tile {
    Value bIdx, h, hk, q0, nRows, i0, i1;
    Value q, k, v, mask;
    Value qt;    // [head_dim, tq]  scaled queries, transposed
    Value st;    // [tk, tq]        scores, then probabilities, transposed
    Value accT;  // [value_dim, tq] unnormalized output, transposed
    Value m, l;  // [tq]            running max and sum
    Value alpha; // [tq]            this key tile's rescale of accT
    Value slots; // [tk] index      ring slots of the key tile (ring only)
  };

  Value splat(double v) {
    return arith::ConstantOp::create(
        b, loc, vt, DenseElementsAttr::get(vt, APFloat((float)v)));
  }
  Value negInf() { return splat(-std::numeric_limits<float>::infinity()); }

  Value vload(Value buf, ValueRange indices) {
    return vector::LoadOp::create(b, loc, vt, buf, indices);
  }
  void vstore(Value x, Value buf, ValueRange indices) {
    vector::StoreOp::create(b, loc, x, buf, indices);
  }
  Value fma(Value x, Value y, Value acc) {
    return vector::FMAOp::create(b, loc, x, y, acc);
  }

  SmallVector<Value>
  forLoopCarry(Value from, Value to, ValueRange init,
               function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(
        b, loc, from, to, idx(1), init,
        [&](OpBuilder &, Location, Value iv, ValueRange iter) {
          scf::YieldOp::create(b, loc, body(iv, iter));
        });
    return SmallVector<Value>(loop.getResults());
  }

  Value alloc(ArrayRef<int64_t> shape, Type elem, ValueRange sizes = {}) {
    return memref::AllocOp::create(b, loc, MemRefType::get(shape, elem), sizes);
  }

  void tileBody(ValueRange ivs, Value q, Value k, Value v, Value mask,
                Value out) {
    Tile t;
    t.q = q;
    t.k = k;
    t.v = v;
    t.mask = mask;
    t.bIdx = ivs[0];
    t.h = ivs[1];
    t.hk = arith::DivUIOp::create(b, loc, t.h, group);
    t.q0 = mul(ivs[2], idx(tq));
    t.nRows = minI(idx(tq), sub(rows, t.q0));
    t.i0 = add(offset, t.q0);
    t.i1 = add(t.i0, sub(t.nRows, idx(1)));
    // One set of tile buffers per parallel iteration (freed by buffer
    // deallocation at its end), as in the scalar loop nest.
    int64_t dyn = ShapedType::kDynamic;
    t.qt = alloc({dyn, tq}, f32, headDim);
    t.st = alloc({tk, tq}, f32);
    t.accT = alloc({dyn, tq}, f32, valueDim);
    t.m = alloc({tq}, f32);
    t.l = alloc({tq}, f32);
    t.alpha = alloc({tq}, f32);
    if (a.ringWindow)
      t.slots = alloc({tk}, b.getIndexType());

    Value zero = idx(0);
    for (int64_t i = 0; i < rv; ++i) {
      vstore(negInf(), t.m, idx(i * vw));
      vstore(splat(0.0), t.l, idx(i * vw));
    }
    forLoop(zero, valueDim, [&](Value e) {
      for (int64_t i = 0; i < rv; ++i)
        vstore(splat(0.0), t.accT, {e, idx(i * vw)});
    });
    // Qt = scale * q^T; the rows past the end are zeros.
    Value scale = fconst(a.scale);
    forLoop(zero, t.nRows, [&](Value r) {
      forLoop(zero, headDim, [&](Value d) {
        Value x = load(q, {t.bIdx, t.h, add(t.q0, r), d});
        memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, x, scale),
                                t.qt, ValueRange{d, r});
      });
    });
    forLoop(t.nRows, idx(tq), [&](Value r) {
      forLoop(zero, headDim, [&](Value d) {
        memref::StoreOp::create(b, loc, fconst(0.0), t.qt, ValueRange{d, r});
      });
    });

    KeyRanges ranges = visibleKeyRanges(b, loc, a, keys, t.i0, t.i1);
    if (a.window && a.sinks > 0)
      keyRange(t, zero, ranges.sinkEnd, /*sinkRange=*/true);
    keyRange(t, ranges.start, ranges.end, /*sinkRange=*/false);

    // out = l > 0 ? accT^T / l : 0 (a row with no visible key gives zeros).
    for (int64_t i = 0; i < rv; ++i) {
      Value l = vload(t.l, idx(i * vw));
      Value any =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, splat(0));
      Value inv = arith::DivFOp::create(b, loc, splat(1.0), l);
      vstore(arith::SelectOp::create(b, loc, any, inv, splat(0.0)), t.alpha,
             idx(i * vw));
    }
    Type outElem = cast<MemRefType>(out.getType()).getElementType();
    forLoop(zero, t.nRows, [&](Value r) {
      Value inv = memref::LoadOp::create(b, loc, t.alpha, r);
      forLoop(zero, valueDim, [&](Value e) {
        Value x = memref::LoadOp::create(b, loc, t.accT, ValueRange{e, r});
        Value y = arith::MulFOp::create(b, loc, x, inv);
        if (outElem != f32)
          y = arith::TruncFOp::create(b, loc, outElem, y);
        memref::StoreOp::create(b, loc, y, out,
                                ValueRange{t.bIdx, t.h, add(t.q0, r), e});
      });
    });
  }

  /// The key tiles of [from, to). Keys of the sink range are visible to
  /// every row (they lie below every row's window and position).
  void keyRange(Tile &t, Value from, Value to, bool sinkRange) {
    forLoop(from, to, idx(tk), [&](Value k0) {
      keyTile(t, k0, minI(idx(tk), sub(to, k0)), sinkRange);
    });
  }

  /// The slot of the tile's key c in the key/value operand.
  Value slotOf(Tile &t, Value k0, Value c) {
    if (t.slots)
      return memref::LoadOp::create(b, loc, t.slots, c);
    return add(k0, c);
  }

  void keyTile(Tile &t, Value k0, Value nKeys, bool sinkRange) {
    Value zero = idx(0), one = idx(1);
    if (t.slots)
      forLoop(zero, nKeys, [&](Value c) {
        memref::StoreOp::create(
            b, loc, cacheSlot(b, loc, add(k0, c), a.ringWindow, a.ringSinks),
            t.slots, c);
      });

    // Scores: blocks of kb keys, then the keys left over one at a time.
    Value nMain = sub(nKeys, arith::RemUIOp::create(b, loc, nKeys, idx(kb)));
    for (int64_t r0 = 0; r0 < rv; r0 += rvb) {
      forLoop(zero, nMain, idx(kb),
              [&](Value c0) { scoreBlock(t, k0, c0, kb, r0); });
      forLoop(nMain, nKeys, [&](Value c) { scoreBlock(t, k0, c, 1, r0); });
    }

    // Hidden (row, key) pairs: only where the tile is not visible to every
    // row: a causal tile reaching past the first row, or a window starting
    // before the last row's window does.
    if (!sinkRange) {
      Value cut;
      auto orCut = [&](Value c) {
        cut = cut ? arith::OrIOp::create(b, loc, cut, c).getResult() : c;
      };
      if (a.causal)
        orCut(cmp(arith::CmpIPredicate::sgt, sub(add(k0, nKeys), one), t.i0));
      if (a.window)
        orCut(cmp(arith::CmpIPredicate::sle, add(k0, idx(*a.window)), t.i1));
      if (cut)
        scf::IfOp::create(b, loc, cut, [&](OpBuilder &, Location) {
          hideKeys(t, k0, nKeys);
          scf::YieldOp::create(b, loc);
        });
    }
    if (t.mask)
      addMask(t, k0, nKeys);

    for (int64_t i = 0; i < rv; ++i)
      softmaxUpdate(t, nKeys, i);

    Value eMain =
        sub(valueDim, arith::RemUIOp::create(b, loc, valueDim, idx(eb)));
    for (int64_t r0 = 0; r0 < rv; r0 += rvb) {
      forLoop(zero, eMain, idx(eb),
              [&](Value e0) { outputBlock(t, k0, nKeys, e0, eb, r0); });
      forLoop(eMain, valueDim,
              [&](Value e) { outputBlock(t, k0, nKeys, e, 1, r0); });
    }
  }

  /// St[c0 .. c0+nk, row vectors r0 .. r0+rvb] = k . Qt, in registers over
  /// the head dimension.
  void scoreBlock(Tile &t, Value k0, Value c0, int64_t nk, int64_t r0) {
    SmallVector<Value> keyRows;
    for (int64_t c = 0; c < nk; ++c)
      keyRows.push_back(slotOf(t, k0, add(c0, idx(c))));
    SmallVector<Value> init(nk * rvb, splat(0.0));
    SmallVector<Value> acc =
        forLoopCarry(idx(0), headDim, init, [&](Value d, ValueRange iter) {
          SmallVector<Value> qv;
          for (int64_t i = 0; i < rvb; ++i)
            qv.push_back(vload(t.qt, {d, idx((r0 + i) * vw)}));
          SmallVector<Value> next(iter);
          for (int64_t c = 0; c < nk; ++c) {
            Value kx = vector::BroadcastOp::create(
                b, loc, vt, load(t.k, {t.bIdx, t.hk, keyRows[c], d}));
            for (int64_t i = 0; i < rvb; ++i)
              next[c * rvb + i] = fma(kx, qv[i], next[c * rvb + i]);
          }
          return next;
        });
    for (int64_t c = 0; c < nk; ++c)
      for (int64_t i = 0; i < rvb; ++i) {
        Value score = acc[c * rvb + i];
        if (a.softcap)
          score = softcapScore(score, *a.softcap);
        vstore(score, t.st, {add(c0, idx(c)), idx((r0 + i) * vw)});
      }
  }

  /// St = -inf where the key is hidden from the row (the contract's
  /// visibility, lane-wise over the rows' positions).
  void hideKeys(Tile &t, Value k0, Value nKeys) {
    Type i64 = b.getI64Type();
    auto ivt = VectorType::get({vw}, i64);
    SmallVector<int64_t> lanes;
    for (int64_t i = 0; i < vw; ++i)
      lanes.push_back(i);
    Value iota = arith::ConstantOp::create(
        b, loc, ivt, DenseElementsAttr::get(ivt, ArrayRef<int64_t>(lanes)));
    auto toI64 = [&](Value x) -> Value {
      return arith::IndexCastOp::create(b, loc, i64, x);
    };
    auto bcast = [&](Value x) -> Value {
      return vector::BroadcastOp::create(b, loc, ivt, x);
    };
    auto vcmp = [&](arith::CmpIPredicate p, Value x, Value y) -> Value {
      return arith::CmpIOp::create(b, loc, p, x, y);
    };
    forLoop(idx(0), nKeys, [&](Value c) {
      Value j = bcast(toI64(add(k0, c)));
      for (int64_t i = 0; i < rv; ++i) {
        Value pos = arith::AddIOp::create(
            b, loc, bcast(toI64(add(t.i0, idx(i * vw)))), iota);
        Value vis;
        if (a.causal)
          vis = vcmp(arith::CmpIPredicate::sle, j, pos);
        if (a.window) {
          Value w = bcast(toI64(idx(*a.window)));
          Value inWindow = vcmp(arith::CmpIPredicate::sgt,
                                arith::AddIOp::create(b, loc, j, w), pos);
          if (a.sinks > 0)
            inWindow = arith::OrIOp::create(
                b, loc, inWindow,
                vcmp(arith::CmpIPredicate::slt, j, bcast(toI64(idx(a.sinks)))));
          vis = vis ? arith::AndIOp::create(b, loc, vis, inWindow).getResult()
                    : inWindow;
        }
        Value s = vload(t.st, {c, idx(i * vw)});
        vstore(arith::SelectOp::create(b, loc, vis, s, negInf()), t.st,
               {c, idx(i * vw)});
      }
    });
  }

  /// St += mask (the additive mask operand; element by element, since it
  /// is laid out by rows, not keys).
  void addMask(Tile &t, Value k0, Value nKeys) {
    auto type = cast<MemRefType>(t.mask.getType());
    auto at = [&](unsigned d, Value i) -> Value {
      return type.getDimSize(d) == 1 ? idx(0) : i;
    };
    forLoop(idx(0), nKeys, [&](Value c) {
      forLoop(idx(0), t.nRows, [&](Value r) {
        Value mv = load(t.mask, {at(0, t.bIdx), at(1, t.h), at(2, add(t.q0, r)),
                                 at(3, add(k0, c))});
        Value s = memref::LoadOp::create(b, loc, t.st, ValueRange{c, r});
        memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, s, mv),
                                t.st, ValueRange{c, r});
      });
    });
  }

  /// The online-softmax step of row vector i: new max, probabilities in
  /// place of the scores, new sum, and the output's rescale factor.
  void softmaxUpdate(Tile &t, Value nKeys, int64_t i) {
    Value off = idx(i * vw);
    Value mOld = vload(t.m, off);
    Value tileMax =
        forLoopCarry(idx(0), nKeys, {negInf()}, [&](Value c, ValueRange it) {
          Value s = vload(t.st, {c, off});
          return SmallVector<Value>{
              arith::MaximumFOp::create(b, loc, it[0], s).getResult()};
        })[0];
    Value mNew = arith::MaximumFOp::create(b, loc, mOld, tileMax);
    // A row that has seen no visible key keeps max -inf; subtracting 0
    // instead keeps its probabilities and rescale at exp(-inf) = 0.
    Value none = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew,
                                       negInf());
    Value mSafe = arith::SelectOp::create(b, loc, none, splat(0.0), mNew);
    Value alpha =
        math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, mOld, mSafe));
    Value sum =
        forLoopCarry(idx(0), nKeys, {splat(0.0)}, [&](Value c, ValueRange it) {
          Value s = vload(t.st, {c, off});
          Value p = math::ExpOp::create(
              b, loc, arith::SubFOp::create(b, loc, s, mSafe));
          vstore(p, t.st, {c, off});
          return SmallVector<Value>{
              arith::AddFOp::create(b, loc, it[0], p).getResult()};
        })[0];
    Value l = vload(t.l, off);
    vstore(fma(l, alpha, sum), t.l, off);
    vstore(mNew, t.m, off);
    vstore(alpha, t.alpha, off);
  }

  /// accT[e0 .. e0+ne, row vectors r0 .. r0+rvb] = accT * alpha + v^T . P,
  /// in registers over the tile's keys.
  void outputBlock(Tile &t, Value k0, Value nKeys, Value e0, int64_t ne,
                   int64_t r0) {
    SmallVector<Value> init;
    for (int64_t e = 0; e < ne; ++e)
      for (int64_t i = 0; i < rvb; ++i) {
        Value off = idx((r0 + i) * vw);
        Value x = vload(t.accT, {add(e0, idx(e)), off});
        init.push_back(arith::MulFOp::create(b, loc, x, vload(t.alpha, off)));
      }
    SmallVector<Value> acc =
        forLoopCarry(idx(0), nKeys, init, [&](Value c, ValueRange iter) {
          Value row = slotOf(t, k0, c);
          SmallVector<Value> p;
          for (int64_t i = 0; i < rvb; ++i)
            p.push_back(vload(t.st, {c, idx((r0 + i) * vw)}));
          SmallVector<Value> next(iter);
          for (int64_t e = 0; e < ne; ++e) {
            Value vx = vector::BroadcastOp::create(
                b, loc, vt, load(t.v, {t.bIdx, t.hk, row, add(e0, idx(e))}));
            for (int64_t i = 0; i < rvb; ++i)
              next[e * rvb + i] = fma(vx, p[i], next[e * rvb + i]);
          }
          return next;
        });
    for (int64_t e = 0; e < ne; ++e)
      for (int64_t i = 0; i < rvb; ++i)
        vstore(acc[e * rvb + i], t.accT, {add(e0, idx(e)), idx((r0 + i) * vw)});
  }
};
} // namespace

VectorTiling VectorTiling::get(int64_t queryTile, int64_t keyTile,
                               int64_t vectorWidth) {
  VectorTiling t;
  t.vectorWidth = vectorWidth;
  t.queryTile = llvm::divideCeil(queryTile, vectorWidth) * vectorWidth;
  t.keyTile = keyTile;
  int64_t rowVectors = t.queryTile / vectorWidth;
  t.rowVectorsPerBlock = rowVectors % 4 == 0 ? 4 : rowVectors % 2 == 0 ? 2 : 1;
  // Accumulators of a register block: half the vector registers (32 with
  // 512-bit vectors, 16 otherwise), the rest for the operands.
  int64_t accumulators = vectorWidth >= 16 ? 16 : 8;
  t.keysPerBlock = std::max<int64_t>(1, accumulators / t.rowVectorsPerBlock);
  t.valueDimsPerBlock = t.keysPerBlock;
  return t;
}

void swaa::buildVectorTiledAttention(RewriterBase &rewriter,
                                     const AttentionView &view,
                                     const VectorTiling &tiling, Value out) {
  VectorTiledBuilder(rewriter, view, tiling).build(out);
}
