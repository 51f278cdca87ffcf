/* A stand-in for libcuda.so.1 on a machine whose driver sees no GPU: every
 * entry point the runtime's CUDA back end resolves exists, cuInit fails with
 * CUDA_ERROR_NO_DEVICE (100) as the real driver does there. Loaded through
 * SWAA_CUDA_DRIVER by test/CUDA/run-without-gpu.test. */
#include <stddef.h>

#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_NOT_INITIALIZED 3

int cuInit(unsigned flags) {
  (void)flags;
  return CUDA_ERROR_NO_DEVICE;
}
int cuGetErrorName(int error, const char **name) {
  *name = error == CUDA_ERROR_NO_DEVICE ? "CUDA_ERROR_NO_DEVICE"
                                        : "CUDA_ERROR_NOT_INITIALIZED";
  return 0;
}
int cuGetErrorString(int error, const char **text) {
  *text = error == CUDA_ERROR_NO_DEVICE ? "no CUDA-capable device is detected"
                                        : "initialization error";
  return 0;
}

/* Never reached after cuInit fails; present so that the library resolves. */
#define STUB(name)                                                             \
  int name(void) { return CUDA_ERROR_NOT_INITIALIZED; }
STUB(cuDeviceGetCount)
STUB(cuDeviceGet)
STUB(cuDeviceGetName)
STUB(cuDeviceGetAttribute)
STUB(cuDevicePrimaryCtxRetain)
STUB(cuDevicePrimaryCtxRelease_v2)
STUB(cuCtxSetCurrent)
STUB(cuStreamCreate)
STUB(cuStreamDestroy_v2)
STUB(cuStreamSynchronize)
STUB(cuModuleLoadData)
STUB(cuModuleUnload)
STUB(cuModuleGetFunction)
STUB(cuLaunchKernel)
STUB(cuMemAlloc_v2)
STUB(cuMemFree_v2)
STUB(cuMemcpyAsync)
STUB(cuMemcpyHtoD_v2)
STUB(cuMemcpyDtoH_v2)
STUB(cuMemsetD8_v2)
