// Layers with the model's own sliding window (`attn.native_window`, set by
// the importer) keep it under a recipe: attn-sliding-window and
// attn-keep-sinks pass them over, attn-interleave and the FA-decode split
// refuse a spec that names them, and `fa-decode=true` leaves them windowed
// in decode. attn-release-native-windows hands them to the recipe.
// RUN: swaa-opt %s --attn-sliding-window="window=4" --attn-keep-sinks="sinks=2" | FileCheck %s --check-prefix=KEEP
// RUN: swaa-opt %s --attn-interleave="fa-layers=1" --attn-sliding-window="window=4" | FileCheck %s --check-prefix=FULLONE
// RUN: not swaa-opt %s --attn-interleave="fa-layers=every:2" 2>&1 | FileCheck %s --check-prefix=NAMED
// RUN: not swaa-opt %s --attn-interleave="fa-layers=all" 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: swaa-opt %s --attn-release-native-windows --attn-interleave="fa-layers=every:2" --attn-sliding-window="window=4" --attn-keep-sinks="sinks=2" | FileCheck %s --check-prefix=OVERRIDE
// RUN: swaa-opt %S/Inputs/two-layer-cache-native.mlir --attn-sliding-window="window=3" --attn-split-prefill-decode="fa-decode=true" | FileCheck %s --check-prefix=FADECODE
// RUN: not swaa-opt %S/Inputs/two-layer-cache-native.mlir --attn-sliding-window="window=3" --attn-split-prefill-decode="fa-decode=0,1" 2>&1 | FileCheck %s --check-prefix=FADECODE-NAMED

// KEEP-LABEL: func.func @forward
// KEEP:      attn.attention layer 0 causal window 6 scale {{.*}} {attn.native_window = 6 : i64}
// KEEP:      attn.attention layer 1 causal window 4 sinks 2 scale
// KEEP-NOT:  native_window
// KEEP-SAME: -> tensor
// KEEP:      attn.attention layer 2 causal window 6 scale {{.*}} {attn.native_window = 6 : i64}

// FULLONE:      attn.attention layer 0 causal window 6
// FULLONE:      attn.attention layer 1 causal scale {{.*}} {attn.keep_full}
// FULLONE:      attn.attention layer 2 causal window 6

// NAMED: error: fa-layers: selects layers with the model's own sliding window: layer 0 (6 keys), layer 2 (6 keys); a recipe keeps them as the model has them (the model's full-attention layers are 1); --override-native-windows makes them full attention
// ALL: error: fa-layers: selects layers with the model's own sliding window: layer 0 (6 keys), layer 2 (6 keys)

// OVERRIDE:      attn.attention layer 0 causal scale {{.*}} {attn.keep_full}
// OVERRIDE:      attn.attention layer 1 causal window 4 sinks 2 scale
// OVERRIDE:      attn.attention layer 2 causal scale {{.*}} {attn.keep_full}
// OVERRIDE-NOT:  native_window

// FADECODE-LABEL: func.func @prefill
// FADECODE:       attn.attention layer 0 causal window 4 scale
// FADECODE:       attn.attention layer 1 causal window 3 scale
// FADECODE-LABEL: func.func @decode
// FADECODE:       attn.cache_attention layer 0 causal window 4 {{.+}} ring 4
// FADECODE:       attn.cache_attention layer 1 causal scale

// FADECODE-NAMED: error: fa-decode: selects layers with the model's own sliding window: layer 0 (4 keys); a recipe keeps them as the model has them (the model's full-attention layers are 1); --override-native-windows gives them full-attention decode
func.func @forward(%q: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %0 = attn.attention layer 0 causal window 6 scale 0.5 ins(%q, %q, %q : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) {attn.native_window = 6 : i64} -> tensor<1x2x?x4xf32>
  %1 = attn.attention layer 1 causal scale 0.5 ins(%0, %0, %0 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  %2 = attn.attention layer 2 causal window 6 scale 0.5 ins(%1, %1, %1 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) {attn.native_window = 6 : i64} -> tensor<1x2x?x4xf32>
  return %2 : tensor<1x2x?x4xf32>
}
