//===- Passes.cpp - lowering passes of the attn dialect -------------------===//
//
// Thin pass wrappers around the lowering transforms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_ATTNLOWERREFERENCEPASS
#define GEN_PASS_DEF_ATTNLOWERTILEDPASS
#define GEN_PASS_DEF_ATTNLOWERGPUPASS
#define GEN_PASS_DEF_SWAAENTRYABIPASS
#define GEN_PASS_DEF_SWAAEXPANDMEMREFCOPYPASS
#define GEN_PASS_DEF_SWAAFUSEELEMENTWISEPASS
#define GEN_PASS_DEF_SWAASERIALINNERMOSTPASS
#define GEN_PASS_DEF_SWAAEARLYDEALLOCPASS
#define GEN_PASS_DEF_SWAAINTERCHANGEREDUCTIONSPASS
#define GEN_PASS_DEF_SWAAPROFILEOPSPASS
#define GEN_PASS_DEF_SWAASEQUENTIALIZENESTEDPARALLELPASS
#define GEN_PASS_DEF_SWAAOUTLINEPARALLELLOOPSPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

namespace mlir::swaa {
namespace {
struct AttnLowerReferencePass final
    : impl::AttnLowerReferencePassBase<AttnLowerReferencePass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // The cache ops first: they lower to plain attention.
    SmallVector<Operation *> cacheOps;
    getOperation()->walk([&](Operation *op) {
      if (isa<attn::CacheAppendOp, attn::CacheAttentionOp>(op))
        cacheOps.push_back(op);
    });
    for (Operation *op : cacheOps) {
      rewriter.setInsertionPoint(op);
      FailureOr<Value> lowered =
          isa<attn::CacheAppendOp>(op)
              ? lowerCacheAppendToReference(rewriter,
                                            cast<attn::CacheAppendOp>(op))
              : lowerCacheAttentionToReference(
                    rewriter, cast<attn::CacheAttentionOp>(op));
      if (failed(lowered))
        return signalPassFailure();
    }
    SmallVector<attn::AttentionOp> ops;
    getOperation()->walk([&](attn::AttentionOp op) { ops.push_back(op); });
    for (attn::AttentionOp op : ops) {
      rewriter.setInsertionPoint(op);
      if (failed(lowerAttentionToReference(rewriter, op)))
        return signalPassFailure();
    }
  }
};

/// Lowers every attention and KV-cache op under `root`: cache writes as one
/// parallel copy, attention by `lowerAttention`.
LogicalResult lowerAttentionOps(
    Operation *root,
    function_ref<FailureOr<Value>(RewriterBase &, Operation *)> lowerAttention) {
  IRRewriter rewriter(root->getContext());
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<attn::CacheAppendOp, attn::CacheAttentionOp, attn::AttentionOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    rewriter.setInsertionPoint(op);
    FailureOr<Value> lowered =
        isa<attn::CacheAppendOp>(op)
            ? lowerCacheAppendToParallel(rewriter, cast<attn::CacheAppendOp>(op))
            : lowerAttention(rewriter, op);
    if (failed(lowered))
      return failure();
  }
  return success();
}

/// Rewrites the selected f32 math.exp ops as MLIR's polynomial
/// approximation (a few FMAs and a bit trick instead of a libm call, which
/// also lets the loops around them vectorize).
LogicalResult approximateExps(Operation *root,
                              function_ref<bool(math::ExpOp)> which) {
  SmallVector<Operation *> exps;
  root->walk([&](math::ExpOp exp) {
    if (getElementTypeOrSelf(exp.getType()).isF32() && which(exp))
      exps.push_back(exp);
  });
  if (exps.empty())
    return success();
  RewritePatternSet patterns(root->getContext());
  populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
    return name == math::ExpOp::getOperationName();
  });
  return applyOpPatternsGreedily(exps, std::move(patterns));
}

