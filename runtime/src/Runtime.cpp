//===- Runtime.cpp - the swaa runtime -------------------------------------===//
//
// Loads an artifact (manifest.json, model.so, weights.safetensors), checks
// every size in it before use, and runs the compiled entry points. The
// compiled functions take one memref descriptor per argument
// ({allocated, aligned, offset, sizes[R], strides[R]}) through the packed
// wrapper `swaa_<entry>(void **args, void *results)`; the caches are updated
// in place, the logits come back as a descriptor of a buffer that the
// compiled code allocated with malloc (copied out, then freed here).
//
// A CUDA artifact (target "cuda") runs the same way on the device of the
// CUDA back end (Cuda.cpp): weights uploaded once, caches and inputs in
// device memory, the descriptors pointing there, the logits copied back.
//
//===----------------------------------------------------------------------===//

#include "swaa/runtime.h"

#include "Cuda.h"
#include "Json.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct swaa_status {
  std::string message;
};

//===----------------------------------------------------------------------===//
// Profile hooks that the compiled code calls around each op (the only state
// outside the handles: per thread, so concurrent sessions do not mix)
//===----------------------------------------------------------------------===//

namespace {
struct ProfileState {
  bool on = false;
  double start[4] = {0, 0, 0, 0};
  double total[4] = {0, 0, 0, 0};
};
thread_local ProfileState profileState;

double now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
} // namespace

namespace {
/// Installed into the loaded code's `swaa_profile_{begin,end}_hook`.
void profileBegin(int32_t kind) {
  if (profileState.on && kind >= 0 && kind < 4)
    profileState.start[kind] = now();
}

void profileEnd(int32_t kind) {
  if (profileState.on && kind >= 0 && kind < 4)
    profileState.total[kind] += now() - profileState.start[kind];
}
} // namespace

//===----------------------------------------------------------------------===//
// The compiled code's allocator (installed into `swaa_alloc_hook` and
// `swaa_free_hook`). A prefill allocates the same large activations layer
// after layer and call after call; malloc serves blocks that large with
// fresh mappings that the kernel faults in and zeroes page by page each
// time. Freed large blocks are kept here, by size, and handed out again.
//===----------------------------------------------------------------------===//

namespace {
class BlockPool {
public:
  /// Blocks from this size on are kept when freed.
  static constexpr size_t kLarge = 64 << 10;
  /// At most this many bytes stay cached; beyond it, frees go to the system.
  static constexpr size_t kMaxCached = size_t(2) << 30;
  /// Room before each block for its size, keeping 64-byte alignment.
  static constexpr size_t kHeader = 64;

  void *allocate(size_t size, size_t alignment) {
    if (alignment > kHeader)
      return nullptr; // the compiled code asks for at most 64
    size_t rounded = roundUp(size);
    if (rounded >= kLarge) {
      std::lock_guard<std::mutex> lock(mu);
      auto it = cache.find(rounded);
      if (it != cache.end() && !it->second.empty()) {
        char *block = it->second.back();
        it->second.pop_back();
        cached -= rounded;
        return block + kHeader;
      }
    }
    char *block = (char *)std::aligned_alloc(kHeader, rounded + kHeader);
    if (!block)
      return nullptr;
    *(size_t *)block = rounded;
    return block + kHeader;
  }

  void release(void *p) {
    if (!p)
      return;
    char *block = (char *)p - kHeader;
    size_t rounded = *(size_t *)block;
    if (rounded >= kLarge) {
      std::lock_guard<std::mutex> lock(mu);
      if (cached + rounded <= kMaxCached) {
        cache[rounded].push_back(block);
        cached += rounded;
        return;
      }
    }
    std::free(block);
  }

  /// Returns every cached block to the system.
  void trim() {
    std::lock_guard<std::mutex> lock(mu);
    for (auto &[size, blocks] : cache)
      for (char *block : blocks)
        std::free(block);
    cache.clear();
    cached = 0;
  }

private:
  static size_t roundUp(size_t size) {
    size_t unit = size >= kLarge ? 4096 : kHeader;
    return (size + unit - 1) / unit * unit;
  }
  std::mutex mu;
  std::map<size_t, std::vector<char *>> cache;
  size_t cached = 0;
};

/// One pool for every loaded model (the blocks outlive no model: the last
/// model freed trims it).
BlockPool &blockPool() {
  static BlockPool *pool = new BlockPool; // never destroyed: no exit order
  return *pool;
}
std::mutex modelCountMutex;
size_t modelCount = 0;

void *poolAllocate(int64_t size, int64_t alignment) {
  return blockPool().allocate((size_t)size, (size_t)alignment);
}
void poolFree(void *p) { blockPool().release(p); }
} // namespace

