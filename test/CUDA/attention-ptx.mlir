// swaa-cuda-kernels: the attention kernels as PTX for sm_80 (no GPU needed:
// gpu-module-to-binary with format=isa runs LLVM's NVPTX back end), checked
// as text, then assembled by ptxas for sm_80 and sm_90 with -v: no register
// spills, shared memory within 48 KiB (test/lib/check_ptx.py).
// RUN: swaa-opt %s --split-input-file --swaa-cuda-kernels -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir --dump-input=never
// RUN: %swaa-python %test-root/lib/check_ptx.py %t.mlir --ptxas %ptxas --arch sm_80,sm_90 | FileCheck %s --check-prefix=PTXAS

// Prefill (rows dynamic: the two decode kernels, then the query-tile
// kernel): the first decode kernel reads its chunk of keys from global
// memory and combines its groups through shared memory into a partial state
// in global memory, the second combines the chunks; the query-tile kernel
// stages key/value tiles in shared memory between barriers, sums partial
// dot products with butterfly shuffles, exponentiates (ex2) and stores the
// output to global memory.
// CHECK:       gpu.binary @swaa_kernels
// CHECK-SAME:    .target sm_80
// CHECK-SAME:    .visible .entry prefill_kernel(
// CHECK-SAME:    shfl.sync.bfly.b32
// CHECK-SAME:    st.shared.b32
// CHECK-SAME:    bar.sync
// CHECK-SAME:    st.global.b32
// CHECK-SAME:    .visible .entry prefill_kernel_0(
// CHECK-SAME:    ld.global.b32
// CHECK-SAME:    ex2.approx
// CHECK-SAME:    st.global.b32
// CHECK-SAME:    .visible .entry prefill_kernel_1(
// CHECK-SAME:    ld.global.b32
// CHECK-SAME:    st.shared.b32
// CHECK-SAME:    bar.sync
// CHECK-SAME:    ld.shared.b32
// CHECK-SAME:    shfl.sync.bfly.b32
// CHECK-SAME:    ex2.approx
// CHECK-SAME:    bar.sync
// CHECK-SAME:    st.global.b32
// Decode: the chunk kernel (the ring slot: rem; the block's combination)
// and the chunks' combination.
// CHECK:       gpu.binary @swaa_kernels
// CHECK-SAME:    .visible .entry decode_kernel(
// CHECK-SAME:    rem.u64
// CHECK-SAME:    shfl.sync.bfly.b32
// CHECK-SAME:    st.shared.b32
// CHECK-SAME:    bar.sync
// CHECK-SAME:    ld.shared.b32
// CHECK-SAME:    st.global.b32
// CHECK-SAME:    .visible .entry decode_kernel_0(
// CHECK-SAME:    ex2.approx
// CHECK-SAME:    st.global.b32
// PTXAS: OK sm_80 prefill_kernel: {{[0-9]+}} registers, 0 bytes spilled, {{[0-9]+}} bytes shared
// PTXAS: OK sm_80 prefill_kernel_1: {{[0-9]+}} registers, 0 bytes spilled, 16384 bytes shared
// PTXAS: OK sm_90 prefill_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: OK sm_90 prefill_kernel_1: {{[0-9]+}} registers, 0 bytes spilled, 16384 bytes shared
// PTXAS: OK sm_80 decode_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: OK sm_90 decode_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: 10 kernels assembled: all without spills
func.func @prefill(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %o = attn.attention layer 0 causal window 512 sinks 4 scale 0.125
         ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>) -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}

// -----

func.func @decode(%q: tensor<1x8x1x64xf32>, %kc: tensor<1x2x516x64xf32>, %vc: tensor<1x2x516x64xf32>, %pos: index) -> tensor<1x8x1x64xf32> {
  %o = attn.cache_attention layer 1 causal window 512 sinks 4 scale 0.125
         ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x516x64xf32>, tensor<1x2x516x64xf32>)
         at %pos ring 512 sinks 4 -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
