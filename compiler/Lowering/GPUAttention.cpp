//===- GPUAttention.cpp - attention as CUDA-style kernels -----------------===//
//
// Lowers `attn.attention` and `attn.cache_attention` to `gpu.launch` kernels
// (flash attention for GPUs; the CPU's loop nest is TiledAttention.cpp):
//
// Prefill (several query rows): a block per (query tile, head, batch), R
// threads per query row (R = 1, 2, 4, .. so that a thread holds at most 16
// of the row's q and output elements: no register spills at head_dim 64 or
// 128; at most 128 threads per block), each with its part of q and of the
// online-softmax state (running max m, sum l, output acc) in registers; the R
// partial dot products are summed with warp shuffles:
//
//   q = scale * Q[row]                               -- registers
//   for key tile in [0, sink end) then [window start, last row]:
//     Ks, Vs <- K, V rows of the tile                -- shared memory, loaded
//     barrier                                           by the whole block
//     for each key c of the tile:
//       s = q . Ks[c] (+ mask), -inf where hidden
//       m' = max(m, s); l = l e^(m-m') + e^(s-m'); acc = acc e^(m-m') +
//       e^(s-m') Vs[c]
//     barrier
//   O[row] = l > 0 ? acc / l : 0
//
// The key tiles a block visits are bounded by its rows' visibility (the
// same ranges as the CPU loop nest), so a windowed layer costs
// O(n * (window + sinks)).
//
// Decode (one query row), split-K as in flash-decoding: the visible keys
// (sinks, then the window) are cut into chunks of at least 256 keys (at most
// 64 chunks); a block of `decode-threads` threads per (chunk, head, batch)
// splits its chunk over groups of R threads, each group keeps its own
// (m, l, acc), the block combines them through shared memory into one
// partial state in global memory, and a second kernel combines the chunks:
// O = sum_c e^(m_c - M) acc_c / sum_c e^(m_c - M) l_c.
// When the number of rows is only known at run time, both kernels are
// emitted and the host picks one (rows == 1).
//
// The kernels are built on the operands' buffers (bufferization.to_buffer)
// and write a fresh buffer, returned as a tensor (to_tensor restrict), so
// the whole model is still bufferized by one-shot bufferization.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/AttentionView.h"
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <limits>

using namespace mlir;
using namespace mlir::swaa;

namespace {
/// Shared memory a block may use without the opt-in, with room to spare.
constexpr int64_t kSharedBudget = 40 * 1024;
/// At most this many of q's and the output row's elements per thread.
constexpr int64_t kRowElementsPerThread = 16;
/// Decode splits the visible keys into chunks of at least this many keys,
/// one block each, and at most this many chunks.
constexpr int64_t kKeysPerSplit = 256;
constexpr int64_t kMaxSplits = 64;
/// At most this many threads per prefill block: ptxas budgets fewer
/// registers per thread for larger blocks (64 at 256 threads on sm_90, where
/// the kernel for head_dim 64 with 16-bit inputs spills).
constexpr int64_t kMaxPrefillThreads = 128;

/// The online-softmax state of one query row: max, sum, output.
struct RowState {
  Value m, l;
  SmallVector<Value> acc;

  SmallVector<Value> flat() const {
    SmallVector<Value> v = {m, l};
    v.append(acc.begin(), acc.end());
    return v;
  }
  static RowState from(ValueRange v) {
    RowState s;
    s.m = v[0];
    s.l = v[1];
    s.acc.assign(v.begin() + 2, v.end());
    return s;
  }
};

class GPUAttentionBuilder : KernelBuilder {
public:
  GPUAttentionBuilder(RewriterBase &b, const AttentionView &a,
                      int64_t queryTile, int64_t keyTile, int64_t decodeThreads)
      : KernelBuilder(b, a.op->getLoc()), a(a), tq(queryTile), tk(keyTile),
        decodeThreads(decodeThreads) {
    auto qType = cast<RankedTensorType>(a.query.getType());
    auto vType = cast<RankedTensorType>(a.value.getType());
    headDim = qType.getDimSize(3);
    valueDim = vType.getDimSize(3);
  }

