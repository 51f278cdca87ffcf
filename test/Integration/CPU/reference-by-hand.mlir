// Reference lowering, executed, against values worked out by hand.
// RUN: swaa-opt %s --swaa-reference-cpu | %run-cpu | FileCheck %s
//
// Keys k0 = [0, 0] and k1 = [ln 3, 0]; the query q = [1, 0] scores
// 0 and ln 3 against them, so softmax gives weights 1/4 and 3/4.
// Values v0 = [4, 0] and v1 = [0, 8].
//   causal, row 0 (position 0): sees k0 only        -> v0 = [4, 0]
//   causal, row 1 (position 1): 1/4 v0 + 3/4 v1     -> [1, 6]
//   window 1: every row sees only itself            -> v0, v1 = [4, 0], [0, 8]
//   decode (1 query at position 1), window 1, sinks 1: sees k0 (sink) and
//   k1 (itself)                                     -> [1, 6]

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %q = arith.constant dense<[[[[1.0, 0.0], [1.0, 0.0]]]]> : tensor<1x1x2x2xf32>
  %q1 = arith.constant dense<[[[[1.0, 0.0]]]]> : tensor<1x1x1x2xf32>
  %k = arith.constant dense<[[[[0.0, 0.0], [1.0986123, 0.0]]]]> : tensor<1x1x2x2xf32>
  %v = arith.constant dense<[[[[4.0, 0.0], [0.0, 8.0]]]]> : tensor<1x1x2x2xf32>

  // CHECK:      sizes = [1, 1, 2, 2]
  // CHECK:      {{\[\[\[\[}}4, 0],
  // CHECK-NEXT: [1, 6]]]]
  %causal = attn.attention layer 0 causal scale 1.0
      ins(%q, %k, %v : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>)
      -> tensor<1x1x2x2xf32>
  %u0 = tensor.cast %causal : tensor<1x1x2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u0) : (tensor<*xf32>) -> ()

  // CHECK:      sizes = [1, 1, 2, 2]
  // CHECK:      {{\[\[\[\[}}4, 0],
  // CHECK-NEXT: [0, 8]]]]
  %window = attn.attention layer 0 causal window 1 scale 1.0
      ins(%q, %k, %v : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>)
      -> tensor<1x1x2x2xf32>
  %u1 = tensor.cast %window : tensor<1x1x2x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u1) : (tensor<*xf32>) -> ()

  // CHECK:      sizes = [1, 1, 1, 2]
  // CHECK:      {{\[\[\[\[}}1, 6]]]]
  %decode = attn.attention layer 0 causal window 1 sinks 1 scale 1.0
      ins(%q1, %k, %v : tensor<1x1x1x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>)
      -> tensor<1x1x1x2xf32>
  %u2 = tensor.cast %decode : tensor<1x1x1x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u2) : (tensor<*xf32>) -> ()
  return
}
