//===- AttentionOps.h - the attention ops of ONNX ---------------*- C++ -*-===//
//
// Internal to compiler/Import. The op family of attention itself: the ONNX
// Attention op (opset 23/25) and onnxruntime's contrib GroupQueryAttention
// and MultiHeadAttention get their output shapes here (the op table calls
// inferFusableOp), and every attention that fusion recognized, however it
// was spelled, is emitted here as one attn.attention (the graph walk calls
// emitFusedAttention at the fused node).
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_ATTENTIONOPS_H
#define SWAA_COMPILER_IMPORT_ATTENTIONOPS_H

#include "compiler/Import/Ops.h"

namespace mlir::swaa::import {

/// True for the ops that are attention themselves (Attention, contrib ops).
bool isFusableOp(const onnx::NodeProto &node);
bool isGroupQueryAttention(const onnx::NodeProto &node);
bool isMultiHeadAttention(const onnx::NodeProto &node);

/// Head counts and head size of a GroupQueryAttention node.
struct GqaShape {
  int64_t heads, kvHeads, headDim;
  bool packed;
};
FailureOr<GqaShape> gqaShape(NodeContext &c);

/// Output shapes of the attention ops.
LogicalResult inferFusableOp(GraphImporter &imp, NodeContext &c);
/// Reached only if fusion failed to take such a node.
LogicalResult emitFusableOp(GraphImporter &imp, NodeContext &c);

/// Emits the attn.attention of one fused attention at node `c`.
LogicalResult emitFusedAttention(GraphImporter &imp, NodeContext &c,
                                 const FusedAttention &f);

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_ATTENTIONOPS_H