namespace {
using swaa::json::Value;

swaa_status *error(const std::string &message) {
  return new swaa_status{message};
}

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

/// One argument or result of an entry point (manifest "args"/"results").
struct ValueSpec {
  std::string kind, name, dtype;
  std::vector<int64_t> shape; // -1: dynamic
  int64_t layer = -1;
  std::string cache, policy;
  int64_t window = 0, sinks = 0;
};

struct Entry {
  std::string symbol;
  std::vector<ValueSpec> args, results;
  void (*fn)(void **, void *) = nullptr;
};

struct Weight {
  const char *data = nullptr;
  std::string dtype;
  std::vector<int64_t> shape;
};

/// A KV cache of the session: one per (layer, key/value).
struct CacheSpec {
  int64_t layer;
  std::string cache, policy, dtype;
  int64_t heads, headDim, window, sinks;
};

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") +
         (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

/// Reads one manifest value; `where` names it in errors.
bool parseValueSpec(const Value &v, const std::string &where, ValueSpec &out,
                    std::string &err) {
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
  if (out.kind == "position")
    return true;
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
      if (out.window < 1 || out.sinks < 0 ||
          out.shape[2] != out.window + out.sinks) {
        err = where + ": a ring cache needs window >= 1, sinks >= 0 and "
                      "window + sinks slots";
        return false;
      }
    } else if (out.policy != "full") {
      err = where + ": unknown cache policy '" + out.policy + "'";
      return false;
    }
    if (out.shape[1] < 1 || out.shape[3] < 1) {
      err = where + ": a cache needs static heads and head_dim";
      return false;
    }
  } else if (out.kind != "input" && out.kind != "weight" &&
             out.kind != "output") {
    err = where + ": unknown kind '" + out.kind + "'";
    return false;
  }
  return true;
}

/// A memref descriptor: {allocated, aligned, offset, sizes[R], strides[R]}.
std::vector<int64_t> descriptor(const void *data,
                                const std::vector<int64_t> &sizes) {
  std::vector<int64_t> d;
  d.push_back((int64_t)(intptr_t)data);
  d.push_back((int64_t)(intptr_t)data);
  d.push_back(0);
  for (int64_t s : sizes)
    d.push_back(s);
  std::vector<int64_t> strides(sizes.size(), 1);
  for (int i = (int)sizes.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * sizes[i + 1];
  for (int64_t s : strides)
    d.push_back(s);
  return d;
}
} // namespace

struct swaa_model {
  std::string dir, recipe;
  /// The CUDA back end's device (CUDA artifacts only), and the weights'
  /// device copies by name.
  std::unique_ptr<swaa::cuda::Device> cuda;
  std::map<std::string, void *> deviceWeights;
  void *library = nullptr;
  void *weightsMap = nullptr;
  size_t weightsSize = 0;
  std::map<std::string, Weight> weights;
  Entry prefill, decode;
  bool hasDecode = false;
  /// The code allocates through the runtime's pool (its results too).
  bool pooled = false;
  size_t vocab = 0, layers = 0;
  std::vector<CacheSpec> caches;

  ~swaa_model() {
    // The device first: unloading the kernels calls into the library.
    cuda.reset();
    if (library)
      dlclose(library);
    if (weightsMap)
      munmap(weightsMap, weightsSize);
  }
};

struct swaa_session {
  const swaa_model *model = nullptr;
  size_t maxContext = 0, batch = 1, position = 0;
  bool started = false;
  /// One buffer per model cache, [batch, heads, slots, head_dim] of the
  /// cache's dtype (F32, or BF16/F16 with --dtype; CUDA: in device memory,
  /// `deviceCaches`).
  std::vector<std::vector<float>> caches;
  std::vector<void *> deviceCaches;
  std::vector<size_t> cacheBytes;
  std::vector<int64_t> cacheSlots;
  std::vector<float> logits;
  size_t logitRows = 0;
  /// The sequence so far, for models without a decode program (decode
  /// re-runs prefill over it).
  std::vector<int64_t> tokens;
  bool profiling = false;
  swaa_profile profile = {0, 0, 0, 0};

