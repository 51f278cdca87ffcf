//===- AttnOps.td - ops of the attn dialect ----------------*- tablegen -*-===//
//
// `attn.attention`: scaled dot-product attention with grouped-query heads, an
// optional additive mask, and the SWAA knobs (causal, window, sinks) as
// attributes that the transformation passes set.
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
    p = softmax_j(scale * dot(query[b, h, i, :], key[b, h / G, j, :])
                  + mask[b, h, i, j])   over the visible keys j only
    ```

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
    DefaultValuedAttr<I64Attr, "0">:$sinks
  );
  let results = (outs AnyRankedTensor:$result);

  let assemblyFormat = [{
    `layer` $layer (`causal` $causal^)? (`window` $window^)? (`sinks` $sinks^)?
    `scale` $scale
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

#endif // SWAA_DIALECTS_ATTN_ATTNOPS_TD
