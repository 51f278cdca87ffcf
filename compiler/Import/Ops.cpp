//===- Ops.cpp - per-op inference and emission of the importer -----------===//
//
// One handler per supported ONNX op (see Ops.h). Inference folds shape
// subgraphs through `Known` contents; emission builds linalg/tensor/arith/math
// ops on tensors with symbolic sizes. The table at the end is the list of
// supported ops that error messages point to (`swaa-compile --list-ops`).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Ops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <array>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::swaa::import;

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

NodeContext::NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
                         int index, int64_t maxKnown)
    : imp(importer), node(node), index(index), loc(importer.nodeLoc(node)),
      opset(importer.getOpset(node.domain())), maxKnown(maxKnown) {}

const onnx::AttributeProto *NodeContext::attr(llvm::StringRef name) const {
  for (const onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeContext::getInt(llvm::StringRef name, int64_t dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeContext::getFloat(llvm::StringRef name, float dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeContext::getString(llvm::StringRef name,
                                   llvm::StringRef dflt) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->s() : dflt.str();
}

std::optional<SmallVector<int64_t>>
NodeContext::getInts(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

LogicalResult NodeContext::error(const llvm::Twine &message) {
  return imp.error(loc, node.op_type() + " node: " + message);
}

LogicalResult NodeContext::outOfRange(const llvm::Twine &message) {
  imp.indexOutOfRange = true;
  return error(message);
}

void NodeContext::setOutput(unsigned i, TensorInfo info,
                            std::optional<Known> known) {
  if (i >= numOutputs() || node.output(i).empty())
    return;
  ValueState &s = out(i);
  s.info = std::move(info);
  s.inferred = true;
  s.known = std::move(known);
}

void NodeContext::setResult(unsigned i, Value v) {
  if (i >= numOutputs() || node.output(i).empty())
    return;
  ValueState &s = out(i);
  s.value = imp.conform(v, s.info, loc);
}
//===----------------------------------------------------------------------===//
// The table: every family's ops
//===----------------------------------------------------------------------===//

namespace {
//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

/// Inputs an op needs at least (handlers read them unchecked); default 1.
unsigned requiredInputs(llvm::StringRef op) {
  return llvm::StringSwitch<unsigned>(op)
      .Cases({"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Equal", "Less"}, 2)
      .Cases({"LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"},
             2)
      .Cases(
          {"Reshape", "Expand", "Gather", "GatherND", "MatMul", "Gemm", "Tile"},
          2)
      .Cases({"LayerNormalization", "SimplifiedLayerNormalization"}, 2)
      .Cases({"RMSNormalization"}, 2)
      .Cases({"Where", "Range", "Slice", "RotaryEmbedding"}, 3)
      .Case("MultiHeadAttention", 3)
      .Cases({"SkipSimplifiedLayerNormalization", "SkipLayerNormalization"}, 3)
      .Case("Attention", 3)
      .Case("Constant", 0)
      .Default(1);
}

/// The op families, in the order --list-ops prints them.
std::array<llvm::ArrayRef<OpEntry>, 6> opFamilies() {
  return {elementwiseOps(), constantOps(), shapeOps(),
          reductionOps(),   rotaryOps(),   matmulOps()};
}
} // namespace

const OpHandler *mlir::swaa::import::lookupOp(llvm::StringRef domain,
                                              llvm::StringRef opType) {
  if (domain == "ai.onnx")
    domain = "";
  for (llvm::ArrayRef<OpEntry> family : opFamilies())
    for (const OpEntry &e : family)
      if (domain == e.domain && opType == e.opType)
        return &e.handler;
  return nullptr;
}

unsigned mlir::swaa::import::minInputs(llvm::StringRef opType) {
  return requiredInputs(opType);
}

std::string mlir::swaa::import::supportedOpsText() {
  std::string text;
  for (llvm::ArrayRef<OpEntry> family : opFamilies())
    for (const OpEntry &e : family)
      text +=
          std::string(*e.domain ? e.domain : "ai.onnx") + " " + e.opType + "\n";
  text +=
      "ai.onnx Attention (opset 23-25, 4-D inputs; becomes attn.attention)\n"
      "com.microsoft GroupQueryAttention (becomes attn.attention)\n"
      "com.microsoft MultiHeadAttention (3-D query, 3-D or 4-D key/value; "
      "becomes attn.attention)\n";
  return text;
}
