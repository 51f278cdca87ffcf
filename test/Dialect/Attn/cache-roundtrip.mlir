// Round trips of the KV-cache ops (attn.cache_append, attn.cache_attention)
// through the custom assembly format and the generic form.
// RUN: swaa-opt %s --split-input-file | swaa-opt --split-input-file | FileCheck %s
// RUN: swaa-opt %s --split-input-file --mlir-print-op-generic | swaa-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @ring_decode
// CHECK-SAME:    (%[[Q:.+]]: tensor<1x8x1x64xf32>, %[[K:.+]]: tensor<1x2x1x64xf32>, %[[KC:.+]]: tensor<1x2x68x64xf32>, %[[VC:.+]]: tensor<1x2x68x64xf32>, %[[POS:.+]]: index)
// CHECK:         %[[KC2:.+]] = attn.cache_append %[[K]] into %[[KC]] at %[[POS]] ring 64 sinks 4 : tensor<1x2x1x64xf32> into tensor<1x2x68x64xf32>
// CHECK:         %[[O:.+]] = attn.cache_attention layer 1 causal window 64 sinks 4 scale 1.250000e-01
// CHECK-SAME:      ins(%[[Q]], %[[KC2]], %[[VC]] : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>, tensor<1x2x68x64xf32>)
// CHECK-SAME:      at %[[POS]] ring 64 sinks 4 -> tensor<1x8x1x64xf32>
func.func @ring_decode(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x1x64xf32>,
                       %kc: tensor<1x2x68x64xf32>, %vc: tensor<1x2x68x64xf32>,
                       %pos: index) -> tensor<1x8x1x64xf32> {
  %kc2 = attn.cache_append %k into %kc at %pos ring 64 sinks 4
           : tensor<1x2x1x64xf32> into tensor<1x2x68x64xf32>
  %o = attn.cache_attention layer 1 causal window 64 sinks 4 scale 0.125
         ins(%q, %kc2, %vc : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>, tensor<1x2x68x64xf32>)
         at %pos ring 64 sinks 4 -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// A full cache of dynamic capacity, several query rows, and a padding mask
// indexed by absolute key position.
// CHECK-LABEL: func.func @full_chunk
// CHECK:         attn.cache_append %{{.+}} into %{{.+}} at %{{.+}} : tensor<?x2x?x64xf32> into tensor<?x2x?x64xf32>
// CHECK:         attn.cache_attention layer 0 causal scale 1.250000e-01
// CHECK-SAME:      at %{{.+}} mask(%{{.+}} : tensor<?x1x1x?xf32>) -> tensor<?x8x?x64xf32>
func.func @full_chunk(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                      %kc: tensor<?x2x?x64xf32>, %vc: tensor<?x2x?x64xf32>,
                      %pos: index, %m: tensor<?x1x1x?xf32>) -> tensor<?x8x?x64xf32> {
  %kc2 = attn.cache_append %k into %kc at %pos
           : tensor<?x2x?x64xf32> into tensor<?x2x?x64xf32>
  %o = attn.cache_attention layer 0 causal scale 0.125
         ins(%q, %kc2, %vc : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>)
         at %pos mask(%m : tensor<?x1x1x?xf32>) -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// -----

// CHECK-LABEL: func.func @cache_softcap
// CHECK:         attn.cache_attention layer 1 causal scale 1.250000e-01 softcap 3.000000e+01
func.func @cache_softcap(%q: tensor<1x8x1x64xf32>, %kc: tensor<1x2x?x64xf32>,
                         %vc: tensor<1x2x?x64xf32>, %pos: index) -> tensor<1x8x1x64xf32> {
  %o = attn.cache_attention layer 1 causal scale 0.125 softcap 30.0
         ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>)
         at %pos -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
