// attn-sliding-window sets window W on every layer that attn-interleave did
// not keep full (in either order), and only on the layers of 'layers' when
// given; a layer that had a window gets the new one.
// RUN: swaa-opt %s --attn-sliding-window="window=5" | FileCheck %s --check-prefix=ALL
// RUN: swaa-opt %s --attn-interleave="fa-layers=odd" --attn-sliding-window="window=5" | FileCheck %s --check-prefix=ODD
// RUN: swaa-opt %s --attn-sliding-window="window=5" --attn-interleave="fa-layers=odd" | FileCheck %s --check-prefix=ODD
// RUN: swaa-opt %s --attn-sliding-window="window=2 layers=0-1" | FileCheck %s --check-prefix=SOME

// ALL-COUNT-4: causal window 5 scale

// ODD: attn.attention layer 0 causal window 5 scale
// ODD: attn.attention layer 1 causal scale {{.*}} {attn.keep_full}
// ODD: attn.attention layer 2 causal window 5 scale
// ODD: attn.attention layer 3 causal scale {{.*}} {attn.keep_full}

// SOME: attn.attention layer 0 causal window 2 scale
// SOME: attn.attention layer 1 causal window 2 scale
// SOME: attn.attention layer 2 causal window 3 scale
// SOME: attn.attention layer 3 causal scale
func.func @model(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = attn.attention layer 1 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %2 = attn.attention layer 2 causal window 3 scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %3 = attn.attention layer 3 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
