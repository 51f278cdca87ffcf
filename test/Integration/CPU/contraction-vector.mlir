// swaa-vectorize-contractions, executed: C[b, m, n] = init + sum_k A[b, m, k] * W[k, n]
// with 7 rows (a block of 4, then 3 one-row blocks) and 24 columns at 8
// lanes (a block of 2 vectors, then one vector left over), from a zero
// fill and from a non-zero init. Small integers, so the sums are exact;
// the expected rows are numpy's A @ W (+ init), generated with the file.
// RUN: swaa-opt %s --swaa-vectorize-contractions=vector-width=8 --swaa-tiled-cpu | %run-cpu | FileCheck %s
// The same through the CPU kernel library (swaa_gemm_f32_f32 on tiles of a
// parallel loop, Kernels.h), the swaa-cpu pipeline's default:
// RUN: swaa-opt %s --swaa-vectorize-contractions=library=true --swaa-tiled-cpu | %run-cpu-kernels | FileCheck %s
// The pass rewrote both contractions (none is left as a generic):
// RUN: swaa-opt %s --swaa-vectorize-contractions=vector-width=8 | FileCheck %s --check-prefix=IR
// IR-NOT: iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// IR: vector.fma {{.*}} : vector<8xf32>
// CHECK: Unranked Memref base@ = {{.*}} rank = 3 offset = 0 sizes = [1, 7, 24] strides = [168, 24, 1] data =
// CHECK-NEXT: {{\[\[\[}}4, -5, 8, 11, -20, -13, 2, 2, -5, 6, 13, 1, 13, 2, 9, -1, -2, -5, -11, -10, 8, -11, 6, 1],
// CHECK-NEXT:   [20, 8, -1, 4, -8, -7, -13, -2, 6, -3, 4, 4, -17, 2, 22, 6, -16, -13, -3, -5, 9, 14, 8, -13],
// CHECK-NEXT:   [8, 10, 7, 3, -17, -2, -8, -7, 6, 10, 8, 5, -3, 3, 12, -2, -18, -26, -13, -8, 4, -6, 4, 0],
// CHECK-NEXT:   [-18, 7, -3, -13, 15, 13, 6, -1, 8, 2, -9, 0, -3, -5, -18, -10, 6, 1, 6, 5, -7, 1, -10, 12],
// CHECK-NEXT:   [1, 6, 0, -9, -18, -2, 2, -4, -3, 15, 7, -7, 5, 13, -5, -3, -3, -9, 3, -3, -14, -14, 1, -2],
// CHECK-NEXT:   [9, -3, -4, 12, -18, -6, -2, 12, -3, 7, 5, -3, 9, -1, 8, 5, -5, -4, -3, -9, 7, -9, 0, 2],
// CHECK-NEXT:   [-5, -15, 13, 14, 5, 2, 2, -7, -10, -5, 1, 6, 17, -4, -1, 4, 3, 2, -16, 4, 4, -13, 2, 5]]]
// CHECK: Unranked Memref base@ = {{.*}} rank = 3 offset = 0 sizes = [1, 7, 24] strides = [168, 24, 1] data =
// CHECK-NEXT: {{\[\[\[}}6, -5, 8, 10, -20, -11, -1, -1, -3, 5, 15, -2, 16, -1, 8, 2, -5, -4, -9, -11, 5, -11, 6, 4],
// CHECK-NEXT:   [21, 7, -4, 5, -10, -6, -10, -3, 9, -3, 4, 6, -15, 5, 25, 4, -17, -10, -4, -8, 10, 16, 10, -11],
// CHECK-NEXT:   [9, 7, 9, 2, -15, 0, -5, -10, 9, 11, 8, 7, 0, 3, 9, 0, -20, -28, -15, -10, 7, -7, 1, -2],
// CHECK-NEXT:   [-19, 6, -4, -10, 18, 14, 9, -2, 5, 0, -12, 3, -5, -5, -20, -7, 4, 1, 9, 5, -4, 4, -8, 14],
// CHECK-NEXT:   [2, 7, 2, -10, -15, 1, 1, -5, -1, 18, 4, -10, 3, 13, -7, -3, -3, -6, 5, -5, -12, -12, 2, -1],
// CHECK-NEXT:   [8, -1, -7, 13, -15, -3, -3, 11, -2, 6, 7, -5, 7, -4, 8, 3, -6, -1, -1, -7, 8, -12, 2, 3],
// CHECK-NEXT:   [-2, -15, 11, 15, 5, 3, 1, -8, -13, -2, 3, 6, 15, -3, -2, 5, 0, 0, -14, 1, 5, -14, -1, 7]]]

func.func private @printMemrefF32(tensor<*xf32>)

func.func @matmul(%a: tensor<1x7x6xf32>, %w: tensor<6x24xf32>, %init: tensor<1x7x24xf32>) -> tensor<1x7x24xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %w : tensor<1x7x6xf32>, tensor<6x24xf32>) outs(%init : tensor<1x7x24xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x7x24xf32>
  return %r : tensor<1x7x24xf32>
}

