// attn-lower-tiled with vector-width: the kernel vectorized across query
// rows. A dynamic row count chooses at run time: fewer rows than lanes
// (decode) take the row kernel (decode-attention.mlir), more take the vector
// kernel; both write one result buffer allocated before the choice. The
// vector kernel: transposed
// tiles (queries [head_dim, 32 rows], scores [64 keys, 32 rows], output
// [value_dim, 32 rows]), scores in register blocks of 8 keys x 2 row vectors
// (16 FMAs on a broadcast key element per head_dim step, then the keys left
// over one at a time), -inf on hidden pairs only in key tiles that the
// causal edge or the window cuts, the online softmax lane-wise with exp as a
// polynomial, and the output in blocks of 8 value dims x 2 row vectors.
// RUN: swaa-opt %s --split-input-file --attn-lower-tiled="query-tile=32 key-tile=64 vector-width=16" --cse | FileCheck %s

// CHECK-LABEL: func.func @prefill
// CHECK:         %[[ROWS:.+]] = tensor.dim %arg0, %c2
// CHECK:         %[[OUT:.+]] = memref.alloc(%[[ROWS]]) : memref<1x4x?x64xf32>
// CHECK:         %[[FEW:.+]] = arith.cmpi ult, %[[ROWS]], %c16
// CHECK:         scf.if %[[FEW]] {
// CHECK:           scf.parallel
// CHECK:           vector.reduction <add>
// CHECK:         } else {
// CHECK:           scf.parallel
// CHECK:             %[[QT:.+]] = memref.alloc(%c64) : memref<?x32xf32>
// CHECK:             %[[ST:.+]] = memref.alloc() : memref<64x32xf32>
// CHECK:             %[[ACC:.+]] = memref.alloc(%c64) : memref<?x32xf32>
// CHECK:             memref.store %{{.+}}, %[[QT]][%{{.+}}, %{{.+}}] : memref<?x32xf32>
// The sink tiles: no hidden pairs to mark.
// CHECK:             scf.for %{{.+}} = %c0 to %{{.+}} step %c64 {
// CHECK:               scf.for %{{.+}} = %c0 to %{{.+}} step %c8 {
// CHECK:                 scf.for %{{.+}} = %c0 to %c64 step %c1 iter_args({{.+}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// CHECK:                   vector.load %[[QT]]
// CHECK-COUNT-16:          vector.fma
// CHECK:                 vector.store %{{.+}}, %[[ST]]
// CHECK-NOT:           vector<16xi64>
// CHECK:               arith.maximumf %{{.+}} : vector<16xf32>
// CHECK:               math.floor %{{.+}} : vector<16xf32>
// CHECK:               arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// CHECK:               scf.for %{{.+}} = %c0 to %{{.+}} step %c8 {
// CHECK-COUNT-16:        vector.fma
// CHECK:                 vector.store %{{.+}}, %[[ACC]]
// The window tiles: hidden pairs marked where the causal edge or the window
// cuts the tile.
// CHECK:             scf.for
// CHECK:               arith.cmpi sgt
// CHECK:               arith.cmpi sle
// CHECK:               %[[CUT:.+]] = arith.ori
// CHECK:               scf.if %[[CUT]] {
// CHECK:                 arith.cmpi sle, %{{.+}} : vector<16xi64>
// CHECK:                 arith.cmpi sgt, %{{.+}} : vector<16xi64>
// CHECK:                 arith.cmpi slt, %{{.+}} : vector<16xi64>
// CHECK:                 arith.select %{{.+}} : vector<16xi1>, vector<16xf32>
// CHECK-NOT:         math.exp
// CHECK:             memref.store %{{.+}}, %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}] : memref<1x4x?x64xf32>
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
func.func @prefill(%q: tensor<1x4x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x4x?x64xf32> {
  %o = attn.attention layer 0 causal window 128 sinks 4 scale 0.125
         ins(%q, %k, %v : tensor<1x4x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         -> tensor<1x4x?x64xf32>
  return %o : tensor<1x4x?x64xf32>
}

// -----

// One static query row (decode) takes the row kernel, no choice: whole
// steps of 8 keys, then one clamped step for the last keys; no vector of key
// positions (the tile kernel's per-lane visibility).
// CHECK-LABEL: func.func @decode
// CHECK-NOT:     scf.if
// CHECK:         scf.parallel
// CHECK:           scf.for %{{.+}} step %c8 {
// CHECK:             vector.reduction <add>
// CHECK:           scf.for %{{.+}} step %c8 {
// CHECK:             vector.reduction <add>
// CHECK-NOT:     xi64>
// CHECK:         return
func.func @decode(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x4x1x64xf32> {
  %o = attn.attention layer 0 causal scale 0.125
         ins(%q, %k, %v : tensor<1x4x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
