//===- MaskAnalysis.h - prove what an attention mask computes ---*- C++ -*-===//
//
// Internal to compiler/Import. An exporter writes an attention's mask as a
// subgraph of index arithmetic (Range, comparisons, And/Where, Gather of the
// attention_mask input). The analysis proves which visibility it computes:
// causal, a sliding window of W keys, plus an optional padding mask from a
// [batch, key_seq] 0/1 graph input. Anything else stays an explicit mask
// operand; nothing is called causal unless shown.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_MASKANALYSIS_H
#define SWAA_COMPILER_IMPORT_MASKANALYSIS_H

#include "compiler/Import/GraphImporter.h"

namespace mlir::swaa::import {

/// One term the scores pass through before the softmax: an additive mask,
/// or (`isCondition`) a boolean whose `keepWhen` value marks visible keys.
struct MaskTerm {
  std::string value;
  bool isCondition = false;
  bool keepWhen = true;
};

/// What the mask of one attention turned out to be.
struct MaskFacts {
  bool proven = false;
  bool causal = false;
  std::optional<int64_t> window;
  std::string paddingInput;
  /// Why it is not proven (when `proven` is false).
  std::string why;
  /// How the window was found, for --import-trace.
  std::string how;
};

/// Proves the visibility that `masks` (the terms added to the scores of
/// `f`) compute. The mask subgraph is evaluated on concrete sizes
/// (GraphImporter::evaluate); a window wider than those sizes is found from
/// the integer constants the subgraph computes with: each is replaced by
/// small values (3, 4, 5) and, when the band then has 3a+d, 4a+d, 5a+d keys,
/// the model's window is a*c+d for its constant c. The window is then
/// checked on sizes that show it directly where they can be evaluated (a few
/// query rows against W+3 keys, or W+3 rows without a cache). A constant
/// that changes the visibility in any other way leaves the mask unproven, and
/// so does one whose replacement does not evaluate, unless the mask can be
/// evaluated at sizes beyond it.
MaskFacts analyzeMask(GraphImporter &imp, const FusedAttention &f,
                      llvm::ArrayRef<MaskTerm> masks);

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_MASKANALYSIS_H
