//===- AttnOps.cpp - ops of the attn dialect ------------------------------===//
//
// Verifiers and helpers of the `attn` ops. Every verifier message names the
// operand or attribute at fault, so that a user reading a diagnostic on an
// imported model knows what to fix.
//
//===----------------------------------------------------------------------===//

#include "dialects/Attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::swaa::attn;

#define GET_OP_CLASSES
#include "dialects/Attn/AttnOps.cpp.inc"

namespace {
/// Dimension names of the `[batch, heads, seq, head_dim]` layout.
constexpr const char *kDimNames[] = {"batch", "heads", "seq", "head_dim"};

enum Dim : unsigned { kBatch = 0, kHeads = 1, kSeq = 2, kHeadDim = 3 };

/// Two sizes agree unless both are static and differ.
bool sizesAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

std::string sizeStr(int64_t size) {
  return ShapedType::isDynamic(size) ? std::string("?") : std::to_string(size);
}
} // namespace

std::optional<int64_t> AttentionOp::getGroupSize() {
  int64_t qHeads = getQuery().getType().getDimSize(kHeads);
  int64_t kvHeads = getKey().getType().getDimSize(kHeads);
  if (ShapedType::isDynamic(qHeads) || ShapedType::isDynamic(kvHeads) ||
      kvHeads == 0)
    return std::nullopt;
  return qHeads / kvHeads;
}

LogicalResult AttentionOp::verify() {
  // Attributes. I64Attr accessors return unsigned values: read the signed
  // ones from the attributes so that a negative value is reported as such.
  int64_t layer = getLayerAttr().getInt();
  int64_t sinks = getSinksAttr().getInt();
  std::optional<int64_t> window;
  if (IntegerAttr windowAttr = getWindowAttr())
    window = windowAttr.getInt();
  if (layer < 0)
    return emitOpError("expected 'layer' to be non-negative, got ") << layer;
  double scale = getScale().convertToDouble();
  if (!std::isfinite(scale) || scale <= 0.0)
    return emitOpError("expected 'scale' to be positive and finite, got ")
           << scale;
  if (window) {
    if (*window < 1)
      return emitOpError("expected 'window' to be at least 1 (the query "
                         "itself), got ")
             << *window;
    if (!getCausal())
      return emitOpError("expected 'causal' with 'window': a sliding window "
                         "is defined on causal attention");
  }
  if (sinks < 0)
    return emitOpError("expected 'sinks' to be non-negative, got ") << sinks;
  if (sinks > 0 && !window)
    return emitOpError("expected 'window' with 'sinks' = ")
           << sinks << ": sink tokens only apply to windowed attention";

  // Operand ranks and element types.
  Type elementType = getQuery().getType().getElementType();
  if (!isa<FloatType>(elementType))
    return emitOpError("expected 'query' to have a floating-point element "
                       "type, got ")
           << elementType;
  auto checkTensor = [&](Value value, StringRef name,
                         StringRef layout =
                             "[batch, heads, seq, head_dim]") -> LogicalResult {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getRank() != 4)
      return emitOpError("expected '") << name << "' to have rank 4 (" << layout
                                       << "), got " << type.getRank();
    if (type.getElementType() != elementType)
      return emitOpError("expected '")
             << name << "' element type to match 'query' (" << elementType
             << "), got " << type.getElementType();
    return success();
  };
  if (failed(checkTensor(getQuery(), "query")) ||
      failed(checkTensor(getKey(), "key")) ||
      failed(checkTensor(getValue(), "value")) ||
      failed(checkTensor(getResult(), "result")))
    return failure();
  if (getMask() && failed(checkTensor(getMask(), "mask",
                                      "[batch, heads, query seq, key seq]")))
    return failure();

  ArrayRef<int64_t> q = getQuery().getType().getShape();
  ArrayRef<int64_t> k = getKey().getType().getShape();
  ArrayRef<int64_t> v = getValue().getType().getShape();
  auto mismatch = [&](StringRef what, unsigned dim, StringRef other,
                      int64_t got, int64_t expected) {
    return emitOpError("expected '")
           << what << "' " << kDimNames[dim] << " (dim " << dim
           << ") to match '" << other << "', got " << sizeStr(got) << " vs "
           << sizeStr(expected);
  };

  // Key and value describe the same tokens: batch, heads and seq agree.
  for (unsigned dim : {kBatch, kHeads, kSeq})
    if (!sizesAgree(v[dim], k[dim]))
      return mismatch("value", dim, "key", v[dim], k[dim]);
  if (!sizesAgree(k[kBatch], q[kBatch]))
    return mismatch("key", kBatch, "query", k[kBatch], q[kBatch]);
  if (!sizesAgree(k[kHeadDim], q[kHeadDim]))
    return mismatch("key", kHeadDim, "query", k[kHeadDim], q[kHeadDim]);

  // Grouped-query attention: key/value heads divide the query heads.
  if (!ShapedType::isDynamic(k[kHeads]) && k[kHeads] < 1)
    return emitOpError("expected 'key' to have at least one head, got ")
           << k[kHeads];
  if (!ShapedType::isDynamic(q[kHeads]) && !ShapedType::isDynamic(k[kHeads]) &&
      q[kHeads] % k[kHeads] != 0)
    return emitOpError("expected 'query' heads (")
           << q[kHeads] << ") to be a multiple of 'key'/'value' heads ("
           << k[kHeads] << ") for grouped-query attention";

  // Result: [batch, query heads, query seq, value head_dim].
  ArrayRef<int64_t> r = getResult().getType().getShape();
  int64_t expectedResult[] = {q[kBatch], q[kHeads], q[kSeq], v[kHeadDim]};
  for (unsigned dim = 0; dim < 4; ++dim)
    if (!sizesAgree(r[dim], expectedResult[dim]))
      return mismatch("result", dim, dim == kHeadDim ? "value" : "query",
                      r[dim], expectedResult[dim]);

  // Mask: [batch, query heads, query seq, key seq]; static 1 broadcasts.
  if (Value mask = getMask()) {
    ArrayRef<int64_t> m = cast<RankedTensorType>(mask.getType()).getShape();
    int64_t expectedMask[] = {q[kBatch], q[kHeads], q[kSeq], k[kSeq]};
    const char *maskDims[] = {"batch", "heads", "query seq", "key seq"};
    for (unsigned dim = 0; dim < 4; ++dim)
      if (m[dim] != 1 && !sizesAgree(m[dim], expectedMask[dim]))
        return emitOpError("expected 'mask' ")
               << maskDims[dim] << " (dim " << dim << ") to be 1 or "
               << sizeStr(expectedMask[dim]) << ", got " << sizeStr(m[dim]);
  }
  return success();
}
