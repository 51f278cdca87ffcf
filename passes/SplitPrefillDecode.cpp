//===- SplitPrefillDecode.cpp - @prefill and @decode with a KV cache ------===//
//
// Turns the imported model function into the two programs a runtime runs:
// @prefill (the prompt, from position 0) and @decode (new tokens at a
// position), with every layer's KV cache an explicit argument and result.
//
// The importer tags the model's own past key/value inputs and present
// outputs (`swaa.kv_cache = {layer, kind, role}`); each layer's attention
// reads concat(past, fresh) along the sequence axis. Here the past is
// replaced by the cache: its length becomes the position (0 in prefill), the
// fresh keys/values are appended with `attn.cache_append`, and decode reads
// the cache with `attn.cache_attention`, full or windowed per layer.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "passes/LayerSpec.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Iterators.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"

#include <map>

namespace mlir::swaa {
#define GEN_PASS_DEF_ATTNSPLITPREFILLDECODEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

namespace {
constexpr StringLiteral kKVCacheAttr = "swaa.kv_cache";

/// The importer's role tag of a function argument or result ("past",
/// "present"), or empty.
StringRef cacheRole(DictionaryAttr attrs) {
  if (!attrs)
    return "";
  auto tag = attrs.getAs<DictionaryAttr>(kKVCacheAttr);
  if (!tag)
    return "";
  auto role = tag.getAs<StringAttr>("role");
  return role ? role.getValue() : "";
}

bool isPastArgument(func::FuncOp fn, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  return arg && arg.getOwner() == &fn.getBody().front() &&
         cacheRole(fn.getArgAttrDict(arg.getArgNumber())) == "past";
}

bool zeroOffsetsUnitStrides(OffsetSizeAndStrideOpInterface op) {
  return areAllConstantIntValue(op.getMixedOffsets(), 0) &&
         areAllConstantIntValue(op.getMixedStrides(), 1);
}

/// Looks through ops that copy a whole tensor: casts, an insert_slice of a
/// tensor into a tensor.empty of the same sizes (a one-input Concat), an
/// extract_slice of all of a [B, H, S, D] tensor (a "last k" slice that the
/// importer proved keeps everything; the past's length may be read off any
/// past input, they all have the same).
Value skipCopies(func::FuncOp fn, Value v) {
  for (;;) {
    if (auto cast = v.getDefiningOp<tensor::CastOp>()) {
      v = cast.getSource();
      continue;
    }
    if (auto ins = v.getDefiningOp<tensor::InsertSliceOp>()) {
      auto empty = ins.getDest().getDefiningOp<tensor::EmptyOp>();
      if (empty && zeroOffsetsUnitStrides(ins) &&
          isEqualConstantIntOrValueArray(ins.getMixedSizes(),
                                         empty.getMixedSizes())) {
        v = ins.getSource();
        continue;
      }
    }
    if (auto ext = v.getDefiningOp<tensor::ExtractSliceOp>()) {
      RankedTensorType src = ext.getSourceType();
      bool whole = zeroOffsetsUnitStrides(ext) && src.getRank() == 4 &&
                   ext.getResultType().getRank() == 4;
      SmallVector<OpFoldResult> sizes = ext.getMixedSizes();
      // Batch is the model's batch; the others must be all of the source.
      for (unsigned d = 1; whole && d < 4; ++d) {
        if (!src.isDynamicDim(d)) {
          whole = getConstantIntValue(sizes[d]) == src.getDimSize(d);
          continue;
        }
        auto dim = dyn_cast_if_present<Value>(sizes[d])
                       ? cast<Value>(sizes[d]).getDefiningOp<tensor::DimOp>()
                       : tensor::DimOp();
        Value sized = dim ? skipCopies(fn, dim.getSource()) : Value();
        Value source = skipCopies(fn, ext.getSource());
        whole = dim &&
                (sized == source || (d == 2 && isPastArgument(fn, sized) &&
                                     isPastArgument(fn, source))) &&
                getConstantIntValue(dim.getIndex()) == (int64_t)d;
      }
      if (whole) {
        v = ext.getSource();
        continue;
      }
    }
    return v;
  }
}

/// Where one layer's keys or values come from.
struct KVSource {
  /// The new tokens' keys/values, [batch, kv_heads, n, head_dim].
  Value fresh;
  /// The model's past input they are appended to; null without a cache.
  Value past;
};

/// Matches concat(past, fresh) along the sequence axis as the importer emits
/// it: fresh inserted at the past's length into a tensor that holds the past
/// at offset 0. Anything else is the fresh keys of a model without a cache.
KVSource findSource(func::FuncOp fn, Value operand) {
  Value v = skipCopies(fn, operand);
  if (auto append = v.getDefiningOp<tensor::InsertSliceOp>()) {
    Value dest = skipCopies(fn, append.getDest());
    if (auto holdsPast = dest.getDefiningOp<tensor::InsertSliceOp>())
      if (zeroOffsetsUnitStrides(holdsPast) &&
          holdsPast.getDest().getDefiningOp<tensor::EmptyOp>()) {
        Value past = skipCopies(fn, holdsPast.getSource());
        if (isPastArgument(fn, past))
          return {append.getSource(), past};
      }
  }
  return {operand, Value()};
}

/// What the split decides for one attention layer.
struct LayerPlan {
  attn::AttentionOp op;
  int64_t layer = 0;
  KVSource key, value;
  /// Decode attention: windowed (ring cache of window + sinks slots) or
  /// full (full cache).
  bool decodeWindowed = false;
  int64_t window = 0, sinks = 0;
  RankedTensorType keyCache, valueCache;
};

RankedTensorType cacheType(Value fresh, const LayerPlan &plan) {
  auto t = cast<RankedTensorType>(fresh.getType());
  SmallVector<int64_t> shape(t.getShape());
  shape[2] =
      plan.decodeWindowed ? plan.window + plan.sinks : ShapedType::kDynamic;
  return RankedTensorType::get(shape, t.getElementType());
}

DictionaryAttr cacheAttrs(Builder &b, const LayerPlan &plan, StringRef kind) {
  SmallVector<NamedAttribute> tag = {
      b.getNamedAttr("layer", b.getI64IntegerAttr(plan.layer)),
      b.getNamedAttr("kind", b.getStringAttr(kind)),
      b.getNamedAttr("policy",
                     b.getStringAttr(plan.decodeWindowed ? "ring" : "full"))};
  if (plan.decodeWindowed) {
    tag.push_back(b.getNamedAttr("window", b.getI64IntegerAttr(plan.window)));
    tag.push_back(b.getNamedAttr("sinks", b.getI64IntegerAttr(plan.sinks)));
  }
  return b.getDictionaryAttr(
      {b.getNamedAttr(kKVCacheAttr, b.getDictionaryAttr(tag))});
}

/// Erases ops without uses and side effects, repeatedly, in `fn`.
void eraseDeadOps(func::FuncOp fn) {
  bool changed = true;
  while (changed) {
    changed = false;
    SmallVector<Operation *> dead;
    fn.walk<WalkOrder::PostOrder, ReverseIterator>([&](Operation *op) {
      if (op != fn && isOpTriviallyDead(op))
        dead.push_back(op);
    });
    for (Operation *op : dead) {
      op->erase();
      changed = true;
    }
  }
}

/// Rewrites `fn` (a clone of the model function) into the prefill or decode
/// program for `plans` (in layer order, for the layers of `fn`'s ops).
LogicalResult buildEntry(func::FuncOp fn, bool decode,
                         MutableArrayRef<LayerPlan> plans) {
  MLIRContext *ctx = fn.getContext();
  OpBuilder b(ctx);
  Block &entry = fn.getBody().front();
  Location loc = fn.getLoc();

  // New arguments: the position (decode), then key and value caches per
  // layer.
  unsigned firstNew = fn.getNumArguments();
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> attrs;
  if (decode) {
    types.push_back(b.getIndexType());
    attrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("swaa.position", b.getUnitAttr())}));
  }
  for (LayerPlan &plan : plans) {
    types.push_back(plan.keyCache);
    attrs.push_back(cacheAttrs(b, plan, "key"));
    types.push_back(plan.valueCache);
    attrs.push_back(cacheAttrs(b, plan, "value"));
  }
  SmallVector<unsigned> indices(types.size(), firstNew);
  SmallVector<Location> locs(types.size(), loc);
  if (failed(fn.insertArguments(indices, types, attrs, locs)))
    return fn.emitError("cannot add the cache arguments");
  unsigned cacheBase = firstNew + (decode ? 1 : 0);

  b.setInsertionPointToStart(&entry);
  Value pos = decode ? entry.getArgument(firstNew)
                     : (Value)arith::ConstantIndexOp::create(b, loc, 0);
  Value batch = tensor::DimOp::create(b, loc, entry.getArgument(cacheBase), 0);

  // The past's sizes: its length is the position, its batch the caches'.
  llvm::BitVector pastArgs(fn.getNumArguments());
  for (BlockArgument arg : entry.getArguments()) {
    if (!isPastArgument(fn, arg))
      continue;
    pastArgs.set(arg.getArgNumber());
    for (OpOperand &use : llvm::make_early_inc_range(arg.getUses())) {
      auto dim = dyn_cast<tensor::DimOp>(use.getOwner());
      if (!dim)
        continue;
      std::optional<int64_t> index = getConstantIntValue(dim.getIndex());
      auto type = cast<RankedTensorType>(arg.getType());
      if (!index || *index < 0 || *index >= type.getRank())
        return dim.emitOpError("reads a size of the past key/values that the "
                               "split cannot map onto the cache");
      Value replacement;
      if (*index == 2)
        replacement = pos;
      else if (*index == 0)
        replacement = batch;
      else if (!type.isDynamicDim(*index)) {
        b.setInsertionPoint(dim);
        replacement = arith::ConstantIndexOp::create(b, dim.getLoc(),
                                                     type.getDimSize(*index));
      } else {
        return dim.emitOpError("reads a dynamic size of the past key/values "
                               "other than batch and sequence");
      }
      dim.replaceAllUsesWith(replacement);
      dim.erase();
    }
  }

  // Per layer: append the fresh keys/values, attend.
  SmallVector<Value> caches;
  for (auto [i, plan] : llvm::enumerate(plans)) {
    attn::AttentionOp op = plan.op;
    b.setInsertionPoint(op);
    IntegerAttr ringWindow =
        plan.decodeWindowed ? b.getI64IntegerAttr(plan.window) : IntegerAttr();
    IntegerAttr ringSinks =
        b.getI64IntegerAttr(plan.decodeWindowed ? plan.sinks : 0);
    Value kc = entry.getArgument(cacheBase + 2 * i);
    Value vc = entry.getArgument(cacheBase + 2 * i + 1);
    auto kApp = attn::CacheAppendOp::create(b, op.getLoc(), kc.getType(),
                                            plan.key.fresh, kc, pos, ringWindow,
                                            ringSinks);
    auto vApp = attn::CacheAppendOp::create(b, op.getLoc(), vc.getType(),
                                            plan.value.fresh, vc, pos,
                                            ringWindow, ringSinks);
    caches.push_back(kApp.getResult());
    caches.push_back(vApp.getResult());
    if (!decode) {
      // The past is empty in prefill: attention over the fresh keys only.
      op.getKeyMutable().assign(plan.key.fresh);
      op.getValueMutable().assign(plan.value.fresh);
      continue;
    }
    auto read = attn::CacheAttentionOp::create(
        b, op.getLoc(), op.getResult().getType(), op.getQuery(),
        kApp.getResult(), vApp.getResult(), pos, op.getMask(),
        op.getLayerAttr(), op.getScaleAttr(), b.getUnitAttr(),
        plan.decodeWindowed ? b.getI64IntegerAttr(plan.window) : IntegerAttr(),
        b.getI64IntegerAttr(plan.decodeWindowed ? plan.sinks : 0), ringWindow,
        ringSinks, op.getSoftcapAttr());
    op.getResult().replaceAllUsesWith(read.getResult());
    op.erase();
  }

  // Results: the model's outputs without its present key/values, then the
  // caches.
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    DictionaryAttr a = fn.getResultAttrDict(i);
    if (cacheRole(a) == "present")
      continue;
    results.push_back(v);
    resultAttrs.push_back(a ? a : b.getDictionaryAttr({}));
  }
  for (unsigned i = 0; i < caches.size(); ++i) {
    results.push_back(caches[i]);
    resultAttrs.push_back(cacheAttrs(b, plans[i / 2], i % 2 ? "value" : "key"));
  }
  b.setInsertionPoint(ret);
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();

  // The past inputs must be dead now.
  eraseDeadOps(fn);
  for (unsigned i : pastArgs.set_bits())
    for (Operation *user : entry.getArgument(i).getUsers())
      return user->emitOpError("still reads the past key/value input ")
             << fn.getArgAttrDict(i).get("swaa.input")
             << " after the split: the split only knows the past as the "
                "front of the keys an attention reads";
  SmallVector<Type> resultTypes =
      llvm::to_vector(ValueRange(results).getTypes());
  fn.setType(FunctionType::get(ctx, fn.getArgumentTypes(), resultTypes));
  fn.setAllResultAttrs(resultAttrs);
  if (failed(fn.eraseArguments(pastArgs)))
    return fn.emitError("cannot erase the past key/value arguments");
  fn->setAttr("swaa.entry", b.getStringAttr(decode ? "decode" : "prefill"));
  return success();
}

