//===- ImportFuzzer.cpp - fuzz target of the ONNX importer ----------------===//
//
// LLVMFuzzerTestOneInput: imports the bytes as an ONNX model and throws the
// result away. Any input must give a module or an error diagnostic, never a
// crash. Built as a libFuzzer binary with clang (swaa-import-fuzzer) and, for
// machines without clang, linked with MutationDriver.cpp into
// swaa-import-fuzz, which mutates seed models itself.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    mlir::swaa::registerImportDialects(registry);
    auto *ctx = new mlir::MLIRContext(registry);
    // Errors are expected; keep the output quiet.
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    return ctx;
  }();
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // External data is looked up in a folder that does not exist.
  (void)mlir::swaa::importOnnxBuffer(context, bytes, "fuzz.onnx",
                                     "/nonexistent-swaa-fuzz-dir");
  return 0;
}
