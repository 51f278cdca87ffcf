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

namespace mlir::swaa::attn {
/// Discardable i64 attribute of `attn.attention`: the model's own sliding
/// window, which the importer found in the model (its mask, or an attention
/// op's window attribute). Recipes keep such layers as they are unless told
/// otherwise (passes/Passes.h).
constexpr llvm::StringLiteral kNativeWindowAttr = "attn.native_window";
} // namespace mlir::swaa::attn

#endif // SWAA_DIALECTS_ATTN_ATTNOPS_H
