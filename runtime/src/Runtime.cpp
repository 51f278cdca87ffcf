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

#include "Artifact.h"
#include "Cuda.h"
#include "Json.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
// after layer; malloc serves blocks that large with fresh mappings that the
// kernel faults in and zeroes page by page each time (SmolLM2's window-512
// prefill at 8k: 324 tokens/s so, 400 with the pages reused). Large blocks
// come instead from an arena: one reserved range of address space, committed
// as it grows, whose freed ranges merge with their free neighbours and serve
// the next requests first fit by address. So the attention's 18 MiB buffers
// and the MLP's 48 MiB ones reuse the same pages, and the arena grows only
// when no free range holds a request: its extent is the peak of the blocks
// in use plus fragmentation (SmolLM2's 8k prefill: 187 MiB for a peak of
// 166). At the end of each call the free ranges' pages past the arena's
// first 64 MiB go back to the system (the address space stays), so between
// calls the arena holds little more than the blocks in use, and a call
// faults each page in once instead of once per layer. Small
// blocks, and any block when the reservation fails or is full, go to malloc.
//===----------------------------------------------------------------------===//

namespace {
class BlockPool {
public:
  /// Blocks from this size on come from the arena.
  static constexpr size_t kLarge = 64 << 10;
  /// Room before each block for its size, keeping 64-byte alignment.
  static constexpr size_t kHeader = 64;
  /// The arena commits in steps of this (a transparent huge page).
  static constexpr size_t kStep = 2 << 20;
  /// The bottom of the arena that stays resident between calls.
  static constexpr size_t kKeep = 64 << 20;
  /// SWAA_ARENA=0 turns the arena off (every block from malloc).
  static bool arenaOn() {
    static const bool on = [] {
      const char *env = std::getenv("SWAA_ARENA");
      return !(env && std::strcmp(env, "0") == 0);
    }();
    return on;
  }

  void *allocate(size_t size, size_t alignment) {
    if (alignment > kHeader || size > (SIZE_MAX >> 2))
      return nullptr; // the compiled code asks for at most 64
    size_t total = roundUp(size + kHeader, 4096);
    if (size >= kLarge && arenaOn()) {
      std::lock_guard<std::mutex> lock(mu);
      if (char *block = takeFree(total)) {
        *(size_t *)block = total;
        touched = std::max(touched, (size_t)(block + total - base));
        return block + kHeader;
      }
    }
    char *block = (char *)std::aligned_alloc(kHeader, total);
    if (!block)
      return nullptr;
    *(size_t *)block = 0; // not from the arena
    return block + kHeader;
  }

  void release(void *p) {
    if (!p)
      return;
    char *block = (char *)p - kHeader;
    size_t total = *(size_t *)block;
    if (total == 0) {
      std::free(block);
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    giveBack(block, total);
  }

  /// The end of a call: the pages of the free ranges past the first kKeep
  /// bytes of the arena go back to the system (a decode step's blocks,
  /// first fit from the bottom, stay resident: dropping them cost a huge
  /// page fault per step, 16% of SmolLM2's decode). Only pages touched since
  /// the last drop are dropped.
  void dropFreePages() {
    std::lock_guard<std::mutex> lock(mu);
    if (!base || touched <= kKeep)
      return;
    char *floor = base + kKeep, *ceiling = base + touched;
    for (const auto &[at, len] : freeRanges) {
      char *from = std::max((char *)roundUp((uintptr_t)at, 4096), floor);
      char *to = std::min((char *)((uintptr_t)(at + len) / 4096 * 4096),
                          ceiling);
      if (to > from)
        madvise(from, (size_t)(to - from), MADV_DONTNEED);
    }
    touched = kKeep;
  }

  /// Unmaps the arena when no block is in use (the last model is gone):
  /// then one free range spans everything committed.
  void trim() {
    std::lock_guard<std::mutex> lock(mu);
    if (!base || top == 0 || freeRanges.size() != 1 ||
        freeRanges.begin()->first != base ||
        freeRanges.begin()->second != top)
      return;
    munmap(base, reserved);
    base = nullptr;
    reserved = top = touched = 0;
    freeRanges.clear();
  }

private:
  static size_t roundUp(size_t n, size_t unit) {
    return (n + unit - 1) / unit * unit;
  }

  /// The first free range by address that holds `total` bytes, split; the
  /// arena grows when none does. Null when the arena cannot give it.
  char *takeFree(size_t total) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      for (auto it = freeRanges.begin(); it != freeRanges.end(); ++it) {
        if (it->second < total)
          continue;
        char *at = it->first;
        size_t rest = it->second - total;
        freeRanges.erase(it);
        if (rest)
          freeRanges.emplace(at + total, rest);
        return at;
      }
      if (attempt == 0 && !grow(total))
        return nullptr;
    }
    return nullptr;
  }

