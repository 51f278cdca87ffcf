//===- AttentionFusion.h - recognize attention in ONNX graphs ---*- C++ -*-===//
//
// Internal to compiler/Import. Finds every attention of the graph, however
// the exporter spelled it, and records it as one FusedAttention:
//  - the decomposed form: MatMul(Q, K^T) -> scale -> + mask -> Softmax ->
//    MatMul(., V), with scales on Q, K or the scores, K^T as a Transpose,
//    and GQA as Unsqueeze/Expand/Reshape (repeat_kv);
//  - the ONNX Attention op (opset 23) and the contrib GroupQueryAttention and
//    MultiHeadAttention ops.
// Masks are proven, by evaluating their subgraph on concrete sizes, to be
// causal (with or without a window) plus an optional padding mask from a
// [batch, key_seq] graph input; a mask that is neither stays an operand.
// Recognition is structural: names of nodes and tensors are never used.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_ATTENTIONFUSION_H
#define SWAA_COMPILER_IMPORT_ATTENTIONFUSION_H

#include "compiler/Import/Ops.h"

namespace mlir::swaa::import {

/// Step 2 of the import: fills `imp.fused` (layer indices in graph order)
/// and the KV-cache roles of graph inputs and outputs.
LogicalResult runAttentionFusion(GraphImporter &imp);

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_ATTENTIONFUSION_H
