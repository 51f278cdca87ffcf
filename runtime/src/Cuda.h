//===- Cuda.h - the runtime's CUDA back end ---------------------*- C++ -*-===//
//
// The runtime never links libcuda: it opens `libcuda.so.1` with dlopen when
// a CUDA artifact is loaded, so the library (and every CPU artifact) loads
// on machines without an NVIDIA driver, and a CUDA artifact there fails with
// a one-line status.
//
// A CUDA artifact's model.so is host code compiled by swaa-compile: it
// calls MLIR's GPU runtime ABI (mgpuLaunchKernel, mgpuMemAlloc, ...) through
// pointers `swaa_gpu_<name>` that this back end sets (Device::bind), and
// loads its kernels (an embedded fat binary) when `swaa_gpu_load` runs.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_RUNTIME_CUDA_H
#define SWAA_RUNTIME_CUDA_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace swaa::cuda {

struct Driver;

/// One device context with its stream, kernels and memory pool, used by one
/// model and its sessions.
class Device {
public:
  /// Opens the driver and the first device; "" on success, else one line
  /// that names what is missing (the driver, a device) and why.
  std::string open();
  ~Device();

  /// Sets every `swaa_gpu_<name>` pointer that `library` (a dlopen handle)
  /// imports; fails naming a function this back end does not provide.
  std::string bind(void *library);
  /// Runs the code's `swaa_gpu_load` (loads the kernels).
  std::string load(void *library);

  /// Device memory; `free` returns blocks to a pool (reused for the same
  /// size: the work is ordered on one stream).
  void *alloc(size_t bytes);
  void free(void *p);
  std::string upload(void *dst, const void *src, size_t bytes);
  std::string download(void *dst, const void *src, size_t bytes);
  std::string zero(void *dst, size_t bytes);

  /// Makes this device current for the calling thread (the mgpu* functions
  /// act on it) and holds it until `finish`, which synchronizes and returns
  /// the first error since: sessions of one model on several threads take
  /// turns on the device.
  void enter();
  std::string finish();

  /// "NVIDIA H100 (sm_90)".
  const std::string &name() const { return deviceName; }

  // What the mgpu* functions use.
  const Driver *driver = nullptr;
  void *context = nullptr, *stream = nullptr;
  std::vector<void *> modules;
  std::map<std::pair<void *, std::string>, void *> functions;
  std::string error;
  void record(int result, const char *what);

private:
  int device = 0;
  bool retained = false;
  std::string deviceName;
  std::recursive_mutex lock;
  std::multimap<size_t, void *> pool;
  std::map<void *, size_t> sizes;
  void *unload = nullptr;
};

} // namespace swaa::cuda

#endif // SWAA_RUNTIME_CUDA_H