  ~swaa_session() {
    for (void *p : deviceCaches)
      model->cuda->free(p);
  }
};

namespace {
swaa_status *loadWeights(swaa_model &m, const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 8) {
    ::close(fd);
    return error(path + ": not a safetensors file (too short)");
  }
  m.weightsSize = (size_t)st.st_size;
  m.weightsMap = mmap(nullptr, m.weightsSize, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m.weightsMap == MAP_FAILED) {
    m.weightsMap = nullptr;
    return error(path + ": cannot map: " + std::strerror(errno));
  }
  const unsigned char *bytes = (const unsigned char *)m.weightsMap;
  uint64_t headerSize = 0;
  for (int i = 0; i < 8; ++i)
    headerSize |= (uint64_t)bytes[i] << (8 * i);
  if (headerSize > m.weightsSize - 8 || headerSize > (1u << 30))
    return error(path + ": corrupt safetensors header size " +
                 std::to_string(headerSize));
  std::string text((const char *)bytes + 8, headerSize);
  Value header;
  std::string err;
  if (!swaa::json::parse(text, header, err) || header.kind != Value::Object)
    return error(path + ": corrupt safetensors header: " + err);
  uint64_t dataStart = 8 + headerSize, dataSize = m.weightsSize - dataStart;
  for (const auto &[name, v] : header.object) {
    if (name == "__metadata__")
      continue;
    const Value *dtype = v.get("dtype"), *shape = v.get("shape"),
                *offsets = v.get("data_offsets");
    if (!dtype || dtype->kind != Value::String || !shape ||
        shape->kind != Value::Array || !offsets ||
        offsets->kind != Value::Array || offsets->array.size() != 2 ||
        !offsets->array[0].isInteger() || !offsets->array[1].isInteger())
      return error(path + ": tensor '" + name + "' has a malformed entry");
    Weight w;
    w.dtype = dtype->string;
    uint64_t elements = 1;
    for (const Value &d : shape->array) {
      if (!d.isInteger() || d.integer() < 0)
        return error(path + ": tensor '" + name + "' has a bad shape");
      w.shape.push_back(d.integer());
      elements *= (uint64_t)d.integer();
    }
    int64_t width = dtypeWidth(w.dtype);
    int64_t begin = offsets->array[0].integer(),
            end = offsets->array[1].integer();
    if (width == 0 || begin < 0 || end < begin || (uint64_t)end > dataSize ||
        (uint64_t)(end - begin) != elements * (uint64_t)width)
      return error(path + ": tensor '" + name +
                   "' has data offsets outside the file or of the wrong size");
    w.data = (const char *)bytes + dataStart + begin;
    if ((uintptr_t)w.data % (uintptr_t)width != 0)
      return error(path + ": tensor '" + name + "' is misaligned");
    m.weights[name] = w;
  }
  return nullptr;
}

