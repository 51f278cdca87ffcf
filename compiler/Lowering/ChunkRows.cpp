//===- ChunkRows.cpp - an MLP computed a chunk of rows at a time ----------===//
//
// swaa-chunk-rows bounds the activation memory of a long prefill. A decoder
// layer's MLP widens each row and narrows it again (SmolLM2: 576 -> gate and
// up projections of 1536 -> SiLU, product -> 576); computed over the whole
// prompt at once, its wide intermediates are the largest live buffers of the
// program (at 8k tokens in f32, 48 MiB each, two or three at a time). Every
// op of that chain reads and writes row i of its operands only, so it can
// run on a chunk of rows at a time: then the intermediates are `rows` rows
// tall, whatever the prompt's length, and only the narrow result is whole.
//
// What is chunked: a contraction against a weight, `C[i..., n] = sum_k
// A[i..., k] * B[k, n]` (the consumer, the down projection), with the ops
// that produce A, back to the first value that something outside the chain
// also reads (the normalized input, which the chain only reads): linalg ops
// in the consumer's block, each with the consumer's row dims as its leading
// parallel loops, each result read only by ops of the chain. The chain must
// hold a contraction (the widening projection) whose rows are wider than
// C's, or nothing is saved. The consumer and the chain become one scf.for
// over chunks of the last row dimension (the sequence); inside, each op is
// its tile (TilingInterface) on the chunk, reading its producers' tiles,
// and the consumer's tile is inserted into the whole result.
//
// Runs on tensors, before the contractions are lowered (the tiles are still
// linalg ops, so the GEMM kernels take each chunk's matmuls).
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_SWAACHUNKROWSPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

namespace {
/// Whether `map`'s first `rows` results are the loops d0 .. d(rows-1) and
/// no other result reads those loops: the operand's rows are the op's rows,
/// and each row of the op reads the same row of the operand, all of it.
bool readsOwnRows(AffineMap map, unsigned rows) {
  if (map.getNumResults() < rows)
    return false;
  for (unsigned r = 0; r < map.getNumResults(); ++r) {
    AffineExpr e = map.getResult(r);
    if (r < rows) {
      if (e != getAffineDimExpr(r, map.getContext()))
        return false;
      continue;
    }
    for (unsigned d = 0; d < rows; ++d)
      if (e.isFunctionOfDim(d))
        return false;
  }
  return true;
}

/// A linear layer against a weight: one reduction loop (the last), C read
/// by the identity map of the other loops, A's map the row loops then k,
/// B a static tensor that no row loop indexes. Its row dims: all of C's
/// but the last.
bool isWeightContraction(linalg::LinalgOp op) {
  if (op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1)
    return false;
  unsigned loops = op.getNumLoops();
  auto iterators = op.getIteratorTypesArray();
  if (loops < 3 || iterators.back() != utils::IteratorType::reduction)
    return false;
  // B: a weight (static, the same for every row; swaa-pack-weights may
  // have stored it in panels, a 3-D map of k and n).
  auto b = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  AffineMap bMap = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
  if (!b || !b.hasStaticShape())
    return false;
  for (unsigned d = 0; d + 2 < loops; ++d)
    if (bMap.isFunctionOfDim(d))
      return false;
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> cExprs, aExprs;
  for (unsigned d = 0; d + 1 < loops; ++d)
    cExprs.push_back(getAffineDimExpr(d, ctx));
  aExprs.assign(cExprs.begin(), cExprs.end() - 1);
  aExprs.push_back(getAffineDimExpr(loops - 1, ctx));
  return op.getIndexingMapMatchingResult(op->getResult(0)) ==
             AffineMap::get(loops, 0, cExprs, ctx) &&
         op.getMatchingIndexingMap(op.getDpsInputOperand(0)) ==
             AffineMap::get(loops, 0, aExprs, ctx);
}

/// An op that may join a chain of `rows` row dims: a tileable linalg op on
/// tensors with one result whose leading `rows` dims are its leading loops,
/// all parallel.
bool isRowLocal(Operation *def, unsigned rows) {
  auto op = dyn_cast_or_null<linalg::LinalgOp>(def);
  if (!op || !isa<TilingInterface>(def) || op->getNumResults() != 1 ||
      !op.hasPureTensorSemantics() || op.getNumLoops() < rows)
    return false;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < rows; ++d)
    if (iterators[d] != utils::IteratorType::parallel)
      return false;
  return readsOwnRows(op.getIndexingMapMatchingResult(op->getResult(0)), rows);
}

/// The product of a value's dims after its first `rows` (its row width);
/// 0 when one is dynamic.
int64_t rowWidth(Value v, unsigned rows) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t width = 1;
  for (int64_t d = rows; d < type.getRank(); ++d) {
    if (type.isDynamicDim(d))
      return 0;
    width *= type.getDimSize(d);
  }
  return width;
}
} // namespace

