//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
//
// The `attn` dialect makes attention a first-class op so that the SWAA passes
// (sliding window, sinks, interleaving, prefill/decode split) can rewrite it
// by setting attributes instead of pattern-matching masked softmax subgraphs.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_DIALECTS_ATTN_ATTNDIALECT_TD
#define SWAA_DIALECTS_ATTN_ATTNDIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::swaa::attn";
  let summary = "Attention as a first-class op, for sliding-window adaptation";
  let description = [{
    The `attn` dialect holds the attention ops of a transformer model after
    import. Everything that is not attention (projections, norms, RoPE, MLP)
    stays in upstream dialects. The semantics of every op follow one contract
    (README.md, "The attn.attention op"): positions are absolute 0-based
    token indices, and a key at position `j` is visible to a query at
    position `i` when `j <= i` (causal) and, for a window `W`, `i - W < j` or
    `j < sinks`.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // SWAA_DIALECTS_ATTN_ATTNDIALECT_TD
