// attn-keep-sinks puts S sink tokens on every windowed layer and leaves full
// layers alone (they see every token already); a negative count is refused.
// RUN: swaa-opt %s --attn-interleave="fa-layers=0" --attn-sliding-window="window=4" --attn-keep-sinks="sinks=2" | FileCheck %s
// RUN: swaa-opt %s --attn-keep-sinks="sinks=1" | FileCheck %s --check-prefix=ONLY
// RUN: not swaa-opt %s --attn-keep-sinks="sinks=-1" 2>&1 | FileCheck %s --check-prefix=NEG
// CHECK: attn.attention layer 0 causal scale {{.*}} {attn.keep_full}
// CHECK: attn.attention layer 1 causal window 4 sinks 2 scale
// CHECK: attn.attention layer 2 causal window 4 sinks 2 scale
// CHECK: attn.attention layer 3 causal window 4 sinks 2 scale
// ONLY:     attn.attention layer 1 causal scale
// ONLY:     attn.attention layer 2 causal window 3 sinks 1 scale
// ONLY-NOT: sinks
// NEG: error: sinks: expected a non-negative count, got -1
func.func @model(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = attn.attention layer 1 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %2 = attn.attention layer 2 causal window 3 scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %3 = attn.attention layer 3 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
