//===- AttentionFusion.cpp - recognize attention in ONNX graphs ----------===//
//
// See AttentionFusion.h. The decomposed matcher walks from each Softmax back
// to the score MatMul and forward to the value MatMul; the mask analysis
// evaluates the mask subgraph on a few concrete sizes (GraphImporter::evaluate)
// and compares it with the causal / sliding-window / padding patterns of the
// attention contract.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/AttentionFusion.h"
#include "compiler/Import/AttentionOps.h"
#include "compiler/Import/MaskAnalysis.h"

#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::swaa::import;

namespace {

/// The node producing `name`, if its inference succeeded (so its inputs
/// and outputs are there and have shapes).
const onnx::NodeProto *producerNode(GraphImporter &imp, llvm::StringRef name) {
  int p = imp.producer(name);
  if (p < 0 || imp.failedNodes.count(p))
    return nullptr;
  return &imp.getGraph().node(p);
}

bool isOp(const onnx::NodeProto *n, llvm::StringRef type) {
  return n && n->op_type() == type &&
         (n->domain().empty() || n->domain() == "ai.onnx");
}

/// The value of a known one-element tensor.
std::optional<double> scalarOf(GraphImporter &imp, llvm::StringRef name) {
  if (!imp.hasValue(name))
    return std::nullopt;
  ValueState &s = imp.state(name);
  if (!s.known || s.known->size() != 1)
    return std::nullopt;
  if (s.known->isFloat)
    return s.known->floats[0];
  if (auto c = imp.getSymbols().resolve(s.known->ints[0]).getConstant())
    return (double)*c;
  return std::nullopt;
}

/// Skips ops that do not change values for attention purposes: Identity,
/// Dropout (inference), and float-to-float Cast (precision only).
std::string skipNoOps(GraphImporter &imp, std::string name) {
  while (const onnx::NodeProto *n = producerNode(imp, name)) {
    bool floatCast = isOp(n, "Cast") && imp.state(n->input(0)).info.isFloat() &&
                     imp.state(name).info.isFloat();
    bool singleConcat = isOp(n, "Concat") && n->input_size() == 1;
    if (!(isOp(n, "Identity") || isOp(n, "Dropout") || floatCast ||
          singleConcat))
      break;
    name = n->input(0);
  }
  return name;
}

/// A Slice that keeps the last k entries of the sequence axis (2) of a
/// [B, H, S, D] tensor, `t[:, :, -k:]`: how transformers' sliding-window
/// caches keep W-1 keys. Returns the sliced value and k.
std::optional<std::pair<std::string, int64_t>>
lastKSlice(GraphImporter &imp, llvm::StringRef name) {
  const onnx::NodeProto *n = producerNode(imp, name);
  if (!isOp(n, "Slice") || n->input_size() < 4 ||
      imp.state(n->input(0)).info.rank() != 4)
    return std::nullopt;
  auto single = [&](int i) -> std::optional<int64_t> {
    if (n->input_size() <= i || n->input(i).empty())
      return i == 4 ? std::optional<int64_t>(1) : std::nullopt;
    const ValueState &v = imp.state(n->input(i));
    if (!v.known || v.known->isFloat || v.known->size() != 1)
      return std::nullopt;
    return v.known->ints[0].getConstant();
  };
  std::optional<int64_t> start = single(1), end = single(2), axis = single(3),
                         step = single(4);
  if (!start || !end || !axis || !step || *start >= -1 || *step != 1 ||
      *end < ((int64_t)1 << 60) || (*axis != 2 && *axis != -2))
    return std::nullopt;
  return std::make_pair(n->input(0), -*start);
}

/// Peels multiplications and divisions by known scalars off `name`.
std::string peelScale(GraphImporter &imp, std::string name, double &scale) {
  for (;;) {
    name = skipNoOps(imp, name);
    const onnx::NodeProto *n = producerNode(imp, name);
    if (isOp(n, "Mul")) {
      if (auto s = scalarOf(imp, n->input(1))) {
        scale *= *s;
        name = n->input(0);
        continue;
      }
      if (auto s = scalarOf(imp, n->input(0))) {
        scale *= *s;
        name = n->input(1);
        continue;
      }
    }
    if (isOp(n, "Div"))
      if (auto s = scalarOf(imp, n->input(1)); s && *s != 0) {
        scale /= *s;
        name = n->input(0);
        continue;
      }
    return name;
  }
}

struct ScoresMatch {
  int matmul = -1;
  double scale = 1.0;
  /// Logit soft-capping: the scores went through c * tanh(. / c).
  std::optional<double> softcap;
  SmallVector<MaskTerm> masks;
};

bool isVeryNegative(std::optional<double> v) { return v && *v <= -1e4; }

/// Matches scale and mask terms from a softmax input back to Q K^T.
std::optional<ScoresMatch> matchScores(GraphImporter &imp, std::string name,
                                       int depth = 0);

/// Logit soft-capping (Gemma 2): c * tanh(x * k), where x are the scores so
/// far: attn.attention's softcap c, with the scale times k * c. A mask or a
/// second cap inside the tanh is not a soft-cap (a -inf there becomes -c).
std::optional<ScoresMatch> matchSoftcap(GraphImporter &imp,
                                        const onnx::NodeProto &tanh, double c,
                                        int depth) {
  double inner = 1.0;
  std::string x = peelScale(imp, tanh.input(0), inner);
  std::optional<ScoresMatch> m = matchScores(imp, x, depth + 1);
  if (!m || m->softcap || !m->masks.empty() || c <= 0) {
    if (m && imp.tracing())
      llvm::errs() << "import-trace: Tanh '" << tanh.name()
                   << "' has a mask or a second cap inside it, or a "
                      "non-positive cap: not an attention soft-cap\n";
    return std::nullopt;
  }
  m->scale *= inner * c;
  m->softcap = c;
  return m;
}

std::optional<ScoresMatch> matchScores(GraphImporter &imp, std::string name,
                                       int depth) {
  if (depth > 8)
    return std::nullopt;
  name = skipNoOps(imp, name);
  const onnx::NodeProto *n = producerNode(imp, name);
  if (!n)
    return std::nullopt;
  if (isOp(n, "MatMul")) {
    ScoresMatch m;
    m.matmul = imp.producer(name);
    return m;
  }
  if (isOp(n, "Mul") || isOp(n, "Div")) {
    double s = 1.0;
    std::string base = peelScale(imp, name, s);
    if (base == name)
      return std::nullopt;
    if (const onnx::NodeProto *t = producerNode(imp, skipNoOps(imp, base));
        isOp(t, "Tanh"))
      return matchSoftcap(imp, *t, s, depth);
    auto m = matchScores(imp, base, depth + 1);
    if (m)
      m->scale *= s;
    return m;
  }
  if (isOp(n, "Tanh")) // a cap of 1 (the exporter dropped the * 1 and / 1)
    return matchSoftcap(imp, *n, 1.0, depth);
  if (isOp(n, "Add")) {
    for (int k = 0; k < 2; ++k) {
      if (auto m = matchScores(imp, n->input(k), depth + 1)) {
        m->masks.push_back({n->input(1 - k)});
        return m;
      }
    }
    return std::nullopt;
  }
  // masked_fill: Where(cond, -inf, scores) or Where(cond, scores, -inf).
  if (isOp(n, "Where")) {
    for (int k = 1; k <= 2; ++k) {
      if (!isVeryNegative(scalarOf(imp, n->input(k))))
        continue;
      if (auto m = matchScores(imp, n->input(3 - k), depth + 1)) {
        m->masks.push_back({n->input(0), /*isCondition=*/true,
                            /*keepWhen=*/k == 2});
        return m;
      }
    }
  }
  return std::nullopt;
}

/// The dynamo exporter's K^T: Reshape([B*H, S, D]) -> Transpose([0, 2, 1])
/// -> Reshape([B, H, D, S]). Returns the [B, H, S, D] input, or "".
std::string matchFlatTranspose(GraphImporter &imp, const std::string &kt) {
  SizeSymbols &syms = imp.getSymbols();
  const onnx::NodeProto *r2 = producerNode(imp, kt);
  if (!isOp(r2, "Reshape"))
    return "";
  const onnx::NodeProto *t = producerNode(imp, r2->input(0));
  if (!isOp(t, "Transpose"))
    return "";
  for (const onnx::AttributeProto &a : t->attribute())
    if (a.name() == "perm" &&
        SmallVector<int64_t>(a.ints().begin(), a.ints().end()) !=
            SmallVector<int64_t>{0, 2, 1})
      return "";
  const onnx::NodeProto *r1 = producerNode(imp, t->input(0));
  if (!isOp(r1, "Reshape"))
    return "";
  std::string x = r1->input(0);
  const TensorInfo &xi = imp.state(x).info, &flat = imp.state(t->input(0)).info,
                   &out = imp.state(kt).info;
  auto eq = [&](const SymExpr &a, const SymExpr &b) {
    return syms.resolve(a) == syms.resolve(b);
  };
  if (xi.rank() != 4 || flat.rank() != 3 || out.rank() != 4)
    return "";
  if (eq(flat.shape[0], xi.shape[0] * xi.shape[1]) &&
      eq(flat.shape[1], xi.shape[2]) && eq(flat.shape[2], xi.shape[3]) &&
      eq(out.shape[0], xi.shape[0]) && eq(out.shape[1], xi.shape[1]) &&
      eq(out.shape[2], xi.shape[3]) && eq(out.shape[3], xi.shape[2]))
    return x;
  return "";
}

/// K from the right operand of the score MatMul (which is K^T).
bool matchKey(GraphImporter &imp, std::string kt, double &scale,
              FusedAttention &f) {
  kt = peelScale(imp, kt, scale);
  std::string flat = matchFlatTranspose(imp, kt);
  if (!flat.empty()) {
    f.key = flat;
    return true;
  }
  const onnx::NodeProto *n = producerNode(imp, kt);
  if (isOp(n, "Transpose") && imp.state(kt).info.rank() == 4) {
    SmallVector<int64_t> perm;
    for (const onnx::AttributeProto &a : n->attribute())
      if (a.name() == "perm")
        perm.assign(a.ints().begin(), a.ints().end());
    if (perm.size() == 4) {
      // K = Transpose(x, perm with its last two entries swapped).
      std::swap(perm[2], perm[3]);
      std::string x = n->input(0);
      double s2 = 1.0;
      x = peelScale(imp, x, s2);
      scale *= s2;
      f.key = x;
      if (perm != SmallVector<int64_t>{0, 1, 2, 3})
        f.keyPerm = perm;
      return true;
    }
  }
  if (imp.state(kt).info.rank() != 4)
    return false;
  f.key = kt;
  f.keyPerm = {0, 1, 3, 2};
  return true;
}

/// repeat_kv as exporters spell it: Reshape(Expand(Unsqueeze(x, 2))) from
/// [B, Hkv, S, D] to [B, Hkv * G, S, D]. Returns x, or `name` unchanged.
std::string peelRepeatKV(GraphImporter &imp, std::string name) {
  name = skipNoOps(imp, name);
  SizeSymbols &syms = imp.getSymbols();
  const onnx::NodeProto *reshape = producerNode(imp, name);
  if (!isOp(reshape, "Reshape"))
    return name;
  std::string expanded = skipNoOps(imp, reshape->input(0));
  const onnx::NodeProto *expand = producerNode(imp, expanded);
  if (!isOp(expand, "Expand"))
    return name;
  std::string unsq = skipNoOps(imp, expand->input(0));
  const onnx::NodeProto *unsqueeze = producerNode(imp, unsq);
  if (!isOp(unsqueeze, "Unsqueeze"))
    return name;
  std::string base = unsqueeze->input(0);
  const TensorInfo &b = imp.state(base).info, &e = imp.state(expanded).info,
                   &u = imp.state(unsq).info, &out = imp.state(name).info;
  if (b.rank() != 4 || u.rank() != 5 || e.rank() != 5 || out.rank() != 4)
    return name;
  auto eq = [&](const SymExpr &x, const SymExpr &y) {
    return syms.resolve(x) == syms.resolve(y);
  };
  if (!(u.shape[2].getConstant() == std::optional<int64_t>(1) &&
        eq(u.shape[1], b.shape[1]) && eq(u.shape[3], b.shape[2]) &&
        eq(e.shape[1], b.shape[1]) && eq(e.shape[3], b.shape[2]) &&
        eq(e.shape[4], b.shape[3]) &&
        eq(out.shape[1], e.shape[1] * e.shape[2]) &&
        eq(out.shape[2], b.shape[2]) && eq(out.shape[3], b.shape[3])))
    return name;
  return base;
}

} // namespace

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// Sets the mask fields of `f` from the mask terms its scores went through:
/// causal / window / padding when the analysis proves them, else the mask
/// stays an operand (warned about once the layer has its index).
static LogicalResult applyMasks(GraphImporter &imp, FusedAttention &f,
                                ArrayRef<MaskTerm> masks,
                                const onnx::NodeProto &node,
                                std::map<std::string, MaskFacts> &cache) {
  if (masks.empty())
    return success();
  SizeSymbols &syms = imp.getSymbols();
  std::string key;
  for (const MaskTerm &t : masks)
    key += t.value + (t.isCondition ? (t.keepWhen ? "?1" : "?0") : "+") + ";";
  key += syms.str(f.queryLength) + "|" + syms.str(f.keyLength);
  auto cached = cache.find(key);
  if (cached == cache.end()) {
    cached = cache.emplace(key, analyzeMask(imp, f, masks)).first;
    const MaskFacts &facts = cached->second;
    if (imp.tracing()) {
      llvm::errs() << "import-trace: mask of '" << node.name() << "': ";
      if (!facts.proven)
        llvm::errs() << "not proven: " << facts.why << "\n";
      else if (facts.window)
        llvm::errs() << "window " << *facts.window << " (" << facts.how
                     << ")\n";
      else
        llvm::errs() << (facts.causal ? "causal" : "hides nothing") << "\n";
    }
  }
  const MaskFacts &facts = cached->second;
  if (facts.proven) {
    f.causal = facts.causal;
    f.window = facts.window;
    f.paddingInput = facts.paddingInput;
    if (f.window && !f.causal)
      f.window.reset();
    return success();
  }
  if (masks.size() > 1)
    return imp.error(imp.nodeLoc(node),
                     "attention with several mask terms that are not a "
                     "causal or padding mask (" +
                         facts.why + ")");
  f.mask = masks[0].value;
  f.maskIsCondition = masks[0].isCondition;
  f.keepWhen = masks[0].keepWhen;
  f.maskWarning = facts.why;
  return success();
}