swaa_status *parseEntry(swaa_model &m, const Value &manifest,
                        const std::string &name, Entry &e, bool &present) {
  const Value *entries = manifest.get("entries");
  const Value *v = entries ? entries->get(name) : nullptr;
  present = v != nullptr;
  if (!v)
    return nullptr;
  const Value *symbol = v->get("symbol"), *args = v->get("args"),
              *results = v->get("results");
  if (!symbol || symbol->kind != Value::String || !args ||
      args->kind != Value::Array || !results || results->kind != Value::Array ||
      results->array.size() != 1)
    return error(m.dir + "/manifest.json: entry '" + name +
                 "' needs a symbol, args and one result (the logits)");
  e.symbol = symbol->string;
  std::string err;
  for (size_t i = 0; i < args->array.size(); ++i) {
    ValueSpec s;
    if (!parseValueSpec(args->array[i],
                        "manifest.json: " + name + " argument " +
                            std::to_string(i),
                        s, err))
      return error(m.dir + "/" + err);
    e.args.push_back(s);
  }
  ValueSpec out;
  if (!parseValueSpec(results->array[0], "manifest.json: " + name + " result",
                      out, err))
    return error(m.dir + "/" + err);
  if (out.kind != "output" || out.dtype != "F32" || out.shape.size() != 3 ||
      out.shape[2] < 1)
    return error(m.dir + "/manifest.json: " + name +
                 " result must be float32 logits [batch, seq, vocab]");
  e.results.push_back(out);
  e.fn = (void (*)(void **, void *))dlsym(m.library, e.symbol.c_str());
  if (!e.fn)
    return error(m.dir + "/model.so: no symbol '" + e.symbol + "'");
  // Weights must exist with the declared dtype and shape.
  for (const ValueSpec &s : e.args) {
    if (s.kind != "weight")
      continue;
    auto it = m.weights.find(s.name);
    if (it == m.weights.end())
      return error(m.dir + "/weights.safetensors: no tensor '" + s.name +
                   "' that " + name + " needs");
    if (it->second.dtype != s.dtype || it->second.shape != s.shape)
      return error(m.dir + "/weights.safetensors: tensor '" + s.name + "' is " +
                   it->second.dtype + " " + shapeStr(it->second.shape) +
                   ", the code expects " + s.dtype + " " + shapeStr(s.shape));
    if (std::find(s.shape.begin(), s.shape.end(), -1) != s.shape.end())
      return error(m.dir + "/manifest.json: weight '" + s.name +
                   "' has a dynamic shape");
  }
  return nullptr;
}
} // namespace

