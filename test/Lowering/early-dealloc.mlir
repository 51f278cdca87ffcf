// swaa-early-dealloc: each memref.dealloc moves up to just after the last op
// of its block that uses the buffer or a memref derived from it (a view, a
// loop that uses it inside); one whose buffer is used outside its block
// stays.
// RUN: swaa-opt %s --split-input-file --swaa-early-dealloc | FileCheck %s

// CHECK-LABEL: func.func @chain
// CHECK:         %[[A:.+]] = memref.alloc() : memref<16xf32>
// CHECK:         linalg.fill ins(%{{.+}} : f32) outs(%[[A]]
// CHECK:         %[[B:.+]] = memref.alloc() : memref<16xf32>
// CHECK:         linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[B]]
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         %[[V:.+]] = memref.subview %[[B]]
// CHECK:         scf.for
// CHECK:           memref.load %[[V]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK:         linalg.fill
// CHECK:         return
func.func @chain(%out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%f : f32) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  %v = memref.subview %b[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %v[%i] : memref<8xf32, strided<[1]>>
    memref.store %x, %out[%i] : memref<16xf32>
  }
  linalg.fill ins(%f : f32) outs(%out : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// A use nested in a region of an op of the block counts as that op's.
// CHECK-LABEL: func.func @nested_use
// CHECK:         scf.if
// CHECK:           linalg.fill
// CHECK:         }
// CHECK-NEXT:    memref.dealloc
// CHECK-NEXT:    linalg.fill
func.func @nested_use(%c: i1, %out: memref<16xf32>) {
  %f = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<16xf32>
  scf.if %c {
    linalg.fill ins(%f : f32) outs(%a : memref<16xf32>)
  }
  linalg.fill ins(%f : f32) outs(%out : memref<16xf32>)
  memref.dealloc %a : memref<16xf32>
  return
}

// -----

// A dealloc inside a region, of a buffer the parent block uses after the
// region, stays where it is.
// CHECK-LABEL: func.func @used_outside
// CHECK:         scf.if
// CHECK-NEXT:      linalg.fill
// CHECK-NEXT:      memref.dealloc
func.func @used_outside(%c: i1, %out: memref<16xf32>) {
  %f = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<16xf32>
  scf.if %c {
    linalg.fill ins(%f : f32) outs(%out : memref<16xf32>)
    memref.dealloc %a : memref<16xf32>
  }
  linalg.copy ins(%a : memref<16xf32>) outs(%out : memref<16xf32>)
  return
}
