//===- LayerSpec.h - layer selections of the SWAA recipes -------*- C++ -*-===//
//
// The little language that selects attention layers in a recipe (which layers
// stay full attention, which get FA decode): lists `0,3,7`, ranges `0-3`,
// patterns `every:K`, `every:K:offset:O`, `first:N`, `last:N`, `odd`, `even`,
// `none`, `all`, and comma-joined combinations of those.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_PASSES_LAYERSPEC_H
#define SWAA_PASSES_LAYERSPEC_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace mlir::swaa {

/// The layers of a model with `numLayers` attention layers that `spec`
/// selects, sorted and without duplicates. The error names the spec, the
/// 1-based character position of the item at fault, and why (bad syntax, a
/// layer out of range).
llvm::Expected<llvm::SmallVector<int64_t>> parseLayerSpec(llvm::StringRef spec,
                                                          int64_t numLayers);

/// Checks the syntax of `spec` without a layer count (ranges are checked once
/// the model is known).
llvm::Error checkLayerSpecSyntax(llvm::StringRef spec);

/// `0,2,5` for a list of layers, `none` for an empty one.
std::string formatLayers(llvm::ArrayRef<int64_t> layers);

} // namespace mlir::swaa

#endif // SWAA_PASSES_LAYERSPEC_H
