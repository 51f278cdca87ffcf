//===- LowPrecision.cpp - 16-bit storage and inputs, f32 accumulation -----===//
//
// swaa-low-precision{dtype=bf16|f16} on the split entry points (tensors,
// before lowering):
//
// - weights are stored in the 16-bit type (half the bytes to load), widened
//   where they are used;
// - the KV caches hold the 16-bit type (half the cache memory);
// - the inputs of every contraction (matmuls: linalg ops with reductions and
//   two inputs) and of attention are rounded to it, the products and sums
//   stay f32 (a contraction's body widens its inputs; attention accumulates
//   in f32 in every lowering), and attention's output is rounded once.
//
// Everything else (norms, RoPE, softmax outside attention, residuals) stays
// f32. With kv-dtype alone (an f32 model): only the caches are 16-bit, and
// attention on a cache (decode) rounds its query to their type; weights,
// matmuls and attention on fresh keys (prefill) stay f32. Rounding a weight twice is folded away by canonicalization
// (truncf(extf(w)) = w), so weights reach the matmuls in 16 bits.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_SWAALOWPRECISIONPASS
#define GEN_PASS_DEF_SWAAEXPANDBF16PASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

namespace {
RankedTensorType withElement(Type t, Type element) {
  return cast<RankedTensorType>(t).clone(element);
}

bool isF32Tensor(Type t) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  return tensor && tensor.getElementType().isF32();
}

