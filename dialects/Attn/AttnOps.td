//===- AttnOps.td - ops of the attn dialect ----------------*- tablegen -*-===//
//
// `attn.attention`: scaled dot-product attention with grouped-query heads, an
// optional additive mask, and the SWAA knobs (causal, window, sinks) as
// attributes that the transformation passes set. `attn.cache_append` and
// `attn.cache_attention`: the KV cache as explicit state of the prefill and
// decode programs, with its policy (full, or a ring of window + sinks slots).
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_DIALECTS_ATTN_ATTNOPS_TD
#define SWAA_DIALECTS_ATTN_ATTNOPS_TD

include "dialects/Attn/AttnDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Attn_AttentionOp : Attn_Op<"attention", [Pure]> {
  let summary = "scaled dot-product attention with causal, window and sinks";
  let description = [{
    Computes, for every batch `b`, query head `h` and query row `i`:

    ```
    out[b, h, i, :] = sum_j p[j] * value[b, h / G, j, :]
    p = softmax_j(cap(scale * dot(query[b, h, i, :], key[b, h / G, j, :]))
                  + mask[b, h, i, j])   over the visible keys j only
    cap(s) = softcap * tanh(s / softcap)   with `softcap`, else s
    ```

    `softcap = c` (c > 0) is the logit soft-capping of Gemma 2 and Grok:
    every score is squashed into (-c, c) before the mask and the softmax.

    Operands are ranked tensors `[batch, heads, seq, head_dim]`. `key` and
    `value` share batch, heads and seq; their heads must divide the query
    heads, the group size `G = query_heads / kv_heads` (grouped-query
    attention; `G = 1` is multi-head attention). `query` and `key` share
    `head_dim`; `value` may have its own, which the result takes. The result is
    `[batch, query_heads, query_seq, value_head_dim]`.

    Positions: the queries are the last `query_seq` positions of the key
    sequence, so query row `r` sits at absolute position
    `i = r + key_seq - query_seq` and key column `j` at position `j` (prefill
    has `query_seq == key_seq`; a decode step has one query against the whole
    cache). A key is visible to a query when:

    - `causal` is set: `j <= i`;
    - `window = W` is set (requires `causal`): also `i - W < j`, so the
      query sees W keys including itself, **or** `j < sinks`: the first
      `sinks` tokens stay visible to every query (they must still be causal).

    Without `window`, `sinks` must be 0. The optional `mask` is added to the
    scores of visible keys; it is `[batch, heads, query_seq, key_seq]` where a
    dimension of static size 1 broadcasts. A query row with no visible key
    (or whose visible scores are all -inf) yields zeros, never NaN.

    `layer` is the index of the attention layer in the model (0..L-1), which
    the SWAA passes use to select layers.

    Example (GQA with 8 query heads and 2 key/value heads, window 4 and 2 sink
    tokens):

    ```mlir
    %o = attn.attention layer 3 causal window 4 sinks 2 scale 0.35
           ins(%q, %k, %v : tensor<1x8x16x64xf32>, tensor<1x2x16x64xf32>,
                            tensor<1x2x16x64xf32>)
           -> tensor<1x8x16x64xf32>
    ```
  }];

  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key,
    AnyRankedTensor:$value,
    Optional<AnyRankedTensor>:$mask,
    I64Attr:$layer,
    F32Attr:$scale,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$window,
    DefaultValuedAttr<I64Attr, "0">:$sinks,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    `layer` $layer (`causal` $causal^)? (`window` $window^)? (`sinks` $sinks^)?
    `scale` $scale (`softcap` $softcap^)?
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
      type($value) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `->` type($result)
  }];

  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// Number of query heads sharing one key/value head, or std::nullopt when
    /// a head count is dynamic.
    std::optional<int64_t> getGroupSize();
    /// True when the op restricts keys to a sliding window.
    bool isWindowed() { return getWindow().has_value(); }
  }];
}

//===----------------------------------------------------------------------===//
// KV cache
//===----------------------------------------------------------------------===//

