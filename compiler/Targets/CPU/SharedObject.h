//===- SharedObject.h - the CPU back end's code: a shared object -*- C++
//-*-===//
//
// Turns a module lowered to the LLVM dialect (the `swaa-cpu` pipeline, or the
// host side of `swaa-cuda`) into
// `model.so`: LLVM IR, one packed entry point per program (`swaa_prefill`,
// `swaa_decode`) that the runtime calls with an array of argument pointers,
// -O3 for the host CPU (or a portable x86-64-v2), an object file, and a link
// with the system's C compiler against libomp.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_TARGETS_CPU_SHAREDOBJECT_H
#define SWAA_COMPILER_TARGETS_CPU_SHAREDOBJECT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::swaa {

struct SharedObjectOptions {
  /// Tune for this machine's CPU (-march=native); else x86-64-v2.
  bool hostCPU = true;
  /// Link libomp (the parallel loops were lowered to OpenMP).
  bool openmp = true;
  /// Where libomp lives (also the shared object's rpath).
  std::string openmpLibDir;
  /// The CPU kernel library's archive (libswaa_cpu_kernels.a), linked into
  /// the shared object when the code calls it (swaa_gemm_*); empty: none.
  std::string kernelsLibrary;
  /// Keep the LLVM IR next to the shared object (model.ll), for inspection.
  bool keepIR = false;
  /// The host code of the CUDA back end: embed the kernels (gpu.binary),
  /// and take the mgpu* functions from the runtime (`swaa_gpu_load`,
  /// `swaa_gpu_<name>` pointers, `swaa_gpu_imports`).
  bool gpuRuntime = false;
  /// Exported as `swaa_signature` (NUL-terminated text) and
  /// `swaa_signature_size` (its length, an int64): what the entries take
  /// (Artifact.h, signatureOf), checked by the runtime against the manifest.
  std::string signature;
  /// Threads for LLVM's -O3 and code generation: a module with several
  /// functions is split into up to this many parts compiled side by side
  /// and linked together (the same code as one part, sooner).
  unsigned jobs = 1;
  /// When set, the phases (LLVM IR, O3, code generation, link) are timed as
  /// its children (swaa-compile --timing).
  TimingScope *timing = nullptr;
};

/// Writes `path` from `module` (LLVM dialect). `entries` are the functions
/// that get a packed wrapper `swaa_<name>(void **args, void *results)`: args
/// holds one pointer per argument (to its memref descriptor, or to the int64
/// of an index), results points to the struct of result descriptors (absent
/// when the function returns nothing). Returns false with `error` set.
bool emitSharedObject(ModuleOp module, llvm::ArrayRef<std::string> entries,
                      llvm::StringRef path, const SharedObjectOptions &options,
                      std::string &error);

/// f32 lanes of the widest vectors the generated code may use: the host's
/// (16 with AVX-512, 8 with AVX/AVX2, else 4), or 4 for the portable
/// x86-64-v2 target (SSE). The CPU pipeline's attention kernel vectorizes
/// with this width.
int64_t cpuVectorWidth(bool hostCPU);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_TARGETS_CPU_SHAREDOBJECT_H
