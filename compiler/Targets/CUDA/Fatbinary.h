//===- Fatbinary.h - the CUDA back end's device code ------------*- C++ -*-===//
//
// gpu-module-to-binary (format=isa) leaves one PTX object per requested
// architecture in each gpu.binary. This assembles each with ptxas into a
// cubin and packs the cubins, plus the PTX of the newest architecture (which
// the driver compiles for GPUs newer than any cubin), into one fat binary
// with the toolkit's `fatbinary`: the gpu.binary then holds that single
// object, which the host code embeds and the runtime loads with
// cuModuleLoadData (the driver picks the image for the device).
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_TARGETS_CUDA_FATBINARY_H
#define SWAA_COMPILER_TARGETS_CUDA_FATBINARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace mlir::swaa {

/// Replaces the PTX objects of every gpu.binary in `module` with one fat
/// binary; `archs` receives the architectures (sm_NN) it holds cubins for.
/// `toolkit` is the CUDA toolkit's root (bin/ptxas, bin/fatbinary).
bool packFatbinaries(ModuleOp module, llvm::StringRef toolkit,
                     std::vector<std::string> &archs, std::string &error);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_TARGETS_CUDA_FATBINARY_H