struct AttnLowerTiledPass final
    : impl::AttnLowerTiledPassBase<AttnLowerTiledPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(lowerAttentionOps(
            getOperation(), [&](RewriterBase &rewriter, Operation *op) {
              return lowerAttentionToTiled(rewriter, op, queryTile, keyTile,
                                           vectorWidth, splitKeys);
            })))
      return signalPassFailure();
    // The vector kernel's exponentials as polynomials (LLVM would call expf
    // once per lane); with a vector width, the scalar nest's (decode) too,
    // which LLVM's loop vectorizer then vectorizes. Width 0 keeps libm's.
    if (failed(approximateExps(getOperation(), [&](math::ExpOp exp) {
          return isa<VectorType>(exp.getType()) ||
                 (vectorWidth > 0 && exp->getParentOfType<scf::ParallelOp>());
        })))
      signalPassFailure();
  }
};

struct AttnLowerGPUPass final : impl::AttnLowerGPUPassBase<AttnLowerGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(lowerAttentionOps(
            getOperation(), [&](RewriterBase &rewriter, Operation *op) {
              return lowerAttentionToGPU(rewriter, op, queryTile, keyTile,
                                         decodeThreads);
            })))
      signalPassFailure();
  }
};

struct SwaaEntryABIPass final : impl::SwaaEntryABIPassBase<SwaaEntryABIPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn->hasAttr("swaa.entry") || fn.isExternal())
        continue;
      auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
      llvm::BitVector drop(ret.getNumOperands());
      Builder b(&getContext());
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto arg = dyn_cast<BlockArgument>(v);
        if (!arg || arg.getOwner() != &fn.getBody().front())
          continue;
        drop.set(i);
        fn.setArgAttr(arg.getArgNumber(), "swaa.in_place", b.getUnitAttr());
      }
      ret->eraseOperands(drop);
      if (failed(fn.eraseResults(drop))) {
        fn.emitError("cannot drop the in-place results");
        return signalPassFailure();
      }
      fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    }
  }
};

struct SwaaExpandMemrefCopyPass final
    : impl::SwaaExpandMemrefCopyPassBase<SwaaExpandMemrefCopyPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp op) { copies.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp op : copies) {
      rewriter.setInsertionPoint(op);
      linalg::CopyOp::create(rewriter, op.getLoc(), op.getSource(),
                             op.getTarget());
      rewriter.eraseOp(op);
    }
  }
};

struct SwaaInterchangeReductionsPass final
    : impl::SwaaInterchangeReductionsPassBase<SwaaInterchangeReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1)
        continue;
      AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
      if (out.getNumResults() == 0)
        continue;
      auto last = dyn_cast<AffineDimExpr>(out.getResults().back());
      unsigned loops = op.getNumLoops();
      if (!last || last.getPosition() == loops - 1)
        continue;
      // Only where an input runs along the output's innermost dimension
      // (B[k, n] of a contraction): a row reduction (a norm's mean over the
      // contiguous hidden dimension) would read every input with a stride.
      bool contiguousInput = llvm::any_of(
          op.getDpsInputOperands(), [&](OpOperand *input) {
            AffineMap map = op.getMatchingIndexingMap(input);
            return map.getNumResults() > 0 &&
                   map.getResults().back() == out.getResults().back();
          });
      if (!contiguousInput) {
        // The reduction stays innermost, along contiguous memory: let its
        // float sums reassociate, so that LLVM vectorizes them.
        op.getRegion().walk([&](Operation *combiner) {
          if (auto fm = dyn_cast<arith::ArithFastMathInterface>(combiner))
            if (isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp,
                    arith::MinimumFOp>(combiner))
              combiner->setAttr(
                  fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      combiner->getContext(),
                      fm.getFastMathFlagsAttr().getValue() |
                          arith::FastMathFlags::reassoc));
        });
        continue;
      }
      // Parallel loops (in order) but the output's innermost, then the
      // reductions, then the output's innermost.
      SmallVector<unsigned> order;
      auto iterators = op.getIteratorTypesArray();
      for (unsigned i = 0; i < loops; ++i)
        if (iterators[i] == utils::IteratorType::parallel &&
            i != last.getPosition())
          order.push_back(i);
      for (unsigned i = 0; i < loops; ++i)
        if (iterators[i] == utils::IteratorType::reduction)
          order.push_back(i);
      order.push_back(last.getPosition());
      rewriter.setInsertionPoint(op);
      (void)linalg::interchangeGenericOp(rewriter, op, order);
    }
  }
};

