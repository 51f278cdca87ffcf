// The split refuses what it cannot put on a cache, naming the op at fault.
// RUN: swaa-opt %s --split-input-file --verify-diagnostics --attn-split-prefill-decode
// RUN: not swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode="fa-decode=2" 2>&1 | FileCheck %s --check-prefix=SPEC
// RUN: not swaa-opt %S/Inputs/two-layer-cache.mlir --attn-split-prefill-decode="entry=main" 2>&1 | FileCheck %s --check-prefix=ENTRY
// SPEC: error: fa-decode: layer spec '2', at position 1 ('2'): layer 2 is out of range (the model has 2 attention layers, 0-1)
// ENTRY: error: attn-split-prefill-decode: no function @main to split (set entry=NAME)

// A model without past inputs: @prefill only, with a warning.
// expected-warning @+1 {{has no past key/value inputs: only @prefill is generated}}
func.func @forward(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

// Layers must be numbered 0..L-1.
func.func @forward(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{has layer 1 but layer 0 is missing: layers must be numbered 0..L-1}}
  %0 = attn.attention layer 1 causal scale 0.5 ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @forward(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  // expected-error @+1 {{has the same layer index as another attention (0): the split needs one per layer}}
  %1 = attn.attention layer 0 causal scale 0.5 ins(%0, %q, %q : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %1 : tensor<1x2x8x4xf32>
}

// -----

// A model with a cache whose attention reads the past some other way (here:
// the past alone, without the new tokens).
func.func @forward(%q: tensor<1x2x8x4xf32>,
                   %pk: tensor<1x2x8x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, role = "past"}}) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{reads keys/values that do not append the new tokens to the model's past key/values}}
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %pk, %pk : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @forward(%q: tensor<1x2x8x4xf32>, %pos: index, %kc: tensor<1x2x?x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{is already a KV-cache op: the model is split already}}
  %0 = attn.cache_attention layer 0 causal scale 0.5 ins(%q, %kc, %kc : tensor<1x2x8x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) at %pos -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
