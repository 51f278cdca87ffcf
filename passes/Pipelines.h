//===- Pipelines.h - the SWAA pipeline from one recipe ----------*- C++ -*-===//
//
// One definition of the pass sequence that applies a recipe, used by
// swaa-opt (`swaa-pipeline{...}`) and swaa-compile alike.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_PASSES_PIPELINES_H
#define SWAA_PASSES_PIPELINES_H

#include "passes/Recipe.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::swaa {

/// attn-interleave, attn-sliding-window, attn-keep-sinks for `recipe`, then
/// (with `split`) attn-split-prefill-decode with its fa-decode layers.
void buildSwaaPipeline(OpPassManager &pm, const Recipe &recipe,
                       bool split = true);

/// The options of `swaa-pipeline`: a recipe file or preset, overridden by
/// the individual settings, as swaa-compile's flags do.
struct SwaaPipelineOptions : public PassPipelineOptions<SwaaPipelineOptions> {
  Option<std::string> recipe{*this, "recipe",
                             llvm::cl::desc("recipe JSON file")};
  Option<std::string> preset{*this, "preset",
                             llvm::cl::desc("named recipe (see swaa-compile "
                                            "--list-presets)")};
  Option<int64_t> window{*this, "window",
                         llvm::cl::desc("sliding window (0: keep the "
                                        "recipe's)"),
                         llvm::cl::init(0)};
  Option<int64_t> sinks{*this, "sinks",
                        llvm::cl::desc("sink tokens (-1: keep the recipe's)"),
                        llvm::cl::init(-1)};
  Option<std::string> faLayers{*this, "fa-layers",
                               llvm::cl::desc("layers kept full (a spec)")};
  Option<std::string> faDecode{*this, "fa-decode",
                               llvm::cl::desc("true, false or a layer spec")};
  Option<bool> overrideNative{
      *this, "override-native-windows",
      llvm::cl::desc("let the recipe change the layers with the model's own "
                     "sliding window"),
      llvm::cl::init(false)};
  Option<bool> split{*this, "split",
                     llvm::cl::desc("split into @prefill and @decode"),
                     llvm::cl::init(true)};
};

/// The recipe that `options` describe: the file or preset (or `full`),
/// then each setting that is given.
llvm::Expected<Recipe> recipeFromOptions(const SwaaPipelineOptions &options);

/// Registers `swaa-pipeline` with the global registry.
void registerSWAAPipelines();

} // namespace mlir::swaa

#endif // SWAA_PASSES_PIPELINES_H
