// swaa-chunk-rows: an MLP (gate and up projections, SiLU, product, down
// projection) becomes one scf.for over chunks of the sequence rows, each op
// tiled on the chunk and reading its producers' tiles; the weights are read
// whole (a packed weight too), the input that something else also reads
// stays outside and is sliced. A chain that does not widen the rows, or
// whose intermediate something else reads, is left alone.
// RUN: swaa-opt %s --split-input-file --swaa-chunk-rows=rows=16 | FileCheck %s

#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (k, n)>
#c = affine_map<(b, s, n, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @mlp
// CHECK-SAME:    (%[[X:.+]]: tensor<?x?x8xf32>, %[[WG:.+]]: tensor<8x32xf32>, %[[WU:.+]]: tensor<8x32xf32>, %[[WD:.+]]: tensor<32x8xf32>)
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK:         %[[R:.+]] = scf.for %[[I:.+]] = %{{.+}} to %[[S:.+]] step %[[C16]] iter_args(%[[ACC:.+]] = %{{.+}}) -> (tensor<?x?x8xf32>)
// CHECK:           %[[LEFT:.+]] = arith.subi %[[S]], %[[I]]
// CHECK:           %[[N:.+]] = arith.minsi %[[LEFT]], %[[C16]]
// CHECK:           %[[XI:.+]] = tensor.extract_slice %[[X]][0, %[[I]], 0] [%{{.+}}, %[[N]], 8] [1, 1, 1]
// CHECK:           %[[G:.+]] = linalg.generic {{.*}} ins(%[[XI]], %[[WG]] : tensor<?x?x8xf32>, tensor<8x32xf32>) outs(%{{.+}} : tensor<?x?x32xf32>)
// CHECK:           %[[XI2:.+]] = tensor.extract_slice %[[X]][0, %[[I]], 0] [%{{.+}}, %[[N]], 8] [1, 1, 1]
// CHECK:           %[[U:.+]] = linalg.generic {{.*}} ins(%[[XI2]], %[[WU]] : tensor<?x?x8xf32>, tensor<8x32xf32>) outs(%{{.+}} : tensor<?x?x32xf32>)
// CHECK:           %[[A:.+]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<?x?x32xf32>, tensor<?x?x32xf32>)
// CHECK:             math.exp
// CHECK:           %[[F:.+]] = linalg.fill {{.*}} -> tensor<?x?x8xf32>
// CHECK:           %[[D:.+]] = linalg.generic {{.*}} ins(%[[A]], %[[WD]] : tensor<?x?x32xf32>, tensor<32x8xf32>) outs(%[[F]] : tensor<?x?x8xf32>)
// CHECK:           %[[INS:.+]] = tensor.insert_slice %[[D]] into %[[ACC]][0, %[[I]], 0] [%{{.+}}, %[[N]], 8] [1, 1, 1]
// CHECK:           scf.yield %[[INS]]
// CHECK:         } {swaa.chunk_loop}
// CHECK:         return %[[R]]
func.func @mlp(%x: tensor<?x?x8xf32>, %wg: tensor<8x32xf32>, %wu: tensor<8x32xf32>, %wd: tensor<32x8xf32>) -> tensor<?x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x8xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %e32 = tensor.empty(%b, %s) : tensor<?x?x32xf32>
  %z32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  %gate = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wg : tensor<?x?x8xf32>, tensor<8x32xf32>) outs(%z32 : tensor<?x?x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x32xf32>
  %up = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<?x?x8xf32>, tensor<8x32xf32>) outs(%z32 : tensor<?x?x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x32xf32>
  // SiLU(gate) * up; the gate is read twice.
  %act = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%gate, %up : tensor<?x?x32xf32>, tensor<?x?x32xf32>) outs(%e32 : tensor<?x?x32xf32>) {
  ^bb0(%g: f32, %u: f32, %o: f32):
    %n = arith.negf %g : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %sig = arith.divf %g, %d : f32
    %p = arith.mulf %sig, %u : f32
    linalg.yield %p : f32
  } -> tensor<?x?x32xf32>
  %e8 = tensor.empty(%b, %s) : tensor<?x?x8xf32>
  %z8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %down = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%act, %wd : tensor<?x?x32xf32>, tensor<32x8xf32>) outs(%z8 : tensor<?x?x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x8xf32>
  return %down : tensor<?x?x8xf32>
}

