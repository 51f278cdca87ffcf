// attn.attention survives MLIR bytecode (what a driver may cache between
// stages): write bytecode, read it back, print the custom form.
// RUN: swaa-opt %s --emit-bytecode | swaa-opt | FileCheck %s

// CHECK-LABEL: func.func @bytecode
// CHECK:         attn.attention layer 7 causal window 128 sinks 4 scale 1.250000e-01
// CHECK-SAME:      mask(%{{.+}} : tensor<?x1x1x?xf32>) -> tensor<?x4x?x64xf32>
func.func @bytecode(%q: tensor<?x4x?x64xf32>, %k: tensor<?x2x?x64xf32>,
                    %v: tensor<?x2x?x64xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x4x?x64xf32> {
  %o = attn.attention layer 7 causal window 128 sinks 4 scale 0.125
         ins(%q, %k, %v : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>)
         mask(%m : tensor<?x1x1x?xf32>) -> tensor<?x4x?x64xf32>
  return %o : tensor<?x4x?x64xf32>
}