extern "C" {

const char *swaa_status_message(const swaa_status *status) {
  return status ? status->message.c_str() : "ok";
}

void swaa_status_free(swaa_status *status) { delete status; }

swaa_status *swaa_model_load(const char *dirC, swaa_model **out) {
  if (!dirC || !out)
    return error("swaa_model_load: null argument");
  *out = nullptr;
  auto m = std::make_unique<swaa_model>();
  m->dir = dirC;
  std::string text;
  if (!readFile(m->dir + "/manifest.json", text))
    return error(m->dir + ": not a swaa artifact (no readable manifest.json)");
  Value manifest;
  std::string err;
  if (!swaa::json::parse(text, manifest, err) || manifest.kind != Value::Object)
    return error(m->dir + "/manifest.json: corrupt: " + err);
  const Value *format = manifest.get("format"),
              *version = manifest.get("format_version"),
              *target = manifest.get("target");
  if (!format || format->kind != Value::String ||
      format->string != "swaa-artifact")
    return error(m->dir + "/manifest.json: not a swaa artifact manifest");
  if (!version || !version->isInteger() ||
      version->integer() != SWAA_ARTIFACT_FORMAT_VERSION)
    return error(m->dir + "/manifest.json: format version " +
                 (version && version->isInteger()
                      ? std::to_string(version->integer())
                      : std::string("?")) +
                 ", this runtime reads version " +
                 std::to_string(SWAA_ARTIFACT_FORMAT_VERSION) +
                 " (recompile the model with this swaa-compile)");
  if (!target || target->kind != Value::String ||
      (target->string != "cpu" && target->string != "cuda"))
    return error(
        m->dir + "/manifest.json: target '" +
        (target && target->kind == Value::String ? target->string : "?") +
        "' is not one this runtime runs (cpu, cuda)");
  if (target->string == "cuda") {
    // The device before anything else: without one, say so in one line.
    m->cuda = std::make_unique<swaa::cuda::Device>();
    std::string why = m->cuda->open();
    if (!why.empty()) {
      m->cuda.reset();
      return error(m->dir + ": needs a CUDA GPU: " + why);
    }
  }
  if (const Value *recipe = manifest.get("recipe"))
    if (const Value *src = recipe->get("source"))
      if (src->kind == Value::String)
        m->recipe = src->string;
  if (const Value *layers = manifest.get("layers"))
    if (layers->kind == Value::Array)
      m->layers = layers->array.size();

  if (swaa_status *s = loadWeights(*m, m->dir + "/weights.safetensors"))
    return s;
  std::string so = m->dir + "/model.so";
  m->library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->library) {
    const char *why = dlerror();
    return error(so + ": cannot load: " + (why ? why : "unknown error"));
  }
  if (m->cuda) {
    std::string why = m->cuda->bind(m->library);
    if (why.empty())
      why = m->cuda->load(m->library);
    if (!why.empty())
      return error(so + ": " + why);
  }
  // The code calls the profile hooks and the allocator through pointers it
  // exports.
  using Hook = void (*)(int32_t);
  if (auto *begin = (Hook *)dlsym(m->library, "swaa_profile_begin_hook"))
    *begin = profileBegin;
  if (auto *end = (Hook *)dlsym(m->library, "swaa_profile_end_hook"))
    *end = profileEnd;
  using AllocHook = void *(*)(int64_t, int64_t);
  using FreeHook = void (*)(void *);
  auto *allocHook = (AllocHook *)dlsym(m->library, "swaa_alloc_hook");
  auto *freeHook = (FreeHook *)dlsym(m->library, "swaa_free_hook");
  if (allocHook && freeHook) {
    *allocHook = poolAllocate;
    *freeHook = poolFree;
    m->pooled = true;
  }
  bool hasPrefill = false;
  if (swaa_status *s =
          parseEntry(*m, manifest, "prefill", m->prefill, hasPrefill))
    return s;
  if (!hasPrefill)
    return error(m->dir + "/manifest.json: no prefill entry");
  if (swaa_status *s =
          parseEntry(*m, manifest, "decode", m->decode, m->hasDecode))
    return s;
  m->vocab = (size_t)m->prefill.results[0].shape[2];
  // The caches, as prefill declares them; decode must agree.
  for (const ValueSpec &s : m->prefill.args)
    if (s.kind == "cache")
      m->caches.push_back({s.layer, s.cache, s.policy, s.dtype, s.shape[1],
                           s.shape[3], s.window, s.sinks});
  for (const CacheSpec &c : m->caches)
    if (c.dtype != "F32" && c.dtype != "BF16" && c.dtype != "F16")
      return error(m->dir + "/manifest.json: cache of layer " +
                   std::to_string(c.layer) + " is " + c.dtype +
                   "; this runtime holds F32, BF16 or F16 caches");
  if (m->hasDecode) {
    size_t n = 0;
    for (const ValueSpec &s : m->decode.args)
      if (s.kind == "cache") {
        if (n >= m->caches.size() || m->caches[n].layer != s.layer ||
            m->caches[n].cache != s.cache || m->caches[n].policy != s.policy)
          return error(m->dir + "/manifest.json: decode's caches differ from "
                                "prefill's");
        ++n;
      }
    if (n != m->caches.size())
      return error(m->dir +
                   "/manifest.json: decode's caches differ from prefill's");
  }
  if (m->cuda) {
    // Every weight an entry takes, uploaded once.
    for (const Entry *e : {&m->prefill, &m->decode})
      for (const ValueSpec &spec : e->args) {
        if (spec.kind != "weight" || m->deviceWeights.count(spec.name))
          continue;
        const Weight &w = m->weights.at(spec.name);
        size_t bytes = (size_t)dtypeWidth(w.dtype);
        for (int64_t d : w.shape)
          bytes *= (size_t)d;
        void *p = m->cuda->alloc(bytes);
        std::string why = p ? m->cuda->upload(p, w.data, bytes)
                            : "out of device memory for the weights";
        if (!why.empty())
          return error(m->dir + ": weight '" + spec.name + "': " + why);
        m->deviceWeights[spec.name] = p;
      }
  }
  {
    std::lock_guard<std::mutex> lock(modelCountMutex);
    ++modelCount;
  }
  *out = m.release();
  return nullptr;
}

void swaa_model_free(swaa_model *model) {
  if (!model)
    return;
  delete model;
  std::lock_guard<std::mutex> lock(modelCountMutex);
  if (--modelCount == 0)
    blockPool().trim();
}
size_t swaa_model_vocab_size(const swaa_model *m) { return m ? m->vocab : 0; }
size_t swaa_model_num_layers(const swaa_model *m) { return m ? m->layers : 0; }
int swaa_model_has_decode(const swaa_model *m) { return m && m->hasDecode; }
const char *swaa_model_recipe(const swaa_model *m) {
  return m ? m->recipe.c_str() : "";
}

