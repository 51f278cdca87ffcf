//===- Evaluate.cpp - concrete evaluation of graph slices ---------------===//
//
// See GraphImporter::evaluate: the backward slice of a value re-inferred
// with every symbol fixed and the integer graph inputs given, so that known
// contents flow through it (how the mask analysis sees a mask's keys).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/GraphImporter.h"
#include "compiler/Import/Ops.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::swaa;
using namespace mlir::swaa::import;

SmallVector<int> GraphImporter::sliceOf(llvm::StringRef target) {
  llvm::DenseSet<int> nodes;
  llvm::StringSet<> seen;
  SmallVector<std::string> work = {target.str()};
  while (!work.empty()) {
    std::string name = work.pop_back_val();
    if (!seen.insert(name).second)
      continue;
    int p = producer(name);
    if (p < 0 || !nodes.insert(p).second)
      continue;
    for (const std::string &in : model.graph().node(p).input())
      if (!in.empty())
        work.push_back(in);
  }
  SmallVector<int> sorted(nodes.begin(), nodes.end());
  llvm::sort(sorted);
  return sorted;
}

SmallVector<std::string> GraphImporter::inputsOf(llvm::StringRef target) {
  SmallVector<std::string> result;
  llvm::StringSet<> slice;
  for (int i : sliceOf(target))
    for (const std::string &in : model.graph().node(i).input())
      slice.insert(in);
  slice.insert(target);
  for (const onnx::ValueInfoProto &in : model.graph().input())
    if (slice.contains(in.name()) && values[in.name()].inputIndex)
      result.push_back(in.name());
  return result;
}

std::optional<GraphImporter::Evaluated>
GraphImporter::evaluate(llvm::StringRef target, const Scenario &scenario,
                        int64_t maxElements) {
  SmallVector<int> slice = sliceOf(target);
  indexOutOfRange = false;
  llvm::StringMap<ValueState> savedValues = values;
  SizeSymbols savedSymbols = symbols;
  auto restore = [&]() {
    values = std::move(savedValues);
    symbols = std::move(savedSymbols);
  };
  for (const auto &[sym, v] : scenario.symbols)
    if (!symbols.unify(SymExpr::symbol(sym), SymExpr(v))) {
      restore();
      return std::nullopt;
    }
  for (const onnx::ValueInfoProto &in : model.graph().input()) {
    ValueState &s = values[in.name()];
    if (!s.inputIndex)
      continue;
    SmallVector<SymExpr> shape;
    int64_t n = 1;
    for (const SymExpr &d : s.info.shape) {
      std::optional<int64_t> c = symbols.resolve(d).getConstant();
      if (!c) {
        n = -1;
        break;
      }
      shape.push_back(SymExpr(*c));
      n *= *c;
    }
    s.info.shape = shape;
    s.known.reset();
    if (n < 0 || n > maxElements)
      continue;
    Known k;
    k.isFloat = s.info.isFloat();
    auto it = scenario.inputs.find(in.name());
    for (int64_t e = 0; e < n; ++e) {
      if (k.isFloat)
        k.floats.push_back(0.0);
      else
        k.ints.push_back(SymExpr(it != scenario.inputs.end() &&
                                         e < (int64_t)it->second.size()
                                     ? it->second[e]
                                     : 0));
    }
    s.known = std::move(k);
  }
  for (const auto &[name, known] : scenario.overrides)
    values[name].known = known;
  bool ok = true;
  for (int i : slice) {
    const onnx::NodeProto &node = model.graph().node(i);
    if (!scenario.overrides.empty() &&
        llvm::all_of(node.output(), [&](const std::string &out) {
          return scenario.overrides.count(out);
        }))
      continue;
    const OpHandler *handler = lookupOp(node.domain(), node.op_type());
    if (!handler) {
      if (options.trace)
        llvm::errs() << "import-trace: evaluate: no handler for "
                     << node.op_type() << "\n";
      ok = false;
      break;
    }
    std::string message;
    ScopedDiagnosticHandler quiet(context, [&](Diagnostic &d) {
      message = d.str();
      return success();
    });
    NodeContext c(*this, node, i, maxElements);
    if (failed(handler->infer(c))) {
      if (options.trace)
        llvm::errs() << "import-trace: evaluate: node " << i << " "
                     << node.op_type() << " " << node.name() << ": " << message
                     << "\n";
      ok = false;
      break;
    }
  }
  if (ok && !values[target].known && options.trace)
    for (int i : slice) {
      const onnx::NodeProto &node = model.graph().node(i);
      bool insKnown = llvm::all_of(node.input(), [&](const std::string &in) {
        return in.empty() || values[in].known;
      });
      if (insKnown && node.output_size() && !values[node.output(0)].known) {
        llvm::errs() << "import-trace: evaluate: " << node.op_type() << " "
                     << node.name() << " does not fold\n";
        break;
      }
    }
  std::optional<Evaluated> result;
  ValueState &t = values[target];
  if (ok && t.known) {
    Evaluated e;
    e.known = *t.known;
    for (const SymExpr &d : t.info.shape)
      e.shape.push_back(symbols.resolve(d).getConstant().value_or(-1));
    result = std::move(e);
  }
  restore();
  return result;
}