  /// A free range back, merged with the free ranges next to it.
  void giveBack(char *at, size_t len) {
    auto next = freeRanges.lower_bound(at);
    if (next != freeRanges.end() && at + len == next->first) {
      len += next->second;
      next = freeRanges.erase(next);
    }
    if (next != freeRanges.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == at) {
        prev->second += len;
        return;
      }
    }
    freeRanges.emplace(at, len);
  }

  /// Commits the pages past the top so that `total` bytes fit there (with
  /// the free range that ends at the top, if one does).
  bool grow(size_t total) {
    if (!base && !reserve())
      return false;
    size_t tail = 0;
    if (!freeRanges.empty()) {
      auto last = std::prev(freeRanges.end());
      if (last->first + last->second == base + top)
        tail = last->second;
    }
    size_t add = roundUp(total - tail, kStep);
    if (add > reserved - top)
      return false;
    if (mprotect(base + top, add, PROT_READ | PROT_WRITE) != 0)
      return false;
#ifdef MADV_HUGEPAGE
    madvise(base + top, add, MADV_HUGEPAGE); // fewer faults; only a hint
#endif
    giveBack(base + top, add);
    top += add;
    return true;
  }

  /// Reserves address space (no memory: PROT_NONE), as much as the process
  /// may map, from 1 TiB down to 1 GiB.
  bool reserve() {
    if (reserveFailed)
      return false;
    for (size_t len = size_t(1) << 40; len >= (size_t(1) << 30); len /= 4) {
      void *at = mmap(nullptr, len, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (at != MAP_FAILED) {
        base = (char *)at;
        reserved = len;
        return true;
      }
    }
    reserveFailed = true;
    return false;
  }

  std::mutex mu;
  char *base = nullptr;   // the reservation
  size_t reserved = 0;    // its length
  size_t top = 0;         // committed: [base, base + top)
  size_t touched = 0;     // blocks handed out since the last drop end below
  bool reserveFailed = false;
  std::map<char *, size_t> freeRanges; // address -> length, none adjacent
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
using swaa::artifact::checkedMul;
using swaa::artifact::dtypeWidth;
using swaa::artifact::EntrySpec;
using swaa::artifact::ValueSpec;

/// The status of an allocation that failed while reporting an error: never
/// freed (swaa_status_free knows it).
swaa_status outOfMemory{"out of memory"};

swaa_status *error(const std::string &message) noexcept {
  try {
    return new swaa_status{message};
  } catch (...) {
    return &outOfMemory;
  }
}

/// Runs the body of a C API entry point: no C++ exception crosses the C API
/// (an allocation that fails, anything thrown inside, becomes a status that
/// names the call).
template <typename Body>
swaa_status *guarded(const char *call, Body &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return error(std::string(call) + ": out of memory");
  } catch (const std::exception &e) {
    return error(std::string(call) + ": internal error: " + e.what());
  } catch (...) {
    return error(std::string(call) + ": internal error");
  }
}

struct Entry : EntrySpec {
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

// What the runtime reads, bounded: a manifest is small; code and weights
// are mapped or copied, never read from anything but a regular file.
constexpr uint64_t kMaxManifestBytes = uint64_t(64) << 20;
constexpr uint64_t kMaxCodeBytes = uint64_t(4) << 30;
constexpr uint64_t kMaxSignatureBytes = uint64_t(64) << 20;

/// Opens `path` for reading if it is a regular file of at most `limit`
/// bytes (a FIFO or device never blocks the load: O_NONBLOCK, then fstat).
/// Returns the descriptor, or -1 with `err` set.
int openRegular(const std::string &path, uint64_t limit, uint64_t &size,
                std::string &err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    err = path + ": cannot open: " + std::strerror(errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    err = path + ": not a regular file";
    return -1;
  }
  size = (uint64_t)st.st_size;
  if (size > limit) {
    ::close(fd);
    err = path + ": " + std::to_string(size) + " bytes, more than the " +
          std::to_string(limit) + " this runtime reads";
    return -1;
  }
  return fd;
}

bool readAll(int fd, char *out, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    ssize_t n =
        ::read(fd, out + done,
               (size_t)std::min<uint64_t>(size - done, uint64_t(1) << 24));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (uint64_t)n;
  }
  return true;
}

