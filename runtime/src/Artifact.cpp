//===- Artifact.cpp - reading an artifact's files -------------------------===//

#include "Artifact.h"

#include <limits>

using swaa::json::Value;

namespace swaa::artifact {

int64_t dtypeWidth(const std::string &d) {
  if (d == "F64" || d == "I64")
    return 8;
  if (d == "F32" || d == "I32")
    return 4;
  if (d == "F16" || d == "BF16")
    return 2;
  if (d == "I8" || d == "U8" || d == "BOOL")
    return 1;
  return 0;
}

bool checkedMul(uint64_t a, uint64_t b, uint64_t &out) {
  return !__builtin_mul_overflow(a, b, &out);
}

bool byteSize(const std::vector<int64_t> &shape, int64_t width, uint64_t &out) {
  uint64_t n = (uint64_t)width;
  for (int64_t d : shape)
    if (!checkedMul(n, d < 0 ? 0 : (uint64_t)d, n))
      return false;
  out = n;
  return true;
}

bool ValueSpec::operator==(const ValueSpec &o) const {
  return kind == o.kind && name == o.name && dtype == o.dtype &&
         shape == o.shape && layer == o.layer && cache == o.cache &&
         policy == o.policy && window == o.window && sinks == o.sinks;
}

static std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") +
         (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

std::string ValueSpec::describe() const {
  std::string s = kind;
  if (!name.empty())
    s += " '" + name + "'";
  if (kind == "cache")
    s += " (layer " + std::to_string(layer) + " " + cache + ", " + policy +
         (policy == "ring"
              ? " " + std::to_string(window) + "+" + std::to_string(sinks)
              : std::string()) +
         ")";
  s += " " + dtype;
  if (kind != "position" && kind != "logits_from")
    s += " " + shapeStr(shape);
  return s;
}

/// Reads one value; `where` names it in errors.
static bool parseValueSpec(const Value &v, const std::string &where,
                           ValueSpec &out, std::string &err) {
  auto str = [&](const char *key, std::string &dst, bool required) {
    const Value *m = v.get(key);
    if (!m) {
      if (required)
        err = where + ": missing '" + key + "'";
      return !required;
    }
    if (m->kind != Value::String) {
      err = where + ": '" + key + "' is not a string";
      return false;
    }
    dst = m->string;
    return true;
  };
  auto integer = [&](const char *key, int64_t &dst) {
    const Value *m = v.get(key);
    if (!m || !m->isInteger()) {
      err = where + ": missing or non-integer '" + key + "'";
      return false;
    }
    dst = m->integer();
    return true;
  };
  if (v.kind != Value::Object) {
    err = where + ": not an object";
    return false;
  }
  if (!str("kind", out.kind, true) || !str("dtype", out.dtype, true) ||
      !str("name", out.name, false))
    return false;
  if (out.kind == "position" || out.kind == "logits_from") {
    if (out.dtype != "index") {
      err = where + ": a " + out.kind + " is of dtype 'index'";
      return false;
    }
    return true;
  }
  const Value *shape = v.get("shape");
  if (!shape || shape->kind != Value::Array || shape->array.size() > 8) {
    err = where + ": missing or bad 'shape'";
    return false;
  }
  for (const Value &d : shape->array) {
    if (!d.isInteger() || d.integer() < -1) {
      err = where + ": bad dimension in 'shape'";
      return false;
    }
    out.shape.push_back(d.integer());
  }
  if (dtypeWidth(out.dtype) == 0) {
    err = where + ": unknown dtype '" + out.dtype + "'";
    return false;
  }
  if (out.kind == "cache") {
    if (!integer("layer", out.layer) || !str("cache", out.cache, true) ||
        !str("policy", out.policy, true))
      return false;
    if (out.shape.size() != 4) {
      err = where + ": a cache must be [batch, heads, slots, head_dim]";
      return false;
    }
    if (out.policy == "ring") {
      if (!integer("window", out.window) || !integer("sinks", out.sinks))
        return false;
      // Both below 2^40: their sum and any product with a batch and a
      // head size stay far from overflow before the runtime's own checks.
      const int64_t kMax = int64_t(1) << 40;
      if (out.window < 1 || out.sinks < 0 || out.window > kMax ||
          out.sinks > kMax || out.shape[2] != out.window + out.sinks) {
        err = where + ": a ring cache needs window >= 1, sinks >= 0 and "
                      "window + sinks slots";
        return false;
      }
    } else if (out.policy != "full") {
      err = where + ": unknown cache policy '" + out.policy + "'";
      return false;
    }
    if (out.shape[1] < 1 || out.shape[3] < 1 || out.shape[1] > (1 << 20) ||
        out.shape[3] > (1 << 20)) {
      err = where + ": a cache needs static heads and head_dim (at most "
                    "2^20 each)";
      return false;
    }
  } else if (out.kind != "input" && out.kind != "weight" &&
             out.kind != "output") {
    err = where + ": unknown kind '" + out.kind + "'";
    return false;
  }
  return true;
}

bool parseEntries(const Value &entries, const std::string &where,
                  std::map<std::string, EntrySpec> &out, std::string &err) {
  if (entries.kind != Value::Object) {
    err = where + ": 'entries' is not an object";
    return false;
  }
  for (const auto &[name, v] : entries.object) {
    if (name != "prefill" && name != "decode") {
      err = where + ": unknown entry '" + name + "' (prefill, decode)";
      return false;
    }
    if (out.count(name)) {
      err = where + ": entry '" + name + "' given twice";
      return false;
    }
    const Value *symbol = v.get("symbol"), *args = v.get("args"),
                *results = v.get("results");
    if (v.kind != Value::Object || !symbol || symbol->kind != Value::String ||
        !args || args->kind != Value::Array || !results ||
        results->kind != Value::Array || results->array.size() != 1) {
      err = where + ": entry '" + name +
            "' needs a symbol, args and one result (the logits)";
      return false;
    }
    EntrySpec e;
    e.symbol = symbol->string;
    // The code's entry points are swaa_<name>: a manifest cannot make the
    // runtime call anything else (abort, a libc function).
    if (e.symbol != "swaa_" + name) {
      err = where + ": entry '" + name + "' has symbol '" + e.symbol +
            "'; the code's entry is 'swaa_" + name + "'";
      return false;
    }
    for (size_t i = 0; i < args->array.size(); ++i) {
      ValueSpec s;
      if (!parseValueSpec(
              args->array[i],
              where + ": " + name + " argument " + std::to_string(i), s, err))
        return false;
      if (s.kind == "output") {
        err = where + ": " + name + " argument " + std::to_string(i) +
              " is an output";
        return false;
      }
      e.args.push_back(std::move(s));
    }
    ValueSpec result;
    if (!parseValueSpec(results->array[0], where + ": " + name + " result",
                        result, err))
      return false;
    if (result.kind != "output" || result.dtype != "F32" ||
        result.shape.size() != 3 || result.shape[2] < 1) {
      err = where + ": " + name +
            " result must be float32 logits [batch, seq, vocab]";
      return false;
    }
    e.results.push_back(std::move(result));
    out[name] = std::move(e);
  }
  return true;
}

bool parseManifest(const std::string &text, int version, Manifest &out,
                   std::string &err) {
  Value manifest;
  if (!json::parse(text, manifest, err) || manifest.kind != Value::Object) {
    err = "manifest.json: corrupt: " + (err.empty() ? "not an object" : err);
    return false;
  }
  const Value *format = manifest.get("format"),
              *v = manifest.get("format_version"),
              *target = manifest.get("target");
  if (!format || format->kind != Value::String ||
      format->string != "swaa-artifact") {
    err = "manifest.json: not a swaa artifact manifest";
    return false;
  }
  if (!v || !v->isInteger() || v->integer() != version) {
    err = "manifest.json: format version " +
          (v && v->isInteger() ? std::to_string(v->integer())
                               : std::string("?")) +
          ", this runtime reads version " + std::to_string(version) +
          " (recompile the model with this swaa-compile)";
    return false;
  }
  if (!target || target->kind != Value::String ||
      (target->string != "cpu" && target->string != "cuda")) {
    err = "manifest.json: target '" +
          (target && target->kind == Value::String ? target->string : "?") +
          "' is not one this runtime runs (cpu, cuda)";
    return false;
  }
  out.target = target->string;
  if (const Value *recipe = manifest.get("recipe"))
    if (const Value *src = recipe->get("source"))
      if (src->kind == Value::String)
        out.recipe = src->string;
  if (const Value *layers = manifest.get("layers"))
    if (layers->kind == Value::Array)
      out.layers = layers->array.size();
  const Value *entries = manifest.get("entries");
  if (!entries) {
    err = "manifest.json: no entries";
    return false;
  }
  if (!parseEntries(*entries, "manifest.json", out.entries, err))
    return false;
  if (!out.entries.count("prefill")) {
    err = "manifest.json: no prefill entry";
    return false;
  }
  return true;
}

bool parseSignature(const std::string &text, int version,
                    std::map<std::string, EntrySpec> &out, std::string &err) {
  const std::string where = "model.so's signature";
  Value sig;
  if (!json::parse(text, sig, err) || sig.kind != Value::Object) {
    err = where + ": corrupt: " + (err.empty() ? "not an object" : err);
    return false;
  }
  const Value *v = sig.get("format_version"), *entries = sig.get("entries");
  if (!v || !v->isInteger() || v->integer() != version) {
    err = where + ": format version " +
          (v && v->isInteger() ? std::to_string(v->integer())
                               : std::string("?")) +
          ", this runtime reads version " + std::to_string(version);
    return false;
  }
  if (!entries) {
    err = where + ": no entries";
    return false;
  }
  return parseEntries(*entries, where, out, err);
}

std::string compareEntry(const std::string &name, const EntrySpec &manifest,
                         const EntrySpec &code) {
  auto list = [&](const char *what, const std::vector<ValueSpec> &m,
                  const std::vector<ValueSpec> &c) -> std::string {
    for (size_t i = 0; i < std::max(m.size(), c.size()); ++i) {
      if (i < m.size() && i < c.size() && m[i] == c[i])
        continue;
      std::string where = name + " " + what + " " + std::to_string(i);
      if (i >= m.size())
        return where + ": the code takes " + c[i].describe() +
               ", the manifest has no such " + what;
      if (i >= c.size())
        return where + ": the manifest has " + m[i].describe() +
               ", the code takes no such " + what;
      return where + ": the manifest says " + m[i].describe() +
             ", the code takes " + c[i].describe();
    }
    return "";
  };
  if (manifest.symbol != code.symbol)
    return name + ": the manifest's symbol '" + manifest.symbol +
           "' is not the code's '" + code.symbol + "'";
  std::string d = list("argument", manifest.args, code.args);
  if (d.empty())
    d = list("result", manifest.results, code.results);
  return d;
}

bool parseSafetensors(const unsigned char *bytes, size_t size,
                      std::map<std::string, Tensor> &out, std::string &err) {
  if (size < 8) {
    err = "not a safetensors file (too short)";
    return false;
  }
  uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i)
    headerSize |= (uint64_t)bytes[i] << (8 * i);
  if (headerSize > size - 8 || headerSize > (uint64_t(1) << 30)) {
    err = "corrupt safetensors header size " + std::to_string(headerSize);
    return false;
  }
  std::string text((const char *)bytes + 8, headerSize);
  Value header;
  if (!json::parse(text, header, err) || header.kind != Value::Object) {
    err =
        "corrupt safetensors header: " + (err.empty() ? "not an object" : err);
    return false;
  }
  uint64_t dataStart = 8 + headerSize, dataSize = size - dataStart;
  for (const auto &[name, v] : header.object) {
    if (name == "__metadata__")
      continue;
    const Value *dtype = v.get("dtype"), *shape = v.get("shape"),
                *offsets = v.get("data_offsets");
    if (!dtype || dtype->kind != Value::String || !shape ||
        shape->kind != Value::Array || shape->array.size() > 8 || !offsets ||
        offsets->kind != Value::Array || offsets->array.size() != 2 ||
        !offsets->array[0].isInteger() || !offsets->array[1].isInteger()) {
      err = "tensor '" + name + "' has a malformed entry";
      return false;
    }
    if (out.count(name)) {
      err = "tensor '" + name + "' is given twice";
      return false;
    }
    Tensor t;
    t.dtype = dtype->string;
    for (const Value &d : shape->array) {
      if (!d.isInteger() || d.integer() < 0) {
        err = "tensor '" + name + "' has a bad shape";
        return false;
      }
      t.shape.push_back(d.integer());
    }
    int64_t width = dtypeWidth(t.dtype);
    uint64_t bytesWanted = 0;
    if (width == 0 || !byteSize(t.shape, width, bytesWanted)) {
      err = "tensor '" + name + "' has " +
            (width == 0 ? "an unknown dtype '" + t.dtype + "'"
                        : std::string("a size that overflows 64 bits"));
      return false;
    }
    int64_t begin = offsets->array[0].integer(),
            end = offsets->array[1].integer();
    if (begin < 0 || end < begin || (uint64_t)end > dataSize ||
        (uint64_t)(end - begin) != bytesWanted) {
      err = "tensor '" + name +
            "' has data offsets outside the file or of the wrong size";
      return false;
    }
    t.offset = dataStart + (uint64_t)begin;
    t.bytes = bytesWanted;
    if (t.offset % (uint64_t)width != 0) {
      err = "tensor '" + name + "' is misaligned";
      return false;
    }
    out[name] = std::move(t);
  }
  return true;
}

} // namespace swaa::artifact