swaa_status *swaa_session_create(const swaa_model *model,
                                 const swaa_session_options *options,
                                 swaa_session **out) {
  if (!model || !options || !out)
    return error("swaa_session_create: null argument");
  *out = nullptr;
  if (options->max_context < 1 || options->batch < 1)
    return error("swaa_session_create: max_context and batch must be at "
                 "least 1");
  auto s = std::make_unique<swaa_session>();
  s->model = model;
  s->maxContext = options->max_context;
  s->batch = options->batch;
  for (const CacheSpec &c : model->caches) {
    int64_t slots =
        c.policy == "ring" ? c.window + c.sinks : (int64_t)options->max_context;
    uint64_t n = (uint64_t)s->batch * c.heads * slots * c.headDim;
    if (n > (uint64_t)1 << 36)
      return error("swaa_session_create: a KV cache of " + std::to_string(n) +
                   " elements is too large (lower max_context or batch)");
    uint64_t bytes = n * (uint64_t)dtypeWidth(c.dtype);
    s->cacheSlots.push_back(slots);
    s->cacheBytes.push_back(bytes);
    if (model->cuda) {
      void *p = model->cuda->alloc(bytes);
      std::string why = p ? model->cuda->zero(p, bytes) : "out of device memory";
      if (p)
        s->deviceCaches.push_back(p);
      if (!why.empty())
        return error("swaa_session_create: KV cache of " +
                     std::to_string(bytes) + " bytes: " + why);
    } else {
      // Zeroed bytes, aligned for any element type.
      s->caches.emplace_back((bytes + sizeof(float) - 1) / sizeof(float), 0.0f);
    }
  }
  *out = s.release();
  return nullptr;
}

void swaa_session_free(swaa_session *session) { delete session; }

size_t swaa_session_position(const swaa_session *s) {
  return s ? s->position : 0;
}

size_t swaa_session_kv_cache_bytes(const swaa_session *s) {
  size_t bytes = 0;
  if (s)
    for (size_t b : s->cacheBytes)
      bytes += b;
  return bytes;
}

void swaa_session_set_profiling(swaa_session *s, int on) {
  if (s)
    s->profiling = on != 0;
}

void swaa_session_profile(const swaa_session *s, swaa_profile *out) {
  if (out)
    *out = s ? s->profile : swaa_profile{0, 0, 0, 0};
}

void swaa_session_reset(swaa_session *s) {
  if (!s)
    return;
  s->position = 0;
  s->started = false;
  s->logitRows = 0;
}

void swaa_session_logits(const swaa_session *s, const float **data,
                         size_t *rows, size_t *vocab) {
  if (data)
    *data = s && s->logitRows ? s->logits.data() : nullptr;
  if (rows)
    *rows = s ? s->logitRows : 0;
  if (vocab)
    *vocab = s ? s->model->vocab : 0;
}

} // extern "C"

