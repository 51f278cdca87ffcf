//===- GraphImporter.h - the importer's state (internal) -------*- C++ -*-===//
//
// Internal to compiler/Import. The import runs in three steps over the ONNX
// graph:
//   1. inference: every value gets an element type and a symbolic shape, and
//      small integer/float values (shape subgraphs) get known contents;
//   2. fusion: every attention, however it is spelled, is recognized and
//      replaced by one fused node; the causal/window mask subgraphs it
//      absorbed become dead;
//   3. emission: the nodes that the graph outputs need are emitted as MLIR,
//      in graph order, folding whatever has known contents.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_GRAPHIMPORTER_H
#define SWAA_COMPILER_IMPORT_GRAPHIMPORTER_H

#include "compiler/Import/Importer.h"
#include "compiler/Import/SymbolicDim.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace mlir::swaa::import {

/// What inference knows of one ONNX value.
struct TensorInfo {
  Type elementType;
  SmallVector<SymExpr> shape;
  int64_t rank() const { return shape.size(); }
  bool isFloat() const { return isa<FloatType>(elementType); }
};

/// Contents known at import time: shape vectors (symbolic ints) and small
/// float constants. Row-major, for a tensor whose shape is all constants.
struct Known {
  SmallVector<SymExpr> ints;
  SmallVector<double> floats;
  bool isFloat = false;
  size_t size() const { return isFloat ? floats.size() : ints.size(); }
};

struct ValueState {
  TensorInfo info;
  bool inferred = false;
  std::optional<Known> known;
  /// The initializer behind this value, if it is one.
  const onnx::TensorProto *initializer = nullptr;
  /// Index of the graph input (function argument) behind this value.
  std::optional<unsigned> inputIndex;
  /// The emitted MLIR value.
  Value value;
  /// A weight whose contents are the transpose of the weight argument named
  /// here (a tied LM head exported as its own [hidden, vocab] copy of the
  /// [vocab, hidden] embedding table): MatMul reads that one transposed and
  /// this one is not stored.
  std::string transposeOf;
};

/// One attention recognized by fusion; replaces the nodes that spelled it.
struct FusedAttention {
  std::string query, key, value;
  /// Mask value that stays an operand, empty when none. Additive, or (when
  /// `maskIsCondition`) a boolean whose `keepWhen` value marks visible keys.
  std::string mask;
  bool maskIsCondition = false;
  bool keepWhen = true;
  /// Why the mask is kept as an operand (warned about with the layer).
  std::string maskWarning;
  /// A padding mask built from a [batch, key_seq] 0/1 graph input: the name
  /// of that input. Mutually exclusive with `mask`.
  std::string paddingInput;
  double scale = 1.0;
  /// Logit soft-capping (attn.attention's softcap), if any.
  std::optional<double> softcap;
  bool causal = false;
  std::optional<int64_t> window;
  int64_t sinks = 0;
  /// The ONNX value that the attention's result replaces ([B, H, S, D]).
  std::string output;
  /// The node whose position in the graph the fused node takes.
  int anchorNode = -1;
  /// Node name for locations.
  std::string nodeName;
  /// Permutation to apply to `key` to get [B, H, S, D] (empty: none).
  SmallVector<int64_t> keyPerm;
  /// Attention layer index, in graph order.
  int64_t layer = 0;
  /// Further values the fused node reads (past K/V of an Attention op).
  std::vector<std::string> extraInputs;
  /// Past key/value to concatenate in front of key/value (Attention op), and
  /// the node outputs that receive the concatenation (present K/V).
  std::string pastKey, pastValue, presentKey, presentValue;
  /// The contrib op (com.microsoft GroupQueryAttention) this came from, if
  /// any: its inputs are packed and need splitting, RoPE, and a padding mask
  /// from seqlens_k.
  const onnx::NodeProto *contrib = nullptr;
  /// Batch, query length and total key length, symbolically.
  SymExpr batch, queryLength, keyLength;
};

/// Where an initializer's external data lies (its external_data entries).
struct ExternalRef {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};
ExternalRef externalRef(const onnx::TensorProto &t);
/// Reads `length` bytes at `offset` of an external-data file.
bool readFileRange(const std::string &path, uint64_t offset, uint64_t length,
                   std::string &out);

class GraphImporter {
public:
  GraphImporter(MLIRContext *context, const onnx::ModelProto &model,
                llvm::StringRef modelName, llvm::StringRef baseDir,
                const ImportOptions &options);

  /// Step 1: checks the model, declares its inputs and infers every value.
  /// On failure an error has been emitted.
  LogicalResult inferGraph();
  /// Step 3, after fusion (AttentionFusion.h) filled `fused`: emits the
  /// module; null, with an error emitted, on failure.
  OwningOpRef<ModuleOp> emitModule();

  //===--------------------------------------------------------------------===//
  // For the op handlers (Ops.cpp) and fusion (AttentionFusion.cpp).
  //===--------------------------------------------------------------------===//

  MLIRContext *getContext() { return context; }
  bool tracing() const { return options.trace; }
  OpBuilder &builder() { return b; }
  SizeSymbols &getSymbols() { return symbols; }
  const onnx::GraphProto &getGraph() { return model.graph(); }
  int64_t getOpset(llvm::StringRef domain) const;