func.func @main() {
  %a = arith.constant dense<[[[3.0, 1.0, 1.0, 3.0, 1.0, 2.0],
  [2.0, -2.0, -3.0, -1.0, -2.0, 3.0],
  [3.0, -3.0, 0.0, 2.0, -3.0, 2.0],
  [-3.0, 0.0, 2.0, -1.0, -1.0, -2.0],
  [2.0, -2.0, 3.0, 0.0, 0.0, 0.0],
  [1.0, 0.0, 0.0, 3.0, 2.0, 2.0],
  [1.0, 1.0, -1.0, 3.0, 0.0, -2.0]]]> : tensor<1x7x6xf32>
  %w = arith.constant dense<[[2.0, -2.0, 3.0, 1.0, -3.0, -3.0, 0.0, -3.0, -3.0, 0.0, 3.0, 0.0, 2.0, 3.0, 2.0, 1.0, 0.0, 0.0, -2.0, 0.0, -1.0, -2.0, 3.0, -3.0],
 [-3.0, -2.0, 3.0, 1.0, 3.0, -2.0, 2.0, -1.0, 0.0, -3.0, 1.0, 2.0, 1.0, -2.0, 0.0, -2.0, 3.0, 3.0, -2.0, 0.0, 3.0, 2.0, 1.0, 1.0],
 [-3.0, 2.0, 0.0, -3.0, -2.0, 0.0, 2.0, 0.0, 1.0, 3.0, 1.0, -1.0, 1.0, 1.0, -3.0, -3.0, 1.0, -1.0, 1.0, -1.0, -2.0, -2.0, -1.0, 2.0],
 [-1.0, -1.0, 1.0, 3.0, -1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 3.0, -2.0, 0.0, 0.0, -1.0, -2.0, -3.0, -1.0, 2.0, -3.0, -1.0, 3.0],
 [3.0, -2.0, -3.0, 1.0, -3.0, -1.0, 0.0, 3.0, -3.0, 1.0, 0.0, -3.0, 2.0, 2.0, 0.0, 3.0, 1.0, 3.0, 3.0, 0.0, -2.0, -2.0, 0.0, -2.0],
 [2.0, 3.0, -2.0, 0.0, -3.0, -2.0, -1.0, 3.0, 3.0, 1.0, 1.0, 0.0, -3.0, -1.0, 3.0, -1.0, -2.0, -2.0, 1.0, -3.0, 3.0, 3.0, 0.0, 0.0]]> : tensor<6x24xf32>
  %b = arith.constant dense<[[[2.0, 0.0, 0.0, -1.0, 0.0, 2.0, -3.0, -3.0, 2.0, -1.0, 2.0, -3.0, 3.0, -3.0, -1.0, 3.0, -3.0, 1.0, 2.0, -1.0, -3.0, 0.0, 0.0, 3.0],
  [1.0, -1.0, -3.0, 1.0, -2.0, 1.0, 3.0, -1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 3.0, 3.0, -2.0, -1.0, 3.0, -1.0, -3.0, 1.0, 2.0, 2.0, 2.0],
  [1.0, -3.0, 2.0, -1.0, 2.0, 2.0, 3.0, -3.0, 3.0, 1.0, 0.0, 2.0, 3.0, 0.0, -3.0, 2.0, -2.0, -2.0, -2.0, -2.0, 3.0, -1.0, -3.0, -2.0],
  [-1.0, -1.0, -1.0, 3.0, 3.0, 1.0, 3.0, -1.0, -3.0, -2.0, -3.0, 3.0, -2.0, 0.0, -2.0, 3.0, -2.0, 0.0, 3.0, 0.0, 3.0, 3.0, 2.0, 2.0],
  [1.0, 1.0, 2.0, -1.0, 3.0, 3.0, -1.0, -1.0, 2.0, 3.0, -3.0, -3.0, -2.0, 0.0, -2.0, 0.0, 0.0, 3.0, 2.0, -2.0, 2.0, 2.0, 1.0, 1.0],
  [-1.0, 2.0, -3.0, 1.0, 3.0, 3.0, -1.0, -1.0, 1.0, -1.0, 2.0, -2.0, -2.0, -3.0, 0.0, -2.0, -1.0, 3.0, 2.0, 2.0, 1.0, -3.0, 2.0, 1.0],
  [3.0, 0.0, -2.0, 1.0, 0.0, 1.0, -1.0, -1.0, -3.0, 3.0, 2.0, 0.0, -2.0, 1.0, -1.0, 1.0, -3.0, -2.0, 2.0, -3.0, 1.0, -1.0, -3.0, 2.0]]]> : tensor<1x7x24xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x7x24xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x7x24xf32>) -> tensor<1x7x24xf32>
  %r0 = call @matmul(%a, %w, %z) : (tensor<1x7x6xf32>, tensor<6x24xf32>, tensor<1x7x24xf32>) -> tensor<1x7x24xf32>
  %u0 = tensor.cast %r0 : tensor<1x7x24xf32> to tensor<*xf32>
  call @printMemrefF32(%u0) : (tensor<*xf32>) -> ()
  %r1 = call @matmul(%a, %w, %b) : (tensor<1x7x6xf32>, tensor<6x24xf32>, tensor<1x7x24xf32>) -> tensor<1x7x24xf32>
  %u1 = tensor.cast %r1 : tensor<1x7x24xf32> to tensor<*xf32>
  call @printMemrefF32(%u1) : (tensor<*xf32>) -> ()
  return
}