namespace {
/// Runs `e` for `n` tokens per batch row at `pos`.
swaa_status *run(swaa_session *s, const Entry &e, const int64_t *tokens,
                 size_t n, size_t pos) {
  const swaa_model &m = *s->model;
  int64_t B = (int64_t)s->batch, N = (int64_t)n, P = (int64_t)pos;
  for (size_t i = 0; i < s->batch * n; ++i)
    if (tokens[i] < 0 || (uint64_t)tokens[i] >= m.vocab)
      return error("token id " + std::to_string(tokens[i]) +
                   " is outside the vocabulary (0.." +
                   std::to_string(m.vocab - 1) + ")");
  // Storage that the descriptors point to, alive during the call.
  std::vector<std::vector<int64_t>> ints;
  std::vector<std::vector<int32_t>> ints32;
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(e.args.size());
  std::vector<void *> argv;
  int64_t position = P;
  size_t cache = 0;
  swaa::cuda::Device *cuda = m.cuda.get();
  // CUDA: the inputs' device copies, freed after the call.
  std::vector<void *> deviceInputs;
  struct FreeInputs {
    swaa::cuda::Device *cuda;
    std::vector<void *> &inputs;
    ~FreeInputs() {
      for (void *p : inputs)
        cuda->free(p);
    }
  };
  std::optional<FreeInputs> freeInputs;
  if (cuda)
    freeInputs.emplace(FreeInputs{cuda, deviceInputs});
  auto intInput = [&](const ValueSpec &spec, std::vector<int64_t> values,
                      std::vector<int64_t> sizes) -> swaa_status * {
    if (spec.shape.size() != sizes.size())
      return error("input '" + spec.name + "' has rank " +
                   std::to_string(spec.shape.size()) + ", expected " +
                   std::to_string(sizes.size()));
    for (size_t d = 0; d < sizes.size(); ++d)
      if (spec.shape[d] >= 0 && spec.shape[d] != sizes[d])
        return error("input '" + spec.name + "' has a static size " +
                     std::to_string(spec.shape[d]) + " where the call needs " +
                     std::to_string(sizes[d]));
    const void *data;
    size_t bytes;
    if (spec.dtype == "I64") {
      ints.push_back(std::move(values));
      data = ints.back().data();
      bytes = ints.back().size() * sizeof(int64_t);
    } else if (spec.dtype == "I32") {
      ints32.emplace_back(values.begin(), values.end());
      data = ints32.back().data();
      bytes = ints32.back().size() * sizeof(int32_t);
    } else {
      return error("input '" + spec.name + "' of dtype " + spec.dtype +
                   " is not supported");
    }
    if (cuda) {
      void *p = cuda->alloc(bytes);
      if (!p)
        return error("input '" + spec.name + "': out of device memory");
      deviceInputs.push_back(p);
      std::string why = cuda->upload(p, data, bytes);
      if (!why.empty())
        return error("input '" + spec.name + "': " + why);
      data = p;
    }
    descriptors.push_back(descriptor(data, sizes));
    argv.push_back(descriptors.back().data());
    return nullptr;
  };
  ints.reserve(e.args.size());
  ints32.reserve(e.args.size());
  for (const ValueSpec &spec : e.args) {
    swaa_status *st = nullptr;
    if (spec.kind == "input" && spec.name == "input_ids") {
      st = intInput(spec, std::vector<int64_t>(tokens, tokens + B * N), {B, N});
    } else if (spec.kind == "input" && spec.name == "attention_mask") {
      st = intInput(spec, std::vector<int64_t>(B * (P + N), 1), {B, P + N});
    } else if (spec.kind == "input" && spec.name == "position_ids") {
      std::vector<int64_t> ids(B * N);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < N; ++i)
          ids[b * N + i] = P + i;
      st = intInput(spec, std::move(ids), {B, N});
    } else if (spec.kind == "input") {
      st = error("the model takes an input '" + spec.name +
                 "' that the runtime does not know how to fill (it fills "
                 "input_ids, attention_mask and position_ids)");
    } else if (spec.kind == "weight") {
      const Weight &w = m.weights.at(spec.name);
      descriptors.push_back(
          descriptor(cuda ? m.deviceWeights.at(spec.name) : w.data, w.shape));
      argv.push_back(descriptors.back().data());
    } else if (spec.kind == "cache") {
      if (cache >= s->caches.size())
        st = error("the entry declares more caches than the model");
      else {
        const CacheSpec &c = m.caches[cache];
        descriptors.push_back(descriptor(
            cuda ? s->deviceCaches[cache] : (void *)s->caches[cache].data(),
            {B, c.heads, s->cacheSlots[cache], c.headDim}));
        argv.push_back(descriptors.back().data());
        ++cache;
      }
    } else if (spec.kind == "position") {
      argv.push_back(&position);
    } else {
      st = error("argument kind '" + spec.kind + "' cannot be passed");
    }
    if (st)
      return st;
  }
  // The logits come back as one rank-3 descriptor.
  std::vector<int64_t> result(3 + 2 * 3, 0);
  profileState = ProfileState();
  profileState.on = s->profiling;
  if (cuda) {
    cuda->enter();
    e.fn(argv.data(), result.data());
    std::string why = cuda->finish();
    if (!why.empty()) {
      cuda->free((void *)(intptr_t)result[0]);
      return error("the model's CUDA code failed: " + why);
    }
  } else {
    e.fn(argv.data(), result.data());
  }
  profileState.on = false;
  s->profile.attention += profileState.total[0];
  s->profile.kv_cache += profileState.total[1];
  s->profile.matmul += profileState.total[2];
  s->profile.other += profileState.total[3];
  float *aligned = (float *)(intptr_t)result[1];
  void *allocated = (void *)(intptr_t)result[0];
  int64_t offset = result[2], sizes[3] = {result[3], result[4], result[5]},
          strides[3] = {result[6], result[7], result[8]};
  auto release = [&] {
    if (cuda)
      cuda->free(allocated);
    else if (m.pooled)
      poolFree(allocated);
    else
      free(allocated);
  };
  if (!aligned || sizes[0] != B || sizes[1] != N ||
      sizes[2] != (int64_t)m.vocab) {
    release();
    return error("the compiled code returned logits of shape [" +
                 std::to_string(sizes[0]) + ", " + std::to_string(sizes[1]) +
                 ", " + std::to_string(sizes[2]) + "], expected [" +
                 std::to_string(B) + ", " + std::to_string(N) + ", " +
                 std::to_string(m.vocab) + "]");
  }
  std::vector<float> hostCopy;
  if (cuda) {
    // The span of elements the descriptor reaches, copied back.
    int64_t extent = offset + 1;
    for (int d = 0; d < 3; ++d)
      extent += (sizes[d] - 1) * strides[d];
    hostCopy.resize((size_t)extent);
    std::string why = cuda->download(hostCopy.data(), aligned,
                                     hostCopy.size() * sizeof(float));
    if (!why.empty()) {
      release();
      return error("reading the logits back: " + why);
    }
    aligned = hostCopy.data();
  }
  s->logits.resize((size_t)(B * N) * m.vocab);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < N; ++i)
      for (int64_t v = 0; v < (int64_t)m.vocab; ++v)
        s->logits[(b * N + i) * m.vocab + v] =
            aligned[offset + b * strides[0] + i * strides[1] + v * strides[2]];
  release();
  s->logitRows = n;
  return nullptr;
}
} // namespace

