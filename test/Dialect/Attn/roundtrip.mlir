// Round trips of attn.attention through the custom assembly format, and
// through the generic form back to the custom one.
// RUN: swaa-opt %s --split-input-file | swaa-opt --split-input-file | FileCheck %s
// RUN: swaa-opt %s --split-input-file --mlir-print-op-generic | swaa-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @gqa_window_sinks
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x8x16x64xf32>, %[[K:.+]]: tensor<1x2x16x64xf32>, %[[V:.+]]: tensor<1x2x16x64xf32>)
// CHECK:         %[[O:.+]] = attn.attention layer 3 causal window 4 sinks 2 scale 3.500000e-01
// CHECK-SAME:      ins(%[[Q]], %[[K]], %[[V]] : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>)
// CHECK-SAME:      -> tensor<1x8x16x64xf32>
// CHECK:         return %[[O]]
func.func @gqa_window_sinks(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>,
                            %v: tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %o = attn.attention layer 3 causal window 4 sinks 2 scale 0.35
         ins(%q, %k, %v : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>)
         -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}

// -----

// Full attention: no window, and the default `sinks = 0` is not printed.
// CHECK-LABEL: func.func @full_causal
// CHECK:         attn.attention layer 0 causal scale 1.250000e-01 ins(
// CHECK-NOT:     sinks
// CHECK-SAME:      -> tensor<2x4x32x64xf32>
func.func @full_causal(%q: tensor<2x4x32x64xf32>, %k: tensor<2x4x32x64xf32>,
                       %v: tensor<2x4x32x64xf32>) -> tensor<2x4x32x64xf32> {
  %o = attn.attention layer 0 causal scale 0.125
         ins(%q, %k, %v : tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32>)
         -> tensor<2x4x32x64xf32>
  return %o : tensor<2x4x32x64xf32>
}

// -----

// Not causal (an encoder layer): every key is visible.
// CHECK-LABEL: func.func @bidirectional
// CHECK:         attn.attention layer 1 scale 1.250000e-01 ins(
func.func @bidirectional(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                         %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = attn.attention layer 1 scale 0.125
         ins(%q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
         -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Symbolic batch and sequence sizes, as the importer writes them, and a
// decode-shaped query (one token against the cache).
// CHECK-LABEL: func.func @dynamic
// CHECK:         attn.attention layer 2 causal window 2048 sinks 100 scale 0.0883788987
// CHECK-SAME:      ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>)
// CHECK-SAME:      -> tensor<?x32x?x128xbf16>
// CHECK:         attn.attention layer 2 causal window 2048 sinks 100 scale 0.0883788987
// CHECK-SAME:      tensor<?x32x1x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>
func.func @dynamic(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>,
                   %v: tensor<?x8x?x128xbf16>, %q1: tensor<?x32x1x128xbf16>)
    -> (tensor<?x32x?x128xbf16>, tensor<?x32x1x128xbf16>) {
  %o = attn.attention layer 2 causal window 2048 sinks 100 scale 0.0883789
         ins(%q, %k, %v : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>)
         -> tensor<?x32x?x128xbf16>
  %d = attn.attention layer 2 causal window 2048 sinks 100 scale 0.0883789
         ins(%q1, %k, %v : tensor<?x32x1x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>)
         -> tensor<?x32x1x128xbf16>
  return %o, %d : tensor<?x32x?x128xbf16>, tensor<?x32x1x128xbf16>
}

// -----

// An additive padding mask that broadcasts over heads and queries.
// CHECK-LABEL: func.func @padding_mask
// CHECK-SAME:    %[[M:[^:]+]]: tensor<2x1x1x16xf16>
// CHECK:         attn.attention layer 0 causal scale 2.500000e-01
// CHECK-SAME:      mask(%[[M]] : tensor<2x1x1x16xf16>) -> tensor<2x4x16x16xf16>
func.func @padding_mask(%q: tensor<2x4x16x16xf16>, %k: tensor<2x4x16x16xf16>,
                        %v: tensor<2x4x16x16xf16>, %m: tensor<2x1x1x16xf16>)
    -> tensor<2x4x16x16xf16> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<2x4x16x16xf16>, tensor<2x4x16x16xf16>, tensor<2x4x16x16xf16>)
         mask(%m : tensor<2x1x1x16xf16>) -> tensor<2x4x16x16xf16>
  return %o : tensor<2x4x16x16xf16>
}

// -----

// Multi-query attention (one key/value head) with a value head_dim of its own.
// CHECK-LABEL: func.func @mqa_value_dim
// CHECK:         attn.attention layer 5 causal window 1 scale 5.000000e-01
// CHECK-SAME:      -> tensor<1x4x8x32xf32>
func.func @mqa_value_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x1x8x16xf32>,
                         %v: tensor<1x1x8x32xf32>) -> tensor<1x4x8x32xf32> {
  %o = attn.attention layer 5 causal window 1 scale 0.5
         ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x32xf32>)
         -> tensor<1x4x8x32xf32>
  return %o : tensor<1x4x8x32xf32>
}

// -----

// Logit soft-capping (Gemma 2): `softcap c` after the scale.
// CHECK-LABEL: func.func @softcap
// CHECK:         attn.attention layer 0 causal window 8 scale 2.500000e-01 softcap 5.000000e+01
// CHECK-SAME:      -> tensor<1x4x8x16xf32>
func.func @softcap(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                   %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %o = attn.attention layer 0 causal window 8 scale 0.25 softcap 50.0
         ins(%q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
         -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}
