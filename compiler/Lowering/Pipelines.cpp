//===- Pipelines.cpp - named pass pipelines of the lowering --------------===//
//
// The one definition of each lowering pipeline; swaa-opt registers it by
// name and the driver calls the same build function.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Pipelines.h"

#include "compiler/Lowering/Passes.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::swaa;

/// Elementwise arith/math on tensors (what importers emit) as linalg, then
/// one-shot bufferization across function boundaries.
static void addBufferization(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // Identity layouts at function boundaries, so that reshapes of arguments
  // (memref.reshape needs an identity layout) lower without copies.
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // The KV cache writes (scf.forall on tensors) as parallel loops.
  pm.addPass(createForallToParallelLoopPass());
}

/// The compiled entry points after attention is lowered, as the CPU and GPU
/// back ends share them: bufferized with the caches updated in place (their
/// results fold to the arguments, which the entry ABI then drops), every
/// linalg op as a parallel loop nest, only the outermost loop of a nest
/// parallel. With `innermostOutput` (CPU), a contraction's reductions move
/// outside the output's innermost loop, which then vectorizes; without (GPU)
/// they stay innermost, so that every output element is a parallel
/// iteration (a thread).
/// Upstream's buffer-deallocation-pipeline, the same passes in the same
/// order, with its function-local ones (canonicalize, dealloc
/// simplification, CSE) nested on each function so that the functions are
/// cleaned up on several threads (--jobs).
static void addBufferDeallocation(OpPassManager &pm) {
  memref::ExpandReallocPassOptions realloc;
  realloc.emitDeallocs = false;
  pm.addPass(memref::createExpandReallocPass(realloc));
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(
      bufferization::createBufferDeallocationSimplificationPass());
  // Module level: the generic lowering adds a helper function.
  pm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addNestedPass<func::FuncOp>(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
}

static void addEntryParallelLoops(OpPassManager &pm, bool innermostOutput) {
  addBufferization(pm);
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  pm.addPass(createSwaaEntryABIPass());
  pm.addPass(createSwaaExpandMemrefCopyPass());
  if (innermostOutput)
    pm.addPass(createSwaaInterchangeReductionsPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createSwaaSequentializeNestedParallelPass());
}

/// Everything after attention is lowered: to the LLVM dialect for the host.
static void buildHostLLVMPipeline(OpPassManager &pm) {
  addBufferization(pm);
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  // Clones that deallocation adds for loop-carried buffers (the KV cache
  // ops' scf.for) become allocs and copies.
  pm.addPass(createConvertBufferizationToMemRefPass());

  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void swaa::buildReferenceCPUPipeline(OpPassManager &pm) {
  pm.addPass(createAttnLowerReferencePass());
  buildHostLLVMPipeline(pm);
}

void swaa::buildTiledCPUPipeline(OpPassManager &pm,
                                 const TiledPipelineOptions &options) {
  pm.addPass(createAttnLowerTiledPass(
      {options.queryTile.getValue(), options.keyTile.getValue(),
       options.vectorWidth.getValue(), options.splitKeys.getValue()}));
  buildHostLLVMPipeline(pm);
}

void swaa::buildCPUPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options) {
  // Before the profile hooks, which then bracket each op in the chunks.
  if (options.chunkRows > 0)
    pm.addNestedPass<func::FuncOp>(
        createSwaaChunkRowsPass({options.chunkRows.getValue()}));
  if (options.profile)
    pm.addPass(createSwaaProfileOpsPass());
  pm.addPass(createAttnLowerTiledPass(
      {options.queryTile.getValue(), options.keyTile.getValue(),
       options.vectorWidth.getValue(), options.splitKeys.getValue()}));
  pm.addPass(createSwaaVectorizeContractionsPass(
      {options.vectorWidth.getValue(), options.gemmLibrary.getValue()}));
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createSwaaFuseElementwisePass());
  addEntryParallelLoops(pm, /*innermostOutput=*/true);
  pm.addPass(createSwaaSerialInnermostPass());
  addBufferDeallocation(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createSwaaEarlyDeallocPass());
  pm.addPass(createSwaaOutlineParallelLoopsPass());
  if (options.openmp) {
    pm.addPass(createConvertSCFToOpenMPPass());
    // scf-to-openmp wraps loop bodies in memref.alloca_scope; those without
    // allocas fold away (a scope must stay one block through scf-to-cf).
    pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  }
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSwaaExpandBF16Pass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // Allocations through _mlir_memref_to_llvm_alloc/free: the shared object
  // routes them to the runtime's allocator (SharedObject.cpp), which reuses
  // large blocks across calls. (Before the OpenMP conversion, which would
  // lower the allocations in parallel regions to malloc.)
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  if (options.openmp)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void swaa::buildCUDAOutliningPipeline(OpPassManager &pm,
                                      const CUDAKernelOptions &options) {
  AttnLowerGPUPassOptions attention;
  attention.queryTile = options.queryTile;
  attention.keyTile = options.keyTile;
  attention.decodeThreads = options.decodeThreads;
  pm.addPass(createAttnLowerGPUPass(attention));
  // The rest of the model as in the CPU back end; each parallel loop nest
  // becomes one kernel, every buffer a device buffer.
  addEntryParallelLoops(pm, /*innermostOutput=*/false);
  pm.addNestedPass<func::FuncOp>(createSwaaGPUFreeBuffersPass());
  SwaaParallelLoopsToGPUPassOptions loops;
  loops.threads = options.threads;
  pm.addNestedPass<func::FuncOp>(createSwaaParallelLoopsToGPUPass(loops));
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createSwaaGPUMergeModulesPass());
  pm.addPass(createSwaaGPUHostMemoryPass());
  // Launches, copies and allocations in order on one stream, synchronized
  // at the functions' returns.
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
}

