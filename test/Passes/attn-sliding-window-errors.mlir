// attn-sliding-window refuses a window below 1, a bad layer spec, and a
// bidirectional attention (a sliding window is defined on causal attention).
// RUN: not swaa-opt %s --split-input-file --attn-sliding-window="window=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not swaa-opt %s --split-input-file --attn-sliding-window="window=4 layers=2" 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: swaa-opt %s --split-input-file --verify-diagnostics --attn-sliding-window="window=4"
// ZERO: error: window: expected at least 1 key (the query itself), got 0
// SPEC: error: layers: layer spec '2', at position 1 ('2'): layer 2 is out of range (the model has 1 attention layers, 0-0)

func.func @causal(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @bidirectional(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'attn.attention' op is not causal: a sliding window applies to causal (decoder) attention only}}
  %0 = attn.attention layer 0 scale 0.5 ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
