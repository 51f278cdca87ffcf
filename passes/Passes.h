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

/// The number of attention layers under `root`: one more than the largest
/// `layer` of its `attn.attention` ops (0 when it has none).
int64_t countAttentionLayers(Operation *root);

/// Marks the attentions of the layers in `faLayers` (a layer spec) full.
/// Emits an error at `root` for a bad spec.
LogicalResult applyInterleave(Operation *root, llvm::StringRef faLayers);

/// Sets `window` on the attentions of the layers in `layers` (a spec) that
/// are not marked full. Emits an error for a bad window, spec or a
/// non-causal attention.
LogicalResult applySlidingWindow(Operation *root, int64_t window,
                                 llvm::StringRef layers = "all");

/// Sets `sinks` on every windowed attention.
LogicalResult applyKeepSinks(Operation *root, int64_t sinks);

/// The two functions of a split model; `decode` is null when the model has
/// no past key/value inputs.
struct PrefillDecode {
  func::FuncOp prefill, decode;
};

/// Splits `entry` (erased on success) into @prefill and @decode with the KV
/// cache as explicit state (see the pass description). `faDecode` is `true`,
/// `false` or a layer spec.
FailureOr<PrefillDecode> splitPrefillDecode(func::FuncOp entry,
                                            llvm::StringRef faDecode);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::swaa

#endif // SWAA_PASSES_PASSES_H
