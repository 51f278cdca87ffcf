//===- AttnOps.h - ops of the attn dialect ----------------------*- C++ -*-===//
//
// Declares `attn.attention` and the other ops of the `attn` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_DIALECTS_ATTN_ATTNOPS_H
#define SWAA_DIALECTS_ATTN_ATTNOPS_H

#include "dialects/Attn/AttnDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/Attn/AttnOps.h.inc"

#endif // SWAA_DIALECTS_ATTN_ATTNOPS_H
