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
  TiledBuilder(RewriterBase &b, const AttentionView &a,
               const ScalarTiling &tiling)
      : KernelBuilder(b, a.op->getLoc()), a(a), tq(tiling.queryTile),
        tk(tiling.keyTile), grouped(tiling.groupHeads),
        splitKeys(tiling.splitKeys), dotLanes(tiling.dotLanes) {}

  void build(Value out) {
    // No tile larger than a static row count (decode: one row).
    int64_t staticRows = a.resultType.getDimSize(2);
    if (!ShapedType::isDynamic(staticRows))
      tq = std::max<int64_t>(1, std::min(tq, staticRows));
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
    group = staticGroup() ? idx(*staticGroup()) : sizes.group;

    Value zero = idx(0), one = idx(1), tqV = idx(tq);
    qTiles = arith::CeilDivUIOp::create(b, loc, rows, tqV);
    SmallVector<Value> upper = {batch, grouped ? sizes.kvHeads : heads,
                                qTiles};
    if (splitKeys > 0) {
      // Every tile sees at most the keys of the whole query range.
      KeyRanges all = visibleKeyRanges(b, loc, a, keys, offset,
                                       sub(add(offset, rows), one));
      Value visible = add(all.sinkEnd, sub(all.end, all.start));
      splits = maxI(one, arith::CeilDivUIOp::create(b, loc, visible,
                                                    idx(splitKeys)));
      // Splits of whole key tiles.
      Value perSplit = arith::CeilDivUIOp::create(b, loc, visible, splits);
      chunk = mul(arith::CeilDivUIOp::create(b, loc, perSplit, idx(tk)),
                  idx(tk));
      upper.push_back(splits);
      // Each split's softmax state, merged after the loop.
      Value vt = virtualTile();
      partialMax = memref::AllocOp::create(
          b, loc, MemRefType::get(SmallVector<int64_t>(5, ShapedType::kDynamic),
                                  f32),
          ValueRange{batch, upper[1], qTiles, splits, vt});
      partialSum = memref::AllocOp::create(
          b, loc, MemRefType::get(SmallVector<int64_t>(5, ShapedType::kDynamic),
                                  f32),
          ValueRange{batch, upper[1], qTiles, splits, vt});
      partialAcc = memref::AllocOp::create(
          b, loc, MemRefType::get(SmallVector<int64_t>(6, ShapedType::kDynamic),
                                  f32),
          ValueRange{batch, upper[1], qTiles, splits, vt, valueDim});
    }
    SmallVector<Value> zeros(upper.size(), zero), ones(upper.size(), one);
    scf::ParallelOp::create(
        b, loc, zeros, upper, ones, [&](OpBuilder &, Location, ValueRange ivs) {
          tileBody(ivs, q, k, v, mask, out);
        });
    if (splitKeys > 0)
      mergeSplits(out);
  }

