// attn-lower-gpu: attention as gpu.launch kernels (no GPU needed to check).
// RUN: swaa-opt %s --split-input-file --attn-lower-gpu | FileCheck %s

// Prefill with a window and sinks, head_dim 64 (rows dynamic: the decode
// kernel for one row, then this). A block of 16 query rows x 8 threads per
// row (each holds 8 of q and of the output row), grid (query tiles, heads,
// batch); key and value tiles of 32 rows in shared memory; the sink tiles,
// then the window tiles, each loaded by the whole block between barriers;
// the 8 partial dot products summed by shuffles.
// CHECK-LABEL: func.func @prefill_window_sinks
// CHECK:         } else {
// CHECK:         %[[TILES:.+]] = arith.ceildivui %{{.+}}, %c16
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %[[TILES]], %{{.+}} = %c8{{.*}}, %{{.+}} = %c1{{.*}}) threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) workgroup(%[[KS:.+]] : memref<32x64xf32, #gpu.address_space<workgroup>>, %[[VS:.+]] : memref<32x64xf32, #gpu.address_space<workgroup>>)
// Sink tiles [0, min(5, window start)):
// CHECK:           scf.for
// CHECK:             memref.store %{{.+}}, %[[KS]]
// CHECK:             memref.store %{{.+}}, %[[VS]]
// CHECK:             gpu.barrier
// CHECK:             gpu.shuffle xor %{{.+}}, %c1_i32
// CHECK:             gpu.shuffle xor %{{.+}}, %c2_i32
// CHECK:             gpu.shuffle xor %{{.+}}, %c4_i32
// CHECK-NOT:         gpu.shuffle
// CHECK:             math.exp
// CHECK:             gpu.barrier
// Window tiles:
// CHECK:           scf.for
// CHECK:             gpu.barrier
// CHECK:             gpu.barrier
// Rows past the end store nothing:
// CHECK:           scf.if
// CHECK:             memref.store
// CHECK:           gpu.terminator
// CHECK:         bufferization.to_tensor %{{.+}} restrict writable
func.func @prefill_window_sinks(%q: tensor<1x8x?x64xf32>, %k: tensor<1x2x?x64xf32>, %v: tensor<1x2x?x64xf32>) -> tensor<1x8x?x64xf32> {
  %o = attn.attention layer 0 causal window 512 sinks 5 scale 0.125
         ins(%q, %k, %v : tensor<1x8x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32>) -> tensor<1x8x?x64xf32>
  return %o : tensor<1x8x?x64xf32>
}

// -----

// Decode against a ring cache (one query row, static): only the decode
// kernels, split-K. On the host: the visible keys cut into chunks of at
// least 256 (at most 64 chunks) and a buffer of partial states. A block of
// 128 threads per (chunk, head, batch): 16 groups of 8 split the chunk's
// keys (slots of the ring: remui), each group's (m, l, acc) goes to shared
// memory, the block combines them into its partial state; a second kernel
// per (head, batch) combines the chunks into the output.
// CHECK-LABEL: func.func @decode_ring
// CHECK-NOT:     scf.if
// CHECK:         %[[N:.+]] = arith.ceildivui %{{.+}}, %c256
// CHECK:         %[[CLAMP:.+]] = arith.minsi %{{.+}}, %[[N]]
// CHECK:         %[[SPLITS:.+]] = arith.maxsi %{{.+}}, %[[CLAMP]]
// CHECK:         %[[PARTIAL:.+]] = memref.alloc(%{{.+}}, %{{.+}}, %[[SPLITS]]) : memref<?x?x?x66xf32>
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %[[SPLITS]], %{{.+}} = %c8{{.*}}, %{{.+}} = %c1{{.*}}) threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) workgroup(%[[MS:.+]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[LS:.+]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[ACCS:.+]] : memref<16x65xf32, #gpu.address_space<workgroup>>)
// CHECK:           scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c16
// CHECK:             arith.remui %{{.+}}, %c64
// CHECK:             gpu.shuffle xor
// CHECK:             math.exp
// CHECK:           memref.store %{{.+}}, %[[MS]]
// CHECK:           memref.store %{{.+}}, %[[ACCS]]
// CHECK:           gpu.barrier
// CHECK:           memref.load %[[MS]]
// CHECK:           memref.load %[[LS]]
// CHECK:           memref.store %{{.+}}, %[[PARTIAL]]
// CHECK:           memref.load %[[ACCS]]
// CHECK:           memref.store %{{.+}}, %[[PARTIAL]]
// CHECK:           gpu.terminator
// CHECK:         gpu.launch blocks(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c1{{.*}}, %{{.+}} = %c8{{.*}}, %{{.+}} = %c1{{.*}}) threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) {
// CHECK:           scf.for %{{.+}} = %c0{{.*}} to %[[SPLITS]]
// CHECK:             memref.load %[[PARTIAL]]
// CHECK:           memref.store
// CHECK:           gpu.terminator
// CHECK-NOT:     gpu.launch
func.func @decode_ring(%q: tensor<1x8x1x64xf32>, %kc: tensor<1x2x68x64xf32>, %vc: tensor<1x2x68x64xf32>, %pos: index) -> tensor<1x8x1x64xf32> {
  %o = attn.cache_attention layer 1 causal window 64 sinks 4 scale 0.125
         ins(%q, %kc, %vc : tensor<1x8x1x64xf32>, tensor<1x2x68x64xf32>, tensor<1x2x68x64xf32>)
         at %pos ring 64 sinks 4 -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

// Rows known only at run time: both kernels, the host picks (rows == 1).
// Head_dim 16: two threads per row, one shuffle.
// CHECK-LABEL: func.func @dynamic_rows
// CHECK:         %[[ONE:.+]] = arith.cmpi eq, %{{.+}}, %c1
// CHECK:         scf.if %[[ONE]] {
// CHECK:           gpu.launch {{.*}} workgroup(%{{.+}} : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK:         } else {
// CHECK:           gpu.launch {{.*}} threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c64{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) workgroup(%{{.+}} : memref<32x16xf32, #gpu.address_space<workgroup>>
// CHECK:             gpu.shuffle xor %{{.+}}, %c1_i32
// CHECK-NOT:         gpu.shuffle
// CHECK:         }
func.func @dynamic_rows(%q: tensor<?x4x?x16xf32>, %kc: tensor<?x2x?x16xf32>, %vc: tensor<?x2x?x16xf32>, %pos: index) -> tensor<?x4x?x16xf32> {
  %o = attn.cache_attention layer 0 causal scale 0.25
         ins(%q, %kc, %vc : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
         at %pos -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// An additive mask is read per (row, key), broadcast dimensions at index 0.
// CHECK-LABEL: func.func @mask
// CHECK:         gpu.launch
// CHECK:           memref.load %{{.+}}[%{{.+}}, %c0{{.*}}, %c0{{.*}}, %{{.+}}] : memref<?x1x1x?xf32, strided<[?, ?, ?, 1], offset: ?>>
func.func @mask(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %m: tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>)
         mask(%m : tensor<?x1x1x?xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// A KV cache write: one scf.forall over [batch, heads, kept rows, head_dim],
// each iteration inserting one element at its ring slot; the kept rows are
// the sink positions and the last 64 (min/max of the row count).
// CHECK-LABEL: func.func @append_ring
// CHECK:         %[[KEPT:.+]] = arith.addi
// CHECK:         scf.forall (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}}, %c2{{.*}}, %[[KEPT]], %c64{{.*}}) shared_outs(%[[C:.+]] = %{{.+}})
// CHECK:           arith.remui %{{.+}}, %c64
// CHECK:           tensor.extract_slice %{{.+}}[%{{.+}}] [1, 1, 1, 1] [1, 1, 1, 1]
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %{{.+}} into %[[C]]
func.func @append_ring(%u: tensor<?x2x?x64xf32>, %cache: tensor<?x2x68x64xf32>, %pos: index) -> tensor<?x2x68x64xf32> {
  %c = attn.cache_append %u into %cache at %pos ring 64 sinks 4 : tensor<?x2x?x64xf32> into tensor<?x2x68x64xf32>
  return %c : tensor<?x2x68x64xf32>
}

// -----

// Non-causal attention with a value dimension (32) other than the key's
// (16): every key tile of the sequence ([0, keys)), key and value tiles of
// their own widths, the output row in 32 / 4 = 8-element parts.
// CHECK-LABEL: func.func @noncausal_value_dim
// CHECK:         gpu.launch {{.*}} threads(%{{.+}}, %{{.+}}, %{{.+}}) in (%{{.+}} = %c128{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) workgroup(%{{.+}} : memref<32x16xf32, #gpu.address_space<workgroup>>, %{{.+}} : memref<32x32xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT:       arith.cmpi ule
// CHECK:           scf.for %{{.+}} = %{{.+}} to %c80 step %c32
// CHECK:           gpu.terminator
func.func @noncausal_value_dim(%q: tensor<1x4x64x16xf32>, %k: tensor<1x4x80x16xf32>, %v: tensor<1x4x80x32xf32>) -> tensor<1x4x64x32xf32> {
  %o = attn.attention layer 0 scale 0.25
         ins(%q, %k, %v : tensor<1x4x64x16xf32>, tensor<1x4x80x16xf32>, tensor<1x4x80x32xf32>) -> tensor<1x4x64x32xf32>
  return %o : tensor<1x4x64x32xf32>
}

// -----

// Grouped-query attention (8 query heads, 2 key/value heads): block y is the
// query head, the key/value head is y / 4.
// CHECK-LABEL: func.func @gqa
// CHECK:         gpu.launch blocks(%{{[^,]+}}, %[[H:[a-z0-9_]+]], %{{[^)]+}}) in
// CHECK:           %[[HK:.+]] = arith.divui %[[H]], %{{.+}} : index
// CHECK:           memref.load %{{.+}}[%{{.+}}, %[[HK]], %{{.+}}, %{{.+}}] : memref<1x2x?x16xf32
func.func @gqa(%q: tensor<1x8x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>) -> tensor<1x8x?x16xf32> {
  %o = attn.attention layer 0 causal scale 0.25
         ins(%q, %k, %v : tensor<1x8x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x?x16xf32>
  return %o : tensor<1x8x?x16xf32>
}

// -----

// 16-bit operands (swaa-compile --dtype): loads widened to f32, the state
// and sums in f32, the output rounded once when stored.
// CHECK-LABEL: func.func @bf16
// CHECK:         gpu.launch
// CHECK:           %[[X:.+]] = memref.load %{{.+}} : memref<1x2x?x16xbf16
// CHECK-NEXT:      arith.extf %[[X]] : bf16 to f32
// CHECK:           arith.truncf %{{.+}} : f32 to bf16
// CHECK-NEXT:      memref.store %{{.+}} : memref<1x2x?x16xbf16>
func.func @bf16(%q: tensor<1x2x?x16xbf16>, %k: tensor<1x2x?x16xbf16>, %v: tensor<1x2x?x16xbf16>) -> tensor<1x2x?x16xbf16> {
  %o = attn.attention layer 0 causal window 8 scale 0.25
         ins(%q, %k, %v : tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>, tensor<1x2x?x16xbf16>) -> tensor<1x2x?x16xbf16>
  return %o : tensor<1x2x?x16xbf16>
}