bool writeAll(int fd, const char *data, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    ssize_t n =
        ::write(fd, data + done,
                (size_t)std::min<uint64_t>(size - done, uint64_t(1) << 24));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += (uint64_t)n;
  }
  return true;
}

bool readRegularFile(const std::string &path, uint64_t limit, std::string &out,
                     std::string &err) {
  uint64_t size = 0;
  int fd = openRegular(path, limit, size, err);
  if (fd < 0)
    return false;
  out.resize((size_t)size);
  bool ok = readAll(fd, out.data(), size);
  ::close(fd);
  if (!ok)
    err = path + ": cannot read: " + std::strerror(errno);
  return ok;
}

/// The private copy of a model's code that dlopen loaded: kept open (a
/// memory file) or on disk (the fallback's temporary file) while the model
/// lives, so that no later load can get the same name: the dynamic loader
/// hands back an already loaded library of the same name.
struct CodeCopy {
  int fd = -1;
  std::string tmpFile;
  void release() {
    if (fd >= 0)
      ::close(fd);
    if (!tmpFile.empty())
      ::unlink(tmpFile.c_str());
    fd = -1;
    tmpFile.clear();
  }
};

/// dlopen of a private copy of `so`: a memory file (or a temporary file
/// where memfd_create or /proc is missing) that no other load shares. The
/// dynamic loader caches libraries by name and inode, so loading the same
/// path again after a recompile would otherwise hand back the old code.
void *loadPrivateCopy(const std::string &so, CodeCopy &copy, std::string &err) {
  uint64_t size = 0;
  int src = openRegular(so, kMaxCodeBytes, size, err);
  if (src < 0)
    return nullptr;
  std::string code((size_t)size, '\0');
  bool ok = readAll(src, code.data(), size);
  ::close(src);
  if (!ok) {
    err = so + ": cannot read: " + std::strerror(errno);
    return nullptr;
  }
  std::string path;
  int fd = memfd_create("swaa-model.so", MFD_CLOEXEC);
  if (fd >= 0) {
    path = "/proc/self/fd/" + std::to_string(fd);
    if (::access(path.c_str(), R_OK) != 0) { // no /proc
      ::close(fd);
      fd = -1;
    }
  }
  copy.fd = fd;
  if (fd < 0) {
    const char *tmpdir = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") +
                       "/swaa-model-XXXXXX.so";
    fd = mkstemps(tmpl.data(), 3);
    if (fd < 0) {
      err = so + ": cannot make a private copy of the code in " + tmpl + ": " +
            std::strerror(errno);
      return nullptr;
    }
    path = copy.tmpFile = tmpl;
    copy.fd = fd;
  }
  void *library = nullptr;
  if (!writeAll(fd, code.data(), size)) {
    err = so +
          ": cannot make a private copy of the code: " + std::strerror(errno);
  } else {
    library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = dlerror();
      std::string text = why ? why : "unknown error";
      // The loader names the copy; the user's file is `so`.
      for (size_t at; (at = text.find(path)) != std::string::npos;)
        text.replace(at, path.size(), "model.so");
      err = so + ": cannot load: " + text;
    }
  }
  if (!library)
    copy.release();
  return library;
}

/// Bytes of memory a session may hold on this machine: physical memory, or
/// the cgroup's limit where one is set and smaller.
uint64_t memoryLimit() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  uint64_t limit =
      pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_MAX;
  std::string text, err;
  if (readRegularFile("/sys/fs/cgroup/memory.max", 64, text, err)) {
    char *end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (end != text.c_str() && v > 0 && v < limit)
      limit = (uint64_t)v;
  }
  return limit;
}

