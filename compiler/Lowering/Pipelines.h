//===- Pipelines.h - named pass pipelines of the lowering ------*- C++ -*-===//
//
// Pipelines shared by swaa-opt (registered by name, for lit tests) and the
// driver of swaa-compile, so both run the very same passes.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_LOWERING_PIPELINES_H
#define SWAA_COMPILER_LOWERING_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::swaa {

/// `attn` + tensor-level upstream IR -> LLVM dialect for the host CPU, with
/// attention lowered by the O(n^2) reference (`attn-lower-reference`). The
/// result runs under `mlir-runner` or translates to LLVM IR.
void buildReferenceCPUPipeline(OpPassManager &pm);

struct TiledPipelineOptions : public PassPipelineOptions<TiledPipelineOptions> {
  Option<int64_t> queryTile{*this, "query-tile",
                            llvm::cl::desc("query rows per tile"),
                            llvm::cl::init(32)};
  Option<int64_t> keyTile{*this, "key-tile", llvm::cl::desc("keys per tile"),
                          llvm::cl::init(64)};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("lanes per vector of the attention kernel (16: 512-bit "
                     "f32 vectors, 8: 256-bit); 0: the scalar loop nest"),
      llvm::cl::init(16)};
  Option<int64_t> splitKeys{
      *this, "split-keys",
      llvm::cl::desc("keys per parallel split of attention for fewer query "
                     "rows than vector lanes (decode); 0: no splits"),
      llvm::cl::init(256)};
};

/// The same, with attention lowered by the tiled loop nest
/// (`attn-lower-tiled`).
void buildTiledCPUPipeline(OpPassManager &pm,
                           const TiledPipelineOptions &options);

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<int64_t> queryTile{*this, "query-tile",
                            llvm::cl::desc("query rows per attention tile"),
                            llvm::cl::init(32)};
  Option<int64_t> keyTile{*this, "key-tile",
                          llvm::cl::desc("keys per attention tile"),
                          llvm::cl::init(64)};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("lanes per vector of the attention kernel (16: 512-bit "
                     "f32 vectors, 8: 256-bit); 0: the scalar loop nest"),
      llvm::cl::init(16)};
  Option<int64_t> splitKeys{
      *this, "split-keys",
      llvm::cl::desc("keys per parallel split of attention for fewer query "
                     "rows than vector lanes (decode); 0: no splits"),
      llvm::cl::init(256)};
  Option<bool> openmp{*this, "openmp",
                      llvm::cl::desc("run parallel loops on OpenMP threads"),
                      llvm::cl::init(true)};
  Option<bool> gemmLibrary{
      *this, "gemm-library",
      llvm::cl::desc("matmuls against weights through the CPU kernel library "
                     "(swaa-vectorize-contractions{library}); off: generated "
                     "register blocks"),
      llvm::cl::init(true)};
  Option<int64_t> chunkRows{
      *this, "chunk-rows",
      llvm::cl::desc("rows per chunk of an MLP (swaa-chunk-rows: bounded "
                     "activation memory); 0: whole prompts"),
      llvm::cl::init(1024)};
  Option<bool> profile{*this, "profile",
                       llvm::cl::desc("time ops by kind through the "
                                      "runtime's swaa_profile_* hooks"),
                       llvm::cl::init(false)};
};

/// The CPU back end from the split model (@prefill/@decode) to the LLVM
/// dialect: tiled attention, in-place caches, the runtime's ABI
/// (`swaa-entry-abi`), OpenMP for the parallel loops.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

struct CUDAKernelOptions : public PassPipelineOptions<CUDAKernelOptions> {
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("GPU architectures, comma-separated (one object each)"),
      llvm::cl::init("sm_80")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> format{*this, "format",
                             llvm::cl::desc("isa (PTX text), bin (cubin) or "
                                            "fatbin"),
                             llvm::cl::init("isa")};
  Option<std::string> toolkit{*this, "toolkit",
                              llvm::cl::desc("CUDA toolkit (ptxas)"),
                              llvm::cl::init("/usr/local/cuda")};
  Option<int64_t> queryTile{*this, "query-tile",
                            llvm::cl::desc("query rows per attention block"),
                            llvm::cl::init(32)};
  Option<int64_t> keyTile{*this, "key-tile",
                          llvm::cl::desc("keys per shared-memory tile"),
                          llvm::cl::init(32)};
  Option<int64_t> decodeThreads{
      *this, "decode-threads",
      llvm::cl::desc("threads per decode attention block"),
      llvm::cl::init(128)};
  Option<int64_t> threads{*this, "threads",
                          llvm::cl::desc("threads per block of the other "
                                         "kernels"),
                          llvm::cl::init(256)};
};

/// The first part of buildCUDAKernelPipeline: through kernel outlining (the
/// kernels as gpu.func in one gpu.module, the host functions launching them
/// asynchronously on device buffers).
void buildCUDAOutliningPipeline(OpPassManager &pm,
                                const CUDAKernelOptions &options);

/// The second part: NVVM targets (one per architecture of `chip`), the
/// kernels to NVVM, gpu-module-to-binary.
void buildCUDASerializationPipeline(OpPassManager &pm,
                                    const CUDAKernelOptions &options);

/// The model's kernels for CUDA: attention as the flash-attention kernels of
/// attn-lower-gpu; every other op bufferized as on the CPU, each outermost
/// parallel loop a 1-D kernel (swaa-parallel-loops-to-gpu); the kernels
/// outlined into one gpu.module, lowered to NVVM and serialized (PTX or
/// cubin, per architecture) by gpu-module-to-binary; the host functions'
/// buffers on the device (swaa-gpu-host-memory).
void buildCUDAKernelPipeline(OpPassManager &pm,
                             const CUDAKernelOptions &options);

/// The host side after buildCUDAKernelPipeline: launches, device buffers and
/// the rest to the LLVM dialect (gpu-to-llvm: calls of mgpuLaunchKernel,
/// mgpuMemAlloc, ..., which the runtime provides).
void buildCUDAHostPipeline(OpPassManager &pm);

/// Both: the CUDA back end from the split model to the LLVM dialect.
void buildCUDAPipeline(OpPassManager &pm, const CUDAKernelOptions &options);

/// Registers the pipelines above with the global pass registry.
void registerLoweringPipelines();

} // namespace mlir::swaa

#endif // SWAA_COMPILER_LOWERING_PIPELINES_H
