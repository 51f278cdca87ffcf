// Bad fa-layers specs: the error names the spec, the position of the item at
// fault and why; the pass fails.
// RUN: not swaa-opt %s --attn-interleave="fa-layers=1,7" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not swaa-opt %s --attn-interleave="fa-layers=0,every:0" 2>&1 | FileCheck %s --check-prefix=STEP
// RUN: not swaa-opt %s --attn-interleave="fa-layers=odd,,2" 2>&1 | FileCheck %s --check-prefix=EMPTY
// RUN: not swaa-opt %s --attn-interleave="fa-layers=3-1" 2>&1 | FileCheck %s --check-prefix=BACKWARDS
// RUN: not swaa-opt %s --attn-interleave="fa-layers=sometimes" 2>&1 | FileCheck %s --check-prefix=WORD
// RUN: not swaa-opt %s --attn-interleave="fa-layers=every:4:offset:4" 2>&1 | FileCheck %s --check-prefix=OFFSET
// RUN: not swaa-opt %s --attn-interleave="fa-layers=last:5" 2>&1 | FileCheck %s --check-prefix=LAST
// RANGE: error: fa-layers: layer spec '1,7', at position 3 ('7'): layer 7 is out of range (the model has 4 attention layers, 0-3)
// STEP: error: fa-layers: layer spec '0,every:0', at position 3 ('every:0'): expected a step of at least 1 after 'every:', got '0'
// EMPTY: error: fa-layers: layer spec 'odd,,2', at position 5 (''): expected a layer, a range or a pattern between commas
// BACKWARDS: error: fa-layers: layer spec '3-1', at position 1 ('3-1'): expected a range A-B with A <= B, got '3-1'
// WORD: error: fa-layers: layer spec 'sometimes', at position 1 ('sometimes'): expected a layer index, a range A-B or a pattern, got 'sometimes'
// OFFSET: error: fa-layers: layer spec 'every:4:offset:4', at position 1 ('every:4:offset:4'): expected the offset (4) to be below the step (4)
// LAST: error: fa-layers: layer spec 'last:5', at position 1 ('last:5'): 'last:5' selects more layers than the model has (4)
func.func @model(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>, %v: tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) {
  %0 = attn.attention layer 0 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %1 = attn.attention layer 1 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %2 = attn.attention layer 2 causal window 3 scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %3 = attn.attention layer 3 causal scale 0.5 ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>
}