def Attn_CacheAppendOp : Attn_Op<"cache_append", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "writes new keys or values into a KV cache at a position";
  let description = [{
    Returns `cache` with the `n` rows of `update` (`[batch, kv_heads, n,
    head_dim]`) written for the absolute token positions `pos .. pos + n - 1`.
    The cache is `[batch, kv_heads, capacity, head_dim]`; where a position
    goes depends on the cache policy:

    - full (no `ring`): position `j` is slot `j`; the caller guarantees
      `pos + n <= capacity` (the runtime checks the session's maximum
      context).
    - `ring W sinks S`: a ring buffer of `capacity = W + S` slots for a layer
      whose attention only ever sees the last `W` positions and the first `S`
      (sink) tokens. Position `j` is slot `j` when `j < S`, else
      `S + (j - S) mod W`; rows are written in order, so when `n > W` only
      the sinks and the last `W` positions remain.

    The prefill program appends the prompt at position 0; the decode program
    appends one token at its position.

    ```mlir
    %kc2 = attn.cache_append %k into %kc at %pos ring 64 sinks 4
             : tensor<1x2x1x64xf32> into tensor<1x2x68x64xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$update,
    AnyRankedTensor:$cache,
    Index:$pos,
    OptionalAttr<I64Attr>:$ring_window,
    DefaultValuedAttr<I64Attr, "0">:$ring_sinks
  );
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $update `into` $cache `at` $pos
    (`ring` $ring_window^ `sinks` $ring_sinks)?
    attr-dict `:` type($update) `into` type($cache)
  }];
  let hasVerifier = 1;
}

def Attn_CacheAttentionOp : Attn_Op<"cache_attention", [Pure]> {
  let summary = "attention of new queries against a KV cache";
  let description = [{
    The decode-time form of `attn.attention`: the `query_seq` query rows sit
    at absolute positions `pos .. pos + query_seq - 1`, and the keys and values
    are the cache contents for positions `0 .. pos + query_seq - 1` (the new
    tokens already appended with `attn.cache_append`), stored by the cache
    policy (`ring W sinks S`, or full when absent: see `attn.cache_append`).
    Visibility (`causal`, `window`, `sinks`), `scale`, `softcap`,
    grouped-query heads and the optional additive `mask` (`[batch, heads, query_seq, pos +
    query_seq]`, indexed by absolute key position; static 1 broadcasts) are
    exactly those of `attn.attention` with `i = pos + r`.

    A ring cache only holds what a windowed attention can see: the op needs
    `window <= W` and `sinks <= S` of the ring, and one query row per call
    (a longer chunk would overwrite keys its first rows need).

    ```mlir
    %o = attn.cache_attention layer 1 causal window 64 sinks 4 scale 0.125
           ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>,
                              tensor<1x2x68x64xf32>)
           at %pos ring 64 sinks 4 -> tensor<1x8x1x64xf32>
    ```
  }];
  let arguments = (ins
    AnyRankedTensor:$query,
    AnyRankedTensor:$key_cache,
    AnyRankedTensor:$value_cache,
    Index:$pos,
    Optional<AnyRankedTensor>:$mask,
    I64Attr:$layer,
    F32Attr:$scale,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$window,
    DefaultValuedAttr<I64Attr, "0">:$sinks,
    OptionalAttr<I64Attr>:$ring_window,
    DefaultValuedAttr<I64Attr, "0">:$ring_sinks,
    OptionalAttr<F32Attr>:$softcap
  );
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    `layer` $layer (`causal` $causal^)? (`window` $window^)? (`sinks` $sinks^)?
    `scale` $scale (`softcap` $softcap^)?
    `ins` `(` $query `,` $key_cache `,` $value_cache `:` type($query) `,`
      type($key_cache) `,` type($value_cache) `)`
    `at` $pos (`ring` $ring_window^ `sinks` $ring_sinks)?
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    bool isWindowed() { return getWindow().has_value(); }
  }];
}

#endif // SWAA_DIALECTS_ATTN_ATTNOPS_TD
