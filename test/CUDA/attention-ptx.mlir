// swaa-cuda-kernels: the attention kernels as PTX for sm_80 (no GPU needed:
// gpu-module-to-binary with format=isa runs LLVM's NVPTX back end), checked
// as text, then assembled by ptxas for sm_80 and sm_90 with -v: no register
// spills, shared memory within 48 KiB (test/lib/check_ptx.py).
// RUN: swaa-opt %s --split-input-file --swaa-cuda-kernels -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir
// RUN: %swaa-python %test-root/lib/check_ptx.py %t.mlir --ptxas %ptxas --arch sm_80,sm_90 | FileCheck %s --check-prefix=PTXAS

// CHECK:       gpu.binary @prefill_kernel
// CHECK-SAME:    .target sm_80
// CHECK-SAME:    .visible .entry prefill_kernel(
// CHECK-SAME:    ld.global.b32
// CHECK-SAME:    ex2.approx
// CHECK-SAME:    st.global.b32
// CHECK:       gpu.binary @decode_kernel
// CHECK-SAME:    .visible .entry decode_kernel(
// CHECK-SAME:    rem.u64
// PTXAS: OK sm_80 prefill_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: OK sm_90 prefill_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: OK sm_80 decode_kernel: {{[0-9]+}} registers, 0 bytes spilled
// PTXAS: OK sm_90 decode_kernel: {{[0-9]+}} registers, 0 bytes spilled
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
