//===- Json.h - a small JSON reader for the runtime -------------*- C++ -*-===//
//
// The runtime reads manifest.json and the safetensors header without any
// LLVM dependency: this is just enough JSON (objects, arrays, strings,
// numbers, booleans, null) with bounds and depth checks and error messages
// that give the byte offset.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_RUNTIME_SRC_JSON_H
#define SWAA_RUNTIME_SRC_JSON_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace swaa::json {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  /// The member `key` of an object, or null.
  const Value *get(const std::string &key) const;
  bool isInteger() const;
  int64_t integer() const { return (int64_t)number; }
};

/// Parses `text`; on failure returns false with `error` set.
bool parse(const std::string &text, Value &out, std::string &error);

} // namespace swaa::json

#endif // SWAA_RUNTIME_SRC_JSON_H
