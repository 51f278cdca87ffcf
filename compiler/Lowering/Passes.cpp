//===- Passes.cpp - lowering passes of the attn dialect -------------------===//
//
// Thin pass wrappers around the lowering transforms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_ATTNLOWERREFERENCEPASS
#define GEN_PASS_DEF_ATTNLOWERTILEDPASS
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

struct AttnLowerTiledPass final
    : impl::AttnLowerTiledPassBase<AttnLowerTiledPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<attn::CacheAppendOp, attn::CacheAttentionOp, attn::AttentionOp>(
              op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<Value> lowered =
          isa<attn::CacheAppendOp>(op)
              ? lowerCacheAppendToReference(rewriter,
                                            cast<attn::CacheAppendOp>(op))
              : lowerAttentionToTiled(rewriter, op, queryTile, keyTile);
      if (failed(lowered))
        return signalPassFailure();
    }
  }
};
} // namespace
} // namespace mlir::swaa
