//===- AttnDialect.h - the attn dialect -------------------------*- C++ -*-===//
//
// Declares the `attn` dialect, which holds attention as a first-class op.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_DIALECTS_ATTN_ATTNDIALECT_H
#define SWAA_DIALECTS_ATTN_ATTNDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "dialects/Attn/AttnDialect.h.inc"

#endif // SWAA_DIALECTS_ATTN_ATTNDIALECT_H
