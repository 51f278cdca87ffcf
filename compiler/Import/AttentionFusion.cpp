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
#include "compiler/Import/MaskAnalysis.h"

#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::swaa::import;

static bool isGroupQueryAttention(const onnx::NodeProto &node) {
  return node.domain() == "com.microsoft" &&
         node.op_type() == "GroupQueryAttention";
}

static bool isMultiHeadAttention(const onnx::NodeProto &node) {
  return node.domain() == "com.microsoft" &&
         node.op_type() == "MultiHeadAttention";
}

bool mlir::swaa::import::isFusableOp(const onnx::NodeProto &node) {
  return ((node.domain().empty() || node.domain() == "ai.onnx") &&
          node.op_type() == "Attention") ||
         isGroupQueryAttention(node) || isMultiHeadAttention(node);
}

namespace {
/// com.microsoft MultiHeadAttention: query [B, S, H*D]; key/value
/// [B, Skv, H*D] or [B, H, Skv, D]; optional additive attention_bias.
LogicalResult inferMultiHeadAttention(GraphImporter &imp, NodeContext &c) {
  for (unsigned in : {3u, 4u, 6u, 7u, 8u})
    if (c.hasInput(in))
      return c.error("with bias, key_padding_mask or past/present inputs is "
                     "not supported yet");
  if (c.numOutputs() > 1 &&
      llvm::any_of(llvm::drop_begin(c.node.output()),
                   [](const std::string &o) { return !o.empty(); }))
    return c.error("with present outputs is not supported yet");
  int64_t heads = c.getInt("num_heads", 0);
  const TensorInfo &q = c.info(0), &k = c.info(1), &v = c.info(2);
  std::optional<int64_t> width =
      imp.getSymbols().resolve(q.shape.back()).getConstant();
  if (q.rank() != 3 || heads <= 0 || !width || *width % heads)
    return c.error(
        "needs a [batch, seq, heads * head_dim] query and num_heads");
  if (k.rank() != v.rank() || (k.rank() != 3 && k.rank() != 4))
    return c.error("needs 3-D or 4-D key and value");
  SymExpr vWidth = v.rank() == 3 ? v.shape[2] : v.shape[1] * v.shape[3];
  c.setOutput(0, {q.elementType,
                  {q.shape[0], q.shape[1], imp.getSymbols().resolve(vWidth)}});
  return success();
}
} // namespace

namespace {
/// Head counts and head size of a GroupQueryAttention node.
struct GqaShape {
  int64_t heads, kvHeads, headDim;
  bool packed;
};

FailureOr<GqaShape> gqaShape(NodeContext &c) {
  GqaShape g;
  g.heads = c.getInt("num_heads", 0);
  g.kvHeads = c.getInt("kv_num_heads", 0);
  g.packed = !c.hasInput(1);
  if (g.heads <= 0 || g.kvHeads <= 0 || g.heads % g.kvHeads)
    return c.error("needs num_heads divisible by kv_num_heads");
  const TensorInfo &q = c.info(0);
  std::optional<int64_t> width =
      q.rank() == 3 ? c.imp.getSymbols().resolve(q.shape[2]).getConstant()
                    : std::nullopt;
  if (!width)
    return c.error(
        "needs a [batch, seq, hidden] query with a static hidden size");
  int64_t parts = g.packed ? g.heads + 2 * g.kvHeads : g.heads;
  if (*width % parts)
    return c.error("has a hidden size that does not split into heads");
  g.headDim = *width / parts;
  return g;
}

/// com.microsoft GroupQueryAttention: output [B, S, H*D], present K/V
/// [B, Hkv, past + S, D].
LogicalResult inferGroupQueryAttention(GraphImporter &imp, NodeContext &c) {
  if (c.getFloat("softcap", 0.0f) < 0.0f)
    return c.error("with a negative softcap (" +
                   std::to_string(c.getFloat("softcap", 0.0f)) + ")");
  if (c.getInt("smooth_softmax", 0) || c.hasInput(11))
    return c.error("with smooth_softmax / head_sink (learned sink logits, not "
                   "sink tokens) is not supported");
  if (c.hasInput(10))
    return c.error("with attention_bias is not supported");
  if (!c.hasInput(3) || !c.hasInput(5))
    return c.error("needs past_key/past_value and seqlens_k");
  FailureOr<GqaShape> g = gqaShape(c);
  if (failed(g))
    return failure();
  const TensorInfo &q = c.info(0), &past = c.info(3);
  if (past.rank() != 4)
    return c.error("expects past_key as [batch, kv_heads, past_seq, head_dim]");
  // The builder names the cache's head size (kv_cache_dim): it is the op's.
  SizeSymbols &syms = imp.getSymbols();
  for (unsigned in : {3u, 4u}) {
    const TensorInfo &p = c.info(in);
    if (!syms.unify(p.shape[1], SymExpr(g->kvHeads)) ||
        !syms.unify(p.shape[3], SymExpr(g->headDim)) ||
        !syms.unify(p.shape[0], q.shape[0]))
      return c.error("has a past_key/past_value shape that does not match its "
                     "heads");
  }
  SymExpr seq = q.shape[1];
  c.setOutput(
      0, {q.elementType, {q.shape[0], seq, SymExpr(g->heads * g->headDim)}});
  TensorInfo present{q.elementType,
                     {q.shape[0], SymExpr(g->kvHeads),
                      imp.getSymbols().resolve(past.shape[2] + seq),
                      SymExpr(g->headDim)}};
  c.setOutput(1, present);
  c.setOutput(2, present);
  return success();
}
} // namespace

