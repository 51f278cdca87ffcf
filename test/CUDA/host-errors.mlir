// A host op that would read device memory on the CPU is an error naming the
// op, not a crash at run time.
// RUN: swaa-opt %s --swaa-gpu-host-memory --verify-diagnostics

func.func @reads_on_host(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'memref.load' op reads or writes a buffer on the host; in the CUDA back end every buffer lives on the device}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}
