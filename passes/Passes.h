//===- Passes.h - the SWAA transformation passes ----------------*- C++ -*-===//
//
// The SWAA strategies as public transforms (callable without the pass
// machinery, as swaa-compile does) and the thin passes that wrap them.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_PASSES_PASSES_H
#define SWAA_PASSES_PASSES_H

#include "dialects/Attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::swaa {

/// Unit attribute on an `attn.attention` that `attn-interleave` keeps full.
constexpr llvm::StringLiteral kKeepFullAttr = "attn.keep_full";

/// The model's own sliding window (an i64: its keys), set by the importer on
/// every attention whose window came from the model. A recipe keeps such
/// layers as they are (see applyInterleave, applySlidingWindow,
/// applyKeepSinks and splitPrefillDecode) until
/// applyReleaseNativeWindows hands them to it.
using attn::kNativeWindowAttr;

/// The model's own window of `op`, if it has one that a recipe keeps.
std::optional<int64_t> nativeWindow(Operation *op);

/// Drops the native-window marks under `root`: the recipe then treats those
/// layers like the model's full-attention ones (`fa-layers` may make them
/// full, the recipe's window and sinks replace theirs, FA decode applies).
void applyReleaseNativeWindows(Operation *root);

/// The number of attention layers under `root`: one more than the largest
/// `layer` of its `attn.attention` ops (0 when it has none).
int64_t countAttentionLayers(Operation *root);

/// Fails, naming the layers, when `selected` (a table by layer, from the
/// option `option`) holds layers with the model's own window; `consequence`
/// says what --override-native-windows would do to them.
LogicalResult checkNativeLayers(Operation *root, llvm::StringRef option,
                                llvm::ArrayRef<bool> selected,
                                llvm::StringRef consequence);

/// Marks the attentions of the layers in `faLayers` (a layer spec) full.
/// Emits an error at `root` for a bad spec, and for a spec that selects a
/// layer with the model's own window (a recipe does not widen it).
LogicalResult applyInterleave(Operation *root, llvm::StringRef faLayers);

/// Sets `window` on the attentions of the layers in `layers` (a spec) that
/// are not marked full and have no window of the model's own. Emits an error
/// for a bad window, spec or a non-causal attention.
LogicalResult applySlidingWindow(Operation *root, int64_t window,
                                 llvm::StringRef layers = "all");

/// Sets `sinks` on every windowed attention whose window is the recipe's
/// (not the model's own).
LogicalResult applyKeepSinks(Operation *root, int64_t sinks);

/// The two functions of a split model; `decode` is null when the model has
/// no past key/value inputs.
struct PrefillDecode {
  func::FuncOp prefill, decode;
};

/// Splits `entry` (erased on success) into @prefill and @decode with the KV
/// cache as explicit state (see the pass description). `faDecode` is `true`,
/// `false` or a layer spec; `true`/`all` leaves the layers with the model's
/// own window to it, and a spec that names one of them is an error.
FailureOr<PrefillDecode> splitPrefillDecode(func::FuncOp entry,
                                            llvm::StringRef faDecode);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::swaa

#endif // SWAA_PASSES_PASSES_H