  LogicalResult build() {
    if (ShapedType::isDynamic(headDim) || ShapedType::isDynamic(valueDim))
      return a.op->emitOpError(
          "needs a static head dimension for the GPU kernels (query and "
          "value types end in ?)");
    // Threads per query row: a power of two (at most a warp) that divides
    // both head dimensions.
    lanes = 1;
    while (lanes < 32 && (headDim + valueDim) / lanes > kRowElementsPerThread &&
           headDim % (2 * lanes) == 0 && valueDim % (2 * lanes) == 0)
      lanes *= 2;
    dPart = headDim / lanes;
    ePart = valueDim / lanes;
    tq = std::min(tq, std::max<int64_t>(1, kMaxPrefillThreads / lanes));
    // Shrink the tiles until the shared memory fits.
    while (tk > 1 && prefillShared() > kSharedBudget)
      tk /= 2;
    while (decodeThreads > 32 && decodeShared() > kSharedBudget)
      decodeThreads /= 2;
    decodeThreads = std::max(decodeThreads, lanes);
    if (prefillShared() > kSharedBudget || decodeShared() > kSharedBudget)
      return a.op->emitOpError("head dimension ")
             << headDim << " is too large for the GPU attention kernels";

    q = buffer(a.query);
    k = buffer(a.key);
    v = buffer(a.value);
    if (a.mask)
      mask = buffer(a.mask);
    AttentionSizes sizes = attentionSizes(b, loc, a);
    batch = sizes.batch;
    heads = sizes.heads;
    rows = sizes.rows;
    keys = sizes.keys;
    offset = sizes.offset;
    group = sizes.group;
    out = allocResult(b, loc, a, sizes);

    int64_t staticRows =
        cast<RankedTensorType>(a.query.getType()).getDimSize(2);
    if (staticRows == 1) {
      decodeKernel();
    } else if (!ShapedType::isDynamic(staticRows)) {
      prefillKernel();
    } else {
      Value single = cmp(arith::CmpIPredicate::eq, rows, idx(1));
      scf::IfOp::create(
          b, loc, single,
          [&](OpBuilder &, Location) {
            decodeKernel();
            scf::YieldOp::create(b, loc);
          },
          [&](OpBuilder &, Location) {
            prefillKernel();
            scf::YieldOp::create(b, loc);
          });
    }
    result = bufferization::ToTensorOp::create(b, loc, a.resultType, out,
                                               /*restrict=*/true,
                                               /*writable=*/true);
    return success();
  }

  Value result;

private:
  const AttentionView &a;
  int64_t tq, tk, decodeThreads;
  int64_t headDim, valueDim;
  /// Threads per query row, and the q / output elements each one holds.
  int64_t lanes = 1, dPart = 0, ePart = 0;
  Value q, k, v, mask, out;
  Value batch, heads, rows, keys, offset, group;

  int64_t prefillShared() const { return 4 * tk * (headDim + valueDim); }
  int64_t decodeShared() const {
    return 4 * (decodeThreads / lanes) * (valueDim + 3);
  }

  //===--------------------------------------------------------------------===//
  // Small builders
  //===--------------------------------------------------------------------===//

  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  arith::FastMathFlags fast() {
    return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  }
  Value fadd(Value x, Value y) {
    return arith::AddFOp::create(b, loc, x, y, fast());
  }
  Value fmul(Value x, Value y) {
    return arith::MulFOp::create(b, loc, x, y, fast());
  }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }

  MemRefType sharedType(ArrayRef<int64_t> shape) {
    return MemRefType::get(
        shape, f32, MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(
            b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace()));
  }
  Value slot(Value j) {
    return cacheSlot(b, loc, j, a.ringWindow, a.ringSinks);
  }
  Value maskIndex(unsigned d, Value i) {
    return cast<MemRefType>(mask.getType()).getDimSize(d) == 1 ? idx(0) : i;
  }

  RowState forState(Value from, Value to, Value step, const RowState &init,
                    function_ref<RowState(Value, const RowState &)> body) {
    auto loop = scf::ForOp::create(
        b, loc, from, to, step, init.flat(),
        [&](OpBuilder &, Location, Value iv, ValueRange iter) {
          scf::YieldOp::create(b, loc, body(iv, RowState::from(iter)).flat());
        });
    return RowState::from(loop.getResults());
  }
  void ifThen(Value cond, function_ref<void()> body) {
    scf::IfOp::create(b, loc, cond, [&](OpBuilder &, Location) {
      body();
      scf::YieldOp::create(b, loc);
    });
  }

