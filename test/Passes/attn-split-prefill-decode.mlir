// The split of a two-layer model with a KV cache (Inputs/two-layer-cache.mlir:
// layer 0 window 4 + 1 sink, layer 1 full). Without fa-decode, layer 0 keeps
// its window in decode and gets a ring cache of 4 + 1 slots; layer 1 a full
// cache. The past inputs and present outputs are gone, @forward too.
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode | FileCheck %s

// CHECK-NOT: func.func @forward
// CHECK-LABEL: func.func @prefill
// CHECK-SAME:    (%[[Q:.+]]: tensor<?x4x?x4xf32> {swaa.input = "q"}, %[[K0:.+]]: tensor<?x2x?x4xf32> {swaa.input = "k0"}, %[[V0:.+]]: tensor<?x2x?x4xf32> {swaa.input = "v0"}, %[[K1:.+]]: tensor<?x2x?x4xf32> {swaa.input = "k1"}, %[[V1:.+]]: tensor<?x2x?x4xf32> {swaa.input = "v1"},
// CHECK-SAME:    %[[KC0:.+]]: tensor<?x2x5x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, policy = "ring", sinks = 1 : i64, window = 4 : i64}},
// CHECK-SAME:    %[[VC0:.+]]: tensor<?x2x5x4xf32> {swaa.kv_cache = {kind = "value", layer = 0 : i64, policy = "ring", sinks = 1 : i64, window = 4 : i64}},
// CHECK-SAME:    %[[KC1:.+]]: tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "key", layer = 1 : i64, policy = "full"}},
// CHECK-SAME:    %[[VC1:.+]]: tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "value", layer = 1 : i64, policy = "full"}})
// CHECK-SAME:    -> (tensor<?x4x?x4xf32> {swaa.output = "out"}, tensor<?x2x5x4xf32> {swaa.kv_cache = {{.+}}}, tensor<?x2x5x4xf32> {swaa.kv_cache = {{.+}}}, tensor<?x2x?x4xf32> {swaa.kv_cache = {{.+}}}, tensor<?x2x?x4xf32> {swaa.kv_cache = {{.+}}})
// CHECK-SAME:    attributes {swaa.entry = "prefill"}
// CHECK:         %[[ZERO:.+]] = arith.constant 0 : index
// CHECK:         %[[KW0:.+]] = attn.cache_append %[[K0]] into %[[KC0]] at %[[ZERO]] ring 4 sinks 1
// CHECK:         %[[VW0:.+]] = attn.cache_append %[[V0]] into %[[VC0]] at %[[ZERO]] ring 4 sinks 1
// CHECK:         %[[O0:.+]] = attn.attention layer 0 causal window 4 sinks 1 scale {{.+}} ins(%[[Q]], %[[K0]], %[[V0]] :
// CHECK:         %[[KW1:.+]] = attn.cache_append %[[K1]] into %[[KC1]] at %[[ZERO]] :
// CHECK:         %[[VW1:.+]] = attn.cache_append %[[V1]] into %[[VC1]] at %[[ZERO]] :
// CHECK:         %[[O1:.+]] = attn.attention layer 1 causal scale {{.+}} ins(%[[O0]], %[[K1]], %[[V1]] :
// CHECK:         return %[[O1]], %[[KW0]], %[[VW0]], %[[KW1]], %[[VW1]]

// CHECK-LABEL: func.func @decode
// CHECK-SAME:    %[[K0:[^:]+]]: tensor<?x2x?x4xf32> {swaa.input = "k0"}
// CHECK-SAME:    %[[POS:[^:]+]]: index {swaa.position}
// CHECK-SAME:    %[[KC0:[^:]+]]: tensor<?x2x5x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, policy = "ring", sinks = 1 : i64, window = 4 : i64}}
// CHECK-SAME:    attributes {swaa.entry = "decode"}
// CHECK:         %[[KW0:.+]] = attn.cache_append %[[K0]] into %[[KC0]] at %[[POS]] ring 4 sinks 1
// CHECK:         %[[VW0:.+]] = attn.cache_append
// CHECK:         %[[O0:.+]] = attn.cache_attention layer 0 causal window 4 sinks 1 scale {{.+}} ins(%{{.+}}, %[[KW0]], %[[VW0]] : {{.+}}) at %[[POS]] ring 4 sinks 1
// CHECK:         attn.cache_attention layer 1 causal scale {{.+}} ins(%[[O0]], %{{.+}}, %{{.+}} : tensor<?x4x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) at %[[POS]] ->
// CHECK-NOT:     tensor.insert_slice
// CHECK:         return
