// attn-lower-tiled with a vector width, for fewer query rows than lanes
// (decode): the row kernel. The query heads of a group (9 query heads, 3
// key/value heads) walk their key/value head's keys together: per step of 8
// keys, every state row (3 heads x 1 row) takes the 8 keys' dot products as
// one vector (no reduction per key), the 8 exponentials as one vector (the
// polynomial, as every exp of the kernels here) and 8 value rows
// accumulated by FMAs, so that each key and value row comes from memory
// once. The states (scaled query, running max, sum, accumulator) sit in
// small buffers. The visible keys are split into parallel splits of about
// 256 (whole key tiles); a second parallel loop merges the splits per
// (batch, head, row).
// RUN: swaa-opt %s --attn-lower-tiled="vector-width=16" --cse | FileCheck %s
// RUN: swaa-opt %s --attn-lower-tiled="vector-width=16" --cse | FileCheck %s --check-prefix=FMA16
// RUN: swaa-opt %s --attn-lower-tiled="vector-width=16" --cse | FileCheck %s --check-prefix=SUM16
// With 8 lanes (AVX2), chunks of 8: 8 per row, a multiply and 7 FMAs.
// RUN: swaa-opt %s --attn-lower-tiled="vector-width=8" --cse | FileCheck %s --check-prefix=FMA8
// RUN: swaa-opt %s --attn-lower-tiled="vector-width=8" --cse | FileCheck %s --check-prefix=SUM8

