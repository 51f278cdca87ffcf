//===- LayerSpec.cpp - layer selections of the SWAA recipes ---------------===//
//
// Parses layer specs item by item; every error points at the item.
//
//===----------------------------------------------------------------------===//

#include "passes/LayerSpec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <set>
#include <string>

using namespace llvm;

namespace {
/// Parses a non-negative decimal integer (the whole string).
std::optional<int64_t> parseCount(StringRef text) {
  text = text.trim();
  if (text.empty() || !all_of(text, isDigit))
    return std::nullopt;
  int64_t value;
  if (text.getAsInteger(10, value))
    return std::nullopt;
  return value;
}

/// Expands one item into `out`. With `numLayers < 0` only the syntax is
/// checked. Returns an error message, empty on success.
std::string expandItem(StringRef item, int64_t numLayers,
                       std::set<int64_t> &out) {
  bool known = numLayers >= 0;
  auto add = [&](int64_t layer) -> std::string {
    if (known && layer >= numLayers)
      return "layer " + std::to_string(layer) +
             " is out of range (the model has " + std::to_string(numLayers) +
             " attention layers, 0-" + std::to_string(numLayers - 1) + ")";
    out.insert(layer);
    return "";
  };
  auto pattern = [&](int64_t step, int64_t offset) {
    for (int64_t l = offset; known && l < numLayers; l += step)
      out.insert(l);
  };
  if (item == "none")
    return "";
  if (item == "all") {
    pattern(1, 0);
    return "";
  }
  if (item == "odd" || item == "even") {
    pattern(2, item == "odd" ? 1 : 0);
    return "";
  }
  SmallVector<StringRef> parts;
  item.split(parts, ':');
  if (parts[0] == "every") {
    // every:K or every:K:offset:O
    if (parts.size() != 2 && !(parts.size() == 4 && parts[2] == "offset"))
      return "expected 'every:K' or 'every:K:offset:O'";
    std::optional<int64_t> step = parseCount(parts[1]);
    if (!step || *step < 1)
      return "expected a step of at least 1 after 'every:', got '" +
             parts[1].str() + "'";
    int64_t offset = 0;
    if (parts.size() == 4) {
      std::optional<int64_t> o = parseCount(parts[3]);
      if (!o)
        return "expected a non-negative offset, got '" + parts[3].str() + "'";
      offset = *o;
      if (offset >= *step)
        return "expected the offset (" + std::to_string(offset) +
               ") to be below the step (" + std::to_string(*step) + ")";
    }
    pattern(*step, offset);
    return "";
  }
  if (parts[0] == "first" || parts[0] == "last") {
    if (parts.size() != 2)
      return "expected '" + parts[0].str() + ":N'";
    std::optional<int64_t> n = parseCount(parts[1]);
    if (!n)
      return "expected a count after '" + parts[0].str() + ":', got '" +
             parts[1].str() + "'";
    if (known && *n > numLayers)
      return "'" + item.str() + "' selects more layers than the model has (" +
             std::to_string(numLayers) + ")";
    for (int64_t i = 0; known && i < *n; ++i)
      out.insert(parts[0] == "first" ? i : numLayers - 1 - i);
    return "";
  }
  if (parts.size() != 1)
    return "unknown pattern '" + parts[0].str() +
           "' (expected every, first, last, odd, even, none or all)";
  // A layer or a range A-B.
  auto [lo, hi] = item.split('-');
  std::optional<int64_t> a = parseCount(lo);
  if (!a)
    return "expected a layer index, a range A-B or a pattern, got '" +
           item.str() + "'";
  if (item.contains('-')) {
    std::optional<int64_t> b = parseCount(hi);
    if (!b)
      return "expected a layer index after '-', got '" + hi.str() + "'";
    if (*b < *a)
      return "expected a range A-B with A <= B, got '" + item.str() + "'";
    for (int64_t l = *a; l <= *b; ++l)
      if (std::string e = add(l); !e.empty())
        return e;
    return "";
  }
  return add(*a);
}

Expected<SmallVector<int64_t>> parse(StringRef spec, int64_t numLayers) {
  std::set<int64_t> layers;
  StringRef trimmed = spec.trim();
  if (trimmed.empty())
    return createStringError(inconvertibleErrorCode(),
                             "empty layer spec (use 'none' to select no "
                             "layer)");
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == StringRef::npos)
      comma = spec.size();
    StringRef raw = spec.slice(pos, comma);
    StringRef item = raw.trim();
    size_t column = pos + (raw.size() - raw.ltrim().size()) + 1;
    std::string why = item.empty() ? "expected a layer, a range or a pattern "
                                     "between commas"
                                   : expandItem(item, numLayers, layers);
    if (!why.empty())
      return createStringError(inconvertibleErrorCode(),
                               "layer spec '%s', at position %zu ('%s'): %s",
                               spec.str().c_str(), column, item.str().c_str(),
                               why.c_str());
    pos = comma + 1;
  }
  return SmallVector<int64_t>(layers.begin(), layers.end());
}
} // namespace

Expected<SmallVector<int64_t>> mlir::swaa::parseLayerSpec(StringRef spec,
                                                          int64_t numLayers) {
  return parse(spec, numLayers);
}

Error mlir::swaa::checkLayerSpecSyntax(StringRef spec) {
  return parse(spec, -1).takeError();
}

std::string mlir::swaa::formatLayers(ArrayRef<int64_t> layers) {
  if (layers.empty())
    return "none";
  std::string out;
  for (int64_t l : layers)
    out += (out.empty() ? "" : ",") + std::to_string(l);
  return out;
}
