//===- Artifact.cpp - the compiled model on disk --------------------------===//
//
// Manifest from the split module's signatures; weights streamed from the
// ONNX file into safetensors (header first: every size is known from the
// shapes), so a large model needs memory for one weight at a time.
//
//===----------------------------------------------------------------------===//

#include "compiler/Artifact/Artifact.h"
#include "compiler/Artifact/Destination.h"

#include "llvm/ADT/APFloat.h"

#include <cstring>

#include "compiler/Import/Importer.h"
#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace mlir::swaa;

namespace {
std::string dtypeOf(Type t) {
  if (t.isF32())
    return "F32";
  if (t.isF16())
    return "F16";
  if (t.isBF16())
    return "BF16";
  if (t.isF64())
    return "F64";
  if (t.isInteger(64))
    return "I64";
  if (t.isInteger(32))
    return "I32";
  if (t.isInteger(1))
    return "BOOL";
  if (t.isIndex())
    return "index";
  return "";
}

int64_t dtypeWidth(llvm::StringRef d) {
  if (d == "F64" || d == "I64")
    return 8;
  if (d == "F32" || d == "I32")
    return 4;
  if (d == "F16" || d == "BF16")
    return 2;
  return 1;
}

FailureOr<EntryValue> describeValue(Type type, DictionaryAttr attrs,
                                    Location loc) {
  EntryValue v;
  if (type.isIndex() && attrs && attrs.get("swaa.logits_from")) {
    v.kind = "logits_from";
    v.dtype = "index";
    return v;
  }
  if (type.isIndex()) {
    v.kind = "position";
    v.dtype = "index";
    return v;
  }
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t)
    return emitError(loc) << "entry point value of type " << type
                          << " is not a ranked tensor";
  v.dtype = dtypeOf(t.getElementType());
  if (v.dtype.empty())
    return emitError(loc) << "element type " << t.getElementType()
                          << " has no runtime representation";
  for (int64_t d : t.getShape())
    v.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  auto str = [&](StringRef key) -> std::string {
    auto s = attrs ? attrs.getAs<StringAttr>(key) : StringAttr();
    return s ? s.getValue().str() : "";
  };
  if (auto cache =
          attrs ? attrs.getAs<DictionaryAttr>("swaa.kv_cache") : nullptr) {
    v.kind = "cache";
    v.layer = cache.getAs<IntegerAttr>("layer").getInt();
    v.cacheKind = cache.getAs<StringAttr>("kind").getValue().str();
    auto policy = cache.getAs<StringAttr>("policy");
    v.policy = policy ? policy.getValue().str() : "full";
    if (auto w = cache.getAs<IntegerAttr>("window"))
      v.window = w.getInt();
    if (auto s = cache.getAs<IntegerAttr>("sinks"))
      v.sinks = s.getInt();
  } else if (!str("swaa.weight").empty()) {
    v.kind = "weight";
    v.name = str("swaa.weight");
    v.layout = str("swaa.layout");
    if (auto source = attrs.getAs<DenseI64ArrayAttr>("swaa.source_shape"))
      v.sourceShape.assign(source.asArrayRef().begin(),
                           source.asArrayRef().end());
    if (!v.layout.empty() &&
        (v.layout != "panels24" || v.sourceShape.size() != 2))
      return emitError(loc) << "weight '" << v.name << "': unknown layout '"
                            << v.layout << "'";
  } else if (!str("swaa.input").empty()) {
    v.kind = "input";
    v.name = str("swaa.input");
  } else if (!str("swaa.output").empty()) {
    v.kind = "output";
    v.name = str("swaa.output");
  } else {
    return emitError(loc) << "entry point value without a swaa role";
  }
  return v;
}

llvm::json::Value toJSON(const EntryValue &v) {
  llvm::json::Object o{{"kind", v.kind}, {"dtype", v.dtype}};
  if (!v.name.empty())
    o["name"] = v.name;
  if (v.kind != "position" && v.kind != "logits_from")
    o["shape"] = llvm::json::Array(v.shape);
  if (!v.layout.empty()) {
    o["layout"] = v.layout;
    o["source_shape"] = llvm::json::Array(v.sourceShape);
  }
  if (v.kind == "cache") {
    o["layer"] = v.layer;
    o["cache"] = v.cacheKind;
    o["policy"] = v.policy;
    if (v.policy == "ring") {
      o["window"] = v.window;
      o["sinks"] = v.sinks;
    }
  }
  return o;
}
} // namespace