/// The ONNX Attention op (opset 23): Y, present_key, present_value.
static LogicalResult inferAttentionOp(GraphImporter &imp, NodeContext &c) {
  const TensorInfo &q = c.info(0), &k = c.info(1), &v = c.info(2);
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4)
    return c.error("with 3-D (packed-head) inputs is not supported yet; "
                   "4-D [batch, heads, seq, head_dim] inputs are");
  if (c.getFloat("softcap", 0.0f) != 0.0f)
    return c.error("with softcap is not supported: the ONNX Attention op caps "
                   "the scores after the mask is added, which attn.attention "
                   "(cap, then mask) does not express");
  if (c.numOutputs() > 3 && !c.node.output(3).empty() &&
      !imp.consumers(c.node.output(3)).empty())
    return c.error("with its qk_matmul_output used is not supported");
  SizeSymbols &syms = imp.getSymbols();
  TensorInfo presentK = k, presentV = v;
  if (c.hasInput(4) != c.hasInput(5))
    return c.error("needs past_key and past_value together");
  if (c.hasInput(4)) {
    presentK.shape[2] = syms.resolve(c.info(4).shape[2] + k.shape[2]);
    presentV.shape[2] = syms.resolve(c.info(5).shape[2] + v.shape[2]);
  }
  c.setOutput(
      0, {q.elementType, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]}});
  c.setOutput(1, presentK);
  c.setOutput(2, presentV);
  return success();
}

LogicalResult mlir::swaa::import::inferFusableOp(GraphImporter &imp,
                                                 NodeContext &c) {
  if (isGroupQueryAttention(c.node))
    return inferGroupQueryAttention(imp, c);
  if (isMultiHeadAttention(c.node))
    return inferMultiHeadAttention(imp, c);
  return inferAttentionOp(imp, c);
}

LogicalResult mlir::swaa::import::emitFusableOp(GraphImporter &imp,
                                                NodeContext &c) {
  return c.error("was not fused into an attention");
}

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

/// present = concat(past, fresh) along the sequence axis of [B, H, S, D]
/// tensors; also becomes the value of the `present` graph value, if named.
static Value appendToCache(GraphImporter &imp, Location loc, Value past,
                           const TensorInfo &pastInfo, Value fresh,
                           ArrayRef<SymExpr> freshShape,
                           llvm::StringRef present) {
  OpBuilder &b = imp.builder();
  SmallVector<SymExpr> shape(freshShape.begin(), freshShape.end());
  shape[2] = imp.getSymbols().resolve(pastInfo.shape[2] + freshShape[2]);
  Value acc = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape),
                                      pastInfo.elementType);
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  SmallVector<OpFoldResult> zero(4, b.getIndexAttr(0));
  acc = tensor::InsertSliceOp::create(b, loc, past, acc, zero,
                                      imp.mixedShape(pastInfo.shape), strides);
  SmallVector<OpFoldResult> at = zero;
  at[2] = imp.mixedShape({pastInfo.shape[2]})[0];
  acc = tensor::InsertSliceOp::create(b, loc, fresh, acc, at,
                                      imp.mixedShape(freshShape), strides);
  if (!present.empty())
    imp.state(present).value = imp.conform(acc, imp.state(present).info, loc);
  return acc;
}

