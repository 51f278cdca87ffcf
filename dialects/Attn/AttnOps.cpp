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

namespace {
/// What `attn.attention` and `attn.cache_attention` share: the visibility
/// attributes and the [batch, heads, seq, head_dim] operands. `keySeqName`
/// names what the mask's last dimension must match (the keys, or nothing
/// static for a cache read at a run-time position).
struct AttentionParts {
  Operation *op;
  Value query, key, value, mask, result;
  IntegerAttr layer, window, sinks;
  double scale;
  bool causal;
  const char *keyName, *valueName;
  bool maskKeysAreKeys;
};

LogicalResult verifyAttention(const AttentionParts &a) {
  auto emitOpError = [&](const Twine &message) {
    return a.op->emitOpError(message);
  };
  // Attributes. I64Attr accessors return unsigned values: read the signed
  // ones from the attributes so that a negative value is reported as such.
  int64_t layer = a.layer.getInt();
  int64_t sinks = a.sinks.getInt();
  std::optional<int64_t> window;
  if (a.window)
    window = a.window.getInt();
  if (layer < 0)
    return emitOpError("expected 'layer' to be non-negative, got ") << layer;
  if (!std::isfinite(a.scale) || a.scale <= 0.0)
    return emitOpError("expected 'scale' to be positive and finite, got ")
           << a.scale;
  if (window) {
    if (*window < 1)
      return emitOpError("expected 'window' to be at least 1 (the query "
                         "itself), got ")
             << *window;
    if (!a.causal)
      return emitOpError("expected 'causal' with 'window': a sliding window "
                         "is defined on causal attention");
  }
  if (sinks < 0)
    return emitOpError("expected 'sinks' to be non-negative, got ") << sinks;
  if (sinks > 0 && !window)
    return emitOpError("expected 'window' with 'sinks' = ")
           << sinks << ": sink tokens only apply to windowed attention";

  // Operand ranks and element types.
  Type elementType = cast<RankedTensorType>(a.query.getType()).getElementType();
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
  if (failed(checkTensor(a.query, "query")) ||
      failed(checkTensor(a.key, a.keyName)) ||
      failed(checkTensor(a.value, a.valueName)) ||
      failed(checkTensor(a.result, "result")))
    return failure();
  if (a.mask &&
      failed(checkTensor(a.mask, "mask", "[batch, heads, query seq, key seq]")))
    return failure();

  ArrayRef<int64_t> q = cast<RankedTensorType>(a.query.getType()).getShape();
  ArrayRef<int64_t> k = cast<RankedTensorType>(a.key.getType()).getShape();
  ArrayRef<int64_t> v = cast<RankedTensorType>(a.value.getType()).getShape();
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
      return mismatch(a.valueName, dim, a.keyName, v[dim], k[dim]);
  if (!sizesAgree(k[kBatch], q[kBatch]))
    return mismatch(a.keyName, kBatch, "query", k[kBatch], q[kBatch]);
  if (!sizesAgree(k[kHeadDim], q[kHeadDim]))
    return mismatch(a.keyName, kHeadDim, "query", k[kHeadDim], q[kHeadDim]);

  // Grouped-query attention: key/value heads divide the query heads.
  if (!ShapedType::isDynamic(k[kHeads]) && k[kHeads] < 1)
    return emitOpError("expected '")
           << a.keyName << "' to have at least one head, got " << k[kHeads];
  if (!ShapedType::isDynamic(q[kHeads]) && !ShapedType::isDynamic(k[kHeads]) &&
      q[kHeads] % k[kHeads] != 0)
    return emitOpError("expected 'query' heads (")
           << q[kHeads] << ") to be a multiple of '" << a.keyName << "'/'"
           << a.valueName << "' heads (" << k[kHeads]
           << ") for grouped-query attention";

  // Result: [batch, query heads, query seq, value head_dim].
  ArrayRef<int64_t> r = cast<RankedTensorType>(a.result.getType()).getShape();
  int64_t expectedResult[] = {q[kBatch], q[kHeads], q[kSeq], v[kHeadDim]};
  for (unsigned dim = 0; dim < 4; ++dim)
    if (!sizesAgree(r[dim], expectedResult[dim]))
      return mismatch("result", dim, dim == kHeadDim ? a.valueName : "query",
                      r[dim], expectedResult[dim]);

  // Mask: [batch, query heads, query seq, key seq]; static 1 broadcasts.
  if (a.mask) {
    ArrayRef<int64_t> m = cast<RankedTensorType>(a.mask.getType()).getShape();
    int64_t expectedMask[] = {q[kBatch], q[kHeads], q[kSeq],
                              a.maskKeysAreKeys ? k[kSeq]
                                                : ShapedType::kDynamic};
    const char *maskDims[] = {"batch", "heads", "query seq", "key seq"};
    for (unsigned dim = 0; dim < 4; ++dim)
      if (m[dim] != 1 && !sizesAgree(m[dim], expectedMask[dim]))
        return emitOpError("expected 'mask' ")
               << maskDims[dim] << " (dim " << dim << ") to be 1 or "
               << sizeStr(expectedMask[dim]) << ", got " << sizeStr(m[dim]);
  }
  return success();
}

/// The ring policy attributes of the cache ops: a window of at least 1 and
/// non-negative sinks; `capacity` (the cache's seq size) is W + S when static.
LogicalResult verifyRing(Operation *op, IntegerAttr ringWindow,
                         IntegerAttr ringSinks, Type cacheType,
                         StringRef cacheName) {
  if (!ringWindow) {
    if (ringSinks.getInt() != 0)
      return op->emitOpError("expected 'ring' with 'ring_sinks' = ")
             << ringSinks.getInt();
    return success();
  }
  int64_t w = ringWindow.getInt(), s = ringSinks.getInt();
  if (w < 1)
    return op->emitOpError("expected the ring window to be at least 1, got ")
           << w;
  if (s < 0)
    return op->emitOpError("expected the ring sinks to be non-negative, got ")
           << s;
  auto type = cast<RankedTensorType>(cacheType);
  if (type.getRank() == 4 && !type.isDynamicDim(kSeq) &&
      type.getDimSize(kSeq) != w + s)
    return op->emitOpError("expected '")
           << cacheName << "' to have ring window + sinks = " << w + s
           << " slots (dim 2), got " << type.getDimSize(kSeq);
  return success();
}
} // namespace

