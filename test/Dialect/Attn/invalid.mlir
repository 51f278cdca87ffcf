// Every verifier message of attn.attention, each naming the operand or
// attribute at fault.
// RUN: swaa-opt %s --split-input-file --verify-diagnostics

func.func @window_zero(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{'attn.attention' op expected 'window' to be at least 1 (the query itself), got 0}}
  %o = attn.attention layer 0 causal window 0 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @window_negative(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'window' to be at least 1 (the query itself), got -3}}
  %o = attn.attention layer 0 causal window -3 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @window_without_causal(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'causal' with 'window': a sliding window is defined on causal attention}}
  %o = attn.attention layer 0 window 4 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sinks_negative(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'sinks' to be non-negative, got -1}}
  %o = attn.attention layer 0 causal window 4 sinks -1 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @sinks_without_window(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'window' with 'sinks' = 4: sink tokens only apply to windowed attention}}
  %o = attn.attention layer 0 causal sinks 4 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @layer_negative(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'layer' to be non-negative, got -2}}
  %o = attn.attention layer -2 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @scale_zero(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'scale' to be positive and finite, got 0}}
  %o = attn.attention layer 0 causal scale 0.0
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @query_rank(%q: tensor<2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'query' to have rank 4 ([batch, heads, seq, head_dim]), got 3}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @key_rank(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4x1xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'key' to have rank 4 ([batch, heads, seq, head_dim]), got 5}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4x1xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @integer_elements(%q: tensor<1x2x8x4xi8>, %k: tensor<1x2x8x4xi8>, %v: tensor<1x2x8x4xi8>) -> tensor<1x2x8x4xi8> {
  // expected-error @+1 {{expected 'query' to have a floating-point element type, got 'i8'}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xi8>, tensor<1x2x8x4xi8>, tensor<1x2x8x4xi8>) -> tensor<1x2x8x4xi8>
  return %o : tensor<1x2x8x4xi8>
}

// -----

func.func @element_type_mismatch(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf16>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{expected 'key' element type to match 'query' ('f32'), got 'f16'}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf16>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

func.func @head_dim_mismatch(%q: tensor<1x2x8x64xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32> {
  // expected-error @+1 {{expected 'key' head_dim (dim 3) to match 'query', got 32 vs 64}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x64xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>) -> tensor<1x2x8x32xf32>
  return %o : tensor<1x2x8x32xf32>
}

// -----

func.func @batch_mismatch(%q: tensor<2x2x8x4xf32>, %k: tensor<3x2x8x4xf32>, %v: tensor<3x2x8x4xf32>) -> tensor<2x2x8x4xf32> {
  // expected-error @+1 {{expected 'key' batch (dim 0) to match 'query', got 3 vs 2}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<2x2x8x4xf32>, tensor<3x2x8x4xf32>, tensor<3x2x8x4xf32>) -> tensor<2x2x8x4xf32>
  return %o : tensor<2x2x8x4xf32>
}

// -----

func.func @heads_not_divisible(%q: tensor<1x8x16x4xf32>, %k: tensor<1x3x16x4xf32>, %v: tensor<1x3x16x4xf32>) -> tensor<1x8x16x4xf32> {
  // expected-error @+1 {{expected 'query' heads (8) to be a multiple of 'key'/'value' heads (3) for grouped-query attention}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x8x16x4xf32>, tensor<1x3x16x4xf32>, tensor<1x3x16x4xf32>) -> tensor<1x8x16x4xf32>
  return %o : tensor<1x8x16x4xf32>
}

// -----

func.func @kv_heads_zero(%q: tensor<1x8x16x4xf32>, %k: tensor<1x0x16x4xf32>, %v: tensor<1x0x16x4xf32>) -> tensor<1x8x16x4xf32> {
  // expected-error @+1 {{expected 'key' to have at least one head, got 0}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x8x16x4xf32>, tensor<1x0x16x4xf32>, tensor<1x0x16x4xf32>) -> tensor<1x8x16x4xf32>
  return %o : tensor<1x8x16x4xf32>
}

// -----

func.func @kv_heads_disagree(%q: tensor<1x8x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x4x16x4xf32>) -> tensor<1x8x16x4xf32> {
  // expected-error @+1 {{expected 'value' heads (dim 1) to match 'key', got 4 vs 2}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x8x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x4x16x4xf32>) -> tensor<1x8x16x4xf32>
  return %o : tensor<1x8x16x4xf32>
}

// -----

func.func @kv_seq_disagree(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'value' seq (dim 2) to match 'key', got 8 vs 16}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @kv_batch_disagree(%q: tensor<2x2x16x4xf32>, %k: tensor<2x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) -> tensor<2x2x16x4xf32> {
  // expected-error @+1 {{expected 'value' batch (dim 0) to match 'key', got 1 vs 2}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<2x2x16x4xf32>, tensor<2x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<2x2x16x4xf32>
  return %o : tensor<2x2x16x4xf32>
}

// -----

func.func @result_heads(%q: tensor<1x8x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'result' heads (dim 1) to match 'query', got 2 vs 8}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x8x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @result_head_dim(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x6xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'result' head_dim (dim 3) to match 'value', got 4 vs 6}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x6xf32>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @mask_rank(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>, %m: tensor<16x16xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'mask' to have rank 4 ([batch, heads, query seq, key seq]), got 2}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         mask(%m : tensor<16x16xf32>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @mask_key_seq(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>, %m: tensor<1x1x16x8xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'mask' key seq (dim 3) to be 1 or 16, got 8}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         mask(%m : tensor<1x1x16x8xf32>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @mask_element_type(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>, %m: tensor<1x1x16x16xi1>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'mask' element type to match 'query' ('f32'), got 'i1'}}
  %o = attn.attention layer 0 causal scale 0.5
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         mask(%m : tensor<1x1x16x16xi1>) -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @softcap_zero(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'softcap' to be a positive number, got 0}}
  %o = attn.attention layer 0 causal scale 0.5 softcap 0.0
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

func.func @softcap_negative(%q: tensor<1x2x16x4xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error @+1 {{expected 'softcap' to be a positive number, got -2}}
  %o = attn.attention layer 0 causal scale 0.5 softcap -2.0
         ins(%q, %k, %v : tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>)
         -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}
