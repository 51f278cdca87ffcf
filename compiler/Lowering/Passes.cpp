//===- Passes.cpp - lowering passes of the attn dialect -------------------===//
//
// Thin pass wrappers around the lowering transforms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_ATTNLOWERREFERENCEPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

namespace mlir::swaa {
namespace {
struct AttnLowerReferencePass final
    : impl::AttnLowerReferencePassBase<AttnLowerReferencePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<attn::AttentionOp> ops;
    getOperation()->walk([&](attn::AttentionOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (attn::AttentionOp op : ops) {
      rewriter.setInsertionPoint(op);
      if (failed(lowerAttentionToReference(rewriter, op)))
        return signalPassFailure();
    }
  }
};
} // namespace
} // namespace mlir::swaa
