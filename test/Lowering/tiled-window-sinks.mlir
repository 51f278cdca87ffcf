// attn-lower-tiled: the loop nest of a windowed layer with sinks visits only
// the keys the contract makes visible. Per (batch, head, query tile) of 16
// rows at positions i0..i1: the sink loop covers [0, min(5, start)), the
// window loop [start, end) with start = max(0, i0 - 13 + 1) and
// end = min(keys, i1 + 1), in key tiles of 32; a key is then checked
// against j <= i and (i - 13 < j or j < 5).
// RUN: swaa-opt %s --split-input-file --attn-lower-tiled="query-tile=16 key-tile=32" --cse | FileCheck %s

// CHECK-LABEL: func.func @window_sinks
// CHECK-DAG:     %[[Q:.+]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG:     %[[K:.+]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG:     %[[ROWS:.+]] = tensor.dim %arg0, %{{.+}} : tensor<1x4x?x8xf32>
// CHECK-DAG:     %[[KEYS:.+]] = tensor.dim %arg1, %{{.+}} : tensor<1x2x?x8xf32>
// CHECK-DAG:     %[[OUT:.+]] = memref.alloc(%[[ROWS]]) : memref<1x4x?x8xf32>
// CHECK:         %[[OFF:.+]] = arith.subi %[[KEYS]], %[[ROWS]] : index
// CHECK:         %[[TILES:.+]] = arith.ceildivui %[[ROWS]], %c16
// CHECK:         scf.parallel (%[[B:.+]], %[[H:.+]], %[[T:.+]]) = (%c0, %c0, %c0) to (%c1, %c4, %[[TILES]])
// CHECK:           memref.alloc() : memref<16x32xf32>
// CHECK:           %[[END:.+]] = arith.minsi %[[KEYS]], %{{.+}} : index
// CHECK:           %[[FROM:.+]] = arith.subi %[[I0:.+]], %c13 : index
// CHECK:           %[[FROM1:.+]] = arith.addi %[[FROM]], %c1 : index
// CHECK:           %[[START0:.+]] = arith.maxsi %c0, %[[FROM1]] : index
// CHECK:           %[[START:.+]] = arith.minsi %[[START0]], %[[END]] : index
// CHECK:           %[[SINKEND:.+]] = arith.minsi %c5, %[[START]] : index
// CHECK:           scf.for %{{.+}} = %c0 to %[[SINKEND]] step %c32 {
// CHECK:             arith.cmpi ule
// CHECK:             arith.addi %{{.+}}, %c13
// CHECK:             arith.cmpi ugt
// CHECK:             arith.cmpi ult, %{{.+}}, %c5
// CHECK:             math.exp
// CHECK:           scf.for %{{.+}} = %[[START]] to %[[END]] step %c32 {
// CHECK:             math.exp
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
func.func @window_sinks(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention layer 0 causal window 13 sinks 5 scale 0.35
         ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32>
  return %o : tensor<1x4x?x8xf32>
}

// -----

// Full causal attention: one key loop from 0 to the last row's position; no
// sink loop.
// RUN: swaa-opt %s --split-input-file --attn-lower-tiled --cse | FileCheck %s --check-prefix=FULL
// FULL-LABEL: func.func @full
// FULL:         scf.parallel
// FULL-COUNT-1: step %c64 {
// FULL-NOT:     step %c64 {
// FULL:         bufferization.to_tensor
func.func @full(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x?x8xf32>, %v: tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32> {
  %o = attn.attention layer 0 causal scale 0.35
         ins(%q, %k, %v : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x4x?x8xf32>
  return %o : tensor<1x4x?x8xf32>
}

// -----

// Decode against a ring cache: queries start at %pos, keys are read from
// their slots (j < 4 ? j : 4 + (j - 4) mod 64).
// RUN: swaa-opt %s --split-input-file --attn-lower-tiled --cse | FileCheck %s --check-prefix=RING
// RING-LABEL: func.func @ring
// RING:         %[[KEYS:.+]] = arith.addi %arg3, %{{.+}} : index
// RING:         scf.parallel
// RING:         arith.remui %{{.+}}, %c64
// RING:         arith.cmpi ult, %{{.+}}, %c4
// RING:         memref.load
func.func @ring(%q: tensor<1x8x1x64xf32>, %kc: tensor<1x2x68x64xf32>, %vc: tensor<1x2x68x64xf32>, %pos: index) -> tensor<1x8x1x64xf32> {
  %o = attn.cache_attention layer 1 causal window 64 sinks 4 scale 0.125
         ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>, tensor<1x2x68x64xf32>)
         at %pos ring 64 sinks 4 -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
