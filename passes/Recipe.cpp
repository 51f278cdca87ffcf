//===- Recipe.cpp - SWAA recipes: files, presets, validation --------------===//
//
// The presets follow the configurations evaluated in "Sliding Window
// Attention Adaptation" (github.com/yuyijiong/sliding-window-attention-
// adaptation): a 2k window, keep_first 10 (or 100 in its README's
// quality-first example), half the layers full (the odd ones, as its README's
// non_sliding_layers 1,3,5,...) or a quarter (1,5,9,...), and FA decode.
//
//===----------------------------------------------------------------------===//

#include "passes/Recipe.h"

#include "passes/LayerSpec.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;
using namespace mlir::swaa;

namespace {
Error err(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message.str());
}

constexpr Preset kPresets[] = {
    {"full", "full attention everywhere (no change)", std::nullopt, 0, "none",
     "false"},
    {"swa",
     "sliding window 2048 on every layer, no sinks (the paper's 'SWA "
     "only': fast, collapses on long contexts without adaptation)",
     2048, 0, "none", "false"},
    {"fa-decode", "window 2048 + 10 sinks in prefill, full attention in decode",
     2048, 10, "none", "true"},
    {"interleave-1/2",
     "window 2048 + 10 sinks, the odd layers (half) kept full", 2048, 10, "odd",
     "false"},
    {"interleave-1/2+fa-decode",
     "window 2048 + 100 sinks, odd layers full, FA decode: the paper's "
     "quality-first training-free recipe (its README example)",
     2048, 100, "odd", "true"},
    {"interleave-1/4+fa-decode",
     "window 2048 + 10 sinks, a quarter of the layers (1,5,9,...) full, FA "
     "decode",
     2048, 10, "every:4:offset:1", "true"},
};

/// A layer selection given as a spec string or a list of layer indices.
Expected<std::string> layersFrom(const json::Value &v, StringRef key,
                                 StringRef where, bool allowBool) {
  if (allowBool)
    if (std::optional<bool> b = v.getAsBoolean())
      return std::string(*b ? "true" : "false");
  if (std::optional<StringRef> s = v.getAsString()) {
    if (Error e = checkLayerSpecSyntax(*s))
      return err(where + ": '" + key + "': " + toString(std::move(e)));
    return s->str();
  }
  if (const json::Array *a = v.getAsArray()) {
    SmallVector<int64_t> layers;
    for (const json::Value &item : *a) {
      std::optional<int64_t> l = item.getAsInteger();
      if (!l || *l < 0)
        return err(where + ": '" + key +
                   "' lists something other than a non-negative layer index");
      layers.push_back(*l);
    }
    llvm::sort(layers);
    return formatLayers(layers);
  }
  return err(where + ": '" + key + "' must be " +
             (allowBool ? "true, false, " : "") +
             "a layer spec string or a list of layer indices");
}

Expected<int64_t> integerFrom(const json::Value &v, StringRef key,
                              StringRef where) {
  if (std::optional<int64_t> i = v.getAsInteger())
    return *i;
  return err(where + ": '" + key + "' must be an integer");
}

Expected<Recipe> parseObject(const json::Object &o, StringRef where) {
  static const char *const kOurs[] = {"window",    "sinks",
                                      "fa_layers", "fa_decode",
                                      "preset",    "override_native_windows"};
  static const char *const kReference[] = {"sliding_window_size", "keep_first",
                                           "force_fa_decode",
                                           "non_sliding_layers"};
  for (const auto &[key, value] : o) {
    if (llvm::is_contained(kOurs, key.str()) ||
        llvm::is_contained(kReference, key.str()))
      continue;
    return err(where + ": unknown recipe key '" + key.str() +
               "' (known: window, sinks, fa_layers, fa_decode, "
               "override_native_windows, preset; or the "
               "SWAA reference code's sliding_window_size, keep_first, "
               "force_fa_decode, non_sliding_layers)");
  }
  auto both = [&](const char *a, const char *b) -> Error {
    if (o.get(a) && o.get(b))
      return err(where + ": both '" + a + "' and '" + b +
                 "' are given; they mean the same thing");
    return Error::success();
  };
  for (auto [a, b] : {std::pair("window", "sliding_window_size"),
                      std::pair("sinks", "keep_first"),
                      std::pair("fa_layers", "non_sliding_layers"),
                      std::pair("fa_decode", "force_fa_decode")})
    if (Error e = both(a, b))
      return std::move(e);

  Recipe r;
  r.source = where.str();
  if (const json::Value *p = o.get("preset")) {
    std::optional<StringRef> name = p->getAsString();
    if (!name)
      return err(where + ": 'preset' must be a preset name");
    Expected<Recipe> preset = presetRecipe(*name);
    if (!preset)
      return err(where + ": " + toString(preset.takeError()));
    r = *preset;
    r.source = where.str() + " (preset " + name->str() + ")";
  }
  for (const char *key : {"window", "sliding_window_size"})
    if (const json::Value *v = o.get(key)) {
      if (v->getAsNull()) {
        r.window.reset();
        continue;
      }
      Expected<int64_t> w = integerFrom(*v, key, where);
      if (!w)
        return w.takeError();
      r.window = *w;
    }
  for (const char *key : {"sinks", "keep_first"})
    if (const json::Value *v = o.get(key)) {
      Expected<int64_t> s = integerFrom(*v, key, where);
      if (!s)
        return s.takeError();
      r.sinks = *s;
    }
  for (const char *key : {"fa_layers", "non_sliding_layers"})
    if (const json::Value *v = o.get(key)) {
      Expected<std::string> l = layersFrom(*v, key, where, /*allowBool=*/false);
      if (!l)
        return l.takeError();
      r.faLayers = *l;
    }
  for (const char *key : {"fa_decode", "force_fa_decode"})
    if (const json::Value *v = o.get(key)) {
      Expected<std::string> l = layersFrom(*v, key, where, /*allowBool=*/true);
      if (!l)
        return l.takeError();
      r.faDecode = *l;
    }
  if (const json::Value *v = o.get("override_native_windows")) {
    std::optional<bool> b = v->getAsBoolean();
    if (!b)
      return err(where + ": 'override_native_windows' must be true or false");
    r.overrideNative = *b;
  }
  return r;
}
} // namespace

