// swaa-pipeline runs the recipe's passes and the split, from options or a
// recipe file, exactly as swaa-compile does.
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --swaa-pipeline="window=8 sinks=2 fa-layers=1" | FileCheck %s --check-prefix=FLAGS
// RUN: not swaa-opt %S/Inputs/two-layer-cache.mlir --swaa-pipeline="recipe=%S/../Driver/Inputs/recipe-lists.json split=false" 2>&1 | FileCheck %s --check-prefix=FILE
// RUN: swaa-opt %S/Inputs/two-layer-cache.mlir --swaa-pipeline="preset=fa-decode window=3" | FileCheck %s --check-prefix=PRESET
// RUN: not swaa-opt %S/Inputs/two-layer-cache.mlir --swaa-pipeline="preset=nope" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not swaa-opt %S/Inputs/two-layer-cache.mlir --swaa-pipeline="sinks=2" 2>&1 | FileCheck %s --check-prefix=SINKS

// FLAGS-LABEL: func.func @prefill
// FLAGS:       attn.attention layer 0 causal window 8 sinks 2 scale
// FLAGS:       attn.attention layer 1 causal scale {{.*}} {attn.keep_full}
// FLAGS-LABEL: func.func @decode
// FLAGS:       attn.cache_attention layer 0 causal window 8 sinks 2 {{.*}} ring 8 sinks 2
// FLAGS:       attn.cache_attention layer 1 causal scale

// A recipe file whose layer list names layers 1 and 3 of a 4-layer model:
// layer 3 does not exist here, so the pass reports it.
// FILE: error: fa-layers: layer spec '1,3', at position 3 ('3'): layer 3 is out of range (the model has 2 attention layers, 0-1)

// PRESET-LABEL: func.func @prefill
// PRESET:       attn.attention layer 0 causal window 3 sinks 10 scale
// PRESET:       attn.attention layer 1 causal window 3 sinks 10 scale
// PRESET-LABEL: func.func @decode
// PRESET-NOT:   ring
// PRESET:       attn.cache_attention layer 0 causal scale
// BAD: swaa-pipeline: unknown preset 'nope'
// SINKS: swaa-pipeline: options: 2 sinks without a window
