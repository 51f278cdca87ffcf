// attn-lower-reference on multi-head attention without causal or window:
// no head expansion and no position mask, only the scale.
// RUN: swaa-opt %s --attn-lower-reference | FileCheck %s

// CHECK-LABEL: func.func @bidirectional
// CHECK-SAME:    (%[[Q:.+]]: tensor<2x4x8x16xf32>, %[[K:.+]]: tensor<2x4x8x16xf32>, %[[V:.+]]: tensor<2x4x8x16xf32>)
// CHECK-NOT:     tensor.extract
// CHECK:         linalg.generic
// CHECK-SAME:      ins(%[[Q]], %[[K]] : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[SC:.+]] = arith.mulf %[[IN]], %{{.+}} : f32
// CHECK-NEXT:      linalg.yield %[[SC]] : f32
// CHECK-NOT:     linalg.index
// CHECK:         linalg.generic {{.+}} ins(%{{.+}}, %[[V]] : tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>)
// CHECK-NOT:     attn.attention
func.func @bidirectional(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>,
                         %v: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %o = attn.attention layer 0 scale 0.25
         ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
         -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// Causal without a window: only the j <= i test.
// CHECK-LABEL: func.func @causal
// CHECK:         linalg.index 2
// CHECK:         linalg.index 3
// CHECK:         %[[VIS:.+]] = arith.cmpi sle
// CHECK-NEXT:    arith.select %[[VIS]]
// CHECK-NOT:     arith.cmpi sgt
func.func @causal(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                  %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>)
         -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}
