//===- Passes.td - lowerings of the attn dialect -----------*- tablegen -*-===//
//
// Passes that lower `attn` ops to upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_LOWERING_PASSES_TD
#define SWAA_COMPILER_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

// Op-agnostic: it rewrites every attention nested under the op it runs on,
// so `swaa-opt --attn-lower-reference` works on a module as it is.
def AttnLowerReferencePass : Pass<"attn-lower-reference"> {
  let summary = "lower attn ops to the O(n^2) masked reference";
  let description = [{
    Rewrites every `attn.attention` into plain `linalg.generic`, `tensor`,
    `arith` and `math` ops that compute the attention contract literally:
    all `[query, key]` scores, the explicit causal/window/sink mask, a
    max-subtracted softmax and the weighted sum of values. Grouped-query
    heads are expanded by copying key/value heads. Scores are accumulated in
    f32 for narrower element types.

    `attn.cache_append` becomes row-by-row insert_slices into the cache
    slots (an scf.for), and `attn.cache_attention` a gather of the cached
    positions followed by the same reference attention.

    This is the golden model: it is slow (O(n^2) time and memory per head)
    on purpose, and every faster lowering is tested against it.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // SWAA_COMPILER_LOWERING_PASSES_TD
