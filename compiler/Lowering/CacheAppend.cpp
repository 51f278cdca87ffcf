//===- CacheAppend.cpp - KV cache writes as one parallel loop ------------===//
//
// `attn.cache_append` writes the n rows of its update at positions
// pos .. pos+n-1 into their cache slots. In a ring of `window` slots (after
// `sinks` fixed ones) several rows of a long update can share a slot, and
// only the last of them must remain, so the rows are filtered instead of
// ordered: a ring keeps the rows of the sink positions (j < sinks) and the
// last `window` rows; a full cache keeps every row. The kept rows are
// [0, a) and [c, n) with a = clamp(sinks - pos, 0, n), c = max(n - window, 0),
// no two of them share a slot, and the copy is one `scf.forall` over
// [batch, heads, kept rows, head_dim] whose iterations insert one element
// each (`tensor.parallel_insert_slice` into the cache): it bufferizes in
// place, and becomes one parallel loop (a GPU kernel, or OpenMP threads).
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

using namespace mlir;
using namespace mlir::swaa;

FailureOr<Value> swaa::lowerCacheAppendToParallel(RewriterBase &rewriter,
                                                  attn::CacheAppendOp op) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  OpBuilder &b = rewriter;
  Location loc = op.getLoc();
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  SmallVector<Value> sizes;
  for (int64_t d = 0; d < 4; ++d)
    sizes.push_back(b.createOrFold<tensor::DimOp>(loc, op.getUpdate(), d));
  Value pos = op.getPos(), rows = sizes[2];
  IntegerAttr ringWindow = op.getRingWindowAttr();
  IntegerAttr ringSinks = op.getRingSinksAttr();
  // The kept rows: [0, a) then [c', n) with c' = max(c, a).
  Value zero = idx(0);
  Value kept = rows, a = rows, from = rows;
  if (ringWindow) {
    Value sinks = idx(ringSinks.getInt());
    Value sinkRows = arith::SubIOp::create(
        b, loc, arith::MaxSIOp::create(b, loc, sinks, pos), pos);
    a = arith::MinSIOp::create(b, loc, sinkRows, rows);
    Value c = arith::MaxSIOp::create(
        b, loc, arith::SubIOp::create(b, loc, rows, idx(ringWindow.getInt())),
        zero);
    from = arith::MaxSIOp::create(b, loc, c, a);
    kept = arith::AddIOp::create(b, loc, a,
                                 arith::SubIOp::create(b, loc, rows, from));
  }
  SmallVector<OpFoldResult> upper = {sizes[0], sizes[1], kept, sizes[3]};
  auto forall = scf::ForallOp::create(b, loc, upper, ValueRange{op.getCache()},
                                      std::nullopt);
  Block *body = forall.getBody();
  ValueRange ivs = forall.getInductionVars();
  Value cache = forall.getRegionIterArgs()[0];
  b.setInsertionPointToStart(body);
  Value r = ivs[2];
  if (ringWindow) {
    Value inSinks = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, r,
                                          a);
    r = arith::SelectOp::create(
        b, loc, inSinks, r,
        arith::AddIOp::create(b, loc, from, arith::SubIOp::create(b, loc, r, a)));
  }
  Value slot = cacheSlot(b, loc, arith::AddIOp::create(b, loc, pos, r),
                         ringWindow, ringSinks);
  SmallVector<OpFoldResult> one(4, b.getIndexAttr(1));
  SmallVector<OpFoldResult> from4 = {ivs[0], ivs[1], r, ivs[3]};
  SmallVector<OpFoldResult> to4 = {ivs[0], ivs[1], slot, ivs[3]};
  Value element = tensor::ExtractSliceOp::create(b, loc, op.getUpdate(), from4,
                                                 one, one);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, element, cache, to4, one, one);
  Value result = forall.getResult(0);
  rewriter.replaceOp(op, result);
  return result;
}
