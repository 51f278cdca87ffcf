//===- RuntimeFuzzer.cpp - fuzz target of the runtime's parsers -----------===//
//
// LLVMFuzzerTestOneInput over what swaa_model_load reads before it runs any
// code: the first byte picks the parser, the rest is its input.
//   'm'  manifest.json
//   's'  a safetensors file (header and data)
//   'g'  model.so's signature (`swaa_signature`)
//   'c'  a manifest and a signature separated by a NUL byte: both parsed,
//        then every entry compared (what the runtime does at load)
// Any other first byte is taken modulo 4. Any input must parse or give an
// error, never a crash (under ASan and UBSan in the libFuzzer build).
// Seeds: `runtime-fuzz-seeds.py ARTIFACT OUT` writes one of each kind.
//
//===----------------------------------------------------------------------===//

#include "Artifact.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace swaa::artifact;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  char kind = (char)data[0];
  if (kind != 'm' && kind != 's' && kind != 'g' && kind != 'c')
    kind = "msgc"[data[0] % 4];
  std::string text(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string err;
  switch (kind) {
  case 'm': {
    Manifest m;
    parseManifest(text, 2, m, err);
    break;
  }
  case 's': {
    std::map<std::string, Tensor> tensors;
    if (parseSafetensors(data + 1, size - 1, tensors, err))
      for (auto &[name, t] : tensors) // every tensor lies in the input
        if (t.offset + t.bytes > size - 1)
          __builtin_trap();
    break;
  }
  case 'g': {
    std::map<std::string, EntrySpec> entries;
    parseSignature(text, 2, entries, err);
    break;
  }
  default: {
    size_t nul = text.find('\0');
    if (nul == std::string::npos)
      break;
    Manifest m;
    std::map<std::string, EntrySpec> code;
    if (!parseManifest(text.substr(0, nul), 2, m, err) ||
        !parseSignature(text.substr(nul + 1), 2, code, err))
      break;
    for (auto &[name, e] : m.entries)
      if (code.count(name))
        (void)compareEntry(name, e, code.at(name));
    break;
  }
  }
  return 0;
}
