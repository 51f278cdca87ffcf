//===- Pipelines.cpp - the SWAA pipeline from one recipe ------------------===//
//
// The order is interleave, window, sinks, split: interleaving marks the full
// layers, the window skips them, the sinks go on windowed layers only, and
// the split reads the final per-layer configuration. Layers with the model's
// own window keep it throughout unless the recipe overrides them (first).
//
//===----------------------------------------------------------------------===//

#include "passes/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::swaa;

void swaa::buildSwaaPipeline(OpPassManager &pm, const Recipe &recipe,
                             bool split) {
  if (recipe.overrideNative)
    pm.addPass(createAttnReleaseNativeWindowsPass());
  // fa-layers also runs without a window: it checks, or (overriding) widens,
  // the model's own windows.
  if (recipe.faLayers != "none")
    pm.addPass(createAttnInterleavePass({recipe.faLayers}));
  if (recipe.window) {
    pm.addPass(createAttnSlidingWindowPass({*recipe.window, "all"}));
    if (recipe.sinks > 0)
      pm.addPass(createAttnKeepSinksPass({recipe.sinks}));
  }
  if (split)
    pm.addPass(createAttnSplitPrefillDecodePass({"forward", recipe.faDecode}));
}

llvm::Expected<Recipe>
swaa::recipeFromOptions(const SwaaPipelineOptions &options) {
  Recipe recipe;
  if (!options.recipe.empty() && !options.preset.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "give a recipe file or a preset, not both");
  if (!options.recipe.empty()) {
    llvm::Expected<Recipe> r = loadRecipeFile(options.recipe);
    if (!r)
      return r.takeError();
    recipe = *r;
  } else if (!options.preset.empty()) {
    llvm::Expected<Recipe> r = presetRecipe(options.preset);
    if (!r)
      return r.takeError();
    recipe = *r;
  }
  if (options.window != 0)
    recipe.window = options.window;
  if (options.sinks >= 0)
    recipe.sinks = options.sinks;
  if (!options.faLayers.empty())
    recipe.faLayers = options.faLayers;
  if (!options.faDecode.empty())
    recipe.faDecode = options.faDecode;
  if (options.overrideNative)
    recipe.overrideNative = true;
  bool overridden = options.window != 0 || options.sinks >= 0 ||
                    !options.faLayers.empty() || !options.faDecode.empty() ||
                    options.overrideNative;
  if (overridden)
    recipe.source = options.recipe.empty() && options.preset.empty()
                        ? "options"
                        : recipe.source + " with options";
  return recipe;
}

void swaa::registerSWAAPipelines() {
  registerPassPipeline(
      "swaa-pipeline",
      "Apply a SWAA recipe (interleave, sliding window, sinks) and split the "
      "model into @prefill and @decode, as swaa-compile does",
      [](OpPassManager &pm, StringRef optionsStr,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        SwaaPipelineOptions options;
        if (failed(options.parseFromString(optionsStr)))
          return failure();
        llvm::Expected<Recipe> recipe = recipeFromOptions(options);
        if (!recipe)
          return errorHandler("swaa-pipeline: " +
                              llvm::toString(recipe.takeError()));
        // Layer ranges are checked by the passes, on the model.
        llvm::Error invalid = validateRecipe(*recipe, /*numLayers=*/1 << 20,
                                             std::nullopt, [](auto &) {});
        if (invalid)
          return errorHandler("swaa-pipeline: " +
                              llvm::toString(std::move(invalid)));
        buildSwaaPipeline(pm, *recipe, options.split);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) {
        handler(SwaaPipelineOptions());
      });
}