/// softcap, when given, must be a positive finite number.
static LogicalResult verifySoftcap(Operation *op, FloatAttr softcap) {
  if (!softcap)
    return success();
  double c = softcap.getValueAsDouble();
  if (!(c > 0) || !std::isfinite(c))
    return op->emitOpError("expected 'softcap' to be a positive number, got ")
           << c;
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifySoftcap(getOperation(), getSoftcapAttr())))
    return failure();
  return verifyAttention({getOperation(), getQuery(), getKey(), getValue(),
                          getMask(), getResult(), getLayerAttr(),
                          getWindowAttr(), getSinksAttr(),
                          getScale().convertToDouble(), getCausal(), "key",
                          "value", /*maskKeysAreKeys=*/true});
}

LogicalResult CacheAppendOp::verify() {
  auto update = cast<RankedTensorType>(getUpdate().getType());
  auto cache = cast<RankedTensorType>(getCache().getType());
  if (update.getRank() != 4 || cache.getRank() != 4)
    return emitOpError("expected 'update' and 'cache' to have rank 4 "
                       "([batch, kv_heads, seq, head_dim]), got ")
           << update.getRank() << " and " << cache.getRank();
  if (update.getElementType() != cache.getElementType())
    return emitOpError("expected 'update' element type to match 'cache' (")
           << cache.getElementType() << "), got " << update.getElementType();
  for (unsigned dim : {kBatch, kHeads, kHeadDim})
    if (!sizesAgree(update.getDimSize(dim), cache.getDimSize(dim)))
      return emitOpError("expected 'update' ")
             << kDimNames[dim] << " (dim " << dim << ") to match 'cache', got "
             << sizeStr(update.getDimSize(dim)) << " vs "
             << sizeStr(cache.getDimSize(dim));
  if (!getRingWindowAttr() && !update.isDynamicDim(kSeq) &&
      !cache.isDynamicDim(kSeq) &&
      update.getDimSize(kSeq) > cache.getDimSize(kSeq))
    return emitOpError("expected 'update' seq (")
           << update.getDimSize(kSeq) << ") to fit a full cache of "
           << cache.getDimSize(kSeq) << " slots";
  return verifyRing(getOperation(), getRingWindowAttr(), getRingSinksAttr(),
                    cache, "cache");
}

LogicalResult CacheAttentionOp::verify() {
  if (failed(verifySoftcap(getOperation(), getSoftcapAttr())))
    return failure();
  if (failed(verifyAttention({getOperation(), getQuery(), getKeyCache(),
                              getValueCache(), getMask(), getResult(),
                              getLayerAttr(), getWindowAttr(), getSinksAttr(),
                              getScale().convertToDouble(), getCausal(),
                              "key_cache", "value_cache",
                              /*maskKeysAreKeys=*/false})))
    return failure();
  if (failed(verifyRing(getOperation(), getRingWindowAttr(), getRingSinksAttr(),
                        getKeyCache().getType(), "key_cache")))
    return failure();
  if (!getCausal())
    return emitOpError("expected 'causal': the queries are the newest "
                       "positions of the cache");
  if (IntegerAttr ring = getRingWindowAttr()) {
    int64_t ringSinks = getRingSinksAttr().getInt();
    if (!getWindowAttr())
      return emitOpError("expected a 'window' to read a ring cache (ring ")
             << ring.getInt() << " sinks " << ringSinks
             << "): full attention needs a full cache";
    if (getWindowAttr().getInt() > ring.getInt())
      return emitOpError("expected 'window' (")
             << getWindowAttr().getInt() << ") to fit the ring window ("
             << ring.getInt() << ")";
    if (getSinksAttr().getInt() > ringSinks)
      return emitOpError("expected 'sinks' (")
             << getSinksAttr().getInt() << ") to fit the ring sinks ("
             << ringSinks << ")";
    int64_t rows = getQuery().getType().getDimSize(kSeq);
    if (!ShapedType::isDynamic(rows) && rows != 1)
      return emitOpError("expected one query row to read a ring cache, got ")
             << rows;
  }
  return success();
}