// -----

// A packed down projection (swaa-pack-weights: panels of 24 columns, map
// (n floordiv 24, k, n mod 24)) is read whole, not sliced through its map.
#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (k, n)>
#wp = affine_map<(b, s, n, k) -> (n floordiv 24, k, n mod 24)>
#c = affine_map<(b, s, n, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @packed
// CHECK-SAME:    %[[WD:[^:]+]]: tensor<2x64x24xf32>
// CHECK:         scf.for
// CHECK:           linalg.generic {{.*}} ins(%{{.+}}, %[[WD]] : tensor<?x?x64xf32>, tensor<2x64x24xf32>)
// CHECK:         } {swaa.chunk_loop}
func.func @packed(%x: tensor<?x?x8xf32>, %wu: tensor<8x64xf32>, %wd: tensor<2x64x24xf32>) -> tensor<?x?x40xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x8xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %e64 = tensor.empty(%b, %s) : tensor<?x?x64xf32>
  %z64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %up = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<?x?x8xf32>, tensor<8x64xf32>) outs(%z64 : tensor<?x?x64xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x64xf32>
  %e40 = tensor.empty(%b, %s) : tensor<?x?x40xf32>
  %z40 = linalg.fill ins(%zero : f32) outs(%e40 : tensor<?x?x40xf32>) -> tensor<?x?x40xf32>
  %down = linalg.generic {indexing_maps = [#x, #wp, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%up, %wd : tensor<?x?x64xf32>, tensor<2x64x24xf32>) outs(%z40 : tensor<?x?x40xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x40xf32>
  return %down : tensor<?x?x40xf32>
}

// -----

// The wide intermediate is also returned: computing it in chunks would not
// free it, so nothing changes. Nor when no contraction of the chain is
// wider than the result (a projection of a norm).
#x = affine_map<(b, s, n, k) -> (b, s, k)>
#w = affine_map<(b, s, n, k) -> (k, n)>
#c = affine_map<(b, s, n, k) -> (b, s, n)>
#id = affine_map<(b, s, n) -> (b, s, n)>
// CHECK-LABEL: func.func @shared
// CHECK-NOT:     scf.for
// CHECK-LABEL: func.func @narrow
// CHECK-NOT:     scf.for
// CHECK:         return
func.func @shared(%x: tensor<?x?x8xf32>, %wu: tensor<8x32xf32>, %wd: tensor<32x8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x8xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %e32 = tensor.empty(%b, %s) : tensor<?x?x32xf32>
  %z32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  %up = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %wu : tensor<?x?x8xf32>, tensor<8x32xf32>) outs(%z32 : tensor<?x?x32xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x32xf32>
  %e8 = tensor.empty(%b, %s) : tensor<?x?x8xf32>
  %z8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %down = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%up, %wd : tensor<?x?x32xf32>, tensor<32x8xf32>) outs(%z8 : tensor<?x?x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x8xf32>
  return %down, %up : tensor<?x?x8xf32>, tensor<?x?x32xf32>
}

func.func @narrow(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>) -> tensor<?x?x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %x, %c0 : tensor<?x?x8xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %e8 = tensor.empty(%b, %s) : tensor<?x?x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<?x?x8xf32>) outs(%e8 : tensor<?x?x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %m = arith.mulf %p, %p : f32
    linalg.yield %m : f32
  } -> tensor<?x?x8xf32>
  %e4 = tensor.empty(%b, %s) : tensor<?x?x4xf32>
  %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%sq, %w : tensor<?x?x8xf32>, tensor<8x4xf32>) outs(%z4 : tensor<?x?x4xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %a = arith.addf %o, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}