LogicalResult mlir::swaa::import::runAttentionFusion(GraphImporter &imp) {
  const onnx::GraphProto &g = imp.getGraph();
  SizeSymbols &syms = imp.getSymbols();
  std::map<std::string, MaskFacts> maskCache;
  if (imp.tracing())
    for (auto &[n, msg] : imp.failedNodes)
      if (!imp.failedInputsOnly.count(n))
        llvm::errs() << "import-trace: node " << n << " ("
                     << g.node(n).op_type() << " '" << g.node(n).name()
                     << "') failed: " << msg << "\n";
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &sm = g.node(i);
    if (!isOp(&sm, "Softmax") || imp.failedNodes.count(i))
      continue;
    const TensorInfo &scores = imp.state(sm.input(0)).info;
    if (scores.rank() != 4)
      continue;
    int64_t axis = 1;
    for (const onnx::AttributeProto &a : sm.attribute())
      if (a.name() == "axis")
        axis = a.i();
    if (imp.getOpset("") >= 13 && !llvm::any_of(sm.attribute(), [](auto &a) {
          return a.name() == "axis";
        }))
      axis = -1;
    if (axis != -1 && axis != 3)
      continue;
    std::optional<ScoresMatch> m = matchScores(imp, sm.input(0));
    if (!m)
      continue;
    // Forward: softmax -> (no-ops) -> MatMul(., V).
    std::string probs = sm.output(0);
    int pv = -1;
    for (int hops = 0; hops < 4; ++hops) {
      ArrayRef<int> users = imp.consumers(probs);
      if (llvm::any_of(users, [&](int u) { return imp.failedNodes.count(u); }))
        break;
      // torch's SDPA export guards rows without visible keys:
      // Where(IsNaN(p), 0, p). attn.attention gives those rows zeros too.
      if (users.size() == 2) {
        const onnx::NodeProto *isNan = &g.node(users[0]),
                              *where = &g.node(users[1]);
        if (isOp(where, "IsNaN"))
          std::swap(isNan, where);
        if (isOp(isNan, "IsNaN") && isOp(where, "Where") &&
            where->input(0) == isNan->output(0) && where->input(2) == probs &&
            scalarOf(imp, where->input(1)) == std::optional<double>(0.0)) {
          probs = where->output(0);
          continue;
        }
      }
      if (users.size() != 1)
        break;
      const onnx::NodeProto &u = g.node(users[0]);
      if (isOp(&u, "MatMul") && u.input(0) == probs) {
        pv = users[0];
        break;
      }
      bool floatCast =
          isOp(&u, "Cast") && imp.state(u.output(0)).info.isFloat();
      if (!(isOp(&u, "Identity") || isOp(&u, "Dropout") || floatCast))
        break;
      probs = u.output(0);
    }
    if (pv < 0)
      continue;
    const onnx::NodeProto &qk = g.node(m->matmul);
    FusedAttention f;
    f.scale = m->scale;
    f.softcap = m->softcap;
    f.query = peelScale(imp, qk.input(0), f.scale);
    if (!matchKey(imp, qk.input(1), f.scale, f))
      continue;
    if (f.keyPerm.empty())
      f.key = peelRepeatKV(imp, f.key);
    f.value = peelRepeatKV(imp, g.node(pv).input(1));
    f.output = g.node(pv).output(0);
    f.anchorNode = pv;
    f.nodeName = sm.name();
    const TensorInfo &q = imp.state(f.query).info, &v = imp.state(f.value).info;
    if (q.rank() != 4 || v.rank() != 4 || imp.state(f.key).info.rank() != 4 ||
        !q.isFloat() || f.scale <= 0)
      continue;
    f.batch = q.shape[0];
    f.queryLength = q.shape[2];
    f.keyLength = v.shape[2];
    if (failed(applyMasks(imp, f, m->masks, sm, maskCache)))
      return failure();
    imp.fused[pv] = std::move(f);
  }

  // The ONNX Attention op.
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &node = g.node(i);
    if (!isFusableOp(node) || imp.failedNodes.count(i))
      continue;
    FusedAttention f;
    NodeContext c(imp, node, i);
    if (isGroupQueryAttention(node)) {
      // Always causal; local_window_size counts W keys including the query
      // (onnxruntime since PR #25927), like attn.attention's window.
      FailureOr<GqaShape> gs = gqaShape(c);
      if (failed(gs))
        return failure();
      f.contrib = &node;
      f.query = node.input(0);
      f.output = node.output(0);
      f.anchorNode = i;
      f.nodeName = node.name();
      f.pastKey = node.input(3);
      f.pastValue = node.input(4);
      f.presentKey = node.output_size() > 1 ? node.output(1) : "";
      f.presentValue = node.output_size() > 2 ? node.output(2) : "";
      for (int in = 1; in < node.input_size(); ++in)
        if (!node.input(in).empty())
          f.extraInputs.push_back(node.input(in));
      f.scale = c.getFloat("scale", 0.0f);
      if (f.scale == 0.0)
        f.scale = 1.0 / std::sqrt((double)gs->headDim);
      if (float cap = c.getFloat("softcap", 0.0f); cap > 0.0f)
        f.softcap = cap;
      f.causal = true;
      if (int64_t w = c.getInt("local_window_size", -1); w > 0)
        f.window = w;
      const TensorInfo &q = imp.state(f.query).info;
      f.batch = q.shape[0];
      f.queryLength = q.shape[1];
      f.keyLength = imp.state(node.output(1)).info.shape[2];
      imp.fused[i] = std::move(f);
      continue;
    }
    if (isMultiHeadAttention(node)) {
      f.contrib = &node;
      f.query = node.input(0);
      f.key = node.input(1);
      f.value = node.input(2);
      f.output = node.output(0);
      f.anchorNode = i;
      f.nodeName = node.name();
      const TensorInfo &q = imp.state(f.query).info, &k = imp.state(f.key).info;
      int64_t heads = c.getInt("num_heads", 1);
      int64_t headDim = *syms.resolve(q.shape[2]).getConstant() / heads;
      f.scale = c.getFloat("scale", 0.0f);
      if (f.scale == 0.0)
        f.scale = 1.0 / std::sqrt((double)headDim);
      f.batch = q.shape[0];
      f.queryLength = q.shape[1];
      f.keyLength = k.rank() == 3 ? k.shape[1] : k.shape[2];
      SmallVector<MaskTerm> masks;
      if (c.hasInput(5))
        masks.push_back({node.input(5), false, true});
      if (failed(applyMasks(imp, f, masks, node, maskCache)))
        return failure();
      if (c.getInt("unidirectional", 0))
        f.causal = true;
      imp.fused[i] = std::move(f);
      continue;
    }
    f.query = node.input(0);
    f.key = node.input(1);
    f.value = node.input(2);
    f.output = node.output(0);
    f.anchorNode = i;
    f.nodeName = node.name();
    const TensorInfo &q = imp.state(f.query).info;
    f.scale = c.getFloat(
        "scale",
        1.0f / std::sqrt((double)q.shape[3].getConstant().value_or(1)));
    if (!q.shape[3].getConstant() && !c.attr("scale"))
      return c.error("needs a static head_dim or a 'scale' attribute");
    if (c.hasInput(4)) {
      f.pastKey = node.input(4);
      f.pastValue = node.input(5);
      f.extraInputs = {f.pastKey, f.pastValue};
      if (node.output_size() > 1)
        f.presentKey = node.output(1);
      if (node.output_size() > 2)
        f.presentValue = node.output(2);
    } else {
      // Without a cache, present K/V are the K/V inputs as given: keep them
      // (repeated heads and all) when something reads them.
      auto used = [&](int out) {
        return node.output_size() > out && !node.output(out).empty() &&
               (imp.isGraphOutput(node.output(out)) ||
                !imp.consumers(node.output(out)).empty());
      };
      if (used(1) || used(2)) {
        f.presentKey = used(1) ? node.output(1) : "";
        f.presentValue = used(2) ? node.output(2) : "";
      } else {
        f.key = peelRepeatKV(imp, f.key);
        f.value = peelRepeatKV(imp, f.value);
      }
    }
    f.batch = q.shape[0];
    f.queryLength = q.shape[2];
    f.keyLength = imp.state(node.output_size() > 1 && !node.output(1).empty()
                                ? node.output(1)
                                : node.input(1))
                      .info.shape[2];
    if (c.hasInput(4))
      f.keyLength = syms.resolve(imp.state(f.pastKey).info.shape[2] +
                                 imp.state(node.input(1)).info.shape[2]);
    bool isCausal = c.getInt("is_causal", 0);
    // Opset 25 windows: a query at p sees keys p - left .. p + right; left
    // counts keys before the query, so left = L means W = L + 1 here.
    int64_t left = c.getInt("left_window_size", -1);
    int64_t right = c.getInt("right_window_size", -1);
    if (right > 0 || (right < 0 && left >= 0 && !isCausal))
      return c.error("with a window that reaches keys after the query "
                     "(right_window_size " +
                     llvm::Twine(right) +
                     ", is_causal 0) is not supported: attn.attention windows "
                     "are causal");
    if (right == 0)
      isCausal = true;
    if (c.hasInput(6))
      return c.error("with nonpad_kv_seqlen (an external cache) is not "
                     "supported yet");
    if (isCausal && !c.hasInput(4) &&
        syms.resolve(f.queryLength) != syms.resolve(f.keyLength))
      return c.error("with is_causal and query and key lengths that may "
                     "differ (no past_key) is not supported: its causal mask "
                     "is aligned to the top left");
    SmallVector<MaskTerm> masks;
    if (c.hasInput(3)) {
      const TensorInfo &mi = imp.state(node.input(3)).info;
      masks.push_back({node.input(3), /*isCondition=*/!mi.isFloat(), true});
      // The op broadcasts the mask to [batch, heads, query, keys]: a mask
      // that is not 1 wide has exactly the keys' length (an export whose
      // cache slice may clamp is only valid while it does not).
      if (mi.rank() > 0 && mi.shape.back() != SymExpr(1))
        (void)syms.unify(mi.shape.back(), f.keyLength);
    }
    if (failed(applyMasks(imp, f, masks, node, maskCache)))
      return failure();
    if (isCausal)
      f.causal = true;
    if (left >= 0)
      f.window = std::min(f.window.value_or(left + 1), left + 1);
    imp.fused[i] = std::move(f);
  }

  // Layers in graph order, and the KV-cache roles of inputs and outputs.
  int64_t layer = 0;
  OpBuilder b(imp.getContext());
  for (auto &[anchor, f] : imp.fused) {
    f.layer = layer++;
    if (!f.maskWarning.empty())
      emitWarning(imp.nodeLoc(g.node(f.anchorNode)))
          << "layer " << f.layer
          << ": attention mask kept as an O(n^2) operand: it is not proven "
             "causal, sliding-window or padding ("
          << f.maskWarning << ")";
    // The Attention op's own past/present K/V.
    for (auto [name, kind, role] :
         {std::tuple(f.pastKey, "key", "past"),
          std::tuple(f.pastValue, "value", "past"),
          std::tuple(f.presentKey, "key", "present"),
          std::tuple(f.presentValue, "value", "present")}) {
      if (name.empty())
        continue;
      NamedAttribute attr = b.getNamedAttr(
          "swaa.kv_cache",
          b.getDictionaryAttr(
              {b.getNamedAttr("layer", b.getI64IntegerAttr(f.layer)),
               b.getNamedAttr("kind", b.getStringAttr(kind)),
               b.getNamedAttr("role", b.getStringAttr(role))}));
      if (std::string(role) == "past" && imp.state(name).inputIndex)
        imp.inputAttrs[name].push_back(attr);
      if (std::string(role) == "present" && imp.isGraphOutput(name))
        imp.outputAttrs[name].push_back(attr);
    }
    for (auto [name, kind] :
         {std::pair(f.key, "key"), std::pair(f.value, "value")}) {
      std::string base = name;
      // An exporter's cache may keep only the last k keys (`keep_last`):
      // the compiler builds its own cache from the attention's window.
      auto role = [&](const char *r, std::optional<int64_t> keepLast) {
        SmallVector<NamedAttribute> entries = {
            b.getNamedAttr("layer", b.getI64IntegerAttr(f.layer)),
            b.getNamedAttr("kind", b.getStringAttr(kind)),
            b.getNamedAttr("role", b.getStringAttr(r))};
        if (keepLast)
          entries.push_back(
              b.getNamedAttr("keep_last", b.getI64IntegerAttr(*keepLast)));
        return b.getNamedAttr("swaa.kv_cache", b.getDictionaryAttr(entries));
      };
      if (imp.isGraphOutput(base))
        imp.outputAttrs[base].push_back(role("present", std::nullopt));
      for (int user : imp.consumers(base)) {
        const onnx::NodeProto &u = g.node(user);
        if (u.output_size() < 1 || !imp.isGraphOutput(u.output(0)))
          continue;
        if (auto last = lastKSlice(imp, u.output(0)))
          imp.outputAttrs[u.output(0)].push_back(role("present", last->second));
      }
      const onnx::NodeProto *cat = producerNode(imp, base);
      if (isOp(cat, "Concat") && cat->input_size() == 2) {
        std::string past = skipNoOps(imp, cat->input(0));
        std::optional<int64_t> keepLast;
        if (auto last = lastKSlice(imp, past)) {
          past = skipNoOps(imp, last->first);
          keepLast = last->second;
        }
        if (imp.hasValue(past) && imp.state(past).inputIndex)
          imp.inputAttrs[past].push_back(role("past", keepLast));
      }
    }
  }
  if (imp.fused.empty()) {
    // A node that failed inference may have hidden the attention: report
    // the first root failure rather than a missing attention.
    for (const auto &[n, message] : imp.failedNodes)
      if (!imp.failedInputsOnly.count(n))
        return imp.error(imp.nodeLoc(g.node(n)), message);
  }
  if (imp.fused.empty()) {
    int softmaxes = 0;
    const onnx::NodeProto *first = nullptr;
    for (const onnx::NodeProto &n : g.node())
      if (isOp(&n, "Softmax") && softmaxes++ == 0)
        first = &n;
    if (!softmaxes)
      return imp.error(imp.modelLoc(),
                       "the model has no attention that swaa recognizes (no "
                       "Softmax, no Attention op)");
    return imp.error(
        imp.nodeLoc(*first),
        "the model has no attention that swaa recognizes: none of its " +
            llvm::Twine(softmaxes) +
            " Softmax nodes takes scores that come from a MatMul of queries "
            "and keys through scales, soft-capping (c * tanh(s / c)) and "
            "masks, and feeds a MatMul with values (--import-trace shows "
            "what did not match)");
  }
  return success();
}