FailureOr<SmallVector<Operation *>>
swaa::rowChunkChain(linalg::LinalgOp consumer) {
  if (!isWeightContraction(consumer))
    return failure();
  unsigned rows = consumer.getNumLoops() - 2;
  Block *block = consumer->getBlock();

  // The candidates: producers of the chain's operands, transitively.
  llvm::SetVector<Operation *> chain;
  SmallVector<Operation *> worklist = {consumer};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (!def || def->getBlock() != block || chain.contains(def) ||
          !isRowLocal(def, rows))
        continue;
      chain.insert(def);
      worklist.push_back(def);
    }
  }
  // Drop, until nothing changes, each op read outside the chain or by a
  // chain op that does not read its rows row by row.
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *op : llvm::make_early_inc_range(chain)) {
      bool keep = llvm::all_of(op->getResult(0).getUses(), [&](OpOperand &use) {
        Operation *user = use.getOwner();
        return (user == consumer.getOperation() || chain.contains(user)) &&
               readsOwnRows(
                   cast<linalg::LinalgOp>(user).getMatchingIndexingMap(&use),
                   rows);
      });
      if (!keep) {
        chain.remove(op);
        changed = true;
      }
    }
  }
  Operation *aDef = consumer.getDpsInputs()[0].getDefiningOp();
  if (!aDef || !chain.contains(aDef))
    return failure();
  // Worth it only when the chain widens the rows: a contraction whose rows
  // are wider than the consumer's result.
  int64_t narrow = rowWidth(consumer->getResult(0), rows);
  bool widens = llvm::any_of(chain, [&](Operation *op) {
    auto l = cast<linalg::LinalgOp>(op);
    return l.getNumReductionLoops() > 0 && l.getNumDpsInputs() >= 2 &&
           narrow > 0 && rowWidth(op->getResult(0), rows) > narrow;
  });
  if (!widens)
    return failure();
  // Block order is a topological order of the chain.
  SmallVector<Operation *> ordered(chain.begin(), chain.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  return ordered;
}

