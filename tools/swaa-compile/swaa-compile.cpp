//===- swaa-compile.cpp - compile ONNX models with SWAA recipes -----------===//
//
// The compiler driver. Today it imports an ONNX model and prints the MLIR
// module (--emit=mlir); recipes, lowering and artifacts come with the SWAA
// passes and the CPU back end. Errors are one line, name the file and the
// node at fault, and exit with code 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"
#include "compiler/Import/Ops.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
namespace cl = llvm::cl;

cl::OptionCategory category("swaa-compile options");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                               cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
enum class Emit { Mlir };
cl::opt<Emit>
    emit("emit", cl::desc("What to produce"),
         cl::values(clEnumValN(Emit::Mlir, "mlir",
                               "the imported module (attn + upstream "
                               "MLIR), weights as function arguments")),
         cl::init(Emit::Mlir), cl::cat(category));
cl::opt<bool> importTrace(
    "import-trace",
    cl::desc("Explain on stderr which nodes failed inference and why masks "
             "were not proven (debugging the importer on a model)"),
    cl::cat(category));
cl::opt<bool> listOps("list-ops",
                      cl::desc("Print the ONNX ops the importer supports"),
                      cl::cat(category));

/// "file: node 'name': error: message" from the importer's locations.
std::string describe(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    std::string inner = describe(name.getChildLoc());
    return inner + (inner.empty() ? "" : ": ") + "node '" +
           name.getName().str() + "'";
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getFilename().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return describe(fused.getLocations().front());
  return "";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "swaa-compile: compile an ONNX decoder model with a SWAA recipe\n\n"
      "  swaa-compile model.onnx --emit=mlir [-o model.mlir]\n\n"
      "Every attention of the model becomes one attn.attention op; the rest\n"
      "is upstream MLIR. Weights stay out of the IR: they are function\n"
      "arguments tagged with their initializer names.\n");
  if (listOps) {
    llvm::outs() << mlir::swaa::import::supportedOpsText();
    return 0;
  }
  if (inputPath.empty()) {
    llvm::errs() << "swaa-compile: error: no input model (see --help)\n";
    return 1;
  }

  DialectRegistry registry;
  swaa::registerImportDialects(registry);
  MLIRContext context(registry);
  bool failedAny = false;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    const char *kind = d.getSeverity() == DiagnosticSeverity::Error ? "error"
                       : d.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
    failedAny |= d.getSeverity() == DiagnosticSeverity::Error;
    std::string where = describe(d.getLocation());
    llvm::errs() << "swaa-compile: " << (where.empty() ? "" : where + ": ")
                 << kind << ": " << d.str() << "\n";
    return success();
  });

  swaa::ImportOptions options;
  options.trace = importTrace;
  OwningOpRef<ModuleOp> module =
      swaa::importOnnxFile(&context, inputPath, options);
  if (!module || failedAny)
    return 1;

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out =
      openOutputFile(outputPath, &error);
  if (!out) {
    llvm::errs() << "swaa-compile: error: " << error << "\n";
    return 1;
  }
  module->print(out->os());
  out->os() << "\n";
  out->keep();
  return 0;
}