std::string mib(uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", (double)bytes / (1 << 20));
  return buf;
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
  /// The caller's reference and one per live session: swaa_model_free
  /// drops the caller's, the last session freed deletes the model.
  std::atomic<size_t> refs{1};
  std::string dir, recipe;
  /// The CUDA back end's device (CUDA artifacts only), and the weights'
  /// device copies by name.
  std::unique_ptr<swaa::cuda::Device> cuda;
  std::map<std::string, void *> deviceWeights;
  void *library = nullptr;
  CodeCopy code;
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
    code.release();
    if (weightsMap)
      munmap(weightsMap, weightsSize);
  }
};

namespace {
void releaseModel(swaa_model *m) {
  if (m->refs.fetch_sub(1) != 1)
    return;
  delete m;
  std::lock_guard<std::mutex> lock(modelCountMutex);
  if (--modelCount == 0)
    blockPool().trim();
}
} // namespace

struct swaa_session {
  swaa_model *model = nullptr;
  size_t maxContext = 0, batch = 1, position = 0;
  bool started = false;
  /// One buffer per model cache, [batch, heads, slots, head_dim] of the
  /// cache's dtype (F32, or BF16/F16 with --dtype): zeroed pages mapped on
  /// the host (touched only as the cache fills), or device memory (CUDA).
  std::vector<void *> caches;
  std::vector<size_t> cacheBytes;
  std::vector<int64_t> cacheSlots;
  std::vector<float> logits;
  size_t logitRows = 0;
  /// swaa_session_options::all_logits: prefill keeps every row's logits.
  bool allLogits = false;
  /// The sequence so far, for models without a decode program (decode
  /// re-runs prefill over it).
  std::vector<int64_t> tokens;
  bool profiling = false;
  swaa_profile profile = {0, 0, 0, 0};

  ~swaa_session() {
    for (size_t i = 0; i < caches.size(); ++i) {
      if (model->cuda)
        model->cuda->free(caches[i]);
      else
        munmap(caches[i], cacheBytes[i]);
    }
    releaseModel(model);
  }
};

