// attn-lower-gpu needs static head dimensions (the kernels keep a row's
// elements in registers); the error names the op.
// RUN: swaa-opt %s --attn-lower-gpu --verify-diagnostics --split-input-file

func.func @dynamic_head_dim(%q: tensor<1x8x?x?xf32>, %k: tensor<1x2x?x?xf32>, %v: tensor<1x2x?x?xf32>) -> tensor<1x8x?x?xf32> {
  // expected-error @below {{needs a static head dimension for the GPU kernels}}
  %o = attn.attention layer 0 causal scale 0.125
         ins(%q, %k, %v : tensor<1x8x?x?xf32>, tensor<1x2x?x?xf32>, tensor<1x2x?x?xf32>) -> tensor<1x8x?x?xf32>
  return %o : tensor<1x8x?x?xf32>
}