private:
  const AttentionView &a;
  int64_t tq, tk;
  bool grouped;
  int64_t splitKeys;
  int64_t dotLanes;

  Value tileBuffer(MemRefType type, ValueRange sizes = {}) {
    return memref::AllocOp::create(b, loc, type, sizes);
  }
  Value batch, heads, rows, headDim, valueDim, keys, offset, group, qTiles;
  Value splits, chunk, partialMax, partialSum, partialAcc;

  /// Keys per step of the row kernel: one vector of scores.
  static constexpr int64_t kRowKeys = 8;
  /// The most state rows a one-row tile unrolls (query heads per key/value
  /// head): more would not stay in registers.
  static constexpr int64_t kMaxSharedRows = 8;
  /// The row kernel (one state row at a time, head and value dimensions as
  /// vectors) needs static ones; grouped mode only (the decode nest).
  bool rowKernel() {
    int64_t d = cast<ShapedType>(a.query.getType()).getDimSize(3);
    int64_t dv = cast<ShapedType>(a.value.getType()).getDimSize(3);
    return grouped && !ShapedType::isDynamic(d) && !ShapedType::isDynamic(dv);
  }

  /// Query heads per key/value head when both head counts are static.
  std::optional<int64_t> staticGroup() {
    int64_t h = cast<ShapedType>(a.query.getType()).getDimSize(1);
    int64_t hk = cast<ShapedType>(a.key.getType()).getDimSize(1);
    if (ShapedType::isDynamic(h) || ShapedType::isDynamic(hk) || hk == 0)
      return std::nullopt;
    return h / hk;
  }
  /// The rows of a tile's state: its query rows, times the group's heads
  /// when the group walks the keys together (row vr = g * nRows + r).
  Value virtualTile() { return grouped ? mul(group, idx(tq)) : idx(tq); }

  /// Reassociation for the dot products (so they vectorize) and contraction
  /// into FMAs.
  arith::FastMathFlags fast() {
    return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  }
  /// For the running maxima: without NaNs, x86 selects a maximum as one
  /// vmaxps (IEEE maximum's NaN propagation costs a compare, a blend and a
  /// sign test per lane pair). Scores are finite or -inf unless the queries
  /// or keys hold NaNs, whose rows are not numbers with either maximum.
  arith::FastMathFlags noNaNs() { return arith::FastMathFlags::nnan; }
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

  /// Where state row vr of a tile reads its query: the head and the row.
  struct QueryRow {
    Value head, row;
  };
  struct Tile {
    Value bIdx, h, hk, q0, nRows, nVirtual;
  };
  QueryRow queryRow(const Tile &t, Value vr) {
    if (!grouped)
      return {t.h, add(t.q0, vr)};
    Value g = arith::DivUIOp::create(b, loc, vr, t.nRows);
    Value r = arith::RemUIOp::create(b, loc, vr, t.nRows);
    return {add(mul(t.hk, group), g), add(t.q0, r)};
  }

  /// One (batch, head or head group, query tile[, key split]): online softmax
  /// over the visible keys (of the split).
  void tileBody(ValueRange ivs, Value q, Value k, Value v, Value mask,
                Value out) {
    Tile t;
    t.bIdx = ivs[0];
    t.h = ivs[1];
    t.hk = grouped ? ivs[1] : arith::DivUIOp::create(b, loc, ivs[1], group);
    t.q0 = mul(ivs[2], idx(tq));
    t.nRows = minI(idx(tq), sub(rows, t.q0));
    t.nVirtual = grouped ? mul(group, t.nRows) : t.nRows;
    if (rowKernel())
      return rowsBody(ivs, t, q, k, v, mask, out);
    // The tile's state, one per parallel iteration (buffer deallocation frees
    // it at the end of the iteration; stack allocas would grow the stack of
    // the loop that a parallel loop becomes, and canonicalization hoists them
    // out of any alloca scope).
    std::optional<int64_t> g = staticGroup();
    int64_t vtStatic = !grouped ? tq : g ? *g * tq : ShapedType::kDynamic;
    SmallVector<Value> vtDynamic;
    if (ShapedType::isDynamic(vtStatic))
      vtDynamic.push_back(virtualTile());
    Value m = tileBuffer(MemRefType::get({vtStatic}, f32), vtDynamic);
    Value l = tileBuffer(MemRefType::get({vtStatic}, f32), vtDynamic);
    SmallVector<Value> accSizes(vtDynamic);
    accSizes.push_back(valueDim);
    Value acc = tileBuffer(
        MemRefType::get({vtStatic, ShapedType::kDynamic}, f32), accSizes);
    Value s = tileBuffer(MemRefType::get({vtStatic, tk}, f32), vtDynamic);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zeroF = fconst(0.0);
    Value zero = idx(0), one = idx(1);
    forLoop(zero, t.nVirtual, [&](Value r) {
      memref::StoreOp::create(b, loc, negInf, m, r);
      memref::StoreOp::create(b, loc, zeroF, l, r);
      forLoop(zero, valueDim, [&](Value e) {
        memref::StoreOp::create(b, loc, zeroF, acc, ValueRange{r, e});
      });
    });

    // Key ranges: positions of the first and last rows bound them.
    Value i0 = add(offset, t.q0);
    Value i1 = add(i0, sub(t.nRows, one));
    KeyRanges ranges = visibleKeyRanges(b, loc, a, keys, i0, i1);
    auto visit = [&](Value from, Value to) {
      keyRange(from, to, t, q, k, v, mask, m, l, acc, s);
    };
    if (splitKeys == 0) {
      if (a.window && a.sinks > 0)
        visit(zero, ranges.sinkEnd);
      visit(ranges.start, ranges.end);
    } else {
      for (auto [from, to] : splitRanges(ranges, ivs[3]))
        visit(from, to);
      // The split's state, as it is: the merge rescales.
      Value split = ivs[3];
      forLoop(zero, t.nVirtual, [&](Value r) {
        SmallVector<Value> at = {t.bIdx, t.h, ivs[2], split, r};
        memref::StoreOp::create(b, loc,
                                memref::LoadOp::create(b, loc, m, r),
                                partialMax, at);
        memref::StoreOp::create(b, loc,
                                memref::LoadOp::create(b, loc, l, r),
                                partialSum, at);
        forLoop(zero, valueDim, [&](Value e) {
          SmallVector<Value> atE(at);
          atE.push_back(e);
          memref::StoreOp::create(
              b, loc, memref::LoadOp::create(b, loc, acc, ValueRange{r, e}),
              partialAcc, atE);
        });
      });
      return;
    }

    // out = l > 0 ? acc / l : 0 (a row with no visible key gives zeros).
    forLoop(zero, t.nVirtual, [&](Value r) {
      QueryRow qr = queryRow(t, r);
      Value lr = memref::LoadOp::create(b, loc, l, r);
      Value any =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, lr, zeroF);
      Value inv = arith::DivFOp::create(b, loc, fconst(1.0), lr);
      forLoop(zero, valueDim, [&](Value e) {
        Value x = memref::LoadOp::create(b, loc, acc, ValueRange{r, e});
        store(arith::SelectOp::create(
                  b, loc, any, arith::MulFOp::create(b, loc, x, inv), zeroF),
              out, {t.bIdx, qr.head, qr.row, e});
      });
    });
  }

  /// The key ranges of split `split` of a tile with visible keys `ranges`:
  /// keys [v0, v1) of them numbered in order (the sinks [0, sinkEnd), then
  /// the window), as a sink range (only with sinks) and a window range.
  SmallVector<std::pair<Value, Value>> splitRanges(const KeyRanges &ranges,
                                                   Value split) {
    SmallVector<std::pair<Value, Value>> out;
    Value v0 = mul(split, chunk), v1 = add(v0, chunk);
    if (a.window && a.sinks > 0)
      out.push_back({minI(v0, ranges.sinkEnd), minI(v1, ranges.sinkEnd)});
    Value windowEnd = add(ranges.sinkEnd, sub(ranges.end, ranges.start));
    Value lo = maxI(v0, ranges.sinkEnd);
    Value hi = maxI(lo, minI(v1, windowEnd));
    Value base = sub(ranges.start, ranges.sinkEnd);
    out.push_back({add(base, lo), add(base, hi)});
    return out;
  }

  /// The row kernel: the tile's state rows (query heads of the group x query
  /// rows) walk the keys of the tile (of the split) together, in steps of
  /// kRowKeys keys: per step and state row, the scores as one vector (a dot
  /// product of the query vector with each key row), their exponentials as
  /// one vector, and the value rows accumulated with FMAs. The step's key and
  /// value rows come from memory once, for every state row (they stay in L1);
  /// the states (running max, sum, an accumulator of the value dimension)
  /// live in small buffers. A step past the range's end re-reads its last key
  /// with a score of -inf (weight 0), so that no load leaves the range.
  void rowsBody(ValueRange ivs, const Tile &t, Value q, Value k, Value v,
                Value mask, Value out) {
    Value zero = idx(0), one = idx(1);
    int64_t d = cast<ShapedType>(a.query.getType()).getDimSize(3);
    int64_t dv = cast<ShapedType>(a.value.getType()).getDimSize(3);
    auto qType = VectorType::get({d}, f32);
    auto accType = VectorType::get({dv}, f32);
    Value i0 = add(offset, t.q0);
    Value i1 = add(i0, sub(t.nRows, one));
    KeyRanges ranges = visibleKeyRanges(b, loc, a, keys, i0, i1);
    SmallVector<std::pair<Value, Value>> visits;
    if (splitKeys > 0) {
      visits = splitRanges(ranges, ivs[3]);
    } else {
      if (a.window && a.sinks > 0)
        visits.push_back({zero, ranges.sinkEnd});
      visits.push_back({ranges.start, ranges.end});
    }
    // The states, one row per state row (freed at the end of the iteration,
    // as the scalar nest's tiles).
    std::optional<int64_t> g = staticGroup();
    int64_t vtStatic = g ? *g * tq : ShapedType::kDynamic;
    SmallVector<Value> vtDynamic;
    if (ShapedType::isDynamic(vtStatic))
      vtDynamic.push_back(virtualTile());
    RowBuffers st;
    st.q = tileBuffer(MemRefType::get({vtStatic, d}, f32), vtDynamic);
    st.m = tileBuffer(MemRefType::get({vtStatic}, f32), vtDynamic);
    st.l = tileBuffer(MemRefType::get({vtStatic}, f32), vtDynamic);
    st.acc = tileBuffer(MemRefType::get({vtStatic, dv}, f32), vtDynamic);
    Value zeroF = fconst(0.0);
    forLoop(zero, t.nVirtual, [&](Value vr) {
      QueryRow qr = queryRow(t, vr);
      Value qv = arith::MulFOp::create(
          b, loc, loadVector(q, {t.bIdx, qr.head, qr.row, zero}, qType),
          splat(qType, fconst(a.scale)));
      vector::StoreOp::create(b, loc, qv, st.q, ValueRange{vr, zero});
      memref::StoreOp::create(
          b, loc, fconst(-std::numeric_limits<float>::infinity()), st.m, vr);
      memref::StoreOp::create(b, loc, zeroF, st.l, vr);
      vector::StoreOp::create(b, loc, splat(accType, zeroF), st.acc,
                              ValueRange{vr, zero});
    });
    // A tile of one query row (decode's): its state rows are the group's
    // heads, unrolled so that they share each key and value row's load.
    auto steps = [&](const Tile &tile, std::optional<int64_t> shared) {
      for (auto [from, to] : visits)
        rowSteps(from, to, tile, st, d, dv, k, v, mask, shared);
    };
    if (g && *g <= kMaxSharedRows) {
      Tile single = t;
      single.nRows = one;
      single.nVirtual = idx(*g);
      if (tq == 1) {
        steps(single, *g);
      } else {
        auto choice = scf::IfOp::create(
            b, loc, TypeRange{}, cmp(arith::CmpIPredicate::eq, t.nRows, one),
            /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(choice.thenBlock());
        steps(single, *g);
        b.setInsertionPointToStart(choice.elseBlock());
        steps(t, std::nullopt);
      }
    } else {
      steps(t, std::nullopt);
    }
    forLoop(zero, t.nVirtual, [&](Value vr) {
      Value m = memref::LoadOp::create(b, loc, st.m, vr);
      Value l = memref::LoadOp::create(b, loc, st.l, vr);
      Value acc =
          vector::LoadOp::create(b, loc, accType, st.acc, ValueRange{vr, zero});
      if (splitKeys > 0) {
        SmallVector<Value> at = {t.bIdx, t.h, ivs[2], ivs[3], vr};
        memref::StoreOp::create(b, loc, m, partialMax, at);
        memref::StoreOp::create(b, loc, l, partialSum, at);
        at.push_back(zero);
        vector::StoreOp::create(b, loc, acc, partialAcc, at);
        return;
      }
      QueryRow qr = queryRow(t, vr);
      Value any =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zeroF);
      Value inv = arith::DivFOp::create(b, loc, fconst(1.0), l);
      Value y = arith::SelectOp::create(
          b, loc, any, arith::MulFOp::create(b, loc, acc, splat(accType, inv)),
          splat(accType, zeroF));
      Type outElem = cast<MemRefType>(out.getType()).getElementType();
      if (outElem != f32)
        y = arith::TruncFOp::create(b, loc, VectorType::get({dv}, outElem), y);
      vector::StoreOp::create(b, loc, y, out,
                              ValueRange{t.bIdx, qr.head, qr.row, zero});
    });
  }

  /// The row kernel's state buffers: the scaled queries, running maxima and
  /// sums, and the output accumulators, per state row.
  struct RowBuffers {
    Value q, m, l, acc;
  };

  /// The keys [from, to) in steps of kRowKeys, every state row per step:
  /// with `sharedRows` (R), the tile's R state rows are unrolled and share
  /// each load (and widening, for a 16-bit cache) of the step's key and
  /// value rows; otherwise a loop over the state rows.
  ///
  /// Shared rows belong to a one-row tile (decode), whose key ranges hold
  /// exactly its visible keys: the range is cut where its cache slots wrap
  /// (a ring's), and each piece walks whole steps of consecutive slots (no
  /// clamping, no visibility test: one base address, keys at fixed offsets
  /// from it), then one clamped step for the last keys.
  void rowSteps(Value from, Value to, const Tile &t, const RowBuffers &st,
                int64_t d, int64_t dv, Value k, Value v, Value mask,
                std::optional<int64_t> sharedRows) {
    auto run = [&](const Step &s) {
      if (sharedRows) {
        SmallVector<Value> vrs;
        for (int64_t r = 0; r < *sharedRows; ++r)
          vrs.push_back(idx(r));
        stepRows(vrs, s, t, st, d, dv, k, v, mask);
        return;
      }
      forLoop(idx(0), t.nVirtual,
              [&](Value vr) { stepRows(vr, s, t, st, d, dv, k, v, mask); });
    };
    auto clampedSteps = [&](Value lo, Value hi) {
      forLoop(lo, hi, idx(kRowKeys), [&](Value j0) {
        Value last = sub(hi, idx(1));
        Step s;
        for (int64_t c = 0; c < kRowKeys; ++c) {
          Value j = add(j0, idx(c));
          s.inRange.push_back(cmp(arith::CmpIPredicate::slt, j, hi));
          s.keyAt.push_back(minI(j, last));
          s.slots.push_back(slot(s.keyAt.back()));
        }
        s.exact = sharedRows.has_value();
        run(s);
      });
    };
    if (!sharedRows)
      return clampedSteps(from, to);
    auto pieceSteps = [&](Value lo, Value hi) {
      Value steps = arith::DivUIOp::create(b, loc, sub(hi, lo), idx(kRowKeys));
      Value whole = add(lo, mul(steps, idx(kRowKeys)));
      forLoop(lo, whole, idx(kRowKeys), [&](Value j0) {
        Step s;
        s.exact = true;
        Value first = slot(j0);
        for (int64_t c = 0; c < kRowKeys; ++c) {
          s.keyAt.push_back(add(j0, idx(c)));
          s.slots.push_back(add(first, idx(c)));
        }
        run(s);
      });
      clampedSteps(whole, hi);
    };
    if (!a.ringWindow)
      return pieceSteps(from, to);
    // A ring's slots run on from position `from` up to the next multiple of
    // the window past the sinks (positions below the sinks and the first
    // window keep their own slot); the piece after it starts again at the
    // ring's first slot. A visit spans at most one window, so two pieces.
    Value sinks = idx(a.ringSinks.getInt());
    Value window = idx(a.ringWindow.getInt());
    Value past = sub(maxI(from, sinks), sinks);
    Value wrap = add(
        sinks,
        mul(add(arith::DivUIOp::create(b, loc, past, window), idx(1)), window));
    Value mid = maxI(from, minI(to, wrap));
    pieceSteps(from, mid);
    pieceSteps(mid, to);
  }

  /// A step's keys: their positions and cache slots; for a clamped step,
  /// whether each is before the range's end (the last one's position
  /// repeated past it; empty for a whole step). `exact`: the range holds
  /// only visible keys (a one-row tile's), so no visibility test.
  struct Step {
    SmallVector<Value> inRange, keyAt, slots;
    bool exact = false;
  };

  /// One step of kRowKeys keys for the state rows `vrs`.
  void stepRows(ArrayRef<Value> vrs, const Step &s, const Tile &t,
                const RowBuffers &st, int64_t d, int64_t dv, Value k, Value v,
                Value mask) {
    auto vType = VectorType::get({dv}, f32);
    auto sType = VectorType::get({kRowKeys}, f32);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zero = idx(0);
    size_t rows = vrs.size();
    SmallVector<Value> raw =
        stepScores(vrs, st, d, [&](int64_t c, VectorType type, int64_t e) {
          return loadVector(k, {t.bIdx, t.hk, s.slots[c], idx(e)}, type);
        });
    SmallVector<Value> p(rows), mNew(rows), l(rows), acc(rows);
    for (size_t r = 0; r < rows; ++r) {
      Value vr = vrs[r];
      QueryRow qr = queryRow(t, vr);
      Value i = add(offset, qr.row);
      Value scores = splat(sType, negInf);
      for (int64_t c = 0; c < kRowKeys; ++c) {
        Value jc = s.keyAt[c];
        Value score = vector::ExtractOp::create(b, loc, raw[r], c);
        if (a.softcap)
          score = softcapScore(score, *a.softcap);
        if (mask) {
          Value mv = load(
              mask, {maskIndex(mask, 0, t.bIdx), maskIndex(mask, 1, qr.head),
                     maskIndex(mask, 2, qr.row), maskIndex(mask, 3, jc)});
          score = arith::AddFOp::create(b, loc, score, mv);
        }
        if (!s.inRange.empty()) {
          Value visible = s.inRange[c];
          if (!s.exact)
            if (Value contract = visibleKey(i, jc))
              visible = arith::AndIOp::create(b, loc, visible, contract);
          score = arith::SelectOp::create(b, loc, visible, score, negInf);
        }
        scores = vector::InsertOp::create(b, loc, score, scores, c);
      }
      Value mOld = memref::LoadOp::create(b, loc, st.m, vr);
      mNew[r] = arith::MaximumFOp::create(
          b, loc, mOld,
          vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                      scores, Value(), noNaNs()),
          noNaNs());
      // Nothing visible yet: the state stays as it is (weights 0, scale 1)
      // instead of exp(-inf - -inf).
      Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                         mNew[r], negInf);
      Value alpha = arith::SelectOp::create(
          b, loc, live,
          math::ExpOp::create(b, loc,
                              arith::SubFOp::create(b, loc, mOld, mNew[r])),
          fconst(1.0));
      p[r] = arith::SelectOp::create(
          b, loc, live,
          math::ExpOp::create(
              b, loc,
              arith::SubFOp::create(b, loc, scores, splat(sType, mNew[r]))),
          splat(sType, fconst(0.0)));
      Value lOld = memref::LoadOp::create(b, loc, st.l, vr);
      l[r] = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, lOld, alpha),
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, p[r],
                                      Value(), fast()));
      acc[r] = arith::MulFOp::create(
          b, loc,
          vector::LoadOp::create(b, loc, vType, st.acc, ValueRange{vr, zero}),
          splat(vType, alpha));
    }
    for (int64_t c = 0; c < kRowKeys; ++c) {
      Value vv = loadVector(v, {t.bIdx, t.hk, s.slots[c], zero}, vType);
      for (size_t r = 0; r < rows; ++r) {
        Value pc = vector::ExtractOp::create(b, loc, p[r], c);
        acc[r] = vector::FMAOp::create(b, loc, splat(vType, pc), vv, acc[r]);
      }
    }
    for (size_t r = 0; r < rows; ++r) {
      vector::StoreOp::create(b, loc, acc[r], st.acc, ValueRange{vrs[r], zero});
      memref::StoreOp::create(b, loc, mNew[r], st.m, vrs[r]);
      memref::StoreOp::create(b, loc, l[r], st.l, vrs[r]);
    }
  }

  /// The dot products of each state row's query (`vrs`) with the step's
  /// kRowKeys key rows, one vector per row (lane c: key c). `keyChunk(c,
  /// type, e)` loads elements [e, e + type's size) of key row c as f32,
  /// once for all the rows. With a head size that is a multiple of
  /// kRowKeys, each key's products are summed in kRowKeys lanes by FMAs
  /// over the head's chunks (no reduction per key), then the kRowKeys
  /// partial vectors are transposed and summed (three rounds of pairwise
  /// adds of shuffled lanes, which x86 selects as horizontal adds, each
  /// built as soon as its operands exist). Otherwise one reduction per key.
  SmallVector<Value>
  stepScores(ArrayRef<Value> vrs, const RowBuffers &st, int64_t d,
             function_ref<Value(int64_t, VectorType, int64_t)> keyChunk) {
    auto sType = VectorType::get({kRowKeys}, f32);
    size_t rows = vrs.size();
    SmallVector<Value> out;
    if (d % kRowKeys != 0) {
      auto qType = VectorType::get({d}, f32);
      SmallVector<Value> qv;
      for (Value vr : vrs)
        qv.push_back(vector::LoadOp::create(b, loc, qType, st.q,
                                            ValueRange{vr, idx(0)}));
      SmallVector<SmallVector<Value>> lanes(rows);
      for (int64_t c = 0; c < kRowKeys; ++c) {
        Value kv = keyChunk(c, qType, 0);
        for (size_t r = 0; r < rows; ++r)
          lanes[r].push_back(vector::ReductionOp::create(
              b, loc, vector::CombiningKind::ADD,
              arith::MulFOp::create(b, loc, qv[r], kv, fast()), Value(),
              fast()));
      }
      for (size_t r = 0; r < rows; ++r)
        out.push_back(vector::FromElementsOp::create(b, loc, sType, lanes[r]));
      return out;
    }
    // Each row's query in chunks of `lanes`, loaded once for the step's
    // keys: 16 where the target has them (half the FMAs of 8-lane chunks,
    // and 3 rows x 4 chunks of a 64-wide head stay in registers, where 3 x
    // 8 with the key's partial sums spilled), each key's 16-lane sum then
    // folded to 8.
    int64_t lanes =
        dotLanes > kRowKeys && d % dotLanes == 0 ? dotLanes : kRowKeys;
    auto cType = VectorType::get({lanes}, f32);
    SmallVector<SmallVector<Value>> qChunks(rows);
    for (size_t r = 0; r < rows; ++r)
      for (int64_t e = 0; e < d; e += lanes)
        qChunks[r].push_back(vector::LoadOp::create(
            b, loc, cType, st.q, ValueRange{vrs[r], idx(e)}));
    // The keys' partial vectors are summed across lanes as soon as a pair
    // (then a quad) of them exists (the tree of sumLanes, built in key
    // order), so that a step keeps a few partial vectors per row live, not
    // all kRowKeys.
    static_assert(kRowKeys == 8, "the lane sums transpose 8 x 8");
    SmallVector<Value> pending(rows), pair(rows), quad(rows);
    out.resize(rows);
    for (int64_t c = 0; c < kRowKeys; ++c) {
      SmallVector<Value> sum(rows);
      for (int64_t e = 0; e < d; e += lanes) {
        Value kc = keyChunk(c, cType, e);
        for (size_t r = 0; r < rows; ++r) {
          Value qc = qChunks[r][e / lanes];
          sum[r] =
              sum[r]
                  ? vector::FMAOp::create(b, loc, qc, kc, sum[r]).getResult()
                  : arith::MulFOp::create(b, loc, qc, kc, fast()).getResult();
        }
      }
      for (size_t r = 0; r < rows; ++r) {
        Value partial = lanes == kRowKeys ? sum[r] : foldLanes(sum[r]);
        if (c % 2 == 0) {
          pending[r] = partial;
          continue;
        }
        Value h = haddLanes(pending[r], partial);
        if (c % 4 == 1) {
          pair[r] = h;
          continue;
        }
        Value t = haddLanes(pair[r], h);
        if (c == 3)
          quad[r] = t;
        else
          out[r] = combineHalves(quad[r], t);
      }
    }
    return out;
  }

  /// A vector of 2 x 8 lanes as 8: its halves added.
  Value foldLanes(Value v) {
    int64_t n = cast<VectorType>(v.getType()).getNumElements();
    Value x = v;
    while (n > kRowKeys) {
      SmallVector<int64_t> low, high;
      for (int64_t i = 0; i < n / 2; ++i) {
        low.push_back(i);
        high.push_back(n / 2 + i);
      }
      x = addShuffled(x, x, low, high, fast());
      n /= 2;
    }
    return x;
  }

  /// The pairwise sums of adjacent lanes of x and y, interleaved within
  /// 128-bit halves (x86's vhaddps).
  Value haddLanes(Value x, Value y) {
    return addShuffled(x, y, {0, 2, 8, 10, 4, 6, 12, 14},
                       {1, 3, 9, 11, 5, 7, 13, 15});
  }

  /// t0 holds lanes 0-3 of vectors 0..3 summed (low half) and lanes 4-7
  /// (high half), t1 the same for vectors 4..7: lane c of the result is the
  /// sum of vector c's lanes.
  Value combineHalves(Value t0, Value t1) {
    return addShuffled(t0, t1, {0, 1, 2, 3, 8, 9, 10, 11},
                       {4, 5, 6, 7, 12, 13, 14, 15});
  }

  /// shuffle(x, y, first) + shuffle(x, y, second), the shuffles created in
  /// that order.
  Value addShuffled(Value x, Value y, ArrayRef<int64_t> first,
                    ArrayRef<int64_t> second,
                    arith::FastMathFlags flags = arith::FastMathFlags::none) {
    Value lhs = vector::ShuffleOp::create(b, loc, x, y, first);
    Value rhs = vector::ShuffleOp::create(b, loc, x, y, second);
    return arith::AddFOp::create(b, loc, lhs, rhs, flags);
  }

  Value splat(VectorType type, Value x) {
    return vector::BroadcastOp::create(b, loc, type, x);
  }
  /// A vector of `type`'s size from row `indices` of `buf` (any element
  /// type), as f32.
  Value loadVector(Value buf, ValueRange indices, VectorType type) {
    Type elem = cast<MemRefType>(buf.getType()).getElementType();
    Value x = vector::LoadOp::create(
        b, loc, VectorType::get(type.getShape(), elem), buf, indices);
    if (elem != f32)
      x = arith::ExtFOp::create(b, loc, type, x);
    return x;
  }

  /// The splits' states merged per (batch, head, row): with M the largest
  /// running max, out = sum_s e^(m_s - M) acc_s / sum_s e^(m_s - M) l_s
  /// (zeros where no split saw a key).
  void mergeSplits(Value out) {
    Value zero = idx(0), one = idx(1);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zeroF = fconst(0.0);
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero, zero}, ValueRange{batch, heads, rows},
        ValueRange{one, one, one}, [&](OpBuilder &, Location, ValueRange ivs) {
          Value h = ivs[1], row = ivs[2];
          Value tile = arith::DivUIOp::create(b, loc, row, idx(tq));
          Value r = arith::RemUIOp::create(b, loc, row, idx(tq));
          Value nRows = minI(idx(tq), sub(rows, mul(tile, idx(tq))));
          Value hIdx = h, vr = r;
          if (grouped) {
            hIdx = arith::DivUIOp::create(b, loc, h, group);
            vr = add(mul(arith::RemUIOp::create(b, loc, h, group), nRows), r);
          }
          auto at = [&](Value split) -> SmallVector<Value> {
            return {ivs[0], hIdx, tile, split, vr};
          };
          Value best = forLoopReduce(zero, splits, negInf, [&](Value sp,
                                                               Value x) {
            return arith::MaximumFOp::create(
                       b, loc, x,
                       memref::LoadOp::create(b, loc, partialMax, at(sp)))
                .getResult();
          });
          Value live = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE,
                                             best, negInf);
          Value o = tileBuffer(MemRefType::get({ShapedType::kDynamic}, f32),
                               valueDim);
          forLoop(zero, valueDim, [&](Value e) {
            memref::StoreOp::create(b, loc, zeroF, o, e);
          });
          Value sum = forLoopReduce(zero, splits, zeroF, [&](Value sp,
                                                              Value total) {
            Value mS = memref::LoadOp::create(b, loc, partialMax, at(sp));
            // e^(m_s - M), 0 for a split without keys (and without any).
            Value w = arith::SelectOp::create(
                b, loc, live,
                math::ExpOp::create(b, loc,
                                    arith::SubFOp::create(b, loc, mS, best)),
                zeroF);
            Value lS = memref::LoadOp::create(b, loc, partialSum, at(sp));
            forLoop(zero, valueDim, [&](Value e) {
              SmallVector<Value> atE = at(sp);
              atE.push_back(e);
              Value x = memref::LoadOp::create(b, loc, partialAcc, atE);
              Value old = memref::LoadOp::create(b, loc, o, e);
              memref::StoreOp::create(
                  b, loc,
                  arith::AddFOp::create(
                      b, loc, old, arith::MulFOp::create(b, loc, w, x, fast()),
                      fast()),
                  o, e);
            });
            return arith::AddFOp::create(
                       b, loc, total, arith::MulFOp::create(b, loc, w, lS))
                .getResult();
          });
          Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                            sum, zeroF);
          Value inv = arith::DivFOp::create(b, loc, fconst(1.0), sum);
          forLoop(zero, valueDim, [&](Value e) {
            Value x = memref::LoadOp::create(b, loc, o, e);
            store(arith::SelectOp::create(
                      b, loc, any, arith::MulFOp::create(b, loc, x, inv),
                      zeroF),
                  out, {ivs[0], h, row, e});
          });
        });
  }

  /// The key tiles of [from, to).
  void keyRange(Value from, Value to, const Tile &t, Value q, Value k, Value v,
                Value mask, Value m, Value l, Value acc, Value s) {
    scf::ForOp::create(b, loc, from, to, idx(tk), ValueRange{},
                       [&](OpBuilder &, Location, Value k0, ValueRange) {
                         Value nKeys = minI(idx(tk), sub(to, k0));
                         keyTile(k0, nKeys, t, q, k, v, mask, m, l, acc, s);
                         scf::YieldOp::create(b, loc);
                       });
  }

  void keyTile(Value k0, Value nKeys, const Tile &t, Value q, Value k, Value v,
               Value mask, Value m, Value l, Value acc, Value s) {
    Value zero = idx(0);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value zeroF = fconst(0.0);
    Value scale = fconst(a.scale);
    Value bIdx = t.bIdx, hk = t.hk;
    forLoop(zero, t.nVirtual, [&](Value r) {
      QueryRow qr = queryRow(t, r);
      Value h = qr.head, row = qr.row;
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
        Value sum =
            forLoopReduce(zero, nKeys, zeroF, [&](Value c, Value total) {
              Value x = memref::LoadOp::create(b, loc, s, ValueRange{r, c});
              Value p = math::ExpOp::create(
                  b, loc, arith::SubFOp::create(b, loc, x, mNew));
              memref::StoreOp::create(b, loc, p, s, ValueRange{r, c});
              return arith::AddFOp::create(b, loc, total, p, fast())
                  .getResult();
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

void KernelBuilder::store(Value x, Value buf, ValueRange indices) {
  Type elem = cast<MemRefType>(buf.getType()).getElementType();
  if (elem != f32)
    x = arith::TruncFOp::create(b, loc, elem, x);
  memref::StoreOp::create(b, loc, x, buf, indices);
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
                                             int64_t vectorWidth,
                                             int64_t splitKeys) {
  FailureOr<AttentionView> view = viewAttention(op);
  if (failed(view))
    return failure();
  if (queryTile < 1 || keyTile < 1)
    return op->emitOpError("needs positive tile sizes");
  if (vectorWidth < 0 || vectorWidth == 1)
    return op->emitOpError("needs a vector width of 0 (scalar) or at least 2");
  if (splitKeys < 0)
    return op->emitOpError("needs a split size of 0 (no splits) or more");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op->getLoc();
  // Vectors across query rows pay off when a tile has rows to fill them:
  // with fewer rows than lanes (decode) the scalar loop nest runs, whose dot
  // products vectorize along the head dimension instead. A dynamic row
  // count decides at run time. Such a step reads the whole cache for a few
  // FLOPs per key, so there the heads of a group walk their shared keys
  // together (one read of the cache, not one per query head) and the keys
  // are split across threads; with width 0 (the scalar nest throughout) the
  // nest is the plain one.
  // One result buffer that either kernel writes (a buffer yielded by an
  // scf.if would live until the end of the function: buffer deallocation
  // cannot free a conditionally owned one early).
  Value out = allocResult(rewriter, loc, *view,
                          attentionSizes(rewriter, loc, *view));
  auto scalar = [&]() {
    ScalarTiling tiling{queryTile, keyTile, /*groupHeads=*/vectorWidth > 0,
                        vectorWidth > 0 ? splitKeys : 0,
                        /*dotLanes=*/vectorWidth >= 16 ? 16 : 8};
    TiledBuilder(rewriter, *view, tiling).build(out);
  };
  int64_t staticRows = view->resultType.getDimSize(2);
  if (vectorWidth == 0 ||
      (!ShapedType::isDynamic(staticRows) && staticRows < vectorWidth)) {
    scalar();
  } else {
    VectorTiling tiling = VectorTiling::get(queryTile, keyTile, vectorWidth);
    auto vectorized = [&]() {
      buildVectorTiledAttention(rewriter, *view, tiling, out);
    };
    if (!ShapedType::isDynamic(staticRows)) {
      vectorized();
    } else {
      Value rows = rewriter.createOrFold<tensor::DimOp>(loc, view->query, 2);
      Value few = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ult, rows,
          arith::ConstantIndexOp::create(rewriter, loc, vectorWidth));
      auto choice = scf::IfOp::create(rewriter, loc, TypeRange{}, few,
                                      /*withElseRegion=*/true);
      rewriter.setInsertionPointToStart(choice.thenBlock());
      scalar();
      rewriter.setInsertionPointToStart(choice.elseBlock());
      vectorized();
      rewriter.setInsertionPointAfter(choice);
    }
  }
  Value result = bufferization::ToTensorOp::create(
      rewriter, loc, view->resultType, out, /*restrict=*/true,
      /*writable=*/true);
  rewriter.replaceOp(op, result);
  return result;
}