namespace {
swaa_status *loadWeights(swaa_model &m, const std::string &path) {
  std::string err;
  uint64_t size = 0;
  int fd = openRegular(path, UINT64_MAX, size, err);
  if (fd < 0)
    return error(err);
  if (size < 8) {
    ::close(fd);
    return error(path + ": not a safetensors file (too short)");
  }
  m.weightsSize = (size_t)size;
  m.weightsMap = mmap(nullptr, m.weightsSize, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m.weightsMap == MAP_FAILED) {
    m.weightsMap = nullptr;
    return error(path + ": cannot map: " + std::strerror(errno));
  }
  const unsigned char *bytes = (const unsigned char *)m.weightsMap;
  std::map<std::string, swaa::artifact::Tensor> tensors;
  if (!swaa::artifact::parseSafetensors(bytes, m.weightsSize, tensors, err))
    return error(path + ": " + err);
  for (auto &[name, t] : tensors)
    m.weights[name] = Weight{(const char *)bytes + t.offset, t.dtype, t.shape};
  return nullptr;
}

/// Binds the manifest's entry `name` to the code and checks what it takes
/// against the weights and what the runtime can fill.
swaa_status *bindEntry(swaa_model &m, const EntrySpec &spec,
                       const std::string &name, const void *codeBase,
                       Entry &e) {
  static_cast<EntrySpec &>(e) = spec;
  e.fn = (void (*)(void **, void *))dlsym(m.library, e.symbol.c_str());
  Dl_info info;
  if (!e.fn || !dladdr((void *)e.fn, &info) || info.dli_fbase != codeBase)
    return error(m.dir + "/model.so: no symbol '" + e.symbol + "'");
  for (size_t i = 0; i < e.args.size(); ++i) {
    const ValueSpec &s = e.args[i];
    if (s.kind == "input") {
      if (s.name != "input_ids" && s.name != "attention_mask" &&
          s.name != "position_ids")
        return error(m.dir + "/manifest.json: " + name + " takes an input '" +
                     s.name +
                     "' that the runtime does not know how to fill (it "
                     "fills input_ids, attention_mask and position_ids)");
      if ((s.dtype != "I64" && s.dtype != "I32") || s.shape.size() != 2)
        return error(m.dir + "/manifest.json: " + name + " input '" + s.name +
                     "' must be I64 or I32 [batch, seq]");
      continue;
    }
    if (s.kind != "weight")
      continue;
    auto it = m.weights.find(s.name);
    if (it == m.weights.end())
      return error(m.dir + "/weights.safetensors: no tensor '" + s.name +
                   "' that " + name + " needs");
    if (std::find(s.shape.begin(), s.shape.end(), -1) != s.shape.end())
      return error(m.dir + "/manifest.json: weight '" + s.name +
                   "' has a dynamic shape");
    if (it->second.dtype != s.dtype || it->second.shape != s.shape) {
      ValueSpec have = s;
      have.dtype = it->second.dtype;
      have.shape = it->second.shape;
      return error(m.dir + "/weights.safetensors: tensor '" + s.name + "' is " +
                   have.describe() + ", the code expects " + s.describe());
    }
  }
  return nullptr;
}

swaa_status *loadModel(const char *dirC, swaa_model **out) {
  if (!dirC || !out)
    return error("swaa_model_load: null argument");
  *out = nullptr;
  auto m = std::make_unique<swaa_model>();
  m->dir = dirC;
  std::string text, err;
  {
    std::string path = m->dir + "/manifest.json";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return error(m->dir +
                   ": not a swaa artifact (no readable manifest.json)");
    if (!readRegularFile(path, kMaxManifestBytes, text, err))
      return error(err);
  }
  swaa::artifact::Manifest manifest;
  if (!swaa::artifact::parseManifest(text, SWAA_ARTIFACT_FORMAT_VERSION,
                                     manifest, err))
    return error(m->dir + "/" + err);
  if (manifest.target == "cuda") {
    // The device before anything else: without one, say so in one line.
    m->cuda = std::make_unique<swaa::cuda::Device>();
    std::string why = m->cuda->open();
    if (!why.empty()) {
      m->cuda.reset();
      return error(m->dir + ": needs a CUDA GPU: " + why);
    }
  }
  m->recipe = manifest.recipe;
  m->layers = manifest.layers;

  if (swaa_status *s = loadWeights(*m, m->dir + "/weights.safetensors"))
    return s;
  std::string so = m->dir + "/model.so";
  m->library = loadPrivateCopy(so, m->code, err);
  if (!m->library)
    return error(err);

  // The code's own description of its entries, compared with the
  // manifest's before anything is called.
  const char *signature = (const char *)dlsym(m->library, "swaa_signature");
  const int64_t *signatureSize =
      (const int64_t *)dlsym(m->library, "swaa_signature_size");
  Dl_info info;
  if (!signature || !signatureSize || !dladdr(signature, &info))
    return error(so + ": no signature (swaa_signature): not compiled by "
                      "this swaa-compile; recompile the model");
  const void *codeBase = info.dli_fbase;
  if (*signatureSize < 2 || (uint64_t)*signatureSize > kMaxSignatureBytes)
    return error(so + ": signature of " + std::to_string(*signatureSize) +
                 " bytes");
  std::map<std::string, EntrySpec> code;
  if (!swaa::artifact::parseSignature(
          std::string(signature, (size_t)*signatureSize),
          SWAA_ARTIFACT_FORMAT_VERSION, code, err))
    return error(m->dir + "/" + err);
  for (const auto &[name, e] : manifest.entries) {
    auto it = code.find(name);
    if (it == code.end())
      return error(m->dir + "/manifest.json: entry '" + name +
                   "' is not in model.so's signature");
    std::string diff = swaa::artifact::compareEntry(name, e, it->second);
    if (!diff.empty())
      return error(m->dir + "/manifest.json does not match model.so: " + diff);
  }
  for (const auto &[name, e] : code)
    if (!manifest.entries.count(name))
      return error(m->dir + "/manifest.json: no entry '" + name +
                   "', which model.so has");

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
  if (swaa_status *s = bindEntry(*m, manifest.entries.at("prefill"), "prefill",
                                 codeBase, m->prefill))
    return s;
  m->hasDecode = manifest.entries.count("decode") != 0;
  if (m->hasDecode)
    if (swaa_status *s = bindEntry(*m, manifest.entries.at("decode"), "decode",
                                   codeBase, m->decode))
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
        const CacheSpec *c = n < m->caches.size() ? &m->caches[n] : nullptr;
        if (!c || c->layer != s.layer || c->cache != s.cache ||
            c->policy != s.policy || c->dtype != s.dtype ||
            c->heads != s.shape[1] || c->headDim != s.shape[3] ||
            c->window != s.window || c->sinks != s.sinks)
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
        uint64_t bytes = 0;
        swaa::artifact::byteSize(w.shape, dtypeWidth(w.dtype), bytes);
        void *p = m->cuda->alloc((size_t)bytes);
        std::string why = p ? m->cuda->upload(p, w.data, (size_t)bytes)
                            : "out of device memory for the weights";
        if (p)
          m->deviceWeights[spec.name] = p;
        if (!why.empty())
          return error(m->dir + ": weight '" + spec.name + "': " + why);
      }
  }
  {
    std::lock_guard<std::mutex> lock(modelCountMutex);
    ++modelCount;
  }
  *out = m.release();
  return nullptr;
}