static llvm::json::Object entriesJSON(const std::vector<EntryPoint> &list) {
  llvm::json::Object entries;
  for (const EntryPoint &e : list) {
    llvm::json::Array args, results;
    for (const EntryValue &v : e.args)
      args.push_back(toJSON(v));
    for (const EntryValue &v : e.results)
      results.push_back(toJSON(v));
    entries[e.name] = llvm::json::Object{{"symbol", e.symbol},
                                         {"args", std::move(args)},
                                         {"results", std::move(results)}};
  }
  return entries;
}

std::string swaa::signatureOf(const std::vector<EntryPoint> &entries) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(
      llvm::json::Object{{"format_version", kArtifactFormatVersion},
                         {"entries", entriesJSON(entries)}});
  return text;
}

FailureOr<std::vector<EntryPoint>> swaa::describeEntryPoints(ModuleOp split) {
  std::vector<EntryPoint> entries;
  for (StringRef name : {"prefill", "decode"}) {
    auto fn = split.lookupSymbol<func::FuncOp>(name);
    if (!fn)
      continue;
    EntryPoint e;
    e.name = name.str();
    e.symbol = "swaa_" + name.str();
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      FailureOr<EntryValue> v = describeValue(
          fn.getArgument(i).getType(), fn.getArgAttrDict(i), fn.getLoc());
      if (failed(v))
        return failure();
      e.args.push_back(*v);
    }
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      FailureOr<EntryValue> v = describeValue(
          fn.getResultTypes()[i], fn.getResultAttrDict(i), fn.getLoc());
      if (failed(v))
        return failure();
      if (v->kind != "cache") // updated in place
        e.results.push_back(*v);
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty())
    return split.emitError("has no @prefill to compile");
  return entries;
}

std::vector<ArtifactSpec::Layer> swaa::describeLayers(ModuleOp split) {
  std::map<int64_t, ArtifactSpec::Layer> layers;
  if (auto prefill = split.lookupSymbol<func::FuncOp>("prefill"))
    prefill.walk([&](attn::AttentionOp op) {
      ArtifactSpec::Layer &l = layers[op.getLayerAttr().getInt()];
      l.layer = op.getLayerAttr().getInt();
      if (op.getWindowAttr())
        l.prefillWindow = op.getWindowAttr().getInt();
      l.prefillSinks = op.getSinksAttr().getInt();
      l.decodeWindow = l.prefillWindow;
      l.decodeSinks = l.prefillSinks;
    });
  if (auto decode = split.lookupSymbol<func::FuncOp>("decode"))
    decode.walk([&](attn::CacheAttentionOp op) {
      ArtifactSpec::Layer &l = layers[op.getLayerAttr().getInt()];
      l.decodeWindow.reset();
      if (op.getWindowAttr())
        l.decodeWindow = op.getWindowAttr().getInt();
      l.decodeSinks = op.getSinksAttr().getInt();
    });
  std::vector<ArtifactSpec::Layer> out;
  for (auto &[k, l] : layers)
    out.push_back(l);
  return out;
}

/// Little-endian f32 values as `dtype` (BF16 or F16), rounded to nearest
/// even (NaN stays NaN, overflow becomes infinity).
static std::string narrowFloats(llvm::StringRef bytes, llvm::StringRef dtype) {
  size_t n = bytes.size() / 4;
  std::string out(2 * n, '\0');
  bool bf16 = dtype == "BF16";
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, bytes.data() + 4 * i, 4);
    uint16_t half;
    if (bf16) {
      if ((bits & 0x7fffffff) > 0x7f800000)
        half = (uint16_t)((bits >> 16) | 0x40); // quiet NaN
      else
        half = (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
    } else {
      float f;
      std::memcpy(&f, &bits, 4);
      llvm::APFloat value(f);
      bool lost;
      value.convert(llvm::APFloat::IEEEhalf(),
                    llvm::APFloat::rmNearestTiesToEven, &lost);
      half = (uint16_t)value.bitcastToAPInt().getZExtValue();
    }
    out[2 * i] = (char)(half & 0xff);
    out[2 * i + 1] = (char)(half >> 8);
  }
  return out;
}

