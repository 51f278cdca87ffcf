//===- Importer.h - ONNX models into attn + upstream MLIR -------*- C++ -*-===//
//
// The compiler's front door: reads an ONNX model as real exporters write it
// (torch.onnx's TorchScript and dynamo exporters, onnx/onnxscript with the
// opset-23 Attention op, onnxruntime's contrib attention ops) and builds one
// function in which every attention is a single `attn.attention` and
// everything else is upstream MLIR (linalg, tensor, arith, math).
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_IMPORTER_H
#define SWAA_COMPILER_IMPORT_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::swaa {

struct ImportOptions {
  /// Name of the function that computes the graph.
  std::string entryName = "forward";
  /// Initializers with at most this many elements become constants in the IR;
  /// larger ones (the weights) become function arguments.
  int64_t maxInlineElements = 16;
  /// Print to stderr why nodes fail inference, why masks are not proven and
  /// which patterns did not match (for debugging the importer on a model).
  bool trace = false;
};

/// Reads the ONNX file at `path` (with its external data, if any) and returns
/// the imported module. On failure, emits one error diagnostic through the
/// context's handler (located at the file and, where it applies, the node)
/// and returns nullptr.
OwningOpRef<ModuleOp> importOnnxFile(MLIRContext *context, llvm::StringRef path,
                                     const ImportOptions &options = {});

/// Same, from the bytes of a serialized ModelProto. External data is looked
/// up relative to `baseDir`. Used by the fuzz target.
OwningOpRef<ModuleOp> importOnnxBuffer(MLIRContext *context,
                                       llvm::StringRef bytes,
                                       llvm::StringRef name,
                                       llvm::StringRef baseDir,
                                       const ImportOptions &options = {});

/// One weight of a model: its initializer's name, safetensors dtype ("F32",
/// "F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL"), shape and raw
/// little-endian bytes.
struct WeightData {
  std::string name, dtype;
  llvm::SmallVector<int64_t> shape;
  std::string bytes;
};

/// Reads the initializers `names` of the ONNX file at `path` (with external
/// data), parsing the file once: first `described` gets every weight's name,
/// dtype and shape (no bytes), then `sink` gets each weight with its bytes,
/// in order. Stops at the first failure with `error` set (a missing name,
/// unreadable data, an unsupported type) or when a callback returns false.
bool readWeights(llvm::StringRef path, llvm::ArrayRef<std::string> names,
                 llvm::function_ref<bool(llvm::ArrayRef<WeightData>)> described,
                 llvm::function_ref<bool(const WeightData &)> sink,
                 std::string &error);

/// The dialects the importer creates ops of.
void registerImportDialects(DialectRegistry &registry);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_IMPORT_IMPORTER_H
