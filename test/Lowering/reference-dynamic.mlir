// attn-lower-reference with symbolic sizes: sizes come from tensor.dim, the
// query position offset is key_seq - query_seq at run time, and dynamic head
// counts give a run-time group size.
// RUN: swaa-opt %s --attn-lower-reference --cse | FileCheck %s

// CHECK-LABEL: func.func @dynamic_seq
// CHECK-SAME:    (%[[Q:.+]]: tensor<?x4x?x8xf32>, %[[K:.+]]: tensor<?x4x?x8xf32>, %[[V:.+]]: tensor<?x4x?x8xf32>)
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG:     %[[B:.+]] = tensor.dim %[[Q]], %[[C0]]
// CHECK-DAG:     %[[SQ:.+]] = tensor.dim %[[Q]], %[[C2]]
// CHECK-DAG:     %[[SK:.+]] = tensor.dim %[[K]], %[[C2]]
// CHECK:         tensor.empty(%[[B]], %[[SQ]], %[[SK]]) : tensor<?x4x?x?xf32>
// CHECK:         %[[OFF:.+]] = arith.subi %[[SK]], %[[SQ]] : index
// CHECK:         linalg.generic
// CHECK:           %[[R:.+]] = linalg.index 2
// CHECK:           arith.addi %[[R]], %[[OFF]]
// CHECK:         return %{{.+}} : tensor<?x4x?x8xf32>
func.func @dynamic_seq(%q: tensor<?x4x?x8xf32>, %k: tensor<?x4x?x8xf32>,
                       %v: tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = attn.attention layer 0 causal window 16 sinks 4 scale 0.25
         ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>)
         -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}

// CHECK-LABEL: func.func @dynamic_heads
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x?x4x8xf32>, %[[K:.+]]: tensor<1x?x4x8xf32>, %{{.+}}: tensor<1x?x4x8xf32>)
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[HQ:.+]] = tensor.dim %[[Q]], %[[C1]]
// CHECK-DAG:     %[[HK:.+]] = tensor.dim %[[K]], %[[C1]]
// CHECK:         %[[G:.+]] = arith.divui %[[HQ]], %[[HK]] : index
// CHECK:         linalg.generic
// CHECK:           %[[H:.+]] = linalg.index 1
// CHECK:           arith.divui %[[H]], %[[G]]
func.func @dynamic_heads(%q: tensor<1x?x4x8xf32>, %k: tensor<1x?x4x8xf32>,
                         %v: tensor<1x?x4x8xf32>) -> tensor<1x?x4x8xf32> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<1x?x4x8xf32>, tensor<1x?x4x8xf32>, tensor<1x?x4x8xf32>)
         -> tensor<1x?x4x8xf32>
  return %o : tensor<1x?x4x8xf32>
}
