//===- Report.h - the cost of a SWAA recipe, per layer ----------*- C++ -*-===//
//
// What `swaa-compile --report` prints: for a prefill of N tokens, each
// layer's attention kind in prefill and decode, its visible (query, key)
// pairs and attention FLOPs, its KV-cache bytes, and whole-model totals
// (projections, MLP and head included) against full attention.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_DRIVER_REPORT_H
#define SWAA_COMPILER_DRIVER_REPORT_H

#include "passes/Recipe.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir::swaa {

/// Visible (query, key) pairs of a prefill of `n` tokens under the attention
/// contract: causal, and with a window W (keys i - W < j <= i) plus `sinks`
/// tokens j < S; without a window every j <= i (or every j when not causal).
/// Closed form, exact.
int64_t visiblePairs(int64_t n, bool causal, std::optional<int64_t> window,
                     int64_t sinks);

/// The report of `split` (after the recipe and the prefill/decode split)
/// against `fullAttention` (the same model split with full attention), for a
/// prefill of `context` tokens and batch `batch`.
llvm::Expected<std::string> formatReport(ModuleOp split, ModuleOp fullAttention,
                                         const Recipe &recipe, int64_t context,
                                         int64_t batch);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_DRIVER_REPORT_H
