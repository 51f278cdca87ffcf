//===- Report.cpp - the cost of a SWAA recipe, per layer ------------------===//
//
// Attention costs come from the attention contract in closed form; the rest
// of the model's FLOPs from its own IR: @prefill is specialized to a batch
// and a prompt length, canonicalized until its shapes are static, and every
// linalg contraction counts 2 FLOPs per multiply-add of its iteration space.
//
//===----------------------------------------------------------------------===//

#include "compiler/Driver/Report.h"

#include "dialects/Attn/AttnOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/Format.h"

#include <map>

using namespace mlir;
using namespace mlir::swaa;

int64_t swaa::visiblePairs(int64_t n, bool causal,
                           std::optional<int64_t> window, int64_t sinks) {
  if (n <= 0)
    return 0;
  if (!causal)
    return n * n;
  if (!window || *window >= n)
    return n * (n + 1) / 2;
  // Query i < W sees keys 0..i; query i >= W sees its W keys plus the sinks
  // below its window, min(S, i - W + 1) of them.
  int64_t w = *window;
  int64_t pairs = w * (w + 1) / 2 + (n - w) * w;
  int64_t t = n - w; // queries past the first window: t = 1 .. n - w
  int64_t s = std::max<int64_t>(sinks, 0);
  pairs += t <= s ? t * (t + 1) / 2 : s * (s + 1) / 2 + (t - s) * s;
  return pairs;
}

namespace {
llvm::Error err(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

/// One attention layer of a split model.
struct LayerCost {
  int64_t layer = 0;
  std::string prefillKind, decodeKind, cache;
  /// Where the layer's attention comes from: "model" (the model's own full
  /// attention), "native" (the model's own window, kept), "recipe" (the
  /// recipe's window), "fa-layers" (kept full by the recipe).
  std::string origin;
  /// Logit soft-capping of the layer's scores, if any.
  std::optional<double> softcap;
  std::optional<int64_t> window;
  int64_t sinks = 0;
  int64_t pairs = 0;
  double attentionFlops = 0;
  double kvBytes = 0;
};

struct ModelCost {
  std::map<int64_t, LayerCost> layers;
  double otherFlops = 0;
  double attentionFlops() const {
    double f = 0;
    for (const auto &[l, c] : layers)
      f += c.attentionFlops;
    return f;
  }
  double kvBytes() const {
    double b = 0;
    for (const auto &[l, c] : layers)
      b += c.kvBytes;
    return b;
  }
};

std::string kindOf(std::optional<int64_t> window, int64_t sinks) {
  if (!window)
    return "full";
  return "swa " + std::to_string(*window) +
         (sinks ? "+" + std::to_string(sinks) : std::string());
}

StringRef cachePolicy(DictionaryAttr attrs, int64_t &window, int64_t &sinks,
                      int64_t &layer, StringRef &kind) {
  auto tag = attrs ? attrs.getAs<DictionaryAttr>("swaa.kv_cache") : nullptr;
  if (!tag || !tag.getAs<StringAttr>("policy"))
    return "";
  layer = tag.getAs<IntegerAttr>("layer").getInt();
  kind = tag.getAs<StringAttr>("kind").getValue();
  if (auto w = tag.getAs<IntegerAttr>("window"))
    window = w.getInt();
  if (auto s = tag.getAs<IntegerAttr>("sinks"))
    sinks = s.getInt();
  return tag.getAs<StringAttr>("policy").getValue();
}

/// FLOPs of everything but attention in `prefill` for `batch` x `n` tokens:
/// 2 per multiply-add of every linalg op with a reduction.
llvm::Expected<double> otherFlops(func::FuncOp prefill, int64_t n,
                                  int64_t batch) {
  MLIRContext *ctx = prefill.getContext();
  OwningOpRef<ModuleOp> tmp = ModuleOp::create(prefill.getLoc());
  func::FuncOp fn = prefill.clone();
  tmp->getBody()->push_back(fn);
  SmallVector<Type> argTypes;
  for (BlockArgument arg : fn.getArguments()) {
    if (fn.getArgAttr(arg.getArgNumber(), "swaa.logits_from")) {
      // Generation's prefill: the logits of the last row only.
      OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
      arg.replaceAllUsesWith(
          arith::ConstantIndexOp::create(b, arg.getLoc(), n - 1));
    }
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type) {
      argTypes.push_back(arg.getType());
      continue;
    }
    SmallVector<int64_t> shape(type.getShape());
    for (auto [d, size] : llvm::enumerate(shape))
      if (ShapedType::isDynamic(size))
        size = d == 0 ? batch : n; // batch, then sequence-like sizes
    auto newType = RankedTensorType::get(shape, type.getElementType());
    argTypes.push_back(newType);
    if (newType == type)
      continue;
    // Uses keep the dynamic type through a cast that the canonicalizer
    // folds into the ops that can take the static one.
    arg.setType(newType);
    OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
    auto cast = tensor::CastOp::create(b, arg.getLoc(), type, arg);
    arg.replaceAllUsesExcept(cast.getResult(), cast);
  }
  fn.setType(FunctionType::get(ctx, argTypes, fn.getResultTypes()));
  PassManager pm(ctx);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(*tmp)))
    return err("cannot specialize @prefill to static shapes for the report");
  double flops = 0;
  int64_t unknown = 0;
  fn.walk([&](linalg::LinalgOp op) {
    if (op.getNumReductionLoops() == 0)
      return;
    double product = 2;
    for (int64_t r : op.getStaticLoopRanges()) {
      if (ShapedType::isDynamic(r)) {
        ++unknown;
        return;
      }
      product *= (double)r;
    }
    flops += product;
  });
  if (unknown)
    return err("the report cannot size " + llvm::Twine(unknown) +
               " contraction(s) of the model at a static prompt length");
  return flops;
}

