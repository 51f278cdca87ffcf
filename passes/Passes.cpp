//===- Passes.cpp - the per-layer SWAA passes -----------------------------===//
//
// Interleaving, sliding windows and sink tokens: each sets attributes of
// `attn.attention` ops selected by layer. The prefill/decode split lives in
// SplitPrefillDecode.cpp.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/LayerSpec.h"

#include <map>

namespace mlir::swaa {
#define GEN_PASS_DEF_ATTNINTERLEAVEPASS
#define GEN_PASS_DEF_ATTNSLIDINGWINDOWPASS
#define GEN_PASS_DEF_ATTNKEEPSINKSPASS
#define GEN_PASS_DEF_ATTNRELEASENATIVEWINDOWSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

int64_t swaa::countAttentionLayers(Operation *root) {
  int64_t layers = 0;
  root->walk([&](Operation *op) {
    if (auto a = dyn_cast<attn::AttentionOp>(op))
      layers = std::max<int64_t>(layers, a.getLayerAttr().getInt() + 1);
    else if (auto c = dyn_cast<attn::CacheAttentionOp>(op))
      layers = std::max<int64_t>(layers, c.getLayerAttr().getInt() + 1);
  });
  return layers;
}

/// The layers of `root` that `spec` selects, as a membership table; emits
/// the parse error at `root` under the option's name.
static FailureOr<SmallVector<bool>>
selectLayers(Operation *root, StringRef option, StringRef spec) {
  int64_t numLayers = countAttentionLayers(root);
  llvm::Expected<SmallVector<int64_t>> layers = parseLayerSpec(spec, numLayers);
  if (!layers)
    return root->emitError()
           << option << ": " << llvm::toString(layers.takeError());
  SmallVector<bool> selected(numLayers, false);
  for (int64_t l : *layers)
    selected[l] = true;
  return selected;
}

static bool isSelected(ArrayRef<bool> selected, attn::AttentionOp op) {
  int64_t layer = op.getLayerAttr().getInt();
  return layer >= 0 && layer < (int64_t)selected.size() && selected[layer];
}

std::optional<int64_t> swaa::nativeWindow(Operation *op) {
  if (auto w = op->getAttrOfType<IntegerAttr>(kNativeWindowAttr))
    return w.getInt();
  return std::nullopt;
}

void swaa::applyReleaseNativeWindows(Operation *root) {
  root->walk([](Operation *op) { op->removeAttr(kNativeWindowAttr); });
}

LogicalResult swaa::checkNativeLayers(Operation *root, StringRef option,
                                      ArrayRef<bool> selected,
                                      StringRef consequence) {
  std::map<int64_t, int64_t> native;
  root->walk([&](Operation *op) {
    auto layer = op->getAttrOfType<IntegerAttr>("layer");
    if (layer && nativeWindow(op))
      native[layer.getInt()] = *nativeWindow(op);
  });
  std::string named, full;
  for (int64_t l = 0; l < (int64_t)selected.size(); ++l) {
    auto it = native.find(l);
    if (it == native.end()) {
      full += (full.empty() ? "" : ",") + std::to_string(l);
      continue;
    }
    if (!selected[l])
      continue;
    named += (named.empty() ? "layer " : ", layer ") + std::to_string(l) +
             " (" + std::to_string(it->second) + " keys)";
  }
  if (named.empty())
    return success();
  return root->emitError()
         << option
         << ": selects layers with the model's own sliding window: " << named
         << "; a recipe keeps them as the model has them ("
         << (full.empty() ? std::string("the model has no full-attention "
                                        "layers")
                          : "the model's full-attention layers are " + full)
         << "); --override-native-windows " << consequence;
}

LogicalResult swaa::applyInterleave(Operation *root, StringRef faLayers) {
  FailureOr<SmallVector<bool>> full = selectLayers(root, "fa-layers", faLayers);
  if (failed(full) || failed(checkNativeLayers(root, "fa-layers", *full,
                                               "makes them full attention")))
    return failure();
  root->walk([&](attn::AttentionOp op) {
    if (!isSelected(*full, op))
      return;
    op->setAttr(kKeepFullAttr, UnitAttr::get(op.getContext()));
    op.removeWindowAttr();
    op.setSinks(0);
  });
  return success();
}

LogicalResult swaa::applySlidingWindow(Operation *root, int64_t window,
                                       StringRef layers) {
  if (window < 1)
    return root->emitError()
           << "window: expected at least 1 key (the query itself), got "
           << window;
  FailureOr<SmallVector<bool>> selected = selectLayers(root, "layers", layers);
  if (failed(selected))
    return failure();
  WalkResult result = root->walk([&](attn::AttentionOp op) {
    if (!isSelected(*selected, op) || op->hasAttr(kKeepFullAttr) ||
        nativeWindow(op))
      return WalkResult::advance();
    if (!op.getCausal()) {
      op.emitOpError("is not causal: a sliding window applies to causal "
                     "(decoder) attention only");
      return WalkResult::interrupt();
    }
    op.setWindow(window);
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

LogicalResult swaa::applyKeepSinks(Operation *root, int64_t sinks) {
  if (sinks < 0)
    return root->emitError()
           << "sinks: expected a non-negative count, got " << sinks;
  root->walk([&](attn::AttentionOp op) {
    if (op.isWindowed() && !nativeWindow(op))
      op.setSinks(sinks);
  });
  return success();
}

namespace mlir::swaa {
namespace {
struct AttnInterleavePass final
    : impl::AttnInterleavePassBase<AttnInterleavePass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(applyInterleave(getOperation(), faLayers)))
      signalPassFailure();
  }
};

struct AttnSlidingWindowPass final
    : impl::AttnSlidingWindowPassBase<AttnSlidingWindowPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(applySlidingWindow(getOperation(), window, layers)))
      signalPassFailure();
  }
};

struct AttnReleaseNativeWindowsPass final
    : impl::AttnReleaseNativeWindowsPassBase<AttnReleaseNativeWindowsPass> {
  using Base::Base;
  void runOnOperation() override { applyReleaseNativeWindows(getOperation()); }
};

struct AttnKeepSinksPass final
    : impl::AttnKeepSinksPassBase<AttnKeepSinksPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(applyKeepSinks(getOperation(), sinks)))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::swaa
