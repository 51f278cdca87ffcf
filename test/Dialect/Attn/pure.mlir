// attn.attention has no side effects: CSE merges identical attentions and
// canonicalization deletes an unused one, while different configurations
// are kept apart.
// RUN: swaa-opt %s --cse --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @pure
// CHECK:         %[[A:.+]] = attn.attention layer 0 causal window 8 scale
// CHECK:         %[[B:.+]] = attn.attention layer 0 causal scale
// CHECK-NOT:     attn.attention
// CHECK:         return %[[A]], %[[A]], %[[B]]
func.func @pure(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>)
    -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %a = attn.attention layer 0 causal window 8 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %b = attn.attention layer 0 causal window 8 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %c = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %unused = attn.attention layer 1 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %a, %b, %c : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
