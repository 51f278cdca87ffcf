// attn-lower-reference on GQA with a window and sinks: each step of the
// contract is one linalg.generic, with the mask spelled out per element.
// RUN: swaa-opt %s --attn-lower-reference | FileCheck %s

// CHECK-DAG:   #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$ROW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG:   #[[$QD:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG:   #[[$KD:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG:   #[[$S5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG:   #[[$VD:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-LABEL: func.func @gqa_window_sinks
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x8x16x4xf32>, %[[K:.+]]: tensor<1x2x16x4xf32>, %[[V:.+]]: tensor<1x2x16x4xf32>)
// CHECK-NOT:     attn.attention
//
// Step 1: query head h reads key/value head h / 4.
// CHECK:         %[[G:.+]] = arith.constant 4 : index
// CHECK:         %[[KX:.+]] = linalg.generic {indexing_maps = [#[[$ID4]]]
// CHECK:           %[[H:.+]] = linalg.index 1
// CHECK:           %[[HK:.+]] = arith.divui %[[H]], %[[G]]
// CHECK:           tensor.extract %[[K]][%{{.+}}, %[[HK]], %{{.+}}, %{{.+}}]
// CHECK:         %[[VX:.+]] = linalg.generic
// CHECK:           tensor.extract %[[V]]
//
// Step 2: scores = Q K^T, reduced over head_dim.
// CHECK:         %[[S:.+]] = linalg.generic {indexing_maps = [#[[$QD]], #[[$KD]], #[[$S5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[Q]], %[[KX]] : tensor<1x8x16x4xf32>, tensor<1x8x16x4xf32>) outs(%{{.+}} : tensor<1x8x16x16xf32>)
//
// Step 3: scale, then -inf unless j <= i and (i - 4 < j or j < 2).
// CHECK:         %[[SCALE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK:         %[[W:.+]] = arith.constant 4 : index
// CHECK:         %[[SINKS:.+]] = arith.constant 2 : index
// CHECK:         %[[L:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ID4]]]
// CHECK-SAME:      ins(%[[S]] :
// CHECK:           %[[SC:.+]] = arith.mulf %{{.+}}, %[[SCALE]]
// CHECK:           %[[ROWI:.+]] = linalg.index 2
// CHECK:           %[[J:.+]] = linalg.index 3
// CHECK:           %[[I:.+]] = arith.addi %[[ROWI]]
// CHECK:           %[[CAUSAL:.+]] = arith.cmpi sle, %[[J]], %[[I]]
// CHECK:           %[[LO:.+]] = arith.subi %[[I]], %[[W]]
// CHECK:           %[[INW:.+]] = arith.cmpi sgt, %[[J]], %[[LO]]
// CHECK:           %[[SINK:.+]] = arith.cmpi slt, %[[J]], %[[SINKS]]
// CHECK:           %[[KEEP:.+]] = arith.ori %[[INW]], %[[SINK]]
// CHECK:           %[[VIS:.+]] = arith.andi %[[CAUSAL]], %[[KEEP]]
// CHECK:           arith.select %[[VIS]], %[[SC]], %[[NEGINF]]
//
// Step 4: row max; step 5: exp (0 for masked keys) and row sum.
// CHECK:         %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK:           arith.maximumf
// CHECK:         %[[P:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]], #[[$ID4]]]
// CHECK-SAME:      ins(%[[L]], %[[MAX]] :
// CHECK:           math.exp
// CHECK:         %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:      ins(%[[P]] :
//
// Step 6: P V; step 7: divide by the row sum (0 for an empty row).
// CHECK:         %[[ACC:.+]] = linalg.generic {indexing_maps = [#[[$QD]], #[[$VD]], #[[$S5]]]
// CHECK-SAME:      ins(%[[P]], %[[VX]] :
// CHECK:         %[[OUT:.+]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW]], #[[$ID4]]]
// CHECK-SAME:      ins(%[[ACC]], %[[SUM]] :
// CHECK:           arith.divf
// CHECK:         return %[[OUT]] : tensor<1x8x16x4xf32>
func.func @gqa_window_sinks(%q: tensor<1x8x16x4xf32>, %k: tensor<1x2x16x4xf32>,
                            %v: tensor<1x2x16x4xf32>) -> tensor<1x8x16x4xf32> {
  %o = attn.attention layer 0 causal window 4 sinks 2 scale 0.5
         ins(%q, %k, %v : tensor<1x8x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         -> tensor<1x8x16x4xf32>
  return %o : tensor<1x8x16x4xf32>
}