struct SwaaLowPrecisionPass final
    : swaa::impl::SwaaLowPrecisionPassBase<SwaaLowPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    auto parse = [&](StringRef name, StringRef value, Type &type) {
      if (value == "bf16")
        type = BFloat16Type::get(ctx);
      else if (value == "f16")
        type = Float16Type::get(ctx);
      else if (value != "f32") {
        getOperation().emitError("swaa-low-precision: ")
            << name << " '" << value << "': expected f32, bf16 or f16";
        return false;
      }
      return true;
    };
    Type low, kvLow;
    if (!parse("dtype", dtype, low) ||
        (!kvDtype.empty() && !parse("kv-dtype", kvDtype, kvLow)))
      return signalPassFailure();
    if (kvDtype.empty())
      kvLow = low;
    if (low && kvLow != low) {
      getOperation().emitError("swaa-low-precision: kv-dtype '")
          << kvDtype << "' with dtype '" << dtype
          << "': a 16-bit model keeps its caches in its own type";
      return signalPassFailure();
    }
    if (!kvLow)
      return;
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (fn->hasAttr("swaa.entry") && !fn.isExternal())
        if (failed(convert(fn, low, kvLow)))
          return signalPassFailure();
  }

  /// Elements read one at a time from a widened weight (an embedding
  /// table's gather: tensor.extract in a linalg.generic) are widened one at
  /// a time instead: extract from the 16-bit weight, then extf. Otherwise
  /// the whole table would be widened into a new f32 buffer on every call
  /// (SmolLM2's 49152 x 576 embedding: 56 MB read and 113 MB written per
  /// decode step, more than the step's matmuls read).
  static void widenExtractedElements(Value wide) {
    auto ext = wide.getDefiningOp<arith::ExtFOp>();
    for (OpOperand &use : llvm::make_early_inc_range(wide.getUses())) {
      auto extract = dyn_cast<tensor::ExtractOp>(use.getOwner());
      if (!extract)
        continue;
      OpBuilder b(extract);
      Value narrow = tensor::ExtractOp::create(b, extract.getLoc(), ext.getIn(),
                                               extract.getIndices());
      Value x =
          arith::ExtFOp::create(b, extract.getLoc(), extract.getType(), narrow);
      extract.replaceAllUsesWith(x);
      extract.erase();
    }
    if (ext->use_empty())
      ext.erase();
  }

  /// `low`: the type of weights and contraction inputs (null: they stay
  /// f32); `kvLow`: the caches' type.
  LogicalResult convert(func::FuncOp fn, Type low, Type kvLow) {
    OpBuilder b(fn.getContext());
    Block &entry = fn.getBody().front();
    auto narrowTo = [&](Value v, Type type) -> Value {
      if (!isF32Tensor(v.getType()))
        return v;
      return arith::TruncFOp::create(b, v.getLoc(),
                                     withElement(v.getType(), type), v);
    };
    auto narrow = [&](Value v) -> Value { return narrowTo(v, low); };

    // Weights and caches: the arguments themselves.
    for (BlockArgument arg : entry.getArguments()) {
      if (!isF32Tensor(arg.getType()))
        continue;
      bool weight = low && fn.getArgAttr(arg.getArgNumber(), "swaa.weight");
      bool cache =
          fn.getArgAttr(arg.getArgNumber(), "swaa.kv_cache") != nullptr;
      if (!weight && !cache)
        continue;
      Type f32Type = arg.getType();
      arg.setType(withElement(f32Type, weight ? low : kvLow));
      if (weight) {
        b.setInsertionPointToStart(&entry);
        Value wide = arith::ExtFOp::create(b, arg.getLoc(), f32Type, arg);
        arg.replaceAllUsesExcept(wide, wide.getDefiningOp());
        widenExtractedElements(wide);
      }
    }

    // The ops, in order (cache types flow from op to op).
    WalkResult walk = fn.walk([&](Operation *op) -> WalkResult {
      b.setInsertionPoint(op);
      if (auto append = dyn_cast<attn::CacheAppendOp>(op)) {
        Type cacheElement = cast<RankedTensorType>(append.getCache().getType())
                                .getElementType();
        if (cacheElement != kvLow)
          return op->emitOpError("writes a cache that is not ")
                 << kvLow
                 << " (only the entry's cache arguments are converted)";
        append.getUpdateMutable().assign(
            narrowTo(append.getUpdate(), kvLow));
        append.getResult().setType(
            cast<RankedTensorType>(append.getCache().getType()));
        return WalkResult::advance();
      }
      // Attention on the cache reads it in its type: the query (and mask)
      // are rounded to it too; attention on fresh keys and values only in a
      // 16-bit model.
      bool onCache = isa<attn::CacheAttentionOp>(op);
      if (isa<attn::AttentionOp, attn::CacheAttentionOp>(op) &&
          (onCache || low)) {
        Type type = onCache ? kvLow : low;
        Value result = op->getResult(0);
        if (!isF32Tensor(result.getType()))
          return WalkResult::advance();
        for (OpOperand &operand : op->getOpOperands())
          if (isF32Tensor(operand.get().getType()))
            operand.set(narrowTo(operand.get(), type));
        Type f32Type = result.getType();
        result.setType(withElement(f32Type, type));
        b.setInsertionPointAfter(op);
        Value wide = arith::ExtFOp::create(b, op->getLoc(), f32Type, result);
        result.replaceAllUsesExcept(wide, wide.getDefiningOp());
        return WalkResult::advance();
      }
      if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        if (!low || generic.getNumReductionLoops() == 0 ||
            generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
            !isF32Tensor(generic.getDpsInits()[0].getType()))
          return WalkResult::advance();
        Block *body = generic.getBody();
        for (OpOperand *input : generic.getDpsInputOperands()) {
          if (!isF32Tensor(input->get().getType()))
            continue;
          input->set(narrow(input->get()));
          BlockArgument arg = body->getArgument(input->getOperandNumber());
          arg.setType(low);
          OpBuilder inner = OpBuilder::atBlockBegin(body);
          Value wide = arith::ExtFOp::create(inner, arg.getLoc(),
                                             inner.getF32Type(), arg);
          arg.replaceAllUsesExcept(wide, wide.getDefiningOp());
        }
        return WalkResult::advance();
      }
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        fn.setType(FunctionType::get(fn.getContext(), entry.getArgumentTypes(),
                                     ret.getOperandTypes()));
        return WalkResult::advance();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    return success();
  }
};

struct SwaaExpandBF16Pass final
    : swaa::impl::SwaaExpandBF16PassBase<SwaaExpandBF16Pass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
