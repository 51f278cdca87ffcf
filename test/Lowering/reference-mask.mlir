// attn-lower-reference adds the mask to the scaled scores; a mask dimension
// of static size 1 broadcasts through a constant 0 in the indexing map.
// RUN: swaa-opt %s --attn-lower-reference | FileCheck %s

// CHECK-DAG:   #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$BCAST:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>
// CHECK-LABEL: func.func @padding_mask
// CHECK-SAME:    %[[M:[^:]+]]: tensor<2x1x1x8xf32>
// CHECK:         linalg.generic {indexing_maps = [#[[$ID4]], #[[$BCAST]], #[[$ID4]]]
// CHECK-SAME:      ins(%{{.+}}, %[[M]] : tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>)
// CHECK-NEXT:    ^bb0(%[[S:.+]]: f32, %[[MV:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT:      %[[SC:.+]] = arith.mulf %[[S]]
// CHECK-NEXT:      %[[ADD:.+]] = arith.addf %[[SC]], %[[MV]]
// CHECK:           arith.select %{{.+}}, %[[ADD]]
func.func @padding_mask(%q: tensor<2x4x8x16xf32>, %k: tensor<2x4x8x16xf32>,
                        %v: tensor<2x4x8x16xf32>, %m: tensor<2x1x1x8xf32>)
    -> tensor<2x4x8x16xf32> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>)
         mask(%m : tensor<2x1x1x8xf32>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}