/// A [K, N] row-major matrix of `width`-byte elements as ceil(N/24) panels
/// of [K, 24] (columns 24p..24p+23 of every row, zero past N): the
/// "panels24" layout that the CPU kernels read (SWAA_GEMM_B_PACKED).
static std::string packPanels(const std::string &data, int64_t k, int64_t n,
                              size_t width) {
  constexpr int64_t panel = 24;
  int64_t panels = (n + panel - 1) / panel;
  std::string out((size_t)(panels * k * panel) * width, '\0');
  for (int64_t p = 0; p < panels; ++p) {
    int64_t cols = std::min(panel, n - p * panel);
    for (int64_t r = 0; r < k; ++r)
      std::memcpy(&out[(size_t)((p * k + r) * panel) * width],
                  &data[(size_t)(r * n + p * panel) * width],
                  (size_t)cols * width);
  }
  return out;
}

bool swaa::writeArtifact(const ArtifactSpec &spec, std::string &error) {
  namespace fs = llvm::sys::fs;
  std::vector<std::string> files = artifactFiles(spec.codeFile);
  if (!checkArtifactDestination(spec.dir, files, error))
    return false;
  // Build in a fresh directory beside the destination, then move it into
  // place: a failure leaves nothing half written and nothing behind.
  TemporaryArtifact tmpDir(spec.dir, files);
  if (!tmpDir.create(error))
    return false;
  llvm::SmallString<256> tmp(tmpDir.path());
  auto fail = [&](const std::string &message) {
    tmpDir.remove();
    // Name the files as the user will see them: inside the output.
    error = message;
    for (size_t at; (at = error.find(tmp.str())) != std::string::npos;)
      error.replace(at, tmp.size(), spec.dir);
    return false;
  };

  // Weights: the names, shapes and dtypes of the entry points' weight
  // arguments (the same for both entries).
  TimingScope weightsTimer =
      spec.timing ? spec.timing->nest("weights.safetensors") : TimingScope();
  std::vector<std::string> names;
  std::map<std::string, EntryValue> expected;
  for (const EntryPoint &e : spec.entries)
    for (const EntryValue &v : e.args)
      if (v.kind == "weight" && !expected.count(v.name)) {
        names.push_back(v.name);
        expected[v.name] = v;
      }
  // The safetensors header from the weights' descriptions, then their data,
  // from one parse of the model.
  llvm::SmallString<256> weightsPath(tmp);
  llvm::sys::path::append(weightsPath, "weights.safetensors");
  std::error_code ec;
  llvm::raw_fd_ostream os(weightsPath, ec);
  if (ec)
    return fail("cannot write " + weightsPath.str().str() + ": " +
                ec.message());
  // A write error (a full disk) is reported as such (closeOutput), never by
  // the stream's destructor, which would abort the tool.

  std::string mismatch;
  auto writeHeader = [&](llvm::ArrayRef<WeightData> described) {
    llvm::json::Object header;
    uint64_t offset = 0;
    for (const WeightData &w : described) {
      const EntryValue &want = expected[w.name];
      bool narrowed =
          w.dtype == "F32" && (want.dtype == "BF16" || want.dtype == "F16");
      llvm::ArrayRef<int64_t> modelShape =
          want.layout.empty() ? llvm::ArrayRef<int64_t>(want.shape)
                              : llvm::ArrayRef<int64_t>(want.sourceShape);
      if ((w.dtype != want.dtype && !narrowed) ||
          llvm::ArrayRef<int64_t>(w.shape) != modelShape) {
        mismatch = "weight '" + w.name +
                   "' in the model does not match the compiled function's "
                   "argument";
        return false;
      }
      uint64_t bytes = dtypeWidth(want.dtype);
      for (int64_t d : want.shape)
        bytes *= (uint64_t)d;
      header[w.name] = llvm::json::Object{
          {"dtype", want.dtype},
          {"shape", llvm::json::Array(want.shape)},
          {"data_offsets", llvm::json::Array{offset, offset + bytes}}};
      offset += bytes;
    }
    header["__metadata__"] =
        llvm::json::Object{{"format", "pt"}, {"source", spec.modelPath}};
    std::string headerText;
    llvm::raw_string_ostream(headerText)
        << llvm::json::Value(std::move(header));
    while (headerText.size() % 8)
      headerText += ' ';
    uint64_t n = headerText.size();
    char size[8];
    for (int i = 0; i < 8; ++i)
      size[i] = (char)((n >> (8 * i)) & 0xff);
    os.write(size, 8);
    os << headerText;
    return !os.has_error();
  };
  auto writeData = [&](const WeightData &w) {
    const EntryValue &spec = expected[w.name];
    const std::string &want = spec.dtype;
    // F32 -> BF16 / F16 (swaa-compile --dtype), rounding to nearest even.
    std::string narrow;
    if (w.dtype != want)
      narrow = narrowFloats(w.bytes, want);
    const std::string &data = w.dtype == want ? w.bytes : narrow;
    if (spec.layout.empty()) {
      os.write(data.data(), data.size());
      return !os.has_error();
    }
    std::string packed = packPanels(data, spec.sourceShape[0],
                                    spec.sourceShape[1], dtypeWidth(want));
    os.write(packed.data(), packed.size());
    return !os.has_error();
  };
  if (!readWeights(spec.modelPath, names, writeHeader, writeData, error)) {
    std::string why = closeOutput(os);
    if (!why.empty())
      return fail("cannot write " + weightsPath.str().str() + ": " + why);
    return fail(!mismatch.empty() ? mismatch
                : !error.empty()  ? error
                                  : "cannot write " + weightsPath.str().str());
  }
  if (std::string why = closeOutput(os); !why.empty())
    return fail("cannot write " + weightsPath.str().str() + ": " + why);

  weightsTimer.stop();

  // Code.
  {
    llvm::SmallString<256> path(tmp);
    llvm::sys::path::append(path, spec.codeFile);
    if (!spec.writeCode(path, signatureOf(spec.entries), error))
      return fail(error);
  }

  // Manifest.
  llvm::json::Object manifest;
  manifest["format"] = "swaa-artifact";
  manifest["format_version"] = kArtifactFormatVersion;
  manifest["target"] = spec.target;
  manifest["code"] = spec.codeFile;
  manifest["weights"] = "weights.safetensors";
  manifest["source_model"] = spec.modelPath;
  llvm::json::Object recipe = spec.recipe.toJSON();
  recipe["source"] = spec.recipe.source;
  manifest["recipe"] = std::move(recipe);
  llvm::json::Array layers;
  for (const ArtifactSpec::Layer &l : spec.layers) {
    auto window = [](std::optional<int64_t> w) {
      return w ? llvm::json::Value(*w) : llvm::json::Value(nullptr);
    };
    layers.push_back(llvm::json::Object{
        {"layer", l.layer},
        {"prefill", llvm::json::Object{{"window", window(l.prefillWindow)},
                                       {"sinks", l.prefillSinks}}},
        {"decode", llvm::json::Object{{"window", window(l.decodeWindow)},
                                      {"sinks", l.decodeSinks}}}});
  }
  manifest["layers"] = std::move(layers);
  manifest["entries"] = entriesJSON(spec.entries);
  for (auto &[key, value] : spec.targetInfo)
    manifest[key] = value;
  {
    llvm::SmallString<256> path(tmp);
    llvm::sys::path::append(path, "manifest.json");
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      return fail("cannot write " + path.str().str() + ": " + ec.message());
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
       << "\n";
    if (std::string why = closeOutput(os); !why.empty())
      return fail("cannot write " + path.str().str() + ": " + why);
  }
  return tmpDir.moveInto(error);
}