llvm::Expected<ModelCost> costOf(ModuleOp module, int64_t n, int64_t batch) {
  auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
  auto decode = module.lookupSymbol<func::FuncOp>("decode");
  if (!prefill)
    return err("the module has no @prefill to report on");
  ModelCost cost;
  WalkResult walk = prefill.walk([&](attn::AttentionOp op) {
    LayerCost c;
    c.layer = op.getLayerAttr().getInt();
    c.window = op.getWindowAttr()
                   ? std::optional<int64_t>(op.getWindowAttr().getInt())
                   : std::nullopt;
    c.sinks = op.getSinksAttr().getInt();
    c.prefillKind = kindOf(c.window, c.sinks);
    if (op.getSoftcapAttr())
      c.softcap = op.getSoftcapAttr().getValueAsDouble();
    c.origin = op->hasAttr(attn::kNativeWindowAttr) ? "native"
               : op->hasAttr("attn.keep_full")      ? "fa-layers"
               : c.window                           ? "recipe"
                                                    : "model";
    c.decodeKind = decode ? "full" : "-";
    auto q = op.getQuery().getType();
    auto v = op.getValue().getType();
    if (q.isDynamicDim(1) || q.isDynamicDim(3) || v.isDynamicDim(3))
      return WalkResult::interrupt();
    c.pairs = visiblePairs(n, op.getCausal(), c.window, c.sinks);
    c.attentionFlops = (double)batch * q.getDimSize(1) * (double)c.pairs *
                       (2.0 * q.getDimSize(3) + 2.0 * v.getDimSize(3));
    cost.layers[c.layer] = c;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return err("the report needs static head counts and head sizes");
  if (decode)
    decode.walk([&](attn::CacheAttentionOp op) {
      auto it = cost.layers.find(op.getLayerAttr().getInt());
      if (it == cost.layers.end())
        return;
      std::optional<int64_t> w;
      if (op.getWindowAttr())
        w = op.getWindowAttr().getInt();
      it->second.decodeKind = kindOf(w, op.getSinksAttr().getInt());
    });
  for (BlockArgument arg : prefill.getArguments()) {
    int64_t window = 0, sinks = 0, layer = -1;
    StringRef kind;
    StringRef policy = cachePolicy(prefill.getArgAttrDict(arg.getArgNumber()),
                                   window, sinks, layer, kind);
    auto it = cost.layers.find(layer);
    if (policy.empty() || it == cost.layers.end())
      continue;
    auto type = cast<RankedTensorType>(arg.getType());
    int64_t slots = policy == "ring" ? window + sinks : n;
    double bytes = (double)batch * type.getDimSize(1) * slots *
                   type.getDimSize(3) * (type.getElementTypeBitWidth() / 8.0);
    it->second.kvBytes += bytes;
    it->second.cache = policy == "ring"
                           ? "ring " + std::to_string(window + sinks)
                           : "full " + std::to_string(n);
  }
  llvm::Expected<double> other = otherFlops(prefill, n, batch);
  if (!other)
    return other.takeError();
  cost.otherFlops = *other;
  return cost;
}

std::string human(double v, const char *unit) {
  const char *prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (v >= 1000 && i < 5) {
    v /= 1000;
    ++i;
  }
  return llvm::formatv("{0:F2} {1}{2}", v, prefixes[i], unit).str();
}

/// A number without trailing zeros: 50, 30.5.
std::string trimmed(double v) {
  std::string s = llvm::formatv("{0:F6}", v).str();
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

std::string mib(double bytes) {
  return llvm::formatv("{0:F2} MiB", bytes / (1024.0 * 1024.0)).str();
}
} // namespace

llvm::Expected<std::string> swaa::formatReport(ModuleOp split,
                                               ModuleOp fullAttention,
                                               const Recipe &recipe,
                                               int64_t context, int64_t batch) {
  llvm::Expected<ModelCost> swaa = costOf(split, context, batch);
  if (!swaa)
    return swaa.takeError();
  llvm::Expected<ModelCost> full = costOf(fullAttention, context, batch);
  if (!full)
    return full.takeError();

  std::string s;
  llvm::raw_string_ostream os(s);
  os << "recipe: " << recipe.str() << " (" << recipe.source << ")\n";
  os << "prefill of " << context << " tokens, batch " << batch << "\n";
  bool native = llvm::any_of(
      full->layers, [](const auto &l) { return l.second.origin == "native"; });
  if (native)
    os << (recipe.overrideNative
               ? "the recipe overrides the model's own sliding windows "
                 "(--override-native-windows); "
               : "layers with the model's own sliding window keep it "
                 "(native); ")
       << "the baseline is the model's own attention\n";
  os << "\n";
  os << llvm::formatv("{0,5}  {1,-10}  {2,-14}  {3,-14}  {4,14}  {5,14}  "
                      "{6,12}  {7,-12}\n",
                      "layer", "from", "prefill", "decode", "visible pairs",
                      "attn FLOPs", "KV bytes", "cache");
  for (const auto &[layer, c] : swaa->layers)
    os << llvm::formatv("{0,5}  {1,-10}  {2,-14}  {3,-14}  {4,14}  {5,14}  "
                        "{6,12}  {7,-12}\n",
                        layer, c.origin, c.prefillKind, c.decodeKind, c.pairs,
                        human(c.attentionFlops, "FLOP"), (int64_t)c.kvBytes,
                        c.cache);
  std::string capped;
  for (const auto &[layer, c] : swaa->layers)
    if (c.softcap)
      capped += (capped.empty() ? "" : ", ") + std::to_string(layer) + " (" +
                trimmed(*c.softcap) + ")";
  if (!capped.empty())
    os << "logit soft-capping (softcap * tanh(score / softcap)) on layers "
       << capped << "\n";
  auto ratio = [](double a, double b) {
    return b > 0 ? llvm::formatv("{0:F3}", a / b).str() : std::string("-");
  };
  double swaaTotal = swaa->attentionFlops() + swaa->otherFlops;
  double fullTotal = full->attentionFlops() + full->otherFlops;
  os << "\n";
  os << llvm::formatv("{0,-26}{1,16}  {2,16}  {3,8}\n", "", "this recipe",
                      native ? "model's own" : "full attention", "ratio");
  os << llvm::formatv("{0,-26}{1,16}  {2,16}  {3,8}\n", "attention FLOPs",
                      human(swaa->attentionFlops(), "FLOP"),
                      human(full->attentionFlops(), "FLOP"),
                      ratio(swaa->attentionFlops(), full->attentionFlops()));
  os << llvm::formatv(
      "{0,-26}{1,16}  {2,16}  {3,8}\n", "other FLOPs (proj, MLP)",
      human(swaa->otherFlops, "FLOP"), human(full->otherFlops, "FLOP"),
      ratio(swaa->otherFlops, full->otherFlops));
  os << llvm::formatv("{0,-26}{1,16}  {2,16}  {3,8}\n", "model FLOPs",
                      human(swaaTotal, "FLOP"), human(fullTotal, "FLOP"),
                      ratio(swaaTotal, fullTotal));
  os << llvm::formatv("{0,-26}{1,16}  {2,16}  {3,8}\n", "KV cache bytes",
                      mib(swaa->kvBytes()), mib(full->kvBytes()),
                      ratio(swaa->kvBytes(), full->kvBytes()));
  os << llvm::formatv("\npredicted prefill speedup (FLOP ratio): {0}x\n",
                      llvm::formatv("{0:F2}", fullTotal / swaaTotal).str());
  return s;
}
