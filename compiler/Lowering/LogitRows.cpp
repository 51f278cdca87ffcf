//===- LogitRows.cpp - prefill computes only the logits asked for ---------===//
//
// swaa-logits-rows on the split module: @prefill gets one more argument, an
// index `from` (`swaa.logits_from`), and returns the logits of the rows
// [from, seq) only. Generation needs the last row (from = seq - 1, what the
// runtime passes by default); scoring a text needs every row (from = 0).
//
// How: the returned logits become a tensor.extract_slice of the rows, and
// the slice is then swapped with its producers, one by one, as long as the
// producer is a tileable op (TilingInterface: linalg's generics, fills)
// whose result nothing else reads: the LM head's matmul then runs on the
// sliced rows of its input, and so do the elementwise ops before it (a
// final norm, a softcap) back to the first value that something else also
// reads (the residual stream, which attention needs at every row). For a
// vocabulary of 49152 the head is the largest matmul of a small model; at a
// 4k prompt it was a fifth of the prefill's FLOPs.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_SWAALOGITSROWSPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

namespace {
/// The index of @prefill's logits result: the one model output (not a
/// cache) of rank 3; -1 when there is not exactly one.
int logitsResult(func::FuncOp fn) {
  int found = -1;
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    if (!fn.getResultAttr(i, "swaa.output") ||
        fn.getResultAttr(i, "swaa.kv_cache"))
      continue;
    auto type = dyn_cast<RankedTensorType>(fn.getResultTypes()[i]);
    if (!type || type.getRank() != 3)
      continue;
    if (found >= 0)
      return -1;
    found = (int)i;
  }
  return found;
}

struct SwaaLogitsRowsPass final
    : swaa::impl::SwaaLogitsRowsPassBase<SwaaLogitsRowsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto fn = module.lookupSymbol<func::FuncOp>("prefill");
    if (!fn || fn.isExternal())
      return;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (fn.getArgAttr(i, "swaa.logits_from"))
        return; // already done
    int result = logitsResult(fn);
    if (result < 0)
      return; // the runtime keeps the rows it needs itself
    // Elementwise arith on tensors (the 16-bit roundings of swaa-low-
    // precision) as linalg generics, which tile: the slice moves through
    // them, and their sizes fold.
    {
      OpPassManager elementwise(func::FuncOp::getOperationName());
      elementwise.addPass(createConvertElementwiseToLinalgPass());
      if (failed(runPipeline(elementwise, fn)))
        return signalPassFailure();
    }

    // The argument.
    unsigned argIndex = fn.getNumArguments();
    if (failed(fn.insertArgument(argIndex, IndexType::get(ctx),
                                 DictionaryAttr::get(
                                     ctx, {NamedAttribute(
                                              StringAttr::get(ctx, "swaa.logits_from"),
                                              UnitAttr::get(ctx))}),
                                 fn.getLoc())))
      return signalPassFailure();
    Value from = fn.getArgument(argIndex);

    // The slice of the returned rows.
    auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    Value logits = ret.getOperand(result);
    auto type = cast<RankedTensorType>(logits.getType());
    OpBuilder b(ret);
    Location loc = ret.getLoc();
    // The sizes as the producer's own (its init's dims, say), so that the
    // slice stays the logits' only user.
    SmallVector<OpFoldResult> dims;
    {
      ReifiedRankedShapedTypeDims reified;
      auto producer = dyn_cast<OpResult>(logits);
      if (producer &&
          succeeded(reifyResultShapes(b, producer.getOwner(), reified)))
        dims = reified[producer.getResultNumber()];
      else
        for (int64_t d = 0; d < 3; ++d)
          dims.push_back(type.isDynamicDim(d)
                             ? OpFoldResult(tensor::DimOp::create(b, loc, logits, d)
                                                .getResult())
                             : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
    }
    Value rows = getValueOrCreateConstantIndexOp(b, loc, dims[1]);
    Value count = arith::SubIOp::create(b, loc, rows, from);
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), from,
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {dims[0], count, dims[2]};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto resultType = RankedTensorType::get(
        {type.getDimSize(0), ShapedType::kDynamic, type.getDimSize(2)},
        type.getElementType());
    auto slice = tensor::ExtractSliceOp::create(b, loc, resultType, logits,
                                                offsets, sizes, strides);
    ret->setOperand(result, slice);
    SmallVector<Type> results(fn.getResultTypes());
    results[result] = resultType;
    fn.setType(FunctionType::get(ctx, fn.getArgumentTypes(), results));

    // Swap the slice with its producers while they are tileable and read
    // by nothing else.
    SmallVector<tensor::ExtractSliceOp> worklist = {slice};
    IRRewriter rewriter(ctx);
    while (!worklist.empty()) {
      tensor::ExtractSliceOp s = worklist.pop_back_val();
      auto producer = dyn_cast_or_null<OpResult>(s.getSource());
      if (!producer || !isa<TilingInterface>(producer.getOwner()) ||
          !producer.getOwner()->hasOneUse() ||
          isa<linalg::FillOp>(producer.getOwner()))
        continue;
      rewriter.setInsertionPoint(s);
      FailureOr<TilingResult> tiled =
          tensor::replaceExtractSliceWithTiledProducer(rewriter, s, producer);
      if (failed(tiled) || tiled->tiledValues.empty())
        continue;
      Value value = tiled->tiledValues[0];
      if (value.getType() != s.getType())
        value = tensor::CastOp::create(rewriter, s.getLoc(), s.getType(), value);
      rewriter.replaceOp(s, value);
      Operation *old = producer.getOwner();
      if (old->use_empty())
        rewriter.eraseOp(old);
      // The slices the tiled op reads (found through its operands: some
      // of the generated ones may have folded away).
      for (Operation *t : tiled->tiledOps)
        for (Value operand : t->getOperands())
          if (auto next = operand.getDefiningOp<tensor::ExtractSliceOp>())
            worklist.push_back(next);
    }
    // Slices of fills and empties, full slices of weights: folded.
    RewritePatternSet patterns(ctx);
    linalg::populateSwapExtractSliceWithFillPatterns(patterns);
    tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(fn, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
