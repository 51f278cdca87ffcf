// The generic form that tools and other front ends write parses, with the
// attributes as a plain dictionary, and prints in the custom form.
// RUN: swaa-opt %s | FileCheck %s

// CHECK-LABEL: func.func @generic
// CHECK:         attn.attention layer 3 causal window 4 sinks 2 scale 3.500000e-01
// CHECK-SAME:      ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>)
// CHECK:         attn.attention layer 0 causal scale 1.000000e+00
// CHECK-SAME:      mask(%{{.+}} : tensor<1x1x16x16xf32>)
func.func @generic(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x16x64xf32>,
                   %v: tensor<1x2x16x64xf32>, %m: tensor<1x1x16x16xf32>)
    -> (tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>) {
  %0 = "attn.attention"(%q, %k, %v) {layer = 3 : i64, scale = 0.35 : f32, causal, window = 4 : i64, sinks = 2 : i64}
       : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>) -> tensor<1x8x16x64xf32>
  %1 = "attn.attention"(%q, %k, %v, %m) <{layer = 0 : i64, scale = 1.0 : f32, causal}>
       : (tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x1x16x16xf32>) -> tensor<1x8x16x64xf32>
  return %0, %1 : tensor<1x8x16x64xf32>, tensor<1x8x16x64xf32>
}
