// attn-lower-reference on f16 accumulates in f32: inputs are extended where
// they are read and the result is truncated once at the end.
// RUN: swaa-opt %s --attn-lower-reference | FileCheck %s

// CHECK-LABEL: func.func @half
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[A:.+]]: f16, %[[B:.+]]: f16, %[[ACC:.+]]: f32):
// CHECK-NEXT:      %[[A32:.+]] = arith.extf %[[A]] : f16 to f32
// CHECK-NEXT:      %[[B32:.+]] = arith.extf %[[B]] : f16 to f32
// CHECK-NEXT:      %[[P:.+]] = arith.mulf %[[A32]], %[[B32]] : f32
// CHECK-NEXT:      arith.addf %[[ACC]], %[[P]] : f32
// CHECK:         %[[OUT:.+]] = linalg.generic {{.+}} outs(%{{.+}} : tensor<1x2x8x16xf16>)
// CHECK:           %[[Q:.+]] = arith.select %{{.+}} : f32
// CHECK-NEXT:      %[[T:.+]] = arith.truncf %[[Q]] : f32 to f16
// CHECK-NEXT:      linalg.yield %[[T]] : f16
// CHECK:         } -> tensor<1x2x8x16xf16>
// CHECK:         return %[[OUT]] : tensor<1x2x8x16xf16>
func.func @half(%q: tensor<1x2x8x16xf16>, %k: tensor<1x2x8x16xf16>,
                %v: tensor<1x2x8x16xf16>) -> tensor<1x2x8x16xf16> {
  %o = attn.attention layer 0 causal window 4 scale 0.25
         ins(%q, %k, %v : tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>)
         -> tensor<1x2x8x16xf16>
  return %o : tensor<1x2x8x16xf16>
}