struct SwaaFuseElementwisePass final
    : impl::SwaaFuseElementwisePassBase<SwaaFuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) {
          Operation *producer = operand->get().getDefiningOp();
          auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
          return producer && consumer && producer->hasOneUse() &&
                 consumer.getNumReductionLoops() == 0;
        });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([](linalg::GenericOp op) { reuseDyingInput(op); });
  }

  /// An all-parallel generic whose one result starts from tensor.empty (its
  /// payload ignores the initial value) writes into an input instead: one of
  /// the same type, read by the identity map, whose only user is this op and
  /// which is a fresh writable buffer (a linalg result, or a matmul's
  /// output as `to_tensor ... writable`), never a weight or a cache. The
  /// element-wise access lets one-shot bufferization do it in place.
  static void reuseDyingInput(linalg::GenericOp op) {
    if (op.getNumDpsInits() != 1 || op.getNumLoops() != op.getNumParallelLoops())
      return;
    OpOperand *init = op.getDpsInitOperand(0);
    if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
        op.payloadUsesValueFromOperand(init) ||
        !op.getMatchingIndexingMap(init).isIdentity())
      return;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      if (v.getType() != init->get().getType() || !v.hasOneUse() ||
          !op.getMatchingIndexingMap(input).isIdentity())
        continue;
      Operation *def = v.getDefiningOp();
      auto toTensor = dyn_cast_or_null<bufferization::ToTensorOp>(def);
      bool fresh = (toTensor && toTensor.getWritable()) ||
                   isa_and_nonnull<linalg::LinalgOp>(def);
      if (!fresh)
        continue;
      init->set(v);
      return;
    }
  }
};

struct SwaaSerialInnermostPass final
    : impl::SwaaSerialInnermostPassBase<SwaaSerialInnermostPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> leaves;
    getOperation()->walk([&](scf::ParallelOp op) {
      bool straightLine = true;
      op.getBody()->walk([&](Operation *inner) {
        if (isa<LoopLikeOpInterface>(inner) || inner->getNumRegions() > 0)
          straightLine = false;
      });
      if (op.getNumLoops() >= 2 && op.getNumReductions() == 0 && straightLine)
        leaves.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp op : leaves) {
      Location loc = op.getLoc();
      unsigned n = op.getNumLoops();
      rewriter.setInsertionPoint(op);
      scf::ParallelOp::create(
          rewriter, loc, op.getLowerBound().drop_back(),
          op.getUpperBound().drop_back(), op.getStep().drop_back(),
          [&](OpBuilder &b, Location, ValueRange outer) {
            scf::ForOp::create(
                b, loc, op.getLowerBound()[n - 1], op.getUpperBound()[n - 1],
                op.getStep()[n - 1], ValueRange{},
                [&](OpBuilder &fb, Location, Value inner, ValueRange) {
                  IRMapping map;
                  for (unsigned i = 0; i + 1 < n; ++i)
                    map.map(op.getInductionVars()[i], outer[i]);
                  map.map(op.getInductionVars()[n - 1], inner);
                  for (Operation &o : op.getBody()->without_terminator())
                    fb.clone(o, map);
                  scf::YieldOp::create(fb, loc);
                });
          });
      rewriter.eraseOp(op);
    }
  }
};