swaa_status *createSession(swaa_model *model,
                           const swaa_session_options *options,
                           swaa_session **out) {
  if (!model || !options || !out)
    return error("swaa_session_create: null argument");
  *out = nullptr;
  if (options->max_context < 1 || options->batch < 1)
    return error("swaa_session_create: max_context and batch must be at "
                 "least 1");
  // Every call's inputs hold batch x context tokens; that product bounds
  // every other size the runtime computes from them.
  uint64_t tokens = 0;
  if (!checkedMul(options->batch, options->max_context, tokens) ||
      tokens > (uint64_t(1) << 40))
    return error("swaa_session_create: batch " +
                 std::to_string(options->batch) + " x max_context " +
                 std::to_string(options->max_context) +
                 " tokens is more than any machine holds");
  // The caches' sizes, each product checked, before any allocation.
  std::vector<int64_t> slots;
  std::vector<uint64_t> bytes;
  uint64_t total = 0;
  for (const CacheSpec &c : model->caches) {
    int64_t n =
        c.policy == "ring" ? c.window + c.sinks : (int64_t)options->max_context;
    uint64_t b = 0;
    if (!swaa::artifact::byteSize(
            {(int64_t)options->batch, c.heads, n, c.headDim},
            dtypeWidth(c.dtype), b) ||
        __builtin_add_overflow(total, b, &total))
      return error("swaa_session_create: the KV cache's size overflows 64 "
                   "bits (lower max_context or batch)");
    slots.push_back(n);
    bytes.push_back(b);
  }
  if (!model->cuda) {
    uint64_t limit = memoryLimit();
    if (total > limit)
      return error("swaa_session_create: the KV cache needs " +
                   std::to_string(total) + " bytes (" + mib(total) +
                   ") for max_context " + std::to_string(options->max_context) +
                   " and batch " + std::to_string(options->batch) +
                   "; this machine has " + std::to_string(limit) + " bytes (" +
                   mib(limit) + ")");
  }
  auto s = std::make_unique<swaa_session>();
  s->model = model;
  model->refs.fetch_add(1);
  s->maxContext = options->max_context;
  s->batch = options->batch;
  s->allLogits = options->all_logits != 0;
  s->cacheSlots = slots;
  for (size_t i = 0; i < bytes.size(); ++i) {
    void *p = nullptr;
    std::string why;
    if (model->cuda) {
      p = model->cuda->alloc((size_t)bytes[i]);
      why = p ? model->cuda->zero(p, (size_t)bytes[i]) : "out of device memory";
    } else {
      // Zeroed pages, aligned for any element type, committed as the cache
      // fills.
      p = mmap(nullptr, (size_t)bytes[i], PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) {
        p = nullptr;
        why = std::strerror(errno);
      }
    }
    if (p) {
      s->caches.push_back(p);
      s->cacheBytes.push_back((size_t)bytes[i]);
    }
    if (!why.empty())
      return error("swaa_session_create: KV cache of " +
                   std::to_string(bytes[i]) + " bytes (" + mib(bytes[i]) +
                   "): " + why);
  }
  *out = s.release();
  return nullptr;
}
} // namespace