/// The attentions of `fn` by layer, with their key/value sources. Fails with
/// a diagnostic when the layers are not 0..L-1 once each, or when a layer of
/// a model with a cache does not read it.
FailureOr<SmallVector<LayerPlan>> planLayers(func::FuncOp fn,
                                             ArrayRef<bool> faDecode) {
  std::map<int64_t, attn::AttentionOp> byLayer;
  WalkResult walk = fn.walk([&](Operation *op) {
    if (isa<attn::CacheAttentionOp, attn::CacheAppendOp>(op)) {
      op->emitOpError("is already a KV-cache op: the model is split already");
      return WalkResult::interrupt();
    }
    auto a = dyn_cast<attn::AttentionOp>(op);
    if (!a)
      return WalkResult::advance();
    if (!byLayer.emplace(a.getLayerAttr().getInt(), a).second) {
      a.emitOpError("has the same layer index as another attention (")
          << a.getLayerAttr().getInt() << "): the split needs one per layer";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  if (byLayer.empty())
    return fn.emitError("has no attn.attention to split");
  bool hasPast = llvm::any_of(fn.getArguments(), [&](BlockArgument arg) {
    return isPastArgument(fn, arg);
  });
  SmallVector<LayerPlan> plans;
  for (auto &[layer, op] : byLayer) {
    if (layer != (int64_t)plans.size())
      return op.emitOpError("has layer ")
             << layer << " but layer " << plans.size()
             << " is missing: layers must be numbered 0..L-1";
    LayerPlan plan;
    plan.op = op;
    plan.layer = layer;
    plan.key = findSource(fn, op.getKey());
    plan.value = findSource(fn, op.getValue());
    if (hasPast && (!plan.key.past || !plan.value.past))
      return op.emitOpError("reads keys/values that do not append the new "
                            "tokens to the model's past key/values (concat "
                            "along the sequence axis): the split cannot put "
                            "this layer on the KV cache");
    bool full = (size_t)layer < faDecode.size() && faDecode[layer];
    plan.decodeWindowed = op.isWindowed() && !full;
    plan.window = op.getWindowAttr() ? op.getWindowAttr().getInt() : 0;
    plan.sinks = op.getSinksAttr().getInt();
    plan.keyCache = cacheType(plan.key.fresh, plan);
    plan.valueCache = cacheType(plan.value.fresh, plan);
    plans.push_back(plan);
  }
  return plans;
}
} // namespace

FailureOr<PrefillDecode> swaa::splitPrefillDecode(func::FuncOp entry,
                                                  StringRef faDecode) {
  int64_t numLayers = countAttentionLayers(entry);
  SmallVector<bool> full(numLayers, false);
  StringRef spec = faDecode.trim();
  if (spec == "true")
    spec = "all";
  else if (spec == "false")
    spec = "none";
  llvm::Expected<SmallVector<int64_t>> layers = parseLayerSpec(spec, numLayers);
  if (!layers)
    return entry.emitError()
           << "fa-decode: " << llvm::toString(layers.takeError());
  for (int64_t l : *layers)
    full[l] = true;
  if (spec != "all" &&
      failed(checkNativeLayers(entry, "fa-decode", full,
                               "gives them full-attention decode")))
    return failure();
  entry.walk([&](attn::AttentionOp op) {
    int64_t layer = op.getLayerAttr().getInt();
    if (nativeWindow(op) && layer >= 0 && layer < numLayers)
      full[layer] = false;
  });

  bool hasPast = llvm::any_of(entry.getArguments(), [&](BlockArgument arg) {
    return isPastArgument(entry, arg);
  });
  auto module = entry->getParentOfType<ModuleOp>();
  SymbolTable symbols(module);
  for (StringRef name : {"prefill", "decode"})
    if (symbols.lookup(name))
      return entry.emitError()
             << "cannot split: the module already has @" << name;

  PrefillDecode result;
  for (bool decode : {false, true}) {
    if (decode && !hasPast) {
      entry.emitWarning(
          "has no past key/value inputs: only @prefill is generated (export "
          "the model with past key/values, e.g. use_cache=True, for @decode)");
      continue;
    }
    func::FuncOp fn = entry.clone();
    fn.setName(decode ? "decode" : "prefill");
    module.getBody()->push_back(fn);
    FailureOr<SmallVector<LayerPlan>> plans = planLayers(fn, full);
    if (failed(plans) || failed(buildEntry(fn, decode, *plans))) {
      fn.erase();
      if (result.prefill)
        result.prefill.erase();
      return failure();
    }
    (decode ? result.decode : result.prefill) = fn;
  }
  entry.erase();
  return result;
}

namespace mlir::swaa {
namespace {
struct AttnSplitPrefillDecodePass final
    : impl::AttnSplitPrefillDecodePassBase<AttnSplitPrefillDecodePass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fn = module.lookupSymbol<func::FuncOp>(entry);
    if (!fn) {
      module.emitError() << "attn-split-prefill-decode: no function @" << entry
                         << " to split (set entry=NAME)";
      return signalPassFailure();
    }
    if (failed(splitPrefillDecode(fn, faDecode)))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::swaa