struct SwaaEarlyDeallocPass final
    : impl::SwaaEarlyDeallocPassBase<SwaaEarlyDeallocPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation()->walk(
        [&](memref::DeallocOp op) { deallocs.push_back(op); });
    for (memref::DeallocOp dealloc : deallocs) {
      Block *block = dealloc->getBlock();
      // The buffer and every memref derived from it (views, and any memref
      // result of an op that takes one of them), as far as they reach.
      SmallVector<Value> worklist{dealloc.getMemref()};
      DenseSet<Value> aliases;
      while (!worklist.empty()) {
        Value v = worklist.pop_back_val();
        if (!aliases.insert(v).second)
          continue;
        for (Operation *user : v.getUsers())
          for (Value r : user->getResults())
            if (isa<BaseMemRefType>(r.getType()))
              worklist.push_back(r);
      }
      // The last op of this block that uses one of them, itself or inside
      // its regions.
      Operation *last = nullptr;
      for (Value v : aliases)
        for (Operation *user : v.getUsers()) {
          if (user == dealloc)
            continue;
          Operation *inBlock = block->findAncestorOpInBlock(*user);
          if (!inBlock) {
            last = dealloc; // used outside this block: leave it
            break;
          }
          if (!last || last->isBeforeInBlock(inBlock))
            last = inBlock;
        }
      if (!last || last == dealloc || !last->isBeforeInBlock(dealloc))
        continue;
      dealloc->moveAfter(last);
    }
  }
};

struct SwaaSequentializeNestedParallelPass final
    : impl::SwaaSequentializeNestedParallelPassBase<
          SwaaSequentializeNestedParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation()->walk([&](scf::ParallelOp op) {
      // Nested: inside a loop other than a chunk of swaa-chunk-rows (one
      // thread team per chunk, each op on all threads, is what it wants).
      bool inLoop = false;
      for (Operation *p = op->getParentOp(); p && !inLoop; p = p->getParentOp())
        inLoop = isa<LoopLikeOpInterface>(p) && !p->hasAttr(kChunkLoopAttr);
      if (op.getNumReductions() == 0 && inLoop)
        nested.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // Innermost first: each becomes a nest of scf.for around its body.
    for (scf::ParallelOp op : llvm::reverse(nested)) {
      rewriter.setInsertionPoint(op);
      Location loc = op.getLoc();
      SmallVector<Value> ivs;
      scf::ForOp innermost;
      for (auto [lb, ub, step] :
           llvm::zip(op.getLowerBound(), op.getUpperBound(), op.getStep())) {
        auto loop = scf::ForOp::create(rewriter, loc, lb, ub, step);
        ivs.push_back(loop.getInductionVar());
        rewriter.setInsertionPointToStart(loop.getBody());
        innermost = loop;
      }
      Block *body = op.getBody();
      // Drop the scf.reduce terminator; the loop body gets its own yield.
      rewriter.eraseOp(body->getTerminator());
      rewriter.inlineBlockBefore(body, innermost.getBody()->getTerminator(),
                                 ivs);
      rewriter.eraseOp(op);
    }
  }
};