FailureOr<scf::ForOp> swaa::chunkRows(RewriterBase &rewriter,
                                      linalg::LinalgOp consumer,
                                      ArrayRef<Operation *> ordered,
                                      int64_t chunk) {
  if (chunk < 1 || ordered.empty())
    return rewriter.notifyMatchFailure(consumer, "no chain or no chunk size");
  unsigned rows = consumer.getNumLoops() - 2;

  Location loc = consumer.getLoc();
  rewriter.setInsertionPoint(consumer);
  // The shapes of the chain's values in terms of values outside it (a
  // result has its init's shape), made before the loop: the tiles' sizes
  // and the loop's bounds must not read the values the loop replaces.
  llvm::DenseSet<Operation *> inChain(ordered.begin(), ordered.end());
  inChain.insert(consumer);
  DenseMap<Value, SmallVector<OpFoldResult>> shapes;
  std::function<SmallVector<OpFoldResult>(Value)> shapeOf =
      [&](Value v) -> SmallVector<OpFoldResult> {
    auto it = shapes.find(v);
    if (it != shapes.end())
      return it->second;
    Operation *def = v.getDefiningOp();
    SmallVector<OpFoldResult> shape =
        def && inChain.contains(def)
            ? shapeOf(cast<linalg::LinalgOp>(def).getDpsInits()[0])
            : tensor::getMixedSizes(rewriter, loc, v);
    shapes[v] = shape;
    return shape;
  };
  Value result = consumer->getResult(0);
  for (Operation *op : inChain)
    (void)shapeOf(op->getResult(0));
  SmallVector<OpFoldResult> resultShape = shapeOf(result);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value upper =
      getValueOrCreateConstantIndexOp(rewriter, loc, resultShape[rows - 1]);
  Value step = arith::ConstantIndexOp::create(rewriter, loc, chunk);
  Value whole = tensor::EmptyOp::create(
      rewriter, loc, resultShape,
      cast<RankedTensorType>(result.getType()).getElementType());
  auto loop =
      scf::ForOp::create(rewriter, loc, zero, upper, step, ValueRange{whole});
  // Its iterations run one after the other, each op inside on all threads
  // (swaa-sequentialize-nested-parallel leaves the parallel loops in it).
  loop->setAttr(kChunkLoopAttr, rewriter.getUnitAttr());
  rewriter.setInsertionPointToStart(loop.getBody());
  Value iv = loop.getInductionVar();
  Value left = arith::SubIOp::create(rewriter, loc, upper, iv);
  Value size = arith::MinSIOp::create(rewriter, loc, step, left);

  // Each op's tile on the chunk: every loop whole but the last row loop.
  IRMapping tiles;
  SmallVector<Operation *> deadSlices;
  auto tileOf = [&](Operation *op, SmallVector<OpFoldResult> &offsets,
                    SmallVector<OpFoldResult> &sizes) -> Operation * {
    SmallVector<Range> dom =
        cast<TilingInterface>(op).getIterationDomain(rewriter);
    for (auto [d, range] : llvm::enumerate(dom)) {
      offsets.push_back(d + 1 == rows ? OpFoldResult(iv) : range.offset);
      sizes.push_back(d + 1 == rows ? OpFoldResult(size) : range.size);
    }
    FailureOr<TilingResult> tiled =
        cast<TilingInterface>(op).getTiledImplementation(rewriter, offsets,
                                                         sizes);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return nullptr;
    Operation *tile = tiled->tiledOps.front();
    // Operands that a chain op produces read that op's tile instead of a
    // slice of its whole result. Operands that no row loop indexes (the
    // weights) are read whole: linalg slices every operand, and the slice
    // it computes through a packed weight's map (n floordiv 24, k, n mod 24)
    // would be wrong.
    auto linalgOp = cast<linalg::LinalgOp>(op);
    for (OpOperand &operand : op->getOpOperands()) {
      OpOperand &tileOperand = tile->getOpOperand(operand.getOperandNumber());
      Value mapped = tiles.lookupOrNull(operand.get());
      if (!mapped && isa<RankedTensorType>(operand.get().getType()) &&
          !linalgOp.getMatchingIndexingMap(&operand).isFunctionOfDim(rows -
                                                                     1) &&
          tileOperand.get() != operand.get()) {
        if (Operation *slice = tileOperand.get().getDefiningOp())
          deadSlices.push_back(slice);
        tileOperand.set(operand.get());
        continue;
      }
      if (!mapped)
        continue;
      if (tileOperand.get().getType() != mapped.getType())
        return nullptr;
      if (Operation *slice = tileOperand.get().getDefiningOp())
        deadSlices.push_back(slice);
      tileOperand.set(mapped);
    }
    return tile;
  };
  bool ok = true;
  for (Operation *op : ordered) {
    SmallVector<OpFoldResult> offsets, sizes;
    Operation *tile = tileOf(op, offsets, sizes);
    if (!tile) {
      ok = false;
      break;
    }
    tiles.map(op->getResult(0), tile->getResult(0));
  }
  SmallVector<OpFoldResult> offsets, sizes, resultOffsets, resultSizes;
  Operation *tile = ok ? tileOf(consumer, offsets, sizes) : nullptr;
  if (!tile || failed(cast<TilingInterface>(consumer.getOperation())
                          .getResultTilePosition(rewriter, 0, offsets, sizes,
                                                 resultOffsets, resultSizes))) {
    rewriter.eraseOp(loop);
    return rewriter.notifyMatchFailure(consumer, "an op of the chain did not "
                                                 "tile");
  }
  SmallVector<OpFoldResult> strides(resultOffsets.size(),
                                    rewriter.getIndexAttr(1));
  Value inserted = tensor::InsertSliceOp::create(
      rewriter, loc, tile->getResult(0), loop.getRegionIterArgs()[0],
      resultOffsets, resultSizes, strides);
  scf::YieldOp::create(rewriter, loc, inserted);

  for (Operation *slice : deadSlices)
    if (slice->use_empty())
      rewriter.eraseOp(slice);
  // The tiles' iteration domains read the shapes of the whole values
  // (linalg creates those dims before the whole op): they are read from
  // the shapes made before the loop instead.
  SmallVector<tensor::DimOp> dims;
  loop->getParentRegion()->walk([&](tensor::DimOp dim) {
    Operation *def = dim.getSource().getDefiningOp();
    if (def && inChain.contains(def))
      dims.push_back(dim);
  });
  for (tensor::DimOp dim : dims) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index) {
      rewriter.eraseOp(loop);
      return rewriter.notifyMatchFailure(consumer, "a dim of unknown index");
    }
    OpFoldResult size = shapes[dim.getSource()][*index];
    rewriter.setInsertionPoint(dim);
    rewriter.replaceOp(
        dim, getValueOrCreateConstantIndexOp(rewriter, dim.getLoc(), size));
  }
  rewriter.replaceAllUsesWith(result, loop.getResult(0));
  rewriter.eraseOp(consumer);
  for (Operation *op : llvm::reverse(ordered))
    rewriter.eraseOp(op);
  return loop;
}

namespace mlir::swaa {
namespace {
struct SwaaChunkRowsPass final
    : impl::SwaaChunkRowsPassBase<SwaaChunkRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (isWeightContraction(op))
        candidates.push_back(op);
    });
    // A chain lies before its consumer, and a candidate may be in another
    // one's chain: taken last first, each chain's ops are noted as gone.
    llvm::DenseSet<Operation *> gone;
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : llvm::reverse(candidates)) {
      if (gone.contains(op.getOperation()))
        continue;
      FailureOr<SmallVector<Operation *>> chain = rowChunkChain(op);
      if (failed(chain))
        continue;
      gone.insert(chain->begin(), chain->end());
      (void)chunkRows(rewriter, op, *chain, rows);
    }
    // Slices of tensor.empty become smaller tensor.empty ops.
    RewritePatternSet patterns(&getContext());
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::swaa
