// swaa-pack-weights: a weight whose every use is a contraction's B becomes
// 24-column panels (N = 50 -> 3 panels, zero-padded), with its layout and
// source shape on the argument and B's map reading the panels; a weight
// that is also read otherwise (%e, gathered too) and a non-weight B (%x)
// stay as they are. Then swaa-vectorize-contractions{library} calls the
// packed kernel for the first and the plain one for the others.
// RUN: swaa-opt %s --swaa-pack-weights | FileCheck %s
// RUN: swaa-opt %s --swaa-pack-weights --swaa-vectorize-contractions=library=true | FileCheck %s --check-prefix=CALL
// RUN: swaa-opt %s --swaa-pack-weights --swaa-vectorize-contractions=library=true --swaa-tiled-cpu | FileCheck %s --check-prefix=LLVM

// CHECK: #[[$PANELS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 24, d3, d2 mod 24)>
// CHECK-LABEL: func.func @prefill(
// CHECK-SAME: %arg0: tensor<1x?x37xf32>
// CHECK-SAME: %arg1: tensor<3x37x24xf32> {swaa.layout = "panels24", swaa.source_shape = array<i64: 37, 50>, swaa.weight = "w"}
// CHECK-SAME: %arg2: tensor<37x50xf32> {swaa.weight = "e"}
// CHECK-SAME: %arg3: tensor<37x50xf32>,
// CHECK: indexing_maps = [#{{[a-z0-9]+}}, #[[$PANELS]], #{{[a-z0-9]+}}]
// CHECK-SAME: ins(%arg0, %arg1 : tensor<1x?x37xf32>, tensor<3x37x24xf32>)
// CHECK-NOT: floordiv

// CALL-DAG: func.func private @swaa_gemm_f32_f32_packed(i64, memref<?x?xf32>, memref<?x?x?xf32>, memref<?x?xf32>, i64) attributes {llvm.emit_c_interface}
// CALL-DAG: func.func private @swaa_gemm_f32_f32(i64, memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, i64) attributes {llvm.emit_c_interface}
// CALL-DAG: func.func private @swaa_gemm_tiles(i64, i64, i64) -> i64
// CALL-LABEL: func.func @prefill(
// CALL: %[[T:.*]] = call @swaa_gemm_tiles(%{{.*}}, %c50_i64, %c37_i64)
// CALL: scf.parallel
// CALL: call @swaa_gemm_f32_f32_packed(
// CALL: scf.parallel
// CALL: call @swaa_gemm_f32_f32(
// CALL: scf.parallel
// CALL: call @swaa_gemm_f32_f32(
// CALL-NOT: linalg.generic {{.*}}"reduction"

// The library's C interface is what the LLVM dialect calls.
// LLVM: llvm.call @_mlir_ciface_swaa_gemm_f32_f32_packed

#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @prefill(%x: tensor<1x?x37xf32>, %w: tensor<37x50xf32> {swaa.weight = "w"},
                   %e: tensor<37x50xf32> {swaa.weight = "e"},
                   %y: tensor<37x50xf32>, %ids: tensor<4xindex>)
    -> (tensor<1x?x50xf32>, tensor<1x?x50xf32>, tensor<1x?x50xf32>, tensor<4x50xf32>) {
  %c1 = arith.constant 1 : index
  %n = tensor.dim %x, %c1 : tensor<1x?x37xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty(%n) : tensor<1x?x50xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x?x50xf32>) -> tensor<1x?x50xf32>
  %r0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x?x37xf32>, tensor<37x50xf32>) outs(%init : tensor<1x?x50xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x?x50xf32>
  %r1 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %e : tensor<1x?x37xf32>, tensor<37x50xf32>) outs(%init : tensor<1x?x50xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x?x50xf32>
  %r2 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %y : tensor<1x?x37xf32>, tensor<37x50xf32>) outs(%init : tensor<1x?x50xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x?x50xf32>
  // %e is also gathered: it keeps its layout.
  %g0 = tensor.empty() : tensor<4x50xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<4xindex>) outs(%g0 : tensor<4x50xf32>) {
  ^bb0(%i: index, %o: f32):
    %j = linalg.index 1 : index
    %v = tensor.extract %e[%i, %j] : tensor<37x50xf32>
    linalg.yield %v : f32
  } -> tensor<4x50xf32>
  return %r0, %r1, %r2, %g : tensor<1x?x50xf32>, tensor<1x?x50xf32>, tensor<1x?x50xf32>, tensor<4x50xf32>
}