/// [B, H, S, D] -> [B, S, H*D].
static Value mergeHeads(GraphImporter &imp, Location loc, Value x,
                        const SmallVector<SymExpr> &bhsd, Type elem) {
  OpBuilder &b = imp.builder();
  SmallVector<SymExpr> bshd = {bhsd[0], bhsd[2], bhsd[1], bhsd[3]};
  Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(bshd), elem);
  Value t = linalg::TransposeOp::create(b, loc, x, init,
                                        ArrayRef<int64_t>{0, 2, 1, 3})
                ->getResult(0);
  SmallVector<SymExpr> merged = {bhsd[0], bhsd[2],
                                 imp.getSymbols().resolve(bhsd[1] * bhsd[3])};
  return imp.reshape(loc, t, merged);
}

/// [B, S, H*D] (a slice of the last axis starting at `offset`) -> [B, H, S, D].
static Value splitHeads(GraphImporter &imp, Location loc, Value x,
                        const TensorInfo &xi, int64_t offset, int64_t heads,
                        int64_t headDim) {
  OpBuilder &b = imp.builder();
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(offset)};
  SmallVector<SymExpr> sliceShape = {xi.shape[0], xi.shape[1],
                                     SymExpr(heads * headDim)};
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  Value part = tensor::ExtractSliceOp::create(
      b, loc, x, offsets, imp.mixedShape(sliceShape), strides);
  SmallVector<SymExpr> bshd = {xi.shape[0], xi.shape[1], SymExpr(heads),
                               SymExpr(headDim)};
  Value r = imp.reshape(loc, part, bshd);
  SmallVector<SymExpr> bhsd = {xi.shape[0], SymExpr(heads), xi.shape[1],
                               SymExpr(headDim)};
  Value init =
      tensor::EmptyOp::create(b, loc, imp.mixedShape(bhsd), xi.elementType);
  return linalg::TransposeOp::create(b, loc, r, init,
                                     ArrayRef<int64_t>{0, 2, 1, 3})
      ->getResult(0);
}

