// Every verifier message of the KV-cache ops that the shared attention
// checks (invalid.mlir) do not already cover.
// RUN: swaa-opt %s --split-input-file --verify-diagnostics

func.func @ring_capacity(%k: tensor<1x2x1x8xf32>, %kc: tensor<1x2x16x8xf32>, %pos: index) -> tensor<1x2x16x8xf32> {
  // expected-error @+1 {{'attn.cache_append' op expected 'cache' to have ring window + sinks = 12 slots (dim 2), got 16}}
  %r = attn.cache_append %k into %kc at %pos ring 8 sinks 4 : tensor<1x2x1x8xf32> into tensor<1x2x16x8xf32>
  return %r : tensor<1x2x16x8xf32>
}

// -----

func.func @ring_window_zero(%k: tensor<1x2x1x8xf32>, %kc: tensor<1x2x4x8xf32>, %pos: index) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected the ring window to be at least 1, got 0}}
  %r = attn.cache_append %k into %kc at %pos ring 0 sinks 4 : tensor<1x2x1x8xf32> into tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// -----

func.func @ring_sinks_negative(%k: tensor<1x2x1x8xf32>, %kc: tensor<1x2x4x8xf32>, %pos: index) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expected the ring sinks to be non-negative, got -1}}
  %r = attn.cache_append %k into %kc at %pos ring 5 sinks -1 : tensor<1x2x1x8xf32> into tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// -----

func.func @append_heads(%k: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %pos: index) -> tensor<1x2x?x8xf32> {
  // expected-error @+1 {{expected 'update' heads (dim 1) to match 'cache', got 4 vs 2}}
  %r = attn.cache_append %k into %kc at %pos : tensor<1x4x1x8xf32> into tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

func.func @append_rank(%k: tensor<2x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %pos: index) -> tensor<1x2x?x8xf32> {
  // expected-error @+1 {{expected 'update' and 'cache' to have rank 4 ([batch, kv_heads, seq, head_dim]), got 3 and 4}}
  %r = attn.cache_append %k into %kc at %pos : tensor<2x1x8xf32> into tensor<1x2x?x8xf32>
  return %r : tensor<1x2x?x8xf32>
}

// -----

func.func @append_too_long(%k: tensor<1x2x9x8xf32>, %kc: tensor<1x2x8x8xf32>, %pos: index) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{expected 'update' seq (9) to fit a full cache of 8 slots}}
  %r = attn.cache_append %k into %kc at %pos : tensor<1x2x9x8xf32> into tensor<1x2x8x8xf32>
  return %r : tensor<1x2x8x8xf32>
}

// -----

func.func @full_reads_ring(%q: tensor<1x2x1x8xf32>, %kc: tensor<1x2x12x8xf32>, %pos: index) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{'attn.cache_attention' op expected a 'window' to read a ring cache (ring 8 sinks 4): full attention needs a full cache}}
  %o = attn.cache_attention layer 0 causal scale 0.5 ins(%q, %kc, %kc : tensor<1x2x1x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
         at %pos ring 8 sinks 4 -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

func.func @window_beyond_ring(%q: tensor<1x2x1x8xf32>, %kc: tensor<1x2x12x8xf32>, %pos: index) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{expected 'window' (9) to fit the ring window (8)}}
  %o = attn.cache_attention layer 0 causal window 9 scale 0.5 ins(%q, %kc, %kc : tensor<1x2x1x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
         at %pos ring 8 sinks 4 -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

func.func @sinks_beyond_ring(%q: tensor<1x2x1x8xf32>, %kc: tensor<1x2x12x8xf32>, %pos: index) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{expected 'sinks' (5) to fit the ring sinks (4)}}
  %o = attn.cache_attention layer 0 causal window 8 sinks 5 scale 0.5 ins(%q, %kc, %kc : tensor<1x2x1x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
         at %pos ring 8 sinks 4 -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

func.func @ring_chunk(%q: tensor<1x2x3x8xf32>, %kc: tensor<1x2x12x8xf32>, %pos: index) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{expected one query row to read a ring cache, got 3}}
  %o = attn.cache_attention layer 0 causal window 8 scale 0.5 ins(%q, %kc, %kc : tensor<1x2x3x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>)
         at %pos ring 8 sinks 4 -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}

// -----

func.func @not_causal(%q: tensor<1x2x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %pos: index) -> tensor<1x2x1x8xf32> {
  // expected-error @+1 {{expected 'causal': the queries are the newest positions of the cache}}
  %o = attn.cache_attention layer 0 scale 0.5 ins(%q, %kc, %kc : tensor<1x2x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         at %pos -> tensor<1x2x1x8xf32>
  return %o : tensor<1x2x1x8xf32>
}

// -----

func.func @cache_heads(%q: tensor<1x3x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %pos: index) -> tensor<1x3x1x8xf32> {
  // expected-error @+1 {{expected 'query' heads (3) to be a multiple of 'key_cache'/'value_cache' heads (2) for grouped-query attention}}
  %o = attn.cache_attention layer 0 causal scale 0.5 ins(%q, %kc, %kc : tensor<1x3x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
         at %pos -> tensor<1x3x1x8xf32>
  return %o : tensor<1x3x1x8xf32>
}
