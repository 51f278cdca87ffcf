//===- Artifact.h - reading an artifact's files ----------------*- C++ -*-===//
//
// The parsers of the three things an artifact holds that the runtime reads
// before running anything: manifest.json, the safetensors header and the
// signature that model.so exports (`swaa_signature`: each entry's arguments
// and results as the code was compiled for them). They take bytes, never
// paths, so the fuzzer (runtime/fuzz) drives them directly; every size is
// checked for overflow, and an error names the value at fault.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_RUNTIME_SRC_ARTIFACT_H
#define SWAA_RUNTIME_SRC_ARTIFACT_H

#include "Json.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace swaa::artifact {

/// Bytes per element of a safetensors dtype; 0 for an unknown one.
int64_t dtypeWidth(const std::string &dtype);

/// a * b, false on overflow of uint64.
bool checkedMul(uint64_t a, uint64_t b, uint64_t &out);

/// Elements * width of a shape, false on overflow (a -1 size counts as 0).
bool byteSize(const std::vector<int64_t> &shape, int64_t width, uint64_t &out);

/// One argument or result of an entry point (manifest "args"/"results").
struct ValueSpec {
  std::string kind, name, dtype;
  std::vector<int64_t> shape; // -1: dynamic
  int64_t layer = -1;
  std::string cache, policy;
  int64_t window = 0, sinks = 0;

  bool operator==(const ValueSpec &o) const;
  /// One line: "weight 'w' F32 [4, 4]".
  std::string describe() const;
};

struct EntrySpec {
  std::string symbol;
  std::vector<ValueSpec> args, results;
};

/// The entries of a manifest or of a signature, by name ("prefill",
/// "decode"): `entries` is the JSON object `{"prefill": {...}, ...}`.
/// `where` prefixes errors ("manifest.json").
bool parseEntries(const json::Value &entries, const std::string &where,
                  std::map<std::string, EntrySpec> &out, std::string &err);

struct Manifest {
  std::string target, recipe;
  size_t layers = 0;
  std::map<std::string, EntrySpec> entries;
};

/// manifest.json's text: format, version (must be `version`), target and
/// every entry. Errors start with "manifest.json: ".
bool parseManifest(const std::string &text, int version, Manifest &out,
                   std::string &err);

/// The code's signature (`swaa_signature`): {"format_version": V,
/// "entries": {...}} in the manifest's form. Errors start with
/// "model.so's signature: ".
bool parseSignature(const std::string &text, int version,
                    std::map<std::string, EntrySpec> &out, std::string &err);

/// Empty when the manifest's entry `name` is the one the code was compiled
/// for; otherwise one line naming the first difference.
std::string compareEntry(const std::string &name, const EntrySpec &manifest,
                         const EntrySpec &code);

/// A tensor of a safetensors file: its bytes start at `offset` from the
/// start of the file.
struct Tensor {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t offset = 0, bytes = 0;
};

/// The header of a safetensors file of `size` bytes starting at `bytes`
/// (8-byte little-endian header length, JSON header, data). Every tensor's
/// data lies inside the file, is exactly shape x dtype bytes and is aligned
/// to its element width. Errors are without the file's name.
bool parseSafetensors(const unsigned char *bytes, size_t size,
                      std::map<std::string, Tensor> &out, std::string &err);

} // namespace swaa::artifact

#endif // SWAA_RUNTIME_SRC_ARTIFACT_H