// CHECK-LABEL: func.func @decode
// CHECK:         %[[OUT:.+]] = memref.alloc() : memref<1x9x1x64xf32>
// The visible keys of the whole query range bound every split.
// CHECK:         %[[SPLITS0:.+]] = arith.ceildivui %{{.+}}, %c256 : index
// CHECK:         %[[SPLITS:.+]] = arith.maxsi %c1, %[[SPLITS0]] : index
// CHECK:         %[[PMAX:.+]] = memref.alloc(%c1, %c3, %{{.+}}, %[[SPLITS]], %{{.+}}) : memref<?x?x?x?x?xf32>
// CHECK:         %[[PSUM:.+]] = memref.alloc(%c1, %c3, %{{.+}}, %[[SPLITS]], %{{.+}}) : memref<?x?x?x?x?xf32>
// CHECK:         %[[PACC:.+]] = memref.alloc(%c1, %c3, %{{.+}}, %[[SPLITS]], %{{.+}}, %c64) : memref<?x?x?x?x?x?xf32>
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0, %c0) to (%c1, %c3, %{{.+}}, %[[SPLITS]])
// The states, each query scaled once.
// CHECK:           %[[QS:.+]] = memref.alloc() : memref<3x64xf32>
// CHECK:           %[[ACC:.+]] = memref.alloc() : memref<3x64xf32>
// CHECK:           vector.load %{{.+}} : memref<1x9x1x64xf32, {{.+}}>, vector<64xf32>
// CHECK:           vector.store %{{.+}}, %[[QS]]
// CHECK:           scf.for %{{.+}} step %c8 {
// One query row: the group's 3 state rows are unrolled (no loop over them)
// and share each load of a key chunk. The scores of the step: per key and
// row, FMAs over the head's chunks of 16 lanes with 16 of them (4 chunks of
// 64: a multiply and 3 FMAs; half the FMAs of 8 lanes, and few enough
// values to stay in registers), each key's sum folded to 8 lanes (a
// shuffle of each half and an add), then the 8 partial vectors transposed
// and summed (3 rounds of 2 shuffles and an add, then 2 shuffles, each
// round as soon as its operands exist), no reduction per key.
// CHECK-NOT:         scf.for
// Whole steps: the keys' positions follow the step's first one, unclamped.
// CHECK-NOT:         arith.minsi
// Each row's query chunks are loaded once per step (3 rows x 4 chunks).
// CHECK:             %[[Q0:.+]] = vector.load %[[QS]][%c0, %c0] : memref<3x64xf32>, vector<16xf32>
// CHECK:             %[[Q1:.+]] = vector.load %[[QS]][%c1, %c0] : memref<3x64xf32>, vector<16xf32>
// CHECK:             %[[Q2:.+]] = vector.load %[[QS]][%c2, %c0] : memref<3x64xf32>, vector<16xf32>
// CHECK:             %[[KC:.+]] = vector.load %{{.+}} : memref<1x3x?x64xf32{{.*}}>, vector<16xf32>
// CHECK-NEXT:        arith.mulf %[[Q0]], %[[KC]] {{.*}}: vector<16xf32>
// CHECK-NEXT:        arith.mulf %[[Q1]], %[[KC]] {{.*}}: vector<16xf32>
// CHECK-NEXT:        arith.mulf %[[Q2]], %[[KC]] {{.*}}: vector<16xf32>
// CHECK-COUNT-9:     vector.fma %{{.+}} : vector<16xf32>
// CHECK-NEXT:        vector.shuffle %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT:        vector.shuffle %{{.+}} [8, 9, 10, 11, 12, 13, 14, 15] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT:        arith.addf %{{.+}} : vector<8xf32>
// CHECK-COUNT-3:     vector.reduction <maximumf>, %{{.+}} : vector<8xf32> into f32
// CHECK-COUNT-24:    vector.fma %{{.+}} : vector<64xf32>
// CHECK-NOT:         vector.reduction <add>, %{{.+}} : vector<64xf32>
// CHECK:             vector.store %{{.+}}, %[[ACC]]
// The last keys of the split: one clamped step (positions past the end
// repeat the last key, with a score of -inf).
// CHECK:           scf.for %{{.+}} step %c8 {
// CHECK:             arith.minsi
// CHECK:             arith.select %{{.+}}, %{{.+}}, %cst{{.*}} : f32
// CHECK:             vector.store %{{.+}}, %[[ACC]]
// CHECK:           memref.store %{{.+}}, %[[PMAX]]
// CHECK:           memref.store %{{.+}}, %[[PSUM]]
// CHECK:           vector.store %{{.+}}, %[[PACC]]
// The merge: one (batch, head, row) per iteration.
// CHECK:         scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0) to (%c1, %c9, %c1)
// CHECK:           memref.load %[[PMAX]]
// CHECK:           memref.load %[[PACC]]
// CHECK:           memref.store %{{.+}}, %[[OUT]]
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
// The step's counts: 8 keys x 3 rows x 3 FMAs of 16 lanes (x 7 of 8), 24
// FMAs of the 64-lane value rows; shuffles: 8 x 3 folds of 2 and 3 x 14 of
// the lane sums (16 lanes), the 42 of the lane sums (8); then the running
// maxima.
// FMA16-LABEL: func.func @decode
// FMA16:         scf.for %{{.+}} step %c8 {
// FMA16-COUNT-72:  vector.fma %{{.+}} : vector<16xf32>
// FMA16-NOT:       vector.fma %{{.+}} : vector<16xf32>
// FMA16:           vector.reduction <maximumf>
// FMA16-COUNT-24:  vector.fma %{{.+}} : vector<64xf32>
// SUM16-LABEL: func.func @decode
// SUM16:         scf.for %{{.+}} step %c8 {
// SUM16-COUNT-90:  vector.shuffle
// SUM16-NOT:       vector.shuffle
// SUM16-COUNT-3:   vector.reduction <maximumf>, %{{.+}} : vector<8xf32> into f32
// FMA8-LABEL: func.func @decode
// FMA8:          scf.for %{{.+}} step %c8 {
// FMA8-COUNT-168:  vector.fma %{{.+}} : vector<8xf32>
// FMA8-NOT:        vector.fma %{{.+}} : vector<8xf32>
// FMA8:            vector.reduction <maximumf>
// FMA8-COUNT-24:   vector.fma %{{.+}} : vector<64xf32>
// SUM8-LABEL: func.func @decode
// SUM8:          scf.for %{{.+}} step %c8 {
// SUM8-COUNT-42:   vector.shuffle
// SUM8-NOT:        vector.shuffle
// SUM8-COUNT-3:    vector.reduction <maximumf>, %{{.+}} : vector<8xf32> into f32
func.func @decode(%q: tensor<1x9x1x64xf32>, %kc: tensor<1x3x?x64xf32>, %vc: tensor<1x3x?x64xf32>, %pos: index) -> tensor<1x9x1x64xf32> {
  %o = attn.cache_attention layer 0 causal scale 0.125
         ins(%q, %kc, %vc : tensor<1x9x1x64xf32>, tensor<1x3x?x64xf32>, tensor<1x3x?x64xf32>)
         at %pos -> tensor<1x9x1x64xf32>
  return %o : tensor<1x9x1x64xf32>
}

// -----

// With split-keys=0 the row kernel writes the output itself (no merge).
// RUN: swaa-opt %s --split-input-file --attn-lower-tiled="vector-width=16 split-keys=0" --cse | FileCheck %s --check-prefix=NOSPLIT
// NOSPLIT-LABEL: func.func @decode
// NOSPLIT:         scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0) to (%c1, %c3, %{{.+}})
// NOSPLIT:           vector.store %{{.+}}, %{{.+}} : memref<1x9x1x64xf32>, vector<64xf32>
// NOSPLIT-NOT:     scf.parallel
// NOSPLIT:         bufferization.to_tensor
