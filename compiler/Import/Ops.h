//===- Ops.h - per-op inference and emission of the importer ----*- C++ -*-===//
//
// Internal to compiler/Import. Each supported ONNX op has a handler with two
// functions: `infer` gives its outputs element types, symbolic shapes and,
// where the inputs allow, known contents (this is how shape subgraphs fold);
// `emit` builds upstream MLIR for it. Handlers are looked up in one table
// keyed by (domain, op_type); `supportedOpsText()` prints that table.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_OPS_H
#define SWAA_COMPILER_IMPORT_OPS_H

#include "compiler/Import/GraphImporter.h"

namespace mlir::swaa::import {

/// Known contents are only tracked for tensors up to this many elements in
/// the main inference (shape vectors, scalars, small constants).
constexpr int64_t kMaxKnownElements = 1024;

/// Access to one node for a handler.
class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node, int index,
              int64_t maxKnown = kMaxKnownElements);

  GraphImporter &imp;
  const onnx::NodeProto &node;
  int index;
  Location loc;
  int64_t opset;
  int64_t maxKnown;

  unsigned numInputs() const { return node.input_size(); }
  bool hasInput(unsigned i) const {
    return i < (unsigned)node.input_size() && !node.input(i).empty();
  }
  llvm::StringRef inputName(unsigned i) const { return node.input(i); }
  ValueState &in(unsigned i) { return imp.state(node.input(i)); }
  const TensorInfo &info(unsigned i) { return in(i).info; }
  const Known *known(unsigned i) {
    auto &k = in(i).known;
    return k ? &*k : nullptr;
  }
  ValueState &out(unsigned i) { return imp.state(node.output(i)); }
  unsigned numOutputs() const { return node.output_size(); }

  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t defaultValue) const;
  float getFloat(llvm::StringRef name, float defaultValue) const;
  std::string getString(llvm::StringRef name, llvm::StringRef dflt) const;
  std::optional<SmallVector<int64_t>> getInts(llvm::StringRef name) const;

  LogicalResult error(const llvm::Twine &message);
  /// An error for an index outside its tensor, found with known contents:
  /// the graph cannot run at these sizes (GraphImporter::indexOutOfRange).
  LogicalResult outOfRange(const llvm::Twine &message);
  /// Sets output `i`'s info (and known contents, if any).
  void setOutput(unsigned i, TensorInfo info,
                 std::optional<Known> known = std::nullopt);
  /// The emitted value of input `i`.
  Value operand(unsigned i) { return imp.materialize(node.input(i), loc); }
  void setResult(unsigned i, Value v);
  OpBuilder &b() { return imp.builder(); }
};

struct OpHandler {
  LogicalResult (*infer)(NodeContext &);
  LogicalResult (*emit)(NodeContext &);
};

/// One row of the op table: an op type of a domain ("" is ai.onnx) and its
/// handler. Each op family file defines its rows; Ops.cpp collects them.
struct OpEntry {
  const char *domain;
  const char *opType;
  OpHandler handler;
};

/// The elementwise ops.
llvm::ArrayRef<OpEntry> elementwiseOps();
/// The constants and shape queries.
llvm::ArrayRef<OpEntry> constantOps();
/// The shape and index ops.
llvm::ArrayRef<OpEntry> shapeOps();
/// The reductions, normalizations and softmax.
llvm::ArrayRef<OpEntry> reductionOps();
/// The contractions.
llvm::ArrayRef<OpEntry> matmulOps();
/// The rotary position embeddings.
llvm::ArrayRef<OpEntry> rotaryOps();

/// Rotary position embedding of `x` ([B, H, S, D] when `bhsd`, else
/// [B, S, H*D]); see RotaryEmbedding (opset 23). Shared with the contrib
/// GroupQueryAttention's do_rotary.
Value emitRope(NodeContext &c, Value x, const TensorInfo &info, bool bhsd,
               int64_t headDim, int64_t rotaryDim, bool interleaved,
               Value cosCache, Value sinCache, Value positions);

/// The handler of `opType` in `domain` ("" or "ai.onnx" for the default
/// domain), or nullptr when the op is not supported.
const OpHandler *lookupOp(llvm::StringRef domain, llvm::StringRef opType);
/// The number of inputs `opType` needs at least (checked before inference,
/// so that handlers and matchers may read them).
unsigned minInputs(llvm::StringRef opType);
/// One line per supported op: "domain op_type".
std::string supportedOpsText();

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_OPS_H
