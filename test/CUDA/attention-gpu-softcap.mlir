// attn-lower-gpu with logit soft-capping: after the partial dot products
// are summed by shuffles, the score becomes c - 2c / (exp(2s / c) + 1)
// (c * tanh(s / c), c = 50: 2/c = 0.04, 2c = 100) before the mask and the
// visibility select, in the prefill and in the split-K decode kernel.
// RUN: swaa-opt %s --split-input-file --attn-lower-gpu | FileCheck %s

// CHECK-LABEL: func.func @prefill_softcap
// CHECK:         gpu.launch
// CHECK:           gpu.shuffle xor
// CHECK:           %[[S:.+]] = arith.mulf %{{.+}}, %cst{{.*}} : f32
// CHECK:           %[[E:.+]] = math.exp %[[S]] : f32
// CHECK:           %[[D:.+]] = arith.addf %[[E]], %cst{{.*}} : f32
// CHECK:           %[[Q:.+]] = arith.divf %cst{{.*}}, %[[D]] : f32
// CHECK:           arith.subf %cst{{.*}}, %[[Q]] : f32
func.func @prefill_softcap(%q: tensor<1x4x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>) -> tensor<1x4x64x16xf32> {
  %o = attn.attention layer 0 causal window 16 scale 0.25 softcap 50.0
         ins(%q, %k, %v : tensor<1x4x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>)
         -> tensor<1x4x64x16xf32>
  return %o : tensor<1x4x64x16xf32>
}

// -----

// CHECK-LABEL: func.func @decode_softcap
// CHECK:         gpu.launch
// CHECK:           gpu.shuffle xor
// CHECK:           math.exp
// CHECK:           arith.divf
// CHECK:           arith.subf
func.func @decode_softcap(%q: tensor<1x4x1x16xf32>, %kc: tensor<1x2x?x16xf32>, %vc: tensor<1x2x?x16xf32>, %pos: index) -> tensor<1x4x1x16xf32> {
  %o = attn.cache_attention layer 1 causal scale 0.25 softcap 50.0
         ins(%q, %kc, %vc : tensor<1x4x1x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>)
         at %pos -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}
