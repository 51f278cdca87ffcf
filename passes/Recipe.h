//===- Recipe.h - SWAA recipes: files, presets, validation ------*- C++ -*-===//
//
// A recipe says which SWAA strategies a compile applies: a sliding window
// (none: full attention), sink tokens, the layers kept full, and the layers
// whose decode attends to the whole cache. It comes from a JSON file (ours,
// or the SWAA reference code's `SWAAConfig`), a named preset, or flags.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_PASSES_RECIPE_H
#define SWAA_PASSES_RECIPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <optional>
#include <string>

namespace mlir::swaa {

struct Recipe {
  /// Keys each query sees in windowed layers, itself included; none: full
  /// attention everywhere.
  std::optional<int64_t> window;
  /// Sink tokens (SWAA's keep_first) of the windowed layers.
  int64_t sinks = 0;
  /// Layers kept full attention (a layer spec).
  std::string faLayers = "none";
  /// Layers whose decode attends to the whole cache: "true", "false" or a
  /// layer spec.
  std::string faDecode = "false";
  /// Let the recipe change the layers that have the model's own sliding
  /// window (otherwise they keep it: no fa-layers, sinks or FA decode on
  /// them, and the recipe's window goes to the model's full layers only).
  bool overrideNative = false;
  /// Where it came from (a preset's name, a file), for reports.
  std::string source = "full";

  bool isFull() const { return !window; }
  /// One line: "window 2048, sinks 100, fa-layers odd, fa-decode true".
  std::string str() const;
  /// The recipe in swaa's own JSON form.
  llvm::json::Object toJSON() const;
};

/// A named recipe from the SWAA paper's evaluation.
struct Preset {
  llvm::StringLiteral name;
  llvm::StringLiteral description;
  std::optional<int64_t> window;
  int64_t sinks;
  llvm::StringLiteral faLayers, faDecode;
};
llvm::ArrayRef<Preset> presets();
llvm::Expected<Recipe> presetRecipe(llvm::StringRef name);

/// Reads a recipe from `json`. Accepted forms: swaa's own keys
///   {"window": 2048, "sinks": 4, "fa_layers": "every:2", "fa_decode": true,
///    "override_native_windows": false, "preset": NAME}
/// (fa_layers / fa_decode may also be lists of layers; window may be null),
/// the SWAA reference code's SWAAConfig keys
///   {"sliding_window_size": 2048, "keep_first": 100,
///    "force_fa_decode": true, "non_sliding_layers": [1, 3, 5]}
/// alone or as the "swaa_config" entry of its settings files (an object, or
/// a list of {"swaa_config": ..., "model_list": [...]}; `entry` picks one
/// of several). Errors name `where` and the key at fault.
llvm::Expected<Recipe> parseRecipe(const llvm::json::Value &json,
                                   llvm::StringRef where,
                                   std::optional<unsigned> entry = {});
llvm::Expected<Recipe> loadRecipeFile(llvm::StringRef path,
                                      std::optional<unsigned> entry = {});

/// Checks a recipe against a model of `numLayers` attention layers: window
/// >= 1, sinks >= 0 and only with a window, layer specs in range. A window
/// that covers `maxContext` (when known) is full attention: a warning
/// through `warn`.
llvm::Error
validateRecipe(const Recipe &recipe, int64_t numLayers,
               std::optional<int64_t> maxContext,
               const std::function<void(const std::string &)> &warn);

} // namespace mlir::swaa

#endif // SWAA_PASSES_RECIPE_H