  ValueState &state(llvm::StringRef name) { return values[name]; }
  bool hasValue(llvm::StringRef name) const { return values.count(name); }
  /// The node producing `name`, or -1 (graph input, initializer, missing).
  int producer(llvm::StringRef name) const;
  /// Indices of the nodes consuming `name`.
  llvm::ArrayRef<int> consumers(llvm::StringRef name) const;
  /// True when `name` is a graph output.
  bool isGraphOutput(llvm::StringRef name) const;

  /// Location of a node: its name (or op type and index) in the model file.
  Location nodeLoc(const onnx::NodeProto &node);
  Location modelLoc();
  /// Emits an error at `loc`; always returns failure().
  LogicalResult error(Location loc, const llvm::Twine &message);

  /// Materializes a symbolic size as an index value at the current point.
  Value indexValue(const SymExpr &size);
  SmallVector<OpFoldResult> mixedShape(llvm::ArrayRef<SymExpr> shape);
  RankedTensorType tensorType(const TensorInfo &info);
  /// The MLIR value of `name`: emitted already, or made from known contents.
  Value materialize(llvm::StringRef name, Location loc);
  /// Reshapes `v` (same number of elements) to `shape`: collapse to 1-D,
  /// expand to the target (these lower to LLVM without copies, unlike
  /// tensor.reshape with a shape tensor).
  Value reshape(Location loc, Value v, ArrayRef<SymExpr> shape);
  /// Casts `v` to the type that `info` describes (more or less static).
  Value conform(Value v, const TensorInfo &info, Location loc);

  /// Decoded contents of an initializer or Constant tensor (for known values
  /// and inline constants). Fails for unreadable data.
  FailureOr<Known> readTensor(const onnx::TensorProto &tensor, Location loc);
  /// The bytes of a float initializer (raw, external or typed data; in
  /// `storage` unless raw); false when they cannot be read.
  bool rawBytes(const onnx::TensorProto &tensor, std::string &storage,
                llvm::StringRef &bytes);
  FailureOr<TensorInfo> tensorProtoInfo(const onnx::TensorProto &tensor,
                                        Location loc);
  /// MLIR element type of an ONNX TensorProto data type, or null.
  Type elementType(int32_t onnxType);

  /// Fused attentions, by anchor node.
  std::map<int, FusedAttention> fused;
  /// Extra attributes of function arguments / results (the KV cache roles).
  llvm::StringMap<SmallVector<NamedAttribute>> inputAttrs, outputAttrs;
  /// Nodes whose inference failed, with the message to report if needed.
  std::map<int, std::string> failedNodes;
  llvm::DenseSet<int> failedInputsOnly;

  /// Values of all graph inputs and symbols for a concrete evaluation.
  struct Scenario {
    std::map<unsigned, int64_t> symbols;
    /// Contents of integer graph inputs (others are zeros).
    std::map<std::string, std::vector<int64_t>> inputs;
    /// Known contents that replace those of constants (initializers or
    /// Constant outputs): how the mask analysis asks what a constant does.
    std::map<std::string, Known> overrides;
  };
  /// Evaluates `target` for concrete sizes and inputs by re-running
  /// inference over its backward slice, up to `maxElements` per tensor.
  /// Returns nothing when a value on the way cannot be computed.
  struct Evaluated {
    Known known;
    SmallVector<int64_t> shape;
  };
  std::optional<Evaluated> evaluate(llvm::StringRef target,
                                    const Scenario &scenario,
                                    int64_t maxElements);
  /// Set by the op handlers when known contents index outside a tensor: in
  /// an evaluation, the scenario lies outside the sizes the exported graph
  /// can run at (onnxruntime fails there too).
  bool indexOutOfRange = false;
  /// Graph inputs that `target` depends on.
  SmallVector<std::string> inputsOf(llvm::StringRef target);
  /// The message for an op the importer does not support.
  std::string unsupportedMessage(const onnx::NodeProto &node);
  /// Nodes in the backward slice of `target`, in graph order.
  SmallVector<int> sliceOf(llvm::StringRef target);

private:
  MLIRContext *context;
  const onnx::ModelProto &model;
  std::string modelName, baseDir;
  ImportOptions options;
  OpBuilder b;
  SizeSymbols symbols;
  llvm::StringMap<ValueState> values;
  llvm::StringMap<int> producers;
  llvm::StringMap<SmallVector<int>> consumerLists;
  llvm::StringSet<> outputs;
  std::map<std::string, int64_t> opsets;
  /// Materialized symbol values at function entry, and where the next one
  /// goes.
  std::map<unsigned, Value> symbolValues;
  OpBuilder::InsertPoint symbolsEnd;
  Value symbolValue(unsigned sym);
  /// For each symbol introduced by a graph input: (input index, axis).
  std::map<unsigned, std::pair<unsigned, unsigned>> symbolOrigins;
  func::FuncOp func;
  OwningOpRef<ModuleOp> moduleOp;
  /// Importer bugs reported while emitting (materialize).
  int internalErrors = 0;

  /// True when `name` is a weight's source: an initializer, or the output of
  /// a Constant node.
  bool isWeightSource(llvm::StringRef name) const;
  LogicalResult checkModel();
  LogicalResult declareInputs();
  LogicalResult inferAll();
  LogicalResult emitAll();
  /// Marks the weights among `weightNames` that only MatMul reads and that
  /// hold the transpose of another weight (ValueState::transposeOf), and
  /// drops them from the list.
  void findTransposedCopies(SmallVector<std::string> &weightNames);
  LogicalResult checkExternalData(const onnx::TensorProto &tensor,
                                  Location loc);
};

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_GRAPHIMPORTER_H