std::string Recipe::str() const {
  std::string native = overrideNative ? ", override-native-windows" : "";
  if (!window)
    return "full attention" +
           (faLayers != "none" ? ", fa-layers " + faLayers : "") + native;
  std::string s = "window " + std::to_string(*window) + ", sinks " +
                  std::to_string(sinks) + ", fa-layers " + faLayers +
                  ", fa-decode " + faDecode + native;
  return s;
}

json::Object Recipe::toJSON() const {
  json::Object o;
  o["window"] = window ? json::Value(*window) : json::Value(nullptr);
  o["sinks"] = sinks;
  o["fa_layers"] = faLayers;
  o["fa_decode"] = faDecode == "true"    ? json::Value(true)
                   : faDecode == "false" ? json::Value(false)
                                         : json::Value(faDecode);
  if (overrideNative)
    o["override_native_windows"] = true;
  return o;
}

ArrayRef<Preset> mlir::swaa::presets() { return kPresets; }

Expected<Recipe> mlir::swaa::presetRecipe(StringRef name) {
  for (const Preset &p : kPresets)
    if (p.name == name) {
      Recipe r;
      r.window = p.window;
      r.sinks = p.sinks;
      r.faLayers = p.faLayers.str();
      r.faDecode = p.faDecode.str();
      r.source = "preset " + p.name.str();
      return r;
    }
  std::string names;
  for (const Preset &p : kPresets)
    names += (names.empty() ? "" : ", ") + p.name.str();
  return err("unknown preset '" + name + "' (known: " + names + ")");
}

Expected<Recipe> mlir::swaa::parseRecipe(const json::Value &json,
                                         StringRef where,
                                         std::optional<unsigned> entry) {
  // A settings file: a list of {"swaa_config": ..., "model_list": ...}.
  if (const json::Array *list = json.getAsArray()) {
    if (list->empty())
      return err(where + ": the settings list is empty");
    if (!entry && list->size() > 1)
      return err(where + ": holds " + Twine(list->size()) +
                 " configurations; pick one with --recipe-entry N (0-" +
                 Twine(list->size() - 1) + ")");
    unsigned i = entry.value_or(0);
    if (i >= list->size())
      return err(where + ": --recipe-entry " + Twine(i) +
                 " is out of range (the file holds " + Twine(list->size()) +
                 " configurations)");
    return parseRecipe((*list)[i], (where + "[" + Twine(i) + "]").str());
  }
  const json::Object *o = json.getAsObject();
  if (!o)
    return err(where + ": a recipe must be a JSON object (or a list of "
                       "settings with a 'swaa_config' each)");
  if (const json::Value *config = o->get("swaa_config")) {
    for (const auto &[key, value] : *o)
      if (key != "swaa_config" && key != "model_list")
        return err(where + ": unknown settings key '" + key.str() +
                   "' (expected swaa_config and model_list)");
    const json::Object *c = config->getAsObject();
    if (!c)
      return err(where + ": 'swaa_config' must be an object");
    return parseObject(*c, (where + ": swaa_config").str());
  }
  return parseObject(*o, where);
}

Expected<Recipe> mlir::swaa::loadRecipeFile(StringRef path,
                                            std::optional<unsigned> entry) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> file = MemoryBuffer::getFile(path);
  if (!file)
    return err(path + ": cannot read the recipe: " + file.getError().message());
  Expected<json::Value> json = json::parse((*file)->getBuffer());
  if (!json)
    return err(path + ": not valid JSON: " + toString(json.takeError()));
  return parseRecipe(*json, path, entry);
}

Error mlir::swaa::validateRecipe(
    const Recipe &r, int64_t numLayers, std::optional<int64_t> maxContext,
    const std::function<void(const std::string &)> &warn) {
  if (r.window && *r.window < 1)
    return err(r.source +
               ": window must be at least 1 key (the query "
               "itself), got " +
               Twine(*r.window));
  if (r.sinks < 0)
    return err(r.source + ": sinks must be non-negative, got " +
               Twine(r.sinks));
  if (r.sinks > 0 && !r.window)
    return err(r.source + ": " + Twine(r.sinks) +
               " sinks without a window: sink tokens only apply to "
               "sliding-window layers (give a window, or drop the sinks)");
  if (r.window && r.sinks > *r.window)
    warn(r.source + ": " + std::to_string(r.sinks) +
         " sinks exceed the window of " + std::to_string(*r.window) +
         ": each windowed query sees more sink tokens than recent ones "
         "(SWAA keeps a few sinks, e.g. 4, with windows of hundreds)");
  for (auto [what, spec] : {std::pair("fa-layers", r.faLayers),
                            std::pair("fa-decode", r.faDecode)}) {
    StringRef s = spec;
    if (s == "true" || s == "false")
      continue;
    Expected<SmallVector<int64_t>> layers = parseLayerSpec(s, numLayers);
    if (!layers)
      return err(r.source + ": " + what + ": " + toString(layers.takeError()));
  }
  if (r.window && maxContext && *r.window >= *maxContext)
    warn(r.source + ": window " + std::to_string(*r.window) +
         " covers the whole context of " + std::to_string(*maxContext) +
         " tokens: the windowed layers compute full attention");
  return Error::success();
}
