// The attention loop nest mapped to the GPU (the first stage of
// swaa-cuda-kernels, no GPU needed): the tiled lowering with one query row per
// parallel iteration and thread-private online-softmax state (allocas), the
// parallel loop mapped to the grid and outlined into a kernel that visits
// the sink keys and then the window keys of its row.
// RUN: swaa-opt %s --split-input-file --pass-pipeline='builtin.module(attn-lower-tiled{query-tile=1 key-tile=32 private-state=true},one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},canonicalize,func.func(gpu-map-parallel-loops,convert-parallel-loops-to-gpu),gpu-kernel-outlining)' | FileCheck %s

// CHECK-LABEL: func.func @prefill_window_sinks
// CHECK:         gpu.launch_func @prefill_window_sinks_kernel::@prefill_window_sinks_kernel blocks in
// CHECK:       gpu.module @prefill_window_sinks_kernel
// CHECK:         gpu.func @prefill_window_sinks_kernel
// CHECK-SAME:      kernel
// CHECK:           gpu.block_id x
// CHECK:           memref.alloca() : memref<1xf32>
// CHECK:           memref.alloca() : memref<1x32xf32>
// CHECK:           arith.minsi %{{.+}}, %{{.+}} : index
// CHECK:           scf.for
// CHECK:           scf.for
// CHECK:             math.exp
// CHECK:           gpu.return
func.func @prefill_window_sinks(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention layer 0 causal window 13 sinks 5 scale 0.35
         ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32>
  return %o : tensor<1x4x?x8xf32>
}

// -----

// Decode: one query per head against a ring cache, read slot by slot.
// CHECK-LABEL: func.func @decode_ring
// CHECK:         gpu.launch_func @decode_ring_kernel::@decode_ring_kernel
// CHECK:         gpu.func @decode_ring_kernel
// CHECK:           arith.remui %{{.+}}, %{{.+}} : index
// CHECK:           math.exp
func.func @decode_ring(%q: tensor<1x8x1x64xf32>, %kc: tensor<1x2x68x64xf32>, %vc: tensor<1x2x68x64xf32>, %pos: index) -> tensor<1x8x1x64xf32> {
  %o = attn.cache_attention layer 1 causal window 64 sinks 4 scale 0.125
         ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>, tensor<1x2x68x64xf32>)
         at %pos ring 64 sinks 4 -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
