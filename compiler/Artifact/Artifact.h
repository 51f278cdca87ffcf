//===- Artifact.h - the compiled model on disk -----------------*- C++ -*-===//
//
// `swaa-compile -o model.swaa` writes a directory that the runtime loads:
//
//   manifest.json        format version, target, the entry points with every
//                        argument (model input, weight, KV cache with its
//                        policy, position) and result, per-layer attention
//                        config, the recipe
//   model.so             the code: the CPU target's, or the CUDA target's
//                        host code with its kernels embedded (a fat binary)
//   weights.safetensors  the weights, in argument order
//
// The manifest is the contract between compiler and runtime: the runtime
// builds each call's argument list from it alone.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_ARTIFACT_ARTIFACT_H
#define SWAA_COMPILER_ARTIFACT_ARTIFACT_H

#include "passes/Recipe.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir::swaa {

/// The artifact format this compiler writes (and the runtime checks).
/// Version 2: model.so exports its signature (`swaa_signature`).
constexpr int kArtifactFormatVersion = 2;

/// One argument or result of an entry point, as the runtime sees it.
struct EntryValue {
  /// "input" (a model input: input_ids, attention_mask, position_ids),
  /// "weight", "cache", "position" or "output".
  std::string kind;
  std::string name;
  /// safetensors-style dtype: F32, F16, BF16, I64, I32, BOOL; "index" for a
  /// position.
  std::string dtype;
  /// -1 for a dynamic size.
  llvm::SmallVector<int64_t> shape;
  /// Weights stored in another order than the model's (swaa-pack-weights):
  /// "panels24" ([ceil(N/24), K, 24] from the model's [K, N], zero-padded),
  /// with the model's shape in sourceShape. Empty: as in the model.
  std::string layout;
  llvm::SmallVector<int64_t> sourceShape;
  /// Caches: layer, "key"/"value", policy "full"/"ring", window and sinks.
  int64_t layer = -1;
  std::string cacheKind, policy;
  int64_t window = 0, sinks = 0;
};

struct EntryPoint {
  std::string name, symbol;
  std::vector<EntryValue> args, results;
};

/// The entry points of a split module (@prefill, @decode) before lowering:
/// their arguments in order and the results that remain once the caches are
/// updated in place (the model's outputs).
FailureOr<std::vector<EntryPoint>> describeEntryPoints(ModuleOp split);

struct ArtifactSpec {
  std::string dir;
  std::string modelPath;
  std::string target = "cpu";
  Recipe recipe;
  std::vector<EntryPoint> entries;
  /// Per attention layer: prefill and decode window/sinks.
  struct Layer {
    int64_t layer;
    std::optional<int64_t> prefillWindow, decodeWindow;
    int64_t prefillSinks = 0, decodeSinks = 0;
  };
  std::vector<Layer> layers;
  /// Writes the code file (e.g. model.so) at the given path, exporting
  /// `signature` (signatureOf(entries)) as `swaa_signature`.
  std::function<bool(llvm::StringRef path, llvm::StringRef signature,
                     std::string &error)>
      writeCode;
  std::string codeFile = "model.so";
  /// Target-specific manifest entries (the CUDA target: "cuda", with the
  /// architectures and the launch plan).
  llvm::json::Object targetInfo;
  /// When set, writing the weights is timed as its child (--timing).
  TimingScope *timing = nullptr;
};

/// The per-layer attention configuration of a split module.
std::vector<ArtifactSpec::Layer> describeLayers(ModuleOp split);

/// The entries as the code is compiled for them: {"format_version": V,
/// "entries": {...}} with the manifest's own "entries" object. model.so
/// exports it (`swaa_signature`), and the runtime compares it with the
/// manifest before the first call.
std::string signatureOf(const std::vector<EntryPoint> &entries);

/// Writes the artifact directory (into a temporary sibling first, so a
/// failure leaves nothing half written). False with `error` set.
bool writeArtifact(const ArtifactSpec &spec, std::string &error);

} // namespace mlir::swaa

#endif // SWAA_COMPILER_ARTIFACT_ARTIFACT_H