/// com.microsoft GroupQueryAttention: split the (packed) projections into
/// heads, apply RoPE at each token's position (seqlens_k[b] + 1 - S + s),
/// append the new K/V to the past (present outputs), attend causally with
/// the op's local window, with keys past seqlens_k[b] masked as padding, and
/// merge the heads back to [B, S, H*D].
LogicalResult emitGroupQueryAttention(GraphImporter &imp, NodeContext &c,
                                      const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = c.loc;
  MLIRContext *ctx = imp.getContext();
  const onnx::NodeProto &node = *f.contrib;
  GqaShape g = *gqaShape(c);
  const TensorInfo &qi = c.info(0);
  Type elem = qi.elementType;
  Value x = c.operand(0);
  Value q = splitHeads(imp, loc, x, qi, 0, g.heads, g.headDim);
  Value k, v;
  if (g.packed) {
    k = splitHeads(imp, loc, x, qi, g.heads * g.headDim, g.kvHeads, g.headDim);
    v = splitHeads(imp, loc, x, qi, (g.heads + g.kvHeads) * g.headDim,
                   g.kvHeads, g.headDim);
  } else {
    k = splitHeads(imp, loc, c.operand(1), c.info(1), 0, g.kvHeads, g.headDim);
    v = splitHeads(imp, loc, c.operand(2), c.info(2), 0, g.kvHeads, g.headDim);
  }
  SymExpr batch = qi.shape[0], seq = qi.shape[1];
  Value seqlens = c.operand(5);
  AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
  if (c.getInt("do_rotary", 0)) {
    // Positions [B, S]: position_ids if given, else from seqlens_k.
    Value positions;
    if (c.hasInput(9)) {
      positions = c.operand(9);
    } else {
      Value seqV = imp.indexValue(seq);
      Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape({batch, seq}),
                                           b.getI64Type());
      positions =
          linalg::GenericOp::create(
              b, loc, init.getType(), ValueRange{}, ValueRange{init},
              ArrayRef<AffineMap>{id2},
              SmallVector<utils::IteratorType>(2,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location l, ValueRange) {
                Value bi = linalg::IndexOp::create(nb, l, 0);
                Value si = linalg::IndexOp::create(nb, l, 1);
                Value len =
                    tensor::ExtractOp::create(nb, l, seqlens, ValueRange{bi});
                Value lenI =
                    arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
                Value one = arith::ConstantIndexOp::create(nb, l, 1);
                Value p = arith::AddIOp::create(
                    nb, l,
                    arith::SubIOp::create(
                        nb, l, arith::AddIOp::create(nb, l, lenI, one), seqV),
                    si);
                linalg::YieldOp::create(
                    nb, l,
                    arith::IndexCastOp::create(nb, l, nb.getI64Type(), p)
                        .getResult());
              })
              .getResult(0);
    }
    const TensorInfo &cosInfo = c.info(7);
    std::optional<int64_t> half =
        imp.getSymbols().resolve(cosInfo.shape.back()).getConstant();
    if (!half)
      return c.error("needs a static cos_cache width");
    bool interleaved = c.getInt("rotary_interleaved", 0);
    TensorInfo qInfo{elem, {batch, SymExpr(g.heads), seq, SymExpr(g.headDim)}};
    TensorInfo kInfo{elem,
                     {batch, SymExpr(g.kvHeads), seq, SymExpr(g.headDim)}};
    q = emitRope(c, q, qInfo, true, g.headDim, 2 * *half, interleaved,
                 c.operand(7), c.operand(8), positions);
    k = emitRope(c, k, kInfo, true, g.headDim, 2 * *half, interleaved,
                 c.operand(7), c.operand(8), positions);
  }
  SmallVector<SymExpr> freshShape = {batch, SymExpr(g.kvHeads), seq,
                                     SymExpr(g.headDim)};
  Value keys = appendToCache(imp, loc, c.operand(3), c.info(3), k, freshShape,
                             f.presentKey);
  Value values = appendToCache(imp, loc, c.operand(4), c.info(4), v, freshShape,
                               f.presentValue);
  // Padding: key j of batch b is valid when j <= seqlens_k[b].
  SymExpr total = imp.state(node.output(1)).info.shape[2];
  SmallVector<SymExpr> maskShape = {batch, SymExpr(1), SymExpr(1), total};
  Value maskInit =
      tensor::EmptyOp::create(b, loc, imp.mixedShape(maskShape), elem);
  AffineMap id4 = AffineMap::getMultiDimIdentityMap(4, ctx);
  Value mask =
      linalg::GenericOp::create(
          b, loc, maskInit.getType(), ValueRange{}, ValueRange{maskInit},
          ArrayRef<AffineMap>{id4},
          SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange) {
            Value bi = linalg::IndexOp::create(nb, l, 0);
            Value j = linalg::IndexOp::create(nb, l, 3);
            Value len =
                tensor::ExtractOp::create(nb, l, seqlens, ValueRange{bi});
            Value lenI =
                arith::IndexCastOp::create(nb, l, nb.getIndexType(), len);
            Value valid = arith::CmpIOp::create(
                nb, l, arith::CmpIPredicate::sle, j, lenI);
            Value zero =
                arith::ConstantOp::create(nb, l, nb.getFloatAttr(elem, 0));
            Value ninf = arith::ConstantOp::create(
                nb, l, nb.getFloatAttr(elem, -INFINITY));
            linalg::YieldOp::create(
                nb, l,
                arith::SelectOp::create(nb, l, valid, zero, ninf).getResult());
          })
          .getResult(0);
  SmallVector<SymExpr> outShape = {batch, SymExpr(g.heads), seq,
                                   SymExpr(g.headDim)};
  auto op = swaa::attn::AttentionOp::create(
      b, loc, imp.tensorType({elem, outShape}), q, keys, values, mask,
      b.getI64IntegerAttr(f.layer), b.getF32FloatAttr(f.scale), b.getUnitAttr(),
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(0),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  Value out = mergeHeads(imp, loc, op.getResult(), outShape, elem);
  imp.state(f.output).value = imp.conform(out, imp.state(f.output).info, loc);
  return success();
}

