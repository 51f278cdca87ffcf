//===- RegisterEverything.h - one registration for all swaa tools -*- C++
//-*-===//
//
// The dialects, extensions, passes and pipelines that every swaa tool knows:
// upstream MLIR's plus ours. swaa-opt and swaa-compile call the same
// functions, so a pipeline that runs in a lit test runs in the compiler too.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_TOOLS_REGISTEREVERYTHING_H
#define SWAA_TOOLS_REGISTEREVERYTHING_H

#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/Pipelines.h"
#include "dialects/Attn/AttnDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"

namespace mlir::swaa {

/// Adds upstream dialects and extensions and the `attn` dialect to `registry`.
inline void registerAllSwaaDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // LLVM IR translations: gpu-module-to-binary and the CPU back end
  // translate modules in process.
  registerAllToLLVMIRTranslations(registry);
  registry.insert<attn::AttnDialect>();
  registerGPUExternalModels(registry);
}

/// Registers upstream passes, swaa's passes and swaa's named pipelines with
/// the global registry (for command-line parsing).
inline void registerAllSwaaPasses() {
  registerAllPasses();
  registerSWAALoweringPasses();
  registerLoweringPipelines();
  registerSWAAPasses();
  registerSWAAPipelines();
}

} // namespace mlir::swaa

#endif // SWAA_TOOLS_REGISTEREVERYTHING_H
