// The CUDA back end's host-side passes, one at a time.
// RUN: swaa-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(swaa-parallel-loops-to-gpu{threads=128}))' | FileCheck %s --check-prefix=LAUNCH
// RUN: swaa-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(swaa-gpu-free-buffers))' | FileCheck %s --check-prefix=FREE
// RUN: swaa-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(swaa-parallel-loops-to-gpu),gpu-kernel-outlining,swaa-gpu-merge-modules,swaa-gpu-host-memory)' | FileCheck %s --check-prefix=HOST

// A 3-D parallel loop: one kernel of ceil(n / 128) blocks of 128 threads;
// each thread delinearizes its index (innermost dimension fastest) and
// guards the tail. A store on the host becomes a kernel of one thread.
// LAUNCH-LABEL: func.func @elementwise
// LAUNCH:         %[[BLOCKS:.+]] = arith.ceildivui %[[N:.+]], %c128
// LAUNCH:         %[[GRID:.+]] = arith.maxui %[[BLOCKS]], %c1
// LAUNCH:         gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[GRID]], %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}})
// LAUNCH:           %[[I:.+]] = arith.addi %{{.+}}, %[[TX]]
// LAUNCH:           %[[IN:.+]] = arith.cmpi ult, %[[I]], %[[N]]
// LAUNCH:           scf.if %[[IN]] {
// LAUNCH:             arith.remui %[[I]]
// LAUNCH:             arith.divui %[[I]]
// LAUNCH:             memref.load
// LAUNCH:             memref.store
// LAUNCH:         gpu.launch blocks({{.*}}) in (%{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) threads({{.*}}) in (%{{.+}} = %c1{{.*}},
// LAUNCH-NEXT:      memref.store %{{.+}}, %{{.+}}[] : memref<i64>
// LAUNCH-NEXT:      gpu.terminator

// Each buffer freed after its block's last use of it or of a view of it;
// the returned one is not.
// FREE-LABEL: func.func @elementwise
// FREE:         %[[T:.+]] = memref.alloc(%{{.+}}) : memref<?x4x8xf32>
// FREE:         %[[OUT:.+]] = memref.alloc(%{{.+}}) : memref<?x4x8xf32>
// FREE:         %[[P:.+]] = memref.alloc() : memref<i64>
// FREE:         scf.parallel
// FREE:         }
// FREE:         %[[V:.+]] = memref.subview %[[T]]
// FREE:         scf.parallel
// FREE:           memref.load %[[V]]
// FREE:         }
// FREE-NEXT:    memref.dealloc %[[T]]
// FREE:         memref.store %{{.+}}, %[[P]][]
// FREE-NEXT:    memref.dealloc %[[P]]
// FREE-NOT:     memref.dealloc %[[OUT]]
// FREE:         return %[[OUT]]

// After outlining: the kernels in one module (@swaa_kernels, each named
// after its outlined module), device buffers, the constant copied to the
// device and freed at the return.
// HOST-LABEL: func.func @elementwise
// HOST:         gpu.alloc (%{{.+}}) : memref<?x4x8xf32>
// HOST:         gpu.alloc (%{{.+}}) : memref<?x4x8xf32>
// HOST:         %[[G:.+]] = memref.get_global @scale
// HOST:         %[[C:.+]] = gpu.alloc () : memref<8xf32>
// HOST:         gpu.memcpy %[[C]], %[[G]]
// HOST:         gpu.launch_func @swaa_kernels::@elementwise_kernel
// HOST:         gpu.launch_func @swaa_kernels::@elementwise_kernel_0
// HOST:         gpu.launch_func @swaa_kernels::@elementwise_kernel_1
// HOST:         gpu.dealloc %[[C]]
// HOST-NEXT:    return
// HOST:       gpu.module @swaa_kernels
// HOST:         gpu.func @elementwise_kernel(
// HOST:         gpu.func @elementwise_kernel_0(
// HOST:         gpu.func @elementwise_kernel_1(
// HOST-NOT:   gpu.module
memref.global "private" constant @scale : memref<8xf32> = dense<2.0>
func.func @elementwise(%x: memref<?x4x8xf32>, %pos: index) -> memref<?x4x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %n = memref.dim %x, %c0 : memref<?x4x8xf32>
  %t = memref.alloc(%n) : memref<?x4x8xf32>
  %out = memref.alloc(%n) : memref<?x4x8xf32>
  %p = memref.alloc() : memref<i64>
  %s = memref.get_global @scale : memref<8xf32>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%n, %c4, %c8) step (%c1, %c1, %c1) {
    %a = memref.load %x[%i, %j, %k] : memref<?x4x8xf32>
    %b = memref.load %s[%k] : memref<8xf32>
    %c = arith.mulf %a, %b : f32
    memref.store %c, %t[%i, %j, %k] : memref<?x4x8xf32>
    scf.reduce
  }
  %v = memref.subview %t[0, 0, 0] [%n, 4, 8] [1, 1, 1] : memref<?x4x8xf32> to memref<?x4x8xf32, strided<[32, 8, 1]>>
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%n, %c4, %c8) step (%c1, %c1, %c1) {
    %a = memref.load %v[%i, %j, %k] : memref<?x4x8xf32, strided<[32, 8, 1]>>
    %c = arith.addf %a, %a : f32
    memref.store %c, %out[%i, %j, %k] : memref<?x4x8xf32>
    scf.reduce
  }
  %pi = arith.index_cast %pos : index to i64
  memref.store %pi, %p[] : memref<i64>
  return %out : memref<?x4x8xf32>
}
