// FA decode: prefill keeps layer 0's window and sinks; decode attends to the
// whole cache on the selected layers, whose caches are then full.
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode="fa-decode=true" | FileCheck %s --check-prefix=ALL
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode="fa-decode=0" | FileCheck %s --check-prefix=ALL
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode="fa-decode=1" | FileCheck %s --check-prefix=ONE

// ALL-LABEL: func.func @prefill
// ALL-NOT:     policy = "ring"
// ALL:         attn.cache_append %{{.+}} into %{{.+}} at %{{.+}} : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
// ALL:         attn.attention layer 0 causal window 4 sinks 1 scale
// ALL-LABEL: func.func @decode
// ALL-NOT:     ring
// ALL:         attn.cache_attention layer 0 causal scale {{.+}} at %{{[^ ]+}} ->
// ALL:         attn.cache_attention layer 1 causal scale {{.+}} at %{{[^ ]+}} ->

// A spec selecting only the full layer changes nothing: layer 0 stays SWA.
// ONE-LABEL: func.func @decode
// ONE:         attn.cache_attention layer 0 causal window 4 sinks 1 {{.+}} ring 4 sinks 1
// ONE:         attn.cache_attention layer 1 causal scale