struct SwaaOutlineParallelLoopsPass final
    : impl::SwaaOutlineParallelLoopsPassBase<SwaaOutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> outlined;
    for (auto fn : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (fn.isExternal())
        continue;
      SmallVector<scf::ParallelOp> loops;
      fn.walk([&](scf::ParallelOp loop) {
        if (!loop->getParentOfType<scf::ParallelOp>())
          loops.push_back(loop);
      });
      unsigned n = 0;
      for (scf::ParallelOp loop : loops) {
        // The loop alone in a region: an execute_region around it.
        rewriter.setInsertionPoint(loop);
        auto region = scf::ExecuteRegionOp::create(rewriter, loop.getLoc(),
                                                   TypeRange{});
        Block *body = rewriter.createBlock(&region.getRegion());
        rewriter.setInsertionPointToEnd(body);
        auto yield = scf::YieldOp::create(rewriter, loop.getLoc());
        loop->moveBefore(yield);
        std::string name;
        do {
          name = (fn.getSymName() + "_loop" + Twine(n++)).str();
        } while (symbols.lookup(name));
        func::CallOp call;
        FailureOr<func::FuncOp> f = outlineSingleBlockRegion(
            rewriter, loop.getLoc(), region.getRegion(), name, &call);
        if (failed(f)) {
          region.emitError("swaa-outline-parallel-loops: cannot outline");
          return signalPassFailure();
        }
        f->setPrivate();
        (*f)->setAttr("passthrough",
                      ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
        symbols.insert(*f);
        outlined.push_back(*f);
        // The execute_region around the call goes: its block in its place.
        rewriter.setInsertionPoint(region);
        Block &inner = region.getRegion().front();
        rewriter.eraseOp(inner.getTerminator());
        rewriter.inlineBlockBefore(&inner, region);
        rewriter.eraseOp(region);
      }
    }
    // What stays in the entry points is straight-line glue: the calls of
    // the loop functions and the kernels, allocations, buffer descriptors
    // (some 15,000 instructions in a few blocks for a 30-layer model).
    // LLVM's instruction scheduling is quadratic in a block's memory
    // operations, which made this glue most of the compile time; unoptimized
    // (optnone, and so noinline) it compiles in a blink and costs
    // microseconds per call, next to milliseconds of loops.
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && fn.isPublic())
        fn->setAttr("passthrough",
                    ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline"),
                                         StringAttr::get(ctx, "optnone")}));
    // One function per distinct body: the key is the function printed
    // under a fixed name, in its own scope (so attribute aliases and value
    // names do not depend on where it sits in the module).
    llvm::StringMap<func::FuncOp> canonical;
    llvm::DenseMap<StringAttr, StringAttr> replacement;
    for (func::FuncOp f : outlined) {
      StringAttr name = f.getSymNameAttr();
      f.setSymName("swaa_loop");
      std::string key;
      {
        llvm::raw_string_ostream os(key);
        f->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
      }
      f.setSymNameAttr(name);
      auto [it, inserted] = canonical.try_emplace(key, f);
      if (!inserted)
        replacement[name] = it->second.getSymNameAttr();
    }
    if (replacement.empty())
      return;
    module.walk([&](func::CallOp call) {
      auto it = replacement.find(call.getCalleeAttr().getAttr());
      if (it != replacement.end())
        call.setCalleeAttr(FlatSymbolRefAttr::get(it->second));
    });
    for (func::FuncOp f : outlined)
      if (replacement.count(f.getSymNameAttr()))
        f.erase();
  }
};

struct SwaaProfileOpsPass final
    : impl::SwaaProfileOpsPassBase<SwaaProfileOpsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    auto i32 = b.getI32Type();
    auto hookType = b.getFunctionType({i32}, {});
    for (StringRef name : {"swaa_profile_begin", "swaa_profile_end"})
      if (!module.lookupSymbol(name)) {
        b.setInsertionPointToEnd(module.getBody());
        auto hook = func::FuncOp::create(b, module.getLoc(), name, hookType);
        hook.setPrivate();
      }
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr("swaa.entry") && !fn.isExternal())
        bracket(b, fn.getBody().front());
  }

  /// Brackets the ops of `block`, and of the scf.for loops in it (the
  /// chunks of swaa-chunk-rows), with the hooks of their kind.
  static void bracket(OpBuilder &b, Block &block) {
    auto i32 = b.getI32Type();
    for (Operation &op :
         llvm::make_early_inc_range(block.without_terminator())) {
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        bracket(b, *loop.getBody());
        continue;
      }
      int kind = -1;
      if (isa<attn::AttentionOp, attn::CacheAttentionOp>(op))
        kind = 0;
      else if (isa<attn::CacheAppendOp>(op))
        kind = 1;
      else if (auto l = dyn_cast<linalg::LinalgOp>(op))
        kind = l.getNumReductionLoops() > 0 && l.getNumDpsInputs() >= 2 ? 2 : 3;
      if (kind < 0)
        continue;
      Location loc = op.getLoc();
      b.setInsertionPoint(&op);
      Value k = arith::ConstantIntOp::create(b, loc, i32, kind);
      func::CallOp::create(b, loc, "swaa_profile_begin", TypeRange{},
                           ValueRange{k});
      b.setInsertionPointAfter(&op);
      func::CallOp::create(b, loc, "swaa_profile_end", TypeRange{},
                           ValueRange{k});
    }
  }
};
} // namespace
} // namespace mlir::swaa