extern "C" {

const char *swaa_status_message(const swaa_status *status) {
  return status ? status->message.c_str() : "ok";
}

void swaa_status_free(swaa_status *status) {
  if (status != &outOfMemory)
    delete status;
}

swaa_status *swaa_model_load(const char *dir, swaa_model **out) {
  return guarded("swaa_model_load", [&] { return loadModel(dir, out); });
}

void swaa_model_free(swaa_model *model) {
  if (model)
    releaseModel(model);
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
  return guarded("swaa_session_create", [&] {
    // The session holds a reference: the handle is shared, not changed.
    return createSession(const_cast<swaa_model *>(model), options, out);
  });
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
/// Token ids outside the vocabulary, checked before a call changes anything.
swaa_status *checkTokens(const swaa_session *s, const int64_t *tokens,
                         size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (tokens[i] < 0 || (uint64_t)tokens[i] >= s->model->vocab)
      return error("token id " + std::to_string(tokens[i]) +
                   " is outside the vocabulary (0.." +
                   std::to_string(s->model->vocab - 1) + ")");
  return nullptr;
}

/// Runs `e` for `n` tokens per batch row at `pos`, keeping the logits of
/// rows [from, n). An entry with a `logits_from` argument computes only
/// those rows; one without (an older artifact, a model whose logits the
/// compiler could not slice) computes all of them and the rows before
/// `from` are dropped here. `ran` is set once the compiled code has run (it
/// updated the caches): a failure before that leaves the session as it was.
swaa_status *run(swaa_session *s, const Entry &e, const int64_t *tokens,
                 size_t n, size_t pos, size_t from, bool &ran) {
  ran = false;
  const swaa_model &m = *s->model;
  int64_t B = (int64_t)s->batch, N = (int64_t)n, P = (int64_t)pos;
  int64_t from64 = (int64_t)from;
  bool sliced = false;
  for (const ValueSpec &spec : e.args)
    sliced = sliced || spec.kind == "logits_from";
  int64_t returned = sliced ? N - from64 : N, kept = N - from64;
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
    } else {
      ints32.emplace_back(values.begin(), values.end());
      data = ints32.back().data();
      bytes = ints32.back().size() * sizeof(int32_t);
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
    } else if (spec.kind == "input") { // position_ids (checked at load)
      std::vector<int64_t> ids(B * N);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < N; ++i)
          ids[b * N + i] = P + i;
      st = intInput(spec, std::move(ids), {B, N});
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
            s->caches[cache], {B, c.heads, s->cacheSlots[cache], c.headDim}));
        argv.push_back(descriptors.back().data());
        ++cache;
      }
    } else if (spec.kind == "logits_from") {
      argv.push_back(&from64);
    } else { // position
      argv.push_back(&position);
    }
    if (st)
      return st;
  }
  // The logits' room, before the call: an allocation that fails here
  // leaves the session as it was.
  uint64_t logitCount = 0;
  if (!checkedMul((uint64_t)(B * kept), m.vocab, logitCount))
    return error("the logits of this call overflow 64 bits");
  std::vector<float> logits((size_t)logitCount);
  // The logits come back as one rank-3 descriptor.
  std::vector<int64_t> result(3 + 2 * 3, 0);
  profileState = ProfileState();
  profileState.on = s->profiling;
  ran = true;
  // However the call ends, the arena's free pages go back to the system.
  struct DropFreePages {
    bool pooled;
    ~DropFreePages() {
      if (pooled)
        blockPool().dropFreePages();
    }
  } dropFreePages{m.pooled};
  if (cuda) {
    cuda->enter();
    e.fn(argv.data(), result.data());
    std::string why = cuda->finish();
    if (!why.empty()) {
      profileState.on = false;
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
  if (!aligned || sizes[0] != B || sizes[1] != returned ||
      sizes[2] != (int64_t)m.vocab) {
    release();
    return error("the compiled code returned logits of shape [" +
                 std::to_string(sizes[0]) + ", " + std::to_string(sizes[1]) +
                 ", " + std::to_string(sizes[2]) + "], expected [" +
                 std::to_string(B) + ", " + std::to_string(returned) + ", " +
                 std::to_string(m.vocab) + "]");
  }
  std::vector<float> hostCopy;
  if (cuda) {
    // The span of elements the descriptor reaches, copied back.
    int64_t extent = offset + 1;
    for (int d = 0; d < 3; ++d)
      extent += (sizes[d] - 1) * strides[d];
    try {
      hostCopy.resize((size_t)extent);
    } catch (...) {
      release();
      throw;
    }
    std::string why = cuda->download(hostCopy.data(), aligned,
                                     hostCopy.size() * sizeof(float));
    if (!why.empty()) {
      release();
      return error("reading the logits back: " + why);
    }
    aligned = hostCopy.data();
  }
  int64_t skip = returned - kept; // rows computed but not asked for
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < kept; ++i)
      for (int64_t v = 0; v < (int64_t)m.vocab; ++v)
        logits[(b * kept + i) * m.vocab + v] =
            aligned[offset + b * strides[0] + (i + skip) * strides[1] +
                    v * strides[2]];
  release();
  s->logits = std::move(logits);
  s->logitRows = (size_t)kept;
  return nullptr;
}

