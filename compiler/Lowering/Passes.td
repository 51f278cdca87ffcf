//===- Passes.td - lowerings of the attn dialect -----------*- tablegen -*-===//
//
// Passes that lower `attn` ops to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_LOWERING_PASSES_TD
#define SWAA_COMPILER_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

// Op-agnostic: it rewrites every attention nested under the op it runs on,
// so `swaa-opt --attn-lower-reference` works on a module as it is.
def AttnLowerReferencePass : Pass<"attn-lower-reference"> {
  let summary = "lower attn ops to the O(n^2) masked reference";
  let description = [{
    Rewrites every `attn.attention` into plain `linalg.generic`, `tensor`,
    `arith` and `math` ops that compute the attention contract literally:
    all `[query, key]` scores, the explicit causal/window/sink mask, a
    max-subtracted softmax and the weighted sum of values. Grouped-query
    heads are expanded by copying key/value heads. Scores are accumulated in
    f32 for narrower element types.

    `attn.cache_append` becomes row-by-row insert_slices into the cache
    slots (an scf.for), and `attn.cache_attention` a gather of the cached
    positions followed by the same reference attention.

    This is the golden model: it is slow (O(n^2) time and memory per head)
    on purpose, and every faster lowering is tested against it.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def AttnLowerTiledPass : Pass<"attn-lower-tiled"> {
  let summary = "lower attention to the tiled online-softmax loop nest";
  let description = [{
    Rewrites every `attn.attention` and `attn.cache_attention` into the loop
    nest of the CPU target (the GPU's is `attn-lower-gpu`): an `scf.parallel` over batch,
    heads and query tiles; per tile, a running max, sum and output in small
    buffers; key tiles visited only where they hold a visible key
    (the sink tiles below the window, then the tiles from the first row's
    window start to the last row's position), each updating the online
    softmax. A windowed layer costs O(n * (window + sinks)). With
    `vector-width` W > 0, ops with several query rows take the kernel
    vectorized across query rows (transposed tiles, FMA register blocks,
    lane-wise online softmax, `math.exp` on vectors expanded to a
    polynomial); ops with a static row count below W keep the scalar nest,
    whose dot products vectorize along the head dimension. The cache form
    reads key position `j` from its slot (full, or ring). `attn.cache_append`
    becomes one parallel loop that stores the update's rows into their
    cache slots in place (of rows sharing a ring slot, only the last).
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"32",
           "query rows per tile (per parallel iteration)">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "keys per tile of the online softmax">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "lanes per vector of the kernel vectorized across query rows "
           "(16: 512-bit f32 vectors); 0: the scalar loop nest only">,
    Option<"splitKeys", "split-keys", "int64_t", /*default=*/"256",
           "with a vector width: keys per parallel split of the loop nest "
           "for fewer rows than lanes (decode), whose query heads of a group "
           "share each key read; 0: no splits">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def SwaaLogitsRowsPass : Pass<"swaa-logits-rows", "::mlir::ModuleOp"> {
  let summary = "@prefill returns (and computes) the logits of rows [from, seq) only";
  let description = [{
    Adds an `index` argument `swaa.logits_from` to `@prefill` and returns
    the rows `[from, seq)` of its logits. The slice is swapped with its
    producers (tileable ops that nothing else reads: the LM head's matmul,
    the final norm, a softcap) so that they run on those rows only; the
    runtime passes `seq - 1` for generation and 0 when every row is wanted
    (scoring). A module whose prefill has no single rank-3 output is left
    alone (the runtime then keeps the rows itself).
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def SwaaPackWeightsPass : Pass<"swaa-pack-weights", "::mlir::ModuleOp"> {
  let summary = "store the weights that matmuls read in the CPU kernels' panels";
  let description = [{
    For each entry point's weight argument (`swaa.weight`) of type
    `tensor<K x N x f32|bf16>` whose every use is the `B` of a contraction
    `C[i..., n] += A[i..., k] * B[k, n]`, changes the argument to
    `tensor<ceil(N/24) x K x 24>` (24-column panels, zero-padded: the layout
    of the CPU kernel library's SWAA_GEMM_B_PACKED) and each use's indexing
    map of B to `(n floordiv 24, k, n mod 24)`, so the IR computes the same
    thing in any lowering. The argument gets `swaa.layout = "panels24"` and
    `swaa.source_shape = [K, N]`: the artifact writer stores the weight in
    that order, once, at compile time, and the kernels stream each panel
    front to back (decode's matrix-vector products read the weights once,
    in long contiguous runs). Weights with any other use are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SwaaVectorizeContractionsPass : Pass<"swaa-vectorize-contractions"> {
  let summary = "matmuls against a weight as vector FMA register blocks (CPU)";
  let description = [{
    Rewrites each f32 `linalg.generic` of the form
    `C[i..., n] += A[i..., k] * B[k, n]` with a static 2-D `B` (the
    importer's MatMul against a weight) into a GEMM micro-kernel in the
    vector dialect: the rows flattened, a parallel loop over blocks of 4
    rows x 4 (or 2) vectors of columns, accumulators in registers over k,
    one broadcast element of A and the vectors of B's row k per step.
    Leftover rows and column vectors take smaller blocks. Runs on tensors,
    before bufferization; other generics are left alone.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector; below 2 the pass does nothing">,
    Option<"library", "library", "bool", /*default=*/"false",
           "call the CPU kernel library (compiler/Targets/CPU/Kernels: "
           "swaa_gemm_tiles, swaa_gemm_<A>_<B>) on tiles in a parallel loop "
           "instead of generating the register blocks; also takes bf16 "
           "inputs and any N">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def SwaaChunkRowsPass : Pass<"swaa-chunk-rows"> {
  let summary = "compute an MLP a chunk of rows at a time (bounded activations)";
  let description = [{
    A contraction against a weight (the MLP's down projection) and the
    row-local ops that produce its input (the gate and up projections, the
    activation, their product: linalg ops whose results only the chain
    reads, each reading its operands row by row) become one `scf.for` over
    chunks of `rows` rows of the last row dimension (the sequence); inside,
    each op is its tile on the chunk. The widening intermediates are then
    `rows` rows tall whatever the prompt's length: at SmolLM2's 8k-token
    prefill, two 48 MiB buffers become two of 6 MiB. Applies only where the
    chain holds a contraction with wider rows than the result (a chain that
    does not widen saves nothing). Runs on tensors, before the contractions
    are lowered.

    ```mlir
    // %up, %gate: [?, ?, 1536] = %x [?, ?, 576] x weights; %down: 576 wide
    %down = linalg.generic ... ins(%act, %w_down) ...
    // becomes
    %r = scf.for %i = %c0 to %seq step %c1024 iter_args(%acc = %empty) {
      %x_i = tensor.extract_slice %x[0, %i, 0] [%b, %n, 576] ...
      ... the chain on %x_i, rows [%i, %i + %n) ...
      %ins = tensor.insert_slice %down_i into %acc[0, %i, 0] ...
      scf.yield %ins
    }
    ```
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"1024",
           "rows per chunk (of the last row dimension)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def SwaaFuseElementwisePass : Pass<"swaa-fuse-elementwise"> {
  let summary = "fuse chains of elementwise linalg ops on tensors";
  let description = [{
    Upstream's elementwise fusion of `linalg.generic` producers into their
    consumers, restricted to what saves memory traffic without repeating
    work: the consumer has no reduction loop (fusing into a contraction
    would recompute the producer for every output column) and the producer
    has no other user (fusing it would compute it twice). An RMS norm, a
    SiLU gate or a residual chain becomes one loop nest instead of one per
    op.

    Then each elementwise generic that writes a fresh `tensor.empty` takes
    as its destination an input of its own type that dies there (the result
    of a matmul or another generic with no other user), so that
    bufferization writes the result over that input instead of allocating:
    the SiLU gate writes over the up projection, a residual add over the
    projection it adds. One activation buffer fewer per op (SmolLM2's 8k
    prefill: 48 MiB of the MLP's three live at once).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SwaaSerialInnermostPass : Pass<"swaa-serial-innermost"> {
  let summary = "keep the innermost dimension of elementwise parallel loops serial (CPU)";
  let description = [{
    A multi-dimensional `scf.parallel` whose body is straight-line code (an
    elementwise op, a transpose, a copy) becomes a parallel loop over all
    but its innermost dimension around an `scf.for` over that one. OpenMP
    would otherwise collapse every dimension into one iteration space and
    recover each index with a division per element, which also keeps LLVM
    from vectorizing along the contiguous innermost dimension. Loops with
    loops inside (attention, matmul kernels, reductions) are left alone.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def SwaaEarlyDeallocPass : Pass<"swaa-early-dealloc"> {
  let summary = "free each buffer right after its last use in its block";
  let description = [{
    Ownership-based buffer deallocation frees a buffer at the end of the
    block that allocated it, so a prefill keeps every layer's activations
    until it returns (its peak memory grows with the number of ops). This
    moves each `memref.dealloc` up to just after the last op of its block
    that uses the buffer or anything derived from it (a view, or any memref
    an op makes from it), nested uses included. A buffer with a use outside
    the block keeps its dealloc where it is.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SwaaOutlineParallelLoopsPass
    : Pass<"swaa-outline-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "each parallel loop nest in a function of its own, identical ones once";
  let description = [{
    Moves every outermost `scf.parallel` of each function (on buffers, after
    deallocation) into a private function of its own (`@<fn>_loop<N>`, the
    captured values as arguments) called in its place, then keeps one
    function per distinct body: the loops of identical decoder layers differ
    only in the buffers they are given, so a model of 30 identical layers
    compiles each loop nest once, not 30 times per entry point. Two costs
    drop with it: translating OpenMP to LLVM IR extracts each parallel
    region from its function, with a walk of the whole function per region
    (quadratic in the model's size when everything is one function), and
    LLVM optimizes 30x less code. The functions are `noinline`: a call per
    loop nest costs nothing next to the loop. The public functions (the
    entry points) keep only straight-line glue (calls, allocations,
    descriptors): they are `optnone`, since LLVM's scheduling of such long
    blocks is quadratic and was most of a real model's compile time.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::scf::SCFDialect"];
}

def AttnLowerGPUPass : Pass<"attn-lower-gpu"> {
  let summary = "lower attention to GPU kernels (gpu.launch)";
  let description = [{
    Rewrites every `attn.attention` and `attn.cache_attention` into
    `gpu.launch` kernels on the operands' buffers. Several query rows
    (prefill): a block per (query tile, head, batch), one query row per
    thread with its online-softmax state (max, sum, output row) in
    registers, the key and value rows of each key tile staged through
    shared memory by the whole block; only the key tiles that hold a
    visible key are visited (sinks, then the window). One query row
    (decode): a block per (head, batch) whose threads split the visible
    keys and combine their partial softmax states through shared memory.
    A query with a dynamic number of rows gets both, chosen on the host.
    `attn.cache_append` becomes the same parallel copy as in
    `attn-lower-tiled`. Head dimensions must be static.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"32",
           "query rows per prefill block">,
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"32",
           "keys per shared-memory tile">,
    Option<"decodeThreads", "decode-threads", "int64_t", /*default=*/"128",
           "threads per decode block (a multiple of 32)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def SwaaParallelLoopsToGPUPass : Pass<"swaa-parallel-loops-to-gpu"> {
  let summary = "turn outermost parallel loops into 1-D GPU kernels";
  let description = [{
    Every outermost `scf.parallel` (outside kernels) becomes a `gpu.launch`
    over its whole iteration space flattened to one dimension:
    ceil(n / threads) blocks of `threads` threads, thread i running the
    iteration whose delinearized index is i (the loop's innermost dimension
    fastest, so that neighbouring threads touch neighbouring elements). A
    store left on the host (a scalar written into a buffer) becomes a
    kernel of one thread. Loops nested in the outermost one must already be
    sequential (`swaa-sequentialize-nested-parallel`).
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "threads per block">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def SwaaGPUFreeBuffersPass : Pass<"swaa-gpu-free-buffers"> {
  let summary = "free each host-allocated buffer after its last use";
  let description = [{
    For the CUDA back end, instead of upstream's ownership-based buffer
    deallocation (which adds ownership arguments to the regions of
    `gpu.launch` ops, and the launch rejects them): every `memref.alloc`
    outside kernels gets a `memref.dealloc` after the last op of its block
    that uses it or a view of it. Buffers that are returned, yielded or
    captured by an op that produces a buffer are left to their new owner
    (the logits, which the runtime frees). Launches are synchronous, so a
    buffer is free only once its kernels have finished.
  }];
}

def SwaaGPUMergeModulesPass : Pass<"swaa-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "put every outlined kernel into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one `gpu.module` per kernel; this moves
    every kernel into one module, `@swaa_kernels`, each named after the
    module it came from, and updates the launches. The model's kernels then
    compile to one PTX file, assemble with one ptxas run per architecture
    and load as one CUDA module.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def SwaaGPUHostMemoryPass : Pass<"swaa-gpu-host-memory", "::mlir::ModuleOp"> {
  let summary = "keep every buffer of the host functions on the device";
  let description = [{
    In the host functions (after kernel outlining): `memref.alloc` and
    `memref.dealloc` become `gpu.alloc` and `gpu.dealloc`, a constant
    (`memref.get_global`) a device copy made with `gpu.memcpy` and freed at
    the function's returns, `memref.copy` a `gpu.memcpy`. Any other host op
    that reads or writes buffer contents is an error naming the op: it
    would touch device memory on the CPU.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def SwaaLowPrecisionPass : Pass<"swaa-low-precision", "::mlir::ModuleOp"> {
  let summary = "16-bit weights, KV caches and matmul/attention inputs";
  let description = [{
    On the split entry points (`swaa.entry`, tensors): weight arguments and
    KV-cache arguments become `bf16` or `f16`; the inputs of every
    contraction (linalg ops with reductions and two inputs) and of every
    attention op are rounded to that type, while products and sums stay
    f32 (contraction bodies widen their inputs; the attention lowerings
    accumulate in f32); attention's output is rounded once and widened for
    the ops after it. Norms, RoPE and residual adds stay f32.
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "f32 (no change), bf16 or f16">,
    Option<"kvDtype", "kv-dtype", "std::string", /*default=*/"\"\"",
           "the KV caches' type: bf16 or f16 with an f32 dtype (caches "
           "only); default and otherwise: dtype">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def SwaaExpandBF16Pass : Pass<"swaa-expand-bf16"> {
  let summary = "bf16 conversions as integer arithmetic";
  let description = [{
    Rewrites `arith.truncf` to and `arith.extf` from `bf16` into integer
    bit operations (round to nearest even, NaNs kept quiet). Without it LLVM
    lowers f32 -> bf16 on CPUs without AVX512-BF16 to a call of
    `__truncsfbf2`, which the runtime library of GCC 12 (Debian 12) does not
    have, so a bf16 model.so would not load there.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def SwaaEntryABIPass : Pass<"swaa-entry-abi", "::mlir::ModuleOp"> {
  let summary = "shape the bufferized entry points into the runtime's ABI";
  let description = [{
    On the bufferized `@prefill` and `@decode` (functions tagged
    `swaa.entry`): drops every result that is one of the function's own
    arguments (the KV caches, updated in place), and marks the functions
    `llvm.emit_c_interface`, so that each argument is passed as a pointer to
    its memref descriptor and the remaining results (the logits, allocated by
    the callee) come back through a pointer to a struct of descriptors.
    The dropped results are recorded as `swaa.in_place` on the argument.
  }];
}

def SwaaExpandMemrefCopyPass : Pass<"swaa-expand-memref-copy"> {
  let summary = "turn memref.copy into linalg.copy (then loops)";
  let description = [{
    Copies between strided views (a KV-cache row, a slice) lower to a call of
    the `memrefCopy` runtime helper; as `linalg.copy` they become plain loops
    and the compiled model needs no MLIR runtime library.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SwaaInterchangeReductionsPass : Pass<"swaa-interchange-reductions"> {
  let summary = "move reduction loops outside the output's innermost loop";
  let description = [{
    A contraction such as `C[b, s, n] += A[b, s, k] * B[k, n]` comes out of
    the importer with the reduction loop innermost, which reads `B` with a
    stride of `n` and cannot be vectorized. This interchange makes the
    output's innermost dimension the innermost loop (contiguous in `B` and
    `C`), with the reductions just outside it, so that the loops that
    `convert-linalg-to-(parallel-)loops` emits vectorize.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SwaaSequentializeNestedParallelPass
    : Pass<"swaa-sequentialize-nested-parallel"> {
  let summary = "turn scf.parallel loops nested in other loops into scf.for";
  let description = [{
    Only the outermost parallel loop of a nest becomes an OpenMP region (a
    nested one would start a thread team per outer iteration); the parallel
    loops inside any other loop become plain `scf.for` nests, which LLVM then
    vectorizes. Loops with reductions are left alone, and so are the loops in
    the chunks of swaa-chunk-rows (`scf.for` marked `swaa.chunk_loop`: one
    thread team per op of a chunk, as for the ops of a whole prompt).
  }];
}

def SwaaProfileOpsPass : Pass<"swaa-profile-ops", "::mlir::ModuleOp"> {
  let summary = "time the ops of the entry points by kind";
  let description = [{
    Brackets every attention, contraction and other computation in the
    entry points (functions tagged `swaa.entry`) with calls to
    `swaa_profile_begin(kind)` / `swaa_profile_end(kind)` (kind 0:
    attention, 1: KV-cache writes, 2: matmuls and other contractions, 3:
    everything else), which the runtime provides: they cost two clock reads
    when a session profiles (`swaa-run --profile`) and a flag test when not.
    Runs on tensors, before bufferization, which keeps the order of ops.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // SWAA_COMPILER_LOWERING_PASSES_TD
