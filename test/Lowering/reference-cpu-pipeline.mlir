// The swaa-reference-cpu pipeline takes attn + tensor IR all the way to the
// LLVM dialect: nothing of attn, linalg, tensor, memref or scf is left.
// RUN: swaa-opt %s --swaa-reference-cpu | FileCheck %s

// CHECK-LABEL: llvm.func @attention
// CHECK-NOT:     attn.
// CHECK-NOT:     linalg.
// CHECK-NOT:     tensor.
// CHECK-NOT:     memref.
// CHECK-NOT:     scf.
// CHECK:         llvm.intr.exp
// CHECK:         llvm.return
func.func @attention(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>,
                     %v: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = attn.attention layer 0 causal window 16 sinks 4 scale 0.25
         ins(%q, %k, %v : tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>)
         -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}
