//===- LaunchPlan.h - what the CUDA host code launches ----------*- C++ -*-===//
//
// The launch plan of the CUDA artifact's manifest: per entry point, the
// kernels in launch order with their grid and block sizes (a number, or
// null where it depends on the call's sizes: the prompt length, the batch),
// static shared memory and argument count. The compiled host code carries
// out the plan (it computes the dynamic sizes); the manifest says what it
// will launch, for tools and for whoever reads the artifact.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_TARGETS_CUDA_LAUNCHPLAN_H
#define SWAA_COMPILER_TARGETS_CUDA_LAUNCHPLAN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::swaa {

/// The plan of a module after kernel outlining (gpu.launch_func ops in the
/// entry points, gpu.func kernels in gpu.modules): {entry: [launch, ...]}.
llvm::json::Object describeLaunchPlan(ModuleOp module);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_TARGETS_CUDA_LAUNCHPLAN_H
