//===- Cuda.cpp - the runtime's CUDA back end -----------------------------===//
//
// The CUDA driver API through dlopen (the few functions used, declared here
// with the driver's ABI), and the mgpu* functions that the compiled host
// code calls.
//
//===----------------------------------------------------------------------===//

#include "Cuda.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>

namespace swaa::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

struct Driver {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(void **, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(void *);
  CUresult (*cuStreamCreate)(void **, unsigned);
  CUresult (*cuStreamDestroy)(void *);
  CUresult (*cuStreamSynchronize)(void *);
  CUresult (*cuModuleLoadData)(void **, const void *);
  CUresult (*cuModuleUnload)(void *);
  CUresult (*cuModuleGetFunction)(void **, void *, const char *);
  CUresult (*cuLaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, void *, void **,
                             void **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, void *);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemsetD8)(CUdeviceptr, unsigned char, size_t);

  /// "" or what is missing.
  std::string open() {
    // SWAA_CUDA_DRIVER: another driver library (tests use a stub).
    const char *path = std::getenv("SWAA_CUDA_DRIVER");
    if (!path || !*path)
      path = "libcuda.so.1";
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      return std::string("no CUDA driver: cannot load ") + path + " (" +
             (why ? why : "unknown error") + ")";
    }
    std::string missing;
    auto sym = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(handle, name));
      if (!fn && missing.empty())
        missing = name;
    };
    sym(cuInit, "cuInit");
    sym(cuGetErrorName, "cuGetErrorName");
    sym(cuGetErrorString, "cuGetErrorString");
    sym(cuDeviceGetCount, "cuDeviceGetCount");
    sym(cuDeviceGet, "cuDeviceGet");
    sym(cuDeviceGetName, "cuDeviceGetName");
    sym(cuDeviceGetAttribute, "cuDeviceGetAttribute");
    sym(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    sym(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    sym(cuCtxSetCurrent, "cuCtxSetCurrent");
    sym(cuStreamCreate, "cuStreamCreate");
    sym(cuStreamDestroy, "cuStreamDestroy_v2");
    sym(cuStreamSynchronize, "cuStreamSynchronize");
    sym(cuModuleLoadData, "cuModuleLoadData");
    sym(cuModuleUnload, "cuModuleUnload");
    sym(cuModuleGetFunction, "cuModuleGetFunction");
    sym(cuLaunchKernel, "cuLaunchKernel");
    sym(cuMemAlloc, "cuMemAlloc_v2");
    sym(cuMemFree, "cuMemFree_v2");
    sym(cuMemcpyAsync, "cuMemcpyAsync");
    sym(cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    sym(cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    sym(cuMemsetD8, "cuMemsetD8_v2");
    if (!missing.empty())
      return std::string("the CUDA driver ") + path + " lacks " + missing +
             " (too old?)";
    return "";
  }

  std::string describe(CUresult r) const {
    const char *name = nullptr, *text = nullptr;
    if (cuGetErrorName)
      cuGetErrorName(r, &name);
    if (cuGetErrorString)
      cuGetErrorString(r, &text);
    std::string s = name ? name : "CUDA error " + std::to_string(r);
    if (text)
      s += std::string(" (") + text + ")";
    return s;
  }
};

namespace {
/// The device the calling thread's compiled code acts on.
thread_local Device *current = nullptr;

//===----------------------------------------------------------------------===//
// MLIR's GPU runtime ABI (as gpu-to-llvm and the gpu.binary translation call
// it), on the current device
//===----------------------------------------------------------------------===//

void *mgpuStreamCreate() { return current->stream; }
void mgpuStreamDestroy(void *) {}
void mgpuStreamSynchronize(void *stream) {
  current->record(current->driver->cuStreamSynchronize(stream),
                  "cuStreamSynchronize");
}
void *mgpuModuleLoad(void *data, size_t) {
  void *module = nullptr;
  current->record(current->driver->cuModuleLoadData(&module, data),
                  "cuModuleLoadData (the kernels: is the artifact compiled "
                  "for this GPU's architecture?)");
  if (module)
    current->modules.push_back(module);
  return module;
}
void mgpuModuleUnload(void *module) {
  if (module)
    current->driver->cuModuleUnload(module);
}
void *mgpuModuleGetFunction(void *module, const char *name) {
  auto key = std::make_pair(module, std::string(name));
  auto it = current->functions.find(key);
  if (it != current->functions.end())
    return it->second;
  void *fn = nullptr;
  current->record(current->driver->cuModuleGetFunction(&fn, module, name),
                  "cuModuleGetFunction");
  current->functions[key] = fn;
  return fn;
}
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t) {
  if (!function || !current->error.empty())
    return;
  current->record(current->driver->cuLaunchKernel(
                      function, (unsigned)gridX, (unsigned)gridY,
                      (unsigned)gridZ, (unsigned)blockX, (unsigned)blockY,
                      (unsigned)blockZ, (unsigned)smem, stream, params, extra),
                  "cuLaunchKernel");
}
void *mgpuMemAlloc(uint64_t bytes, void *, bool) {
  return current->alloc(bytes);
}
void mgpuMemFree(void *p, void *) { current->free(p); }
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  current->record(current->driver->cuMemcpyAsync(
                      (CUdeviceptr)dst, (CUdeviceptr)src, bytes, stream),
                  "cuMemcpyAsync");
}

struct Import {
  const char *name;
  void *fn;
};
const Import imports[] = {
    {"mgpuStreamCreate", (void *)&mgpuStreamCreate},
    {"mgpuStreamDestroy", (void *)&mgpuStreamDestroy},
    {"mgpuStreamSynchronize", (void *)&mgpuStreamSynchronize},
    {"mgpuModuleLoad", (void *)&mgpuModuleLoad},
    {"mgpuModuleUnload", (void *)&mgpuModuleUnload},
    {"mgpuModuleGetFunction", (void *)&mgpuModuleGetFunction},
    {"mgpuLaunchKernel", (void *)&mgpuLaunchKernel},
    {"mgpuMemAlloc", (void *)&mgpuMemAlloc},
    {"mgpuMemFree", (void *)&mgpuMemFree},
    {"mgpuMemcpy", (void *)&mgpuMemcpy},
};
} // namespace

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

