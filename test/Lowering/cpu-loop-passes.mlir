// The CPU pipeline's loop-shaping passes on small cases.
//
// swaa-interchange-reductions: a contraction against B[k, n] moves its
// reduction outside the output's innermost loop (contiguous in B and C); a
// row reduction over the contiguous dimension keeps its reduction innermost
// and lets its sum reassociate (so that LLVM vectorizes it).
// RUN: swaa-opt %s --split-input-file --swaa-interchange-reductions | FileCheck %s --check-prefix=SWAP
//
// swaa-serial-innermost: a multi-dimensional parallel loop with a
// straight-line body keeps its innermost dimension serial; loops with loops
// inside, and one-dimensional ones, are left alone.
// RUN: swaa-opt %s --split-input-file --convert-linalg-to-parallel-loops --swaa-serial-innermost | FileCheck %s --check-prefix=SERIAL

// SWAP-LABEL: func.func @contraction
// SWAP:         linalg.generic {indexing_maps = [#[[A:.+]], #[[B:.+]], #[[C:.+]]], iterator_types = ["parallel", "reduction", "parallel"]}
// A parallel loop with a loop inside stays as it is:
// SERIAL-LABEL: func.func @contraction
// SERIAL:         scf.parallel (%{{.+}}, %{{.+}}) =
// SERIAL:           scf.for
func.func @contraction(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// SWAP-LABEL: func.func @row_sum
// SWAP:         iterator_types = ["parallel", "parallel", "reduction"]
// SWAP:           arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
func.func @row_sum(%x: memref<2x8x256xf32>, %out: memref<2x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<2x8x256xf32>) outs(%out : memref<2x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %o, %v : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// SERIAL-LABEL: func.func @elementwise
// SERIAL:         scf.parallel (%[[I:.+]], %[[J:.+]]) = (%c0, %c0) to (%c2, %c8) step (%c1, %c1) {
// SERIAL-NEXT:      scf.for %[[K:.+]] = %c0 to %c256 step %c1 {
// SERIAL-NEXT:        memref.load %{{.+}}[%[[I]], %[[J]], %[[K]]]
// SERIAL:             arith.addf
// SERIAL:             memref.store %{{.+}}, %{{.+}}[%[[I]], %[[J]], %[[K]]]
func.func @elementwise(%x: memref<2x8x256xf32>, %y: memref<2x8x256xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<2x8x256xf32>) outs(%y : memref<2x8x256xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %v : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// SERIAL-LABEL: func.func @one_dim
// SERIAL:         scf.parallel (%{{.+}}) = (%c0) to (%c256) step (%c1) {
// SERIAL-NOT:       scf.for
func.func @one_dim(%x: memref<256xf32>, %y: memref<256xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : memref<256xf32>) outs(%y : memref<256xf32>) {
  ^bb0(%v: f32, %o: f32):
    %s = arith.addf %v, %v : f32
    linalg.yield %s : f32
  }
  return
}