/// com.microsoft MultiHeadAttention: split the heads of the 3-D operands,
/// attend with the proven (or kept) mask, merge the heads.
LogicalResult emitMultiHeadAttention(GraphImporter &imp, NodeContext &c,
                                     const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = c.loc;
  const TensorInfo &qi = c.info(0), &ki = c.info(1), &vi = c.info(2);
  Type elem = qi.elementType;
  int64_t heads = c.getInt("num_heads", 1);
  int64_t headDim =
      *imp.getSymbols().resolve(qi.shape[2]).getConstant() / heads;
  Value q = splitHeads(imp, loc, c.operand(0), qi, 0, heads, headDim);
  auto kv = [&](unsigned in, const TensorInfo &info) -> Value {
    if (info.rank() == 4)
      return c.operand(in);
    int64_t d = *imp.getSymbols().resolve(info.shape[2]).getConstant() / heads;
    return splitHeads(imp, loc, c.operand(in), info, 0, heads, d);
  };
  Value k = kv(1, ki), v = kv(2, vi);
  Value mask;
  if (!f.mask.empty()) {
    if (imp.state(f.mask).info.rank() != 4)
      return c.error("needs a 4-D attention_bias");
    mask = imp.materialize(f.mask, loc);
  } else if (!f.paddingInput.empty()) {
    return c.error("with a padding mask proven from its attention_bias is not "
                   "supported yet");
  }
  int64_t vDim =
      vi.rank() == 4
          ? *imp.getSymbols().resolve(vi.shape[3]).getConstant()
          : *imp.getSymbols().resolve(vi.shape[2]).getConstant() / heads;
  SmallVector<SymExpr> outShape = {qi.shape[0], SymExpr(heads), qi.shape[1],
                                   SymExpr(vDim)};
  auto op = swaa::attn::AttentionOp::create(
      b, loc, imp.tensorType({elem, outShape}), q, k, v, mask,
      b.getI64IntegerAttr(f.layer), b.getF32FloatAttr(f.scale),
      f.causal ? b.getUnitAttr() : nullptr,
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(0),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  Value out = mergeHeads(imp, loc, op.getResult(), outShape, elem);
  imp.state(f.output).value = imp.conform(out, imp.state(f.output).info, loc);
  return success();
}

LogicalResult mlir::swaa::import::emitFusedAttention(GraphImporter &imp,
                                                     NodeContext &c,
                                                     const FusedAttention &f) {
  OpBuilder &b = imp.builder();
  Location loc = NameLoc::get(StringAttr::get(imp.getContext(), f.nodeName),
                              imp.modelLoc());
  if (f.contrib && isGroupQueryAttention(*f.contrib))
    return emitGroupQueryAttention(imp, c, f);
  if (f.contrib)
    return emitMultiHeadAttention(imp, c, f);
  Value q = imp.materialize(f.query, loc);
  Value k = imp.materialize(f.key, loc);
  Value v = imp.materialize(f.value, loc);
  const TensorInfo &qi = imp.state(f.query).info;
  if (!f.pastKey.empty()) {
    // The Attention op's cache: present = concat(past, new).
    k = appendToCache(imp, loc, imp.materialize(f.pastKey, loc),
                      imp.state(f.pastKey).info, k, imp.state(f.key).info.shape,
                      f.presentKey);
    v = appendToCache(imp, loc, imp.materialize(f.pastValue, loc),
                      imp.state(f.pastValue).info, v,
                      imp.state(f.value).info.shape, f.presentValue);
  } else {
    // Without a cache, present K/V are the inputs themselves.
    if (!f.presentKey.empty())
      imp.state(f.presentKey).value =
          imp.conform(k, imp.state(f.presentKey).info, loc);
    if (!f.presentValue.empty())
      imp.state(f.presentValue).value =
          imp.conform(v, imp.state(f.presentValue).info, loc);
  }
  if (!f.keyPerm.empty()) {
    const TensorInfo &ki = imp.state(f.key).info;
    SmallVector<OpFoldResult> sizes;
    SmallVector<SymExpr> shape;
    for (int64_t p : f.keyPerm)
      shape.push_back(ki.shape[p]);
    Value init =
        tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), ki.elementType);
    k = linalg::TransposeOp::create(b, loc, k, init, f.keyPerm)->getResult(0);
  }
  Type elem = qi.elementType;
  Value mask;
  if (!f.mask.empty()) {
    const TensorInfo &mi = imp.state(f.mask).info;
    Value m = imp.materialize(f.mask, loc);
    SmallVector<SymExpr> shape = mi.shape;
    while (shape.size() < 4)
      shape.insert(shape.begin(), SymExpr(1));
    if (mi.rank() < 4)
      m = imp.reshape(loc, m, shape);
    if (f.maskIsCondition || mi.elementType != elem) {
      // Visible -> 0, hidden -> -inf, in the attention's element type.
      bool cond = f.maskIsCondition, keep = f.keepWhen;
      Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), elem);
      MLIRContext *ctx = imp.getContext();
      AffineMap id = AffineMap::getMultiDimIdentityMap(4, ctx);
      m = linalg::GenericOp::create(
              b, loc, init.getType(), ValueRange{m}, ValueRange{init},
              ArrayRef<AffineMap>{id, id},
              SmallVector<utils::IteratorType>(4,
                                               utils::IteratorType::parallel),
              [&](OpBuilder &nb, Location l, ValueRange a) {
                Value x = a[0];
                Value r;
                if (cond) {
                  Value t =
                      x.getType().isInteger(1)
                          ? x
                          : (Value)arith::CmpFOp::create(
                                nb, l, arith::CmpFPredicate::UNE, x,
                                arith::ConstantOp::create(
                                    nb, l, nb.getFloatAttr(x.getType(), 0)));
                  Value zero = arith::ConstantOp::create(
                      nb, l, nb.getFloatAttr(elem, 0));
                  Value ninf = arith::ConstantOp::create(
                      nb, l, nb.getFloatAttr(elem, -INFINITY));
                  r = keep ? arith::SelectOp::create(nb, l, t, zero, ninf)
                           : arith::SelectOp::create(nb, l, t, ninf, zero);
                } else {
                  r = arith::ExtFOp::create(nb, l, elem, x);
                }
                linalg::YieldOp::create(nb, l, r);
              })
              .getResult(0);
    }
    mask = m;
  } else if (!f.paddingInput.empty()) {
    // [B, Sk] 0/1 -> [B, 1, 1, Sk] of 0 / -inf.
    const TensorInfo &pi = imp.state(f.paddingInput).info;
    Value p = imp.materialize(f.paddingInput, loc);
    SmallVector<SymExpr> shape = {pi.shape[0], SymExpr(1), SymExpr(1),
                                  pi.shape[1]};
    Value init = tensor::EmptyOp::create(b, loc, imp.mixedShape(shape), elem);
    MLIRContext *ctx = imp.getContext();
    AffineMap in = AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(3, ctx)}, ctx);
    mask =
        linalg::GenericOp::create(
            b, loc, init.getType(), ValueRange{p}, ValueRange{init},
            ArrayRef<AffineMap>{in, AffineMap::getMultiDimIdentityMap(4, ctx)},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &nb, Location l, ValueRange a) {
              Value x = a[0];
              Value zeroI = arith::ConstantOp::create(
                  nb, l, nb.getIntegerAttr(x.getType(), 0));
              Value present = arith::CmpIOp::create(
                  nb, l, arith::CmpIPredicate::ne, x, zeroI);
              Value zero =
                  arith::ConstantOp::create(nb, l, nb.getFloatAttr(elem, 0));
              Value ninf = arith::ConstantOp::create(
                  nb, l, nb.getFloatAttr(elem, -INFINITY));
              linalg::YieldOp::create(
                  nb, l,
                  arith::SelectOp::create(nb, l, present, zero, ninf)
                      .getResult());
            })
            .getResult(0);
  }
  const TensorInfo &out = imp.state(f.output).info;
  RankedTensorType resultType = imp.tensorType(out);
  auto op = attn::AttentionOp::create(
      b, loc, resultType, q, k, v, mask, b.getI64IntegerAttr(f.layer),
      b.getF32FloatAttr(f.scale), f.causal ? b.getUnitAttr() : nullptr,
      f.window ? b.getI64IntegerAttr(*f.window) : nullptr,
      b.getI64IntegerAttr(f.sinks),
      f.softcap ? b.getF32FloatAttr(*f.softcap) : nullptr);
  imp.state(f.output).value = op.getResult();
  return success();
}
