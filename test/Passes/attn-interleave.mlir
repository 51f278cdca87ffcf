// attn-interleave marks the layers of its spec full (attn.keep_full) and
// drops any window they had (layer 2 starts with window 3); the other layers
// are untouched.
// RUN: swaa-opt %s --attn-interleave="fa-layers=odd" | FileCheck %s --check-prefix=ODD
// RUN: swaa-opt %s --attn-interleave="fa-layers=even" | FileCheck %s --check-prefix=EVEN
// RUN: swaa-opt %s --attn-interleave="fa-layers=every:4:offset:1" | FileCheck %s --check-prefix=QUARTER
// RUN: swaa-opt %s --attn-interleave="fa-layers=0,2-3" | FileCheck %s --check-prefix=LIST
// RUN: swaa-opt %s --attn-interleave="fa-layers=first:1,last:1" | FileCheck %s --check-prefix=ENDS
// RUN: swaa-opt %s --attn-interleave="fa-layers=none" | FileCheck %s --check-prefix=NONE
// RUN: swaa-opt %s --attn-interleave="fa-layers=all" | FileCheck %s --check-prefix=ALL

// ODD-LABEL: func.func @model
// ODD:      attn.attention layer 0 causal scale
// ODD-NOT:  keep_full
// ODD-SAME: -> tensor
// ODD:      attn.attention layer 1 causal scale {{.*}} {attn.keep_full}
// ODD:      attn.attention layer 2 causal window 3 scale
// ODD-NOT:  keep_full
// ODD-SAME: -> tensor
// ODD:      attn.attention layer 3 causal scale {{.*}} {attn.keep_full}

// EVEN:      attn.attention layer 0 causal scale {{.*}} {attn.keep_full}
// EVEN:      attn.attention layer 1 causal scale
// EVEN-NOT:  keep_full
// EVEN-SAME: -> tensor
// EVEN:      attn.attention layer 2 causal scale {{.*}} {attn.keep_full}
// EVEN-NOT:  window
// EVEN:      attn.attention layer 3 causal scale
// EVEN-NOT:  keep_full
// EVEN-SAME: -> tensor

// QUARTER-NOT: keep_full
// QUARTER:     attn.attention layer 1 causal scale {{.*}} {attn.keep_full}
// QUARTER-NOT: keep_full

// LIST:      attn.attention layer 0 {{.*}} {attn.keep_full}
// LIST-NOT:  attn.keep_full
// LIST:      attn.attention layer 2 causal scale {{.*}} {attn.keep_full}
// LIST:      attn.attention layer 3 {{.*}} {attn.keep_full}

// ENDS:      attn.attention layer 0 {{.*}} {attn.keep_full}
// ENDS-NOT:  attn.keep_full
// ENDS:      attn.attention layer 3 {{.*}} {attn.keep_full}

// NONE-NOT: keep_full
// NONE:     attn.attention layer 2 causal window 3

// ALL-COUNT-4: {attn.keep_full}
// ALL-NOT:     window
func.func @model(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = attn.attention layer 1 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %2 = attn.attention layer 2 causal window 3 scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %3 = attn.attention layer 3 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