void Device::record(int result, const char *what) {
  if (result != CUDA_SUCCESS && error.empty())
    error = std::string(what) + ": " + driver->describe(result);
}

std::string Device::open() {
  static Driver shared;
  static std::string openError = shared.open();
  if (!openError.empty())
    return openError;
  driver = &shared;
  CUresult r = driver->cuInit(0);
  if (r != CUDA_SUCCESS)
    return "no CUDA device: cuInit failed with " + driver->describe(r);
  int count = 0;
  r = driver->cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS || count < 1)
    return "no CUDA device: the driver sees " + std::to_string(count) +
           " devices";
  CUdevice dev = 0;
  if ((r = driver->cuDeviceGet(&dev, 0)) != CUDA_SUCCESS)
    return "cuDeviceGet: " + driver->describe(r);
  device = dev;
  char name[256] = {0};
  driver->cuDeviceGetName(name, sizeof(name) - 1, dev);
  int major = 0, minor = 0;
  driver->cuDeviceGetAttribute(
      &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  driver->cuDeviceGetAttribute(
      &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  deviceName = std::string(name) + " (sm_" + std::to_string(major) +
               std::to_string(minor) + ")";
  if ((r = driver->cuDevicePrimaryCtxRetain(&context, dev)) != CUDA_SUCCESS)
    return "cuDevicePrimaryCtxRetain: " + driver->describe(r);
  retained = true;
  if ((r = driver->cuCtxSetCurrent(context)) != CUDA_SUCCESS)
    return "cuCtxSetCurrent: " + driver->describe(r);
  if ((r = driver->cuStreamCreate(&stream, 0)) != CUDA_SUCCESS)
    return "cuStreamCreate: " + driver->describe(r);
  return "";
}

Device::~Device() {
  if (!driver)
    return;
  driver->cuCtxSetCurrent(context);
  if (stream)
    driver->cuStreamSynchronize(stream);
  if (unload) {
    // The code unloads its kernels through the mgpu* functions.
    current = this;
    reinterpret_cast<void (*)()>(unload)();
    current = nullptr;
  }
  for (auto &[size, p] : pool)
    driver->cuMemFree((CUdeviceptr)p);
  for (auto &[p, size] : sizes)
    driver->cuMemFree((CUdeviceptr)p);
  if (stream)
    driver->cuStreamDestroy(stream);
  if (retained)
    driver->cuDevicePrimaryCtxRelease(device);
}

std::string Device::bind(void *library) {
  auto *names = (const char *const *)dlsym(library, "swaa_gpu_imports");
  if (!names)
    return "the code is not CUDA host code (no swaa_gpu_imports)";
  for (; *names; ++names) {
    const Import *found = nullptr;
    for (const Import &i : imports)
      if (std::strcmp(i.name, *names) == 0)
        found = &i;
    if (!found)
      return std::string("the code calls ") + *names +
             ", which this runtime's CUDA back end does not provide "
             "(recompile with this swaa-compile)";
    auto **slot =
        (void **)dlsym(library, (std::string("swaa_gpu_") + *names).c_str());
    if (!slot)
      return std::string("the code lacks the pointer for ") + *names;
    *slot = found->fn;
  }
  unload = dlsym(library, "swaa_gpu_unload");
  return "";
}

std::string Device::load(void *library) {
  auto load = (void (*)())dlsym(library, "swaa_gpu_load");
  if (!load)
    return "the code has no swaa_gpu_load";
  enter();
  load();
  return finish();
}

void Device::enter() {
  lock.lock();
  current = this;
  error.clear();
  driver->cuCtxSetCurrent(context);
}

std::string Device::finish() {
  record(driver->cuStreamSynchronize(stream), "cuStreamSynchronize");
  current = nullptr;
  std::string result = error;
  lock.unlock();
  return result;
}

void *Device::alloc(size_t bytes) {
  std::lock_guard<std::recursive_mutex> hold(lock);
  if (bytes == 0)
    bytes = 1;
  auto it = pool.find(bytes);
  if (it != pool.end()) {
    void *p = it->second;
    pool.erase(it);
    sizes[p] = bytes;
    return p;
  }
  driver->cuCtxSetCurrent(context);
  CUdeviceptr p = 0;
  CUresult r = driver->cuMemAlloc(&p, bytes);
  if (r != CUDA_SUCCESS && !pool.empty()) {
    // Out of memory: give the pool back and try again.
    driver->cuStreamSynchronize(stream);
    for (auto &[size, q] : pool)
      driver->cuMemFree((CUdeviceptr)q);
    pool.clear();
    r = driver->cuMemAlloc(&p, bytes);
  }
  if (r != CUDA_SUCCESS) {
    record(r, ("cuMemAlloc of " + std::to_string(bytes) + " bytes").c_str());
    return nullptr;
  }
  sizes[(void *)p] = bytes;
  return (void *)p;
}

void Device::free(void *p) {
  std::lock_guard<std::recursive_mutex> hold(lock);
  auto it = sizes.find(p);
  if (it == sizes.end())
    return;
  pool.emplace(it->second, p);
  sizes.erase(it);
}

std::string Device::upload(void *dst, const void *src, size_t bytes) {
  std::lock_guard<std::recursive_mutex> hold(lock);
  driver->cuCtxSetCurrent(context);
  CUresult r = driver->cuMemcpyHtoD((CUdeviceptr)dst, src, bytes);
  return r == CUDA_SUCCESS ? "" : "cuMemcpyHtoD: " + driver->describe(r);
}

std::string Device::download(void *dst, const void *src, size_t bytes) {
  std::lock_guard<std::recursive_mutex> hold(lock);
  driver->cuCtxSetCurrent(context);
  CUresult r = driver->cuMemcpyDtoH(dst, (CUdeviceptr)src, bytes);
  return r == CUDA_SUCCESS ? "" : "cuMemcpyDtoH: " + driver->describe(r);
}

std::string Device::zero(void *dst, size_t bytes) {
  std::lock_guard<std::recursive_mutex> hold(lock);
  driver->cuCtxSetCurrent(context);
  CUresult r = driver->cuMemsetD8((CUdeviceptr)dst, 0, bytes);
  return r == CUDA_SUCCESS ? "" : "cuMemsetD8: " + driver->describe(r);
}

} // namespace swaa::cuda