  //===--------------------------------------------------------------------===//
  // What both kernels share
  //===--------------------------------------------------------------------===//

  Value visibleKey(Value i, Value j) {
    return swaa::visibleKey(b, loc, a, i, j);
  }

  void keyRanges(Value i0, Value i1, Value &sinkEnd, Value &start, Value &end) {
    KeyRanges r = visibleKeyRanges(b, loc, a, keys, i0, i1);
    sinkEnd = r.sinkEnd;
    start = r.start;
    end = r.end;
  }

  RowState initialState() {
    RowState s;
    s.m = fconst(-std::numeric_limits<float>::infinity());
    s.l = fconst(0.0);
    s.acc.assign(ePart, fconst(0.0));
    return s;
  }

  /// One key's step of the online softmax: `score` (already -inf where
  /// hidden) and the thread's part of the key's value row, `valueAt(e)`.
  RowState update(const RowState &s, Value score,
                  function_ref<Value(int64_t)> valueAt) {
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    Value mNew = arith::MaximumFOp::create(b, loc, s.m, score);
    // Nothing visible yet: subtract 0 instead of -inf (no NaN).
    Value mSafe = select(
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, mNew, negInf),
        fconst(0.0), mNew);
    Value corr = exp(arith::SubFOp::create(b, loc, s.m, mSafe));
    Value p = exp(arith::SubFOp::create(b, loc, score, mSafe));
    RowState n;
    n.m = mNew;
    n.l = fadd(fmul(s.l, corr), p);
    for (int64_t e = 0; e < ePart; ++e)
      n.acc.push_back(fadd(fmul(s.acc[e], corr), fmul(p, valueAt(e))));
    return n;
  }

  /// scale * q . key (+ the mask), -inf where the key is hidden: each of
  /// the row's threads sums its part (`qAt(d)`, `kAt(d)` for d < dPart),
  /// warp shuffles add the parts (every thread of the group gets the sum).
  Value score(function_ref<Value(int64_t)> qAt,
              function_ref<Value(int64_t)> kAt, Value bIdx, Value h, Value row,
              Value i, Value j) {
    Value dot = fconst(0.0);
    for (int64_t d = 0; d < dPart; ++d)
      dot = fadd(dot, fmul(qAt(d), kAt(d)));
    for (int64_t off = 1; off < lanes; off *= 2)
      dot = fadd(dot, gpu::ShuffleOp::create(b, loc, dot, off, 32,
                                             gpu::ShuffleMode::XOR)
                          .getShuffleResult());
    if (a.softcap)
      dot = softcapScore(dot, *a.softcap);
    if (mask)
      dot = fadd(dot, load(mask, {maskIndex(0, bIdx), maskIndex(1, h),
                                  maskIndex(2, row), maskIndex(3, j)}));
    if (Value vis = visibleKey(i, j))
      dot = select(vis, dot, fconst(-std::numeric_limits<float>::infinity()));
    return dot;
  }

  /// The thread's part (lane `r` of the row's threads) of q * scale.
  SmallVector<Value> loadQuery(Value bIdx, Value h, Value row, Value r) {
    Value scale = fconst(a.scale);
    Value base = mul(r, idx(dPart));
    SmallVector<Value> regs;
    for (int64_t d = 0; d < dPart; ++d)
      regs.push_back(fmul(load(q, {bIdx, h, row, add(base, idx(d))}), scale));
    return regs;
  }

  //===--------------------------------------------------------------------===//
  // Prefill: a query tile per block, key tiles through shared memory
  //===--------------------------------------------------------------------===//

  void prefillKernel() {
    Value one = idx(1);
    int64_t threads = tq * lanes;
    Value qTiles = arith::CeilDivUIOp::create(b, loc, rows, idx(tq));
    SmallVector<Type> shared = {sharedType({tk, headDim}),
                                sharedType({tk, valueDim})};
    auto launch =
        gpu::LaunchOp::create(b, loc, qTiles, heads, batch, idx(threads), one,
                              one, nullptr, nullptr, ValueRange{}, shared);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value ks = launch.getWorkgroupAttributions()[0];
    Value vs = launch.getWorkgroupAttributions()[1];
    Value t = launch.getThreadIds().x;
    Value r = arith::RemUIOp::create(b, loc, t, idx(lanes));
    Value bIdx = launch.getBlockIds().z, h = launch.getBlockIds().y;
    Value hk = arith::DivUIOp::create(b, loc, h, group);
    Value q0 = mul(launch.getBlockIds().x, idx(tq));
    Value row = add(q0, arith::DivUIOp::create(b, loc, t, idx(lanes)));
    Value active = cmp(arith::CmpIPredicate::ult, row, rows);
    // Threads past the last row compute on a copy of it (they take part in
    // the block's loads, barriers and shuffles) and store nothing.
    Value rowC = minI(row, sub(rows, one));
    Value i = add(offset, rowC);
    Value nRows = minI(idx(tq), sub(rows, q0));
    Value i0 = add(offset, q0), i1 = add(i0, sub(nRows, one));
    Value sinkEnd, start, end;
    keyRanges(i0, i1, sinkEnd, start, end);

    SmallVector<Value> qRegs = loadQuery(bIdx, h, rowC, r);
    Value dBase = mul(r, idx(dPart)), eBase = mul(r, idx(ePart));

    auto keyRange = [&](Value from, Value to, const RowState &init) {
      return forState(
          from, to, idx(tk), init, [&](Value k0, const RowState &s) {
            Value nKeys = minI(idx(tk), sub(to, k0));
            // The block loads the tile's rows, element by element.
            auto stage = [&](Value src, Value dst, int64_t width) {
              forLoop(t, idx(tk * width), idx(threads), [&](Value el) {
                Value c = arith::DivUIOp::create(b, loc, el, idx(width));
                Value d = arith::RemUIOp::create(b, loc, el, idx(width));
                ifThen(cmp(arith::CmpIPredicate::ult, c, nKeys), [&] {
                  Value x = load(src, {bIdx, hk, slot(add(k0, c)), d});
                  memref::StoreOp::create(b, loc, x, dst, ValueRange{c, d});
                });
              });
            };
            stage(k, ks, headDim);
            stage(v, vs, valueDim);
            gpu::BarrierOp::create(b, loc);
            RowState next = forState(
                idx(0), nKeys, one, s, [&](Value c, const RowState &st) {
                  Value j = add(k0, c);
                  Value sc = score([&](int64_t d) { return qRegs[d]; },
                                   [&](int64_t d) -> Value {
                                     return memref::LoadOp::create(
                                         b, loc, ks,
                                         ValueRange{c, add(dBase, idx(d))});
                                   },
                                   bIdx, h, rowC, i, j);
                  return update(st, sc, [&](int64_t e) -> Value {
                    return memref::LoadOp::create(
                        b, loc, vs, ValueRange{c, add(eBase, idx(e))});
                  });
                });
            // The next tile overwrites the shared rows.
            gpu::BarrierOp::create(b, loc);
            return next;
          });
    };
    RowState s = initialState();
    if (a.window && a.sinks > 0)
      s = keyRange(idx(0), sinkEnd, s);
    s = keyRange(start, end, s);
    ifThen(active, [&] { storeRow(s, bIdx, h, row, eBase); });
    gpu::TerminatorOp::create(b, loc);
  }

  /// The thread's part of out[b, h, row, :] = l > 0 ? acc / l : 0 (no
  /// visible key: zeros).
  void storeRow(const RowState &s, Value bIdx, Value h, Value row,
                Value eBase) {
    Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, s.l,
                                      fconst(0.0));
    Value inv = arith::DivFOp::create(b, loc, fconst(1.0), s.l);
    for (int64_t e = 0; e < ePart; ++e)
      store(select(any, fmul(s.acc[e], inv), fconst(0.0)), out,
            {bIdx, h, row, add(eBase, idx(e))});
  }

  //===--------------------------------------------------------------------===//
  // Decode: one query row, the keys split over the block's threads
  //===--------------------------------------------------------------------===//

  void decodeKernel() {
    Value one = idx(1), zero = idx(0);
    int64_t T = decodeThreads, G = decodeThreads / lanes;
    // The visible keys (sinks ++ window) on the host, split into chunks of
    // at least kKeysPerSplit keys, at most kMaxSplits of them: one block per
    // (chunk, head, batch) so a long cache keeps the GPU busy.
    Value sinkEnd, start, end;
    keyRanges(offset, offset, sinkEnd, start, end);
    Value total = add(sinkEnd, sub(end, start));
    Value splits = maxI(
        one, minI(idx(kMaxSplits), arith::CeilDivUIOp::create(
                                       b, loc, total, idx(kKeysPerSplit))));
    Value chunk = arith::CeilDivUIOp::create(b, loc, total, splits);
    // Each block's partial state: [batch, heads, splits, m l acc[Dv]].
    Value partial = memref::AllocOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic,
                         ShapedType::kDynamic, valueDim + 2},
                        f32),
        ValueRange{batch, heads, splits});

    {
      SmallVector<Type> shared = {sharedType({G}), sharedType({G}),
                                  sharedType({G, valueDim + 1})};
      auto launch =
          gpu::LaunchOp::create(b, loc, splits, heads, batch, idx(T), one, one,
                                nullptr, nullptr, ValueRange{}, shared);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      Value ms = launch.getWorkgroupAttributions()[0];
      Value ls = launch.getWorkgroupAttributions()[1];
      Value accs = launch.getWorkgroupAttributions()[2];
      Value t = launch.getThreadIds().x;
      Value g = arith::DivUIOp::create(b, loc, t, idx(lanes));
      Value r = arith::RemUIOp::create(b, loc, t, idx(lanes));
      Value split = launch.getBlockIds().x;
      Value bIdx = launch.getBlockIds().z, h = launch.getBlockIds().y;
      Value hk = arith::DivUIOp::create(b, loc, h, group);
      Value from = minI(mul(split, chunk), total);
      Value to = minI(add(from, chunk), total);
      SmallVector<Value> qRegs = loadQuery(bIdx, h, zero, r);
      Value dBase = mul(r, idx(dPart)), eBase = mul(r, idx(ePart));

      // Group g takes the keys from + g, from + g + G, ... of the chunk. The
      // trip count is the same for every thread (shuffles need the whole
      // warp): a group past the end computes on the last key and masks it.
      RowState st = forState(
          from, to, idx(G), initialState(), [&](Value el0, const RowState &s) {
            Value el = add(el0, g);
            Value valid = cmp(arith::CmpIPredicate::ult, el, to);
            el = minI(el, sub(to, one));
            Value j = select(cmp(arith::CmpIPredicate::ult, el, sinkEnd), el,
                             add(start, sub(el, sinkEnd)));
            Value kj = slot(j);
            Value sc =
                score([&](int64_t d) { return qRegs[d]; },
                      [&](int64_t d) -> Value {
                        return load(k, {bIdx, hk, kj, add(dBase, idx(d))});
                      },
                      bIdx, h, zero, offset, j);
            sc = select(valid, sc,
                        fconst(-std::numeric_limits<float>::infinity()));
            return update(s, sc, [&](int64_t e) -> Value {
              return load(v, {bIdx, hk, kj, add(eBase, idx(e))});
            });
          });
      ifThen(cmp(arith::CmpIPredicate::eq, r, zero), [&] {
        memref::StoreOp::create(b, loc, st.m, ms, ValueRange{g});
        memref::StoreOp::create(b, loc, st.l, ls, ValueRange{g});
      });
      for (int64_t e = 0; e < ePart; ++e)
        memref::StoreOp::create(b, loc, st.acc[e], accs,
                                ValueRange{g, add(eBase, idx(e))});
      gpu::BarrierOp::create(b, loc);
      // The block's groups combined into one partial state (relative to the
      // block's max M): m = M, l = sum l_g e^(m_g - M), acc likewise.
      combine(
          idx(G), t, idx(T),
          [&](Value u) {
            return memref::LoadOp::create(b, loc, ms, ValueRange{u});
          },
          [&](Value u) {
            return memref::LoadOp::create(b, loc, ls, ValueRange{u});
          },
          [&](Value u, Value e) {
            return memref::LoadOp::create(b, loc, accs, ValueRange{u, e});
          },
          [&](Value m, Value l) {
            ifThen(cmp(arith::CmpIPredicate::eq, t, zero), [&] {
              memref::StoreOp::create(b, loc, m, partial,
                                      ValueRange{bIdx, h, split, zero});
              memref::StoreOp::create(b, loc, l, partial,
                                      ValueRange{bIdx, h, split, one});
            });
          },
          [&](Value e, Value acc, Value, Value) {
            memref::StoreOp::create(b, loc, acc, partial,
                                    ValueRange{bIdx, h, split, add(e, idx(2))});
          });
      gpu::TerminatorOp::create(b, loc);
    }

    // The splits combined: out = sum acc_s e^(m_s - M) / sum l_s e^(m_s - M).
    {
      auto launch =
          gpu::LaunchOp::create(b, loc, one, heads, batch, idx(T), one, one);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&launch.getBody().front());
      Value t = launch.getThreadIds().x;
      Value bIdx = launch.getBlockIds().z, h = launch.getBlockIds().y;
      auto at = [&](Value u, Value field) -> Value {
        return memref::LoadOp::create(b, loc, partial,
                                      ValueRange{bIdx, h, u, field});
      };
      combine(
          splits, t, idx(T), [&](Value u) { return at(u, zero); },
          [&](Value u) { return at(u, one); },
          [&](Value u, Value e) { return at(u, add(e, idx(2))); },
          [&](Value, Value) {},
          [&](Value e, Value acc, Value, Value inv) {
            store(
                select(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                             inv, fconst(0.0)),
                       fmul(acc, inv), fconst(0.0)),
                out, {bIdx, h, zero, e});
          });
      gpu::TerminatorOp::create(b, loc);
    }
  }

  /// Combines `n` partial softmax states (max m(u), sum l(u), output acc(u,
  /// e)): M = max m(u), L = sum l(u) e^(m(u) - M), and for each e of the
  /// output row, from thread t on in steps of `step`, A(e) = sum acc(u, e)
  /// e^(m(u) - M). Calls `state(M, L)` once, `row(e, A(e), L, 1 / L or 0)`
  /// per element.
  void combine(Value n, Value t, Value step, function_ref<Value(Value)> m,
               function_ref<Value(Value)> l,
               function_ref<Value(Value, Value)> acc,
               function_ref<void(Value, Value)> state,
               function_ref<void(Value, Value, Value, Value)> row) {
    Value zero = idx(0), one = idx(1);
    Value negInf = fconst(-std::numeric_limits<float>::infinity());
    auto reduce = [&](Value init, function_ref<Value(Value, Value)> body) {
      auto loop = scf::ForOp::create(
          b, loc, zero, n, one, ValueRange{init},
          [&](OpBuilder &, Location, Value u, ValueRange iter) {
            scf::YieldOp::create(b, loc, body(u, iter[0]));
          });
      return loop.getResult(0);
    };
    Value M = reduce(negInf, [&](Value u, Value best) -> Value {
      return arith::MaximumFOp::create(b, loc, best, m(u));
    });
    Value mSafe = select(
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, M, negInf),
        fconst(0.0), M);
    auto weight = [&](Value u) {
      return exp(arith::SubFOp::create(b, loc, m(u), mSafe));
    };
    Value L = reduce(fconst(0.0), [&](Value u, Value sum) -> Value {
      return fadd(sum, fmul(weight(u), l(u)));
    });
    state(M, L);
    Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, L,
                                      fconst(0.0));
    Value inv =
        select(any, arith::DivFOp::create(b, loc, fconst(1.0), L), fconst(0.0));
    forLoop(t, idx(valueDim), step, [&](Value e) {
      Value a = reduce(fconst(0.0), [&](Value u, Value sum) -> Value {
        return fadd(sum, fmul(weight(u), acc(u, e)));
      });
      row(e, a, L, inv);
    });
  }
};
} // namespace

FailureOr<Value> swaa::lowerAttentionToGPU(RewriterBase &rewriter,
                                           Operation *op, int64_t queryTile,
                                           int64_t keyTile,
                                           int64_t decodeThreads) {
  FailureOr<AttentionView> view = viewAttention(op);
  if (failed(view))
    return failure();
  if (queryTile < 1 || keyTile < 1 || decodeThreads < 32 ||
      decodeThreads % 32 != 0)
    return op->emitOpError("needs positive tile sizes and a multiple of 32 "
                           "decode threads");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  GPUAttentionBuilder builder(rewriter, *view, queryTile, keyTile,
                              decodeThreads);
  if (failed(builder.build()))
    return failure();
  rewriter.replaceOp(op, builder.result);
  return builder.result;
}