/// A call that failed after the compiled code ran: the caches hold part of
/// a step, so the sequence is gone and the status says so.
swaa_status *lostSequence(swaa_session *s, swaa_status *st) {
  swaa_session_reset(s);
  st->message += " (the session's sequence is lost: prefill again)";
  return st;
}

swaa_status *prefill(swaa_session *s, const int64_t *tokens, size_t n) {
  if (!s || !tokens)
    return error("swaa_session_prefill: null argument");
  if (n == 0)
    return error("swaa_session_prefill: empty prompt");
  if (n > s->maxContext)
    return error("prompt of " + std::to_string(n) +
                 " tokens exceeds the session's max context of " +
                 std::to_string(s->maxContext));
  if (swaa_status *st = checkTokens(s, tokens, s->batch * n))
    return st;
  std::vector<int64_t> sequence;
  if (!s->model->hasDecode)
    sequence.assign(tokens, tokens + s->batch * n);
  bool ran = false;
  if (swaa_status *st = run(s, s->model->prefill, tokens, n, 0,
                            s->allLogits ? 0 : n - 1, ran))
    return ran ? lostSequence(s, st) : st;
  s->position = n;
  s->started = true;
  s->tokens = std::move(sequence);
  return nullptr;
}

swaa_status *decode(swaa_session *s, const int64_t *tokens) {
  if (!s || !tokens)
    return error("swaa_session_decode: null argument");
  if (!s->started)
    return error("swaa_session_decode: no sequence: call prefill first");
  if (s->position + 1 > s->maxContext)
    return error("decode at position " + std::to_string(s->position) +
                 " exceeds the session's max context of " +
                 std::to_string(s->maxContext));
  if (swaa_status *st = checkTokens(s, tokens, s->batch))
    return st;
  bool ran = false;
  if (!s->model->hasDecode) {
    // A model exported without past key/values: prefill the whole sequence
    // again and keep its last row (correct, O(n) work per token). No cache
    // is changed, so a failure leaves the session as it was.
    size_t n = s->position + 1, B = s->batch;
    std::vector<int64_t> seq(B * n);
    for (size_t b = 0; b < B; ++b) {
      std::copy(s->tokens.begin() + b * (n - 1),
                s->tokens.begin() + (b + 1) * (n - 1), seq.begin() + b * n);
      seq[b * n + n - 1] = tokens[b];
    }
    if (swaa_status *st =
            run(s, s->model->prefill, seq.data(), n, 0, n - 1, ran))
      return st;
    s->tokens = std::move(seq);
    s->position = n;
    return nullptr;
  }
  if (swaa_status *st =
          run(s, s->model->decode, tokens, 1, s->position, 0, ran))
    return ran ? lostSequence(s, st) : st;
  s->position += 1;
  return nullptr;
}
} // namespace

extern "C" {

swaa_status *swaa_session_prefill(swaa_session *s, const int64_t *tokens,
                                  size_t n) {
  return guarded("swaa_session_prefill", [&] { return prefill(s, tokens, n); });
}

swaa_status *swaa_session_decode(swaa_session *s, const int64_t *tokens) {
  return guarded("swaa_session_decode", [&] { return decode(s, tokens); });
}

} // extern "C"