extern "C" {

swaa_status *swaa_session_prefill(swaa_session *s, const int64_t *tokens,
                                  size_t n) {
  if (!s || !tokens)
    return error("swaa_session_prefill: null argument");
  if (n == 0)
    return error("swaa_session_prefill: empty prompt");
  if (n > s->maxContext)
    return error("prompt of " + std::to_string(n) +
                 " tokens exceeds the session's max context of " +
                 std::to_string(s->maxContext));
  swaa_session_reset(s);
  if (swaa_status *st = run(s, s->model->prefill, tokens, n, 0))
    return st;
  s->position = n;
  s->started = true;
  if (!s->model->hasDecode)
    s->tokens.assign(tokens, tokens + s->batch * n);
  return nullptr;
}

swaa_status *swaa_session_decode(swaa_session *s, const int64_t *tokens) {
  if (!s || !tokens)
    return error("swaa_session_decode: null argument");
  if (!s->started)
    return error("swaa_session_decode: no sequence: call prefill first");
  if (s->position + 1 > s->maxContext)
    return error("decode at position " + std::to_string(s->position) +
                 " exceeds the session's max context of " +
                 std::to_string(s->maxContext));
  if (!s->model->hasDecode) {
    // A model exported without past key/values: prefill the whole sequence
    // again and keep its last row (correct, O(n) work per token).
    size_t n = s->position + 1, B = s->batch;
    std::vector<int64_t> seq(B * n);
    for (size_t b = 0; b < B; ++b) {
      std::copy(s->tokens.begin() + b * (n - 1),
                s->tokens.begin() + (b + 1) * (n - 1), seq.begin() + b * n);
      seq[b * n + n - 1] = tokens[b];
    }
    if (swaa_status *st = run(s, s->model->prefill, seq.data(), n, 0))
      return st;
    size_t V = s->model->vocab;
    std::vector<float> last(B * V);
    for (size_t b = 0; b < B; ++b)
      std::copy(s->logits.begin() + (b * n + n - 1) * V,
                s->logits.begin() + (b * n + n) * V, last.begin() + b * V);
    s->logits = std::move(last);
    s->logitRows = 1;
    s->tokens = std::move(seq);
    s->position = n;
    return nullptr;
  }
  if (swaa_status *st = run(s, s->model->decode, tokens, 1, s->position))
    return st;
  s->position += 1;
  return nullptr;
}

} // extern "C"
