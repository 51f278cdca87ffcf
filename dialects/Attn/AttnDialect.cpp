//===- AttnDialect.cpp - the attn dialect ---------------------------------===//
//
// Registers the ops of the `attn` dialect.
//
//===----------------------------------------------------------------------===//

#include "dialects/Attn/AttnDialect.h"
#include "dialects/Attn/AttnOps.h"

using namespace mlir;
using namespace mlir::swaa::attn;

#include "dialects/Attn/AttnDialect.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Attn/AttnOps.cpp.inc"
      >();
}
