// swaa-low-precision (swaa-compile --dtype): 16-bit weights and KV caches,
// matmul and attention inputs rounded, sums in f32.
// RUN: swaa-opt %s --swaa-low-precision=dtype=bf16 | FileCheck %s
// RUN: swaa-opt %s --swaa-low-precision=dtype=f16 | FileCheck %s --check-prefix=F16
// RUN: swaa-opt %s --swaa-low-precision=dtype=f32 | FileCheck %s --check-prefix=SAME
// RUN: not swaa-opt %s --swaa-low-precision=dtype=fp8 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: swaa-opt %s --swaa-low-precision="dtype=f32 kv-dtype=f16" | FileCheck %s --check-prefix=KV
// RUN: not swaa-opt %s --swaa-low-precision="dtype=bf16 kv-dtype=f16" 2>&1 | FileCheck %s --check-prefix=KVBAD

// The weight argument is bf16 and widened for its f32 users; the cache
// arguments and results are bf16 (the function type follows).
// CHECK-LABEL: func.func @decode(
// CHECK-SAME:    %[[X:[^:]+]]: tensor<1x1x8xf32> {swaa.input = "x"}
// CHECK-SAME:    %[[W:[^:]+]]: tensor<8x8xbf16> {swaa.weight = "w"}
// CHECK-SAME:    %[[KC:[^:]+]]: tensor<1x2x20x4xbf16> {swaa.kv_cache
// CHECK-SAME:    -> (tensor<1x1x8xf32> {swaa.output = "y"}, tensor<1x2x20x4xbf16>
// CHECK:         %[[WIDE:.+]] = arith.extf %[[W]] : tensor<8x8xbf16> to tensor<8x8xf32>
// The matmul: both inputs rounded, the body widens them, the sum is f32.
// CHECK:         %[[XB:.+]] = arith.truncf %[[X]] : tensor<1x1x8xf32> to tensor<1x1x8xbf16>
// CHECK:         %[[WB:.+]] = arith.truncf %[[WIDE]] : tensor<8x8xf32> to tensor<8x8xbf16>
// CHECK:         linalg.generic {{.*}} ins(%[[XB]], %[[WB]] : tensor<1x1x8xbf16>, tensor<8x8xbf16>) outs(%{{.+}} : tensor<1x1x8xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.+]]: bf16, %[[B:.+]]: bf16, %[[C:.+]]: f32):
// CHECK-NEXT:      %[[AW:.+]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT:      %[[BW:.+]] = arith.extf %[[A]] : bf16 to f32
// CHECK-NEXT:      arith.mulf %[[BW]], %[[AW]] : f32
// The cache write rounds the new rows; attention reads bf16 and its output
// is widened.
// CHECK:         %[[KB:.+]] = arith.truncf %{{.+}} : tensor<1x2x1x4xf32> to tensor<1x2x1x4xbf16>
// CHECK:         %[[K1:.+]] = attn.cache_append %[[KB]] into %[[KC]] at %{{.+}} ring 16 sinks 4 : tensor<1x2x1x4xbf16> into tensor<1x2x20x4xbf16>
// CHECK:         %[[QB:.+]] = arith.truncf %{{.+}} : tensor<1x2x1x4xf32> to tensor<1x2x1x4xbf16>
// CHECK:         %[[O:.+]] = attn.cache_attention {{.*}} ins(%[[QB]], %[[K1]], %[[K1]] : {{.*}}) at %{{.+}} ring 16 sinks 4 -> tensor<1x2x1x4xbf16>
// CHECK:         arith.extf %[[O]] : tensor<1x2x1x4xbf16> to tensor<1x2x1x4xf32>
// CHECK:         return %{{.+}}, %[[K1]] : tensor<1x1x8xf32>, tensor<1x2x20x4xbf16>
// F16: %{{.+}}: tensor<8x8xf16> {swaa.weight = "w"}
// F16: attn.cache_append {{.*}} : tensor<1x2x1x4xf16> into tensor<1x2x20x4xf16>
// SAME: %{{.+}}: tensor<8x8xf32> {swaa.weight = "w"}
// SAME-NOT: truncf
// BAD: swaa-low-precision: dtype 'fp8': expected f32, bf16 or f16
// kv-dtype alone (an f32 model): the weight and the matmul stay f32, the
// cache is f16; the cache write rounds its rows, attention on the cache
// rounds its query and widens its output.
// KV-LABEL: func.func @decode(
// KV-SAME:    tensor<8x8xf32> {swaa.weight = "w"}
// KV-SAME:    tensor<1x2x20x4xf16> {swaa.kv_cache
// KV-NOT:     tensor<8x8xf16>
// KV:         linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x1x8xf32>, tensor<8x8xf32>)
// KV:         %[[KH:.+]] = arith.truncf %{{.+}} : tensor<1x2x1x4xf32> to tensor<1x2x1x4xf16>
// KV:         %[[K1:.+]] = attn.cache_append %[[KH]] into %{{.+}} : tensor<1x2x1x4xf16> into tensor<1x2x20x4xf16>
// KV:         %[[QH:.+]] = arith.truncf %{{.+}} : tensor<1x2x1x4xf32> to tensor<1x2x1x4xf16>
// KV:         %[[O:.+]] = attn.cache_attention {{.*}} ins(%[[QH]], %[[K1]], %[[K1]] : {{.*}}) at %{{.+}} -> tensor<1x2x1x4xf16>
// KV:         arith.extf %[[O]] : tensor<1x2x1x4xf16> to tensor<1x2x1x4xf32>
// KVBAD: swaa-low-precision: kv-dtype 'f16' with dtype 'bf16': a 16-bit model keeps its caches in its own type
// An embedding table read one element at a time (a gather): each element is
// widened as it is read, not the whole table on every call.
// CHECK-LABEL: func.func @embed(
// CHECK-SAME:    %[[T:[^:]+]]: tensor<10x8xbf16> {swaa.weight = "embed"}
// CHECK-NOT:     tensor<10x8xf32>
// CHECK:         %[[E:.+]] = tensor.extract %[[T]][%{{.+}}, %{{.+}}] : tensor<10x8xbf16>
// CHECK-NEXT:    %[[EW:.+]] = arith.extf %[[E]] : bf16 to f32
// CHECK-NEXT:    linalg.yield %[[EW]] : f32
#map0 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#map1 = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#map2 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @decode(%x: tensor<1x1x8xf32> {swaa.input = "x"}, %w: tensor<8x8xf32> {swaa.weight = "w"},
                  %pos: index {swaa.position},
                  %kc: tensor<1x2x20x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, policy = "ring", sinks = 4 : i64, window = 16 : i64}})
    -> (tensor<1x1x8xf32> {swaa.output = "y"}, tensor<1x2x20x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, policy = "ring", sinks = 4 : i64, window = 16 : i64}})
    attributes {swaa.entry = "decode"} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
  %mm = linalg.generic {indexing_maps = [#map0, #map1, #map2], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x1x8xf32>, tensor<8x8xf32>) outs(%init : tensor<1x1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x8xf32>
  %f = tensor.collapse_shape %mm [[0, 1], [2]] : tensor<1x1x8xf32> into tensor<1x8xf32>
  %q = tensor.expand_shape %f [[0], [1, 2, 3]] output_shape [1, 2, 1, 4] : tensor<1x8xf32> into tensor<1x2x1x4xf32>
  %k1 = attn.cache_append %q into %kc at %pos ring 16 sinks 4 : tensor<1x2x1x4xf32> into tensor<1x2x20x4xf32>
  %o = attn.cache_attention layer 0 causal window 16 sinks 4 scale 0.5
         ins(%q, %k1, %k1 : tensor<1x2x1x4xf32>, tensor<1x2x20x4xf32>, tensor<1x2x20x4xf32>)
         at %pos ring 16 sinks 4 -> tensor<1x2x1x4xf32>
  %g = tensor.collapse_shape %o [[0], [1, 2, 3]] : tensor<1x2x1x4xf32> into tensor<1x8xf32>
  %y = tensor.expand_shape %g [[0, 1], [2]] output_shape [1, 1, 8] : tensor<1x8xf32> into tensor<1x1x8xf32>
  return %y, %k1 : tensor<1x1x8xf32>, tensor<1x2x20x4xf32>
}

func.func @embed(%ids: tensor<1x2xi64> {swaa.input = "input_ids"}, %table: tensor<10x8xf32> {swaa.weight = "embed"})
    -> (tensor<1x2x8xf32> {swaa.output = "y"}) attributes {swaa.entry = "prefill"} {
  %e = tensor.empty() : tensor<1x2x8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ids : tensor<1x2xi64>) outs(%e : tensor<1x2x8xf32>) {
  ^bb0(%id: i64, %out: f32):
    %r = arith.index_cast %id : i64 to index
    %c = linalg.index 2 : index
    %v = tensor.extract %table[%r, %c] : tensor<10x8xf32>
    linalg.yield %v : f32
  } -> tensor<1x2x8xf32>
  return %g : tensor<1x2x8xf32>
}