void swaa::buildCUDASerializationPipeline(OpPassManager &pm,
                                          const CUDAKernelOptions &options) {
  // One NVVM target per architecture: gpu-module-to-binary makes one object
  // (PTX or cubin) for each.
  SmallVector<StringRef> chips;
  StringRef(options.chip).split(chips, ',', -1, /*KeepEmpty=*/false);
  for (StringRef chip : chips) {
    GpuNVVMAttachTargetOptions target;
    target.chip = chip.str();
    target.features = options.features;
    target.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  // Views (the KV cache rows' subviews) as plain address arithmetic.
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void swaa::buildCUDAKernelPipeline(OpPassManager &pm,
                                   const CUDAKernelOptions &options) {
  buildCUDAOutliningPipeline(pm, options);
  buildCUDASerializationPipeline(pm, options);
}

void swaa::buildCUDAHostPipeline(OpPassManager &pm) {
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  GpuToLLVMConversionPassOptions host;
  pm.addPass(createGpuToLLVMConversionPass(host));
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void swaa::buildCUDAPipeline(OpPassManager &pm,
                             const CUDAKernelOptions &options) {
  buildCUDAKernelPipeline(pm, options);
  buildCUDAHostPipeline(pm);
}

void swaa::registerLoweringPipelines() {
  PassPipelineRegistration<CUDAKernelOptions>(
      "swaa-cuda-kernels",
      "The model's kernels for CUDA: attention as flash-attention kernels "
      "(attn-lower-gpu), every other op a 1-D kernel over its parallel loop, "
      "device buffers on the host side; NVVM, PTX/cubin through "
      "gpu-module-to-binary",
      buildCUDAKernelPipeline);
  PassPipelineRegistration<CUDAKernelOptions>(
      "swaa-cuda",
      "The CUDA back end: swaa-cuda-kernels, then the host code (kernel "
      "launches, device buffers) to the LLVM dialect, calling the mgpu* "
      "functions that the swaa runtime provides",
      buildCUDAPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "swaa-cpu",
      "The CPU back end: tiled attention, in-place KV caches, bufferized "
      "loops (OpenMP for the parallel ones) down to the LLVM dialect, with "
      "the runtime's entry-point ABI",
      buildCPUPipeline);
  PassPipelineRegistration<TiledPipelineOptions>(
      "swaa-tiled-cpu",
      "Lower attn by the tiled online-softmax loop nest, and upstream tensor "
      "IR, to the LLVM dialect for the host CPU",
      buildTiledCPUPipeline);
  PassPipelineRegistration<>(
      "swaa-reference-cpu",
      "Lower attn (by the O(n^2) reference) and upstream tensor IR to the "
      "LLVM dialect for the host CPU",
      buildReferenceCPUPipeline);
}
