//===- MaskAnalysis.cpp - prove what an attention mask computes ----------===//
//
// See MaskAnalysis.h. Three steps per mask:
//  1. baseline: the mask evaluated on a few small scenarios (prefill and
//     decode sizes, batch 1 and 2, with and without left padding) must be a
//     band: each row's visible keys are one run that ends at the query;
//  2. constants: every integer constant the subgraph compares or computes
//     with is replaced by 3, 4 and 5 in turn; a constant that then gives
//     windows of 3a+d, 4a+d and 5a+d keys makes the model's window a*c+d, one
//     that changes nothing is not part of the visibility;
//  3. direct check: the window found, and any constant whose role step 2
//     could not show, is checked on sizes large enough to see it, where such
//     sizes can be evaluated.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/MaskAnalysis.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace mlir;
using namespace mlir::swaa::import;

namespace {

/// The most (batch x query x key) cells one scenario may evaluate: the
/// evaluator keeps every element of the subgraph's tensors as a symbolic
/// expression, so this bounds its memory and time (a fraction of a second).
constexpr int64_t kMaxCells = 1 << 18;

/// Visibility of every (batch, row, key) for one scenario, from the mask
/// terms: 1 visible, 0 hidden.
struct Grid {
  int64_t batch = 0, rows = 0, keys = 0;
  std::vector<int8_t> vis;
  int8_t at(int64_t b, int64_t r, int64_t j) const {
    return vis[(b * rows + r) * keys + j];
  }
};

/// Why an evaluation gave no grid.
enum class GridFailure {
  None,
  /// The subgraph did not evaluate, or its shape does not fit the scores.
  NotEvaluated,
  /// It evaluated to values that are not 0 / a large negative number (or a
  /// condition): not a visibility pattern.
  NotAMask,
  /// An index went out of range: the exported graph cannot run at these
  /// sizes, so they say nothing about the model.
  OutOfDomain,
};

std::optional<Grid> evaluateGrid(GraphImporter &imp, ArrayRef<MaskTerm> masks,
                                 const GraphImporter::Scenario &scenario,
                                 int64_t batch, int64_t rows, int64_t keys,
                                 std::string &why, GridFailure &failure) {
  Grid g{batch, rows, keys, std::vector<int8_t>(batch * rows * keys, 1)};
  failure = GridFailure::NotEvaluated;
  for (const MaskTerm &m : masks) {
    auto e = imp.evaluate(m.value, scenario,
                          std::max<int64_t>(1 << 16, 4 * batch * rows * keys));
    if (!e) {
      why = "its subgraph does not evaluate at import time";
      if (imp.indexOutOfRange)
        failure = GridFailure::OutOfDomain;
      return std::nullopt;
    }
    SmallVector<int64_t> shape = e->shape;
    if (shape.size() > 4 || llvm::is_contained(shape, -1)) {
      why = "it does not have a [batch, heads, query, key] shape";
      return std::nullopt;
    }
    while (shape.size() < 4)
      shape.insert(shape.begin(), 1);
    int64_t want[4] = {batch, shape[1], rows, keys};
    for (int d = 0; d < 4; ++d)
      if (d != 1 && shape[d] != 1 && shape[d] != want[d]) {
        why = "its shape does not match the scores (dimension " +
              std::to_string(d) + " is " + std::to_string(shape[d]) +
              ", the scores have " + std::to_string(want[d]) + ")";
        return std::nullopt;
      }
    std::vector<int8_t> term(batch * rows * keys, -2);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < shape[1]; ++h)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < keys; ++j) {
            int64_t idx = (((shape[0] == 1 ? 0 : b) * shape[1] + h) * shape[2] +
                           (shape[2] == 1 ? 0 : r)) *
                              shape[3] +
                          (shape[3] == 1 ? 0 : j);
            int8_t v;
            if (m.isCondition) {
              std::optional<int64_t> c =
                  e->known.isFloat
                      ? std::optional<int64_t>(e->known.floats[idx] != 0)
                      : e->known.ints[idx].getConstant();
              if (!c) {
                why = "its condition is not constant";
                return std::nullopt;
              }
              v = ((*c != 0) == m.keepWhen) ? 1 : 0;
            } else {
              std::optional<double> x =
                  e->known.isFloat ? std::optional<double>(e->known.floats[idx])
                                   : std::optional<double>();
              if (!e->known.isFloat)
                if (auto c = e->known.ints[idx].getConstant())
                  x = (double)*c;
              v = !x ? -1 : (*x == 0.0 ? 1 : (*x <= -1e4 ? 0 : -1));
            }
            int8_t &cell = term[(b * rows + r) * keys + j];
            // Heads that disagree are not one visibility pattern.
            cell = (v < 0 || (cell != -2 && cell != v)) ? -1 : v;
          }
    for (size_t i = 0; i < term.size(); ++i) {
      if (term[i] < 0) {
        why = "it holds values other than 0 and a large negative number";
        failure = GridFailure::NotAMask;
        return std::nullopt;
      }
      g.vis[i] = g.vis[i] && term[i];
    }
  }
  failure = GridFailure::None;
  return g;
}

/// What the scenarios evaluated so far showed.
struct Pattern {
  int scenarios = 0;
  bool anyHidden = false;
  /// Every row sees one run of keys that ends at the query itself.
  bool band = true;
  /// The number of keys a row sees when it does not see the first key; all
  /// such rows must agree.
  std::optional<int64_t> window;
  bool windowsAgree = true;
  bool paddingUsed = false;
  /// The most keys up to and including the query of any row evaluated: a
  /// window narrower than this would have shown.
  int64_t maxSeen = 0;

  bool isBand() const { return band && windowsAgree; }
  void merge(const Pattern &o) {
    scenarios += o.scenarios;
    anyHidden |= o.anyHidden;
    band &= o.band;
    windowsAgree &= o.windowsAgree;
    if (window && o.window && *window != *o.window)
      windowsAgree = false;
    if (o.window)
      window = o.window;
    paddingUsed |= o.paddingUsed;
    maxSeen = std::max(maxSeen, o.maxSeen);
  }
  bool sameVisibility(const Pattern &o) const {
    return anyHidden == o.anyHidden && isBand() == o.isBand() &&
           window == o.window;
  }
  std::string str() const {
    if (!isBand())
      return "not a band";
    if (!anyHidden)
      return "hides nothing";
    return window ? "window " + std::to_string(*window) : "causal";
  }
};

/// Sizes of one scenario, before they are fitted to the model's limits.
struct Sizes {
  /// Values of the free symbols, in turn.
  std::vector<int64_t> cycle;
  /// The query length, when it is a free symbol of its own (decode: 1).
  std::optional<int64_t> rows;
  bool batchOne = false;
};

/// A scenario with the sizes it fixes.
struct Prepared {
  GraphImporter::Scenario scenario;
  int64_t batch = 0, rows = 0, keys = 0;
};

/// The integer constants of a mask subgraph that have one magnitude, and
/// the value names that hold them (with their sign).
struct Candidate {
  int64_t magnitude = 0;
  std::vector<std::pair<std::string, int64_t>> sources;
  std::string node; // one node that computes with it, for messages
};

/// What a constant of the mask subgraph does to the visibility.
enum class Role {
  /// Nothing: replacing it changes no key's visibility (or it is a value of
  /// the mask, such as the fill of hidden keys).
  Irrelevant,
  /// It is the window: a*c+d keys.
  Window,
  /// It changes which keys are visible, but not as a window: unproven.
  Changes,
  /// Replaced, the subgraph does not evaluate: only a check at sizes beyond
  /// the constant can tell.
  Unevaluable,
};

/// Ops whose inputs a window constant may be: arithmetic, comparisons and
/// the selections built from them (Trilu's diagonal, Range's bounds).
bool computesWith(llvm::StringRef op) {
  return llvm::is_contained({"Add", "Sub", "Mul", "Div", "Mod", "Neg", "Min",
                             "Max", "Clip", "Greater", "GreaterOrEqual", "Less",
                             "LessOrEqual", "Equal", "Where", "Trilu", "Range"},
                            op);
}

class MaskAnalyzer {
public:
  MaskAnalyzer(GraphImporter &imp, const FusedAttention &f,
               ArrayRef<MaskTerm> masks)
      : imp(imp), syms(imp.getSymbols()), f(f), masks(masks) {}

  MaskFacts run() {
    MaskFacts facts;
    findPadding();
    for (unsigned s = 0; s < syms.size(); ++s)
      if (syms.isFree(s))
        free.push_back(s);

    Pattern base;
    if (!runBaseline({}, base, &baseEach)) {
      facts.why = why;
      return facts;
    }
    if (!base.isBand()) {
      facts.why = "its visible keys are not a causal (or sliding-window) "
                  "pattern";
      return facts;
    }

    // Step 2: the constants.
    std::optional<int64_t> window = base.window;
    std::string how =
        window ? "seen at up to " + std::to_string(base.maxSeen) + " keys" : "";
    std::vector<const Candidate *> unknown;
    std::vector<Candidate> candidates = collectCandidates();
    for (const Candidate &c : candidates) {
      std::optional<int64_t> w;
      std::string detail;
      Role role = classify(c, base, w, detail);
      if (imp.tracing())
        llvm::errs() << "import-trace: mask of '" << f.nodeName
                     << "': constant " << c.magnitude << " (node '" << c.node
                     << "'): " << detail << "\n";
      if (role == Role::Changes) {
        facts.why = "its constant " + std::to_string(c.magnitude) + " (node '" +
                    c.node +
                    "') changes which keys are visible, but not as a window "
                    "of a*c+d keys (" +
                    detail + ")";
        return facts;
      }
      if (role == Role::Unevaluable) {
        unknown.push_back(&c);
        continue;
      }
      if (role != Role::Window)
        continue;
      if (window && *window != *w) {
        facts.why = "its constants give two windows (" +
                    std::to_string(*window) + " and " + std::to_string(*w) +
                    " keys)";
        return facts;
      }
      window = w;
      how = "from the constant " + std::to_string(c.magnitude) + " (node '" +
            c.node + "'): " + detail;
    }
    if (window && !base.window && *window < base.maxSeen) {
      facts.why = "its constants say window " + std::to_string(*window) +
                  " but rows of " + std::to_string(base.maxSeen) +
                  " keys show none";
      return facts;
    }

    // Step 3: check on sizes that show the window and the constants whose
    // role is not known.
    std::set<int64_t> sizes;
    if (window && *window >= base.maxSeen)
      sizes.insert(*window);
    for (const Candidate *c : unknown)
      if (c->magnitude + 2 >= base.maxSeen)
        sizes.insert(c->magnitude + 2);
    for (int64_t size : sizes) {
      Pattern p;
      Prepared atValue;
      Prepared *at = &atValue;
      Outcome outcome = checkAtLeast(size + 1, p, atValue);
      bool forUnknown = !window || size != *window;
      if (outcome == Outcome::Failed) {
        facts.why = why;
        return facts;
      }
      if (outcome == Outcome::TooLarge) {
        if (!forUnknown) {
          how += "; not checked directly (no size of " +
                 std::to_string(size + 1) +
                 " keys that the graph runs at can be evaluated)";
          continue;
        }
        const Candidate *c = *llvm::find_if(unknown, [&](const Candidate *u) {
          return u->magnitude + 2 == size;
        });
        facts.why = "its constant " + std::to_string(c->magnitude) +
                    " (node '" + c->node +
                    "') may change it at sizes that cannot be evaluated";
        return facts;
      }
      bool agrees =
          p.isBand() && (!p.anyHidden) == (!base.anyHidden) &&
          (window ? (p.window == window || (!p.window && *window >= p.maxSeen))
                  : !p.window);
      if (!agrees) {
        facts.why = "at " + std::to_string(at->keys) + " keys it is " +
                    p.str() + ", at small sizes " +
                    (window ? "window " + std::to_string(*window) : base.str());
        return facts;
      }
      if (!forUnknown)
        how += "; checked at " + std::to_string(at->rows) + " x " +
               std::to_string(at->keys) + " keys";
    }

    facts.proven = true;
    facts.causal = base.anyHidden || window.has_value();
    facts.window = facts.causal ? window : std::nullopt;
    facts.how = how;
    if (base.paddingUsed)
      facts.paddingInput = padding;
    return facts;
  }

private:
  GraphImporter &imp;
  SizeSymbols &syms;
  const FusedAttention &f;
  ArrayRef<MaskTerm> masks;
  std::string padding;
  std::vector<unsigned> free;
  std::string why;
  GridFailure lastFailure = GridFailure::None;
  /// What each baseline scenario showed, with the model's own constants.
  std::vector<std::optional<Pattern>> baseEach;

  /// Candidate padding input: an integer [batch, key_seq] graph input. An
  /// exporter may give its length a symbol of its own ("total_seq" next to
  /// "past_seq" + "seq"); a padding mask covers all keys, so the two are
  /// the same size.
  void findPadding() {
    for (const MaskTerm &m : masks)
      for (const std::string &in : imp.inputsOf(m.value)) {
        const TensorInfo &info = imp.state(in).info;
        if (info.isFloat() || info.rank() != 2)
          continue;
        // Its batch may have a symbol of its own too (transformers'
        // OnnxExporter): it is the attention's batch.
        SymExpr batch = syms.resolve(info.shape[0]);
        if (batch != syms.resolve(f.batch)) {
          std::optional<unsigned> sym = batch.getSymbol();
          if (!sym || !syms.isFree(*sym) || !syms.unify(batch, f.batch))
            continue;
        }
        SymExpr len = syms.resolve(info.shape[1]);
        if (len != syms.resolve(f.keyLength)) {
          std::optional<unsigned> sym = len.getSymbol();
          if (!sym || !syms.isFree(*sym) || !syms.unify(len, f.keyLength))
            continue;
        }
        padding = in;
      }
  }

  static std::map<unsigned, SymExpr>
  toExprs(const std::map<unsigned, int64_t> &values) {
    std::map<unsigned, SymExpr> m;
    for (const auto &[k, v] : values)
      m[k] = SymExpr(v);
    return m;
  }

  /// Fixes the sizes of a scenario within the model's limits; nothing when
  /// the limits cannot be met or the sizes do not make an attention.
  std::optional<Prepared> prepare(const Sizes &sizes) {
    Prepared p;
    std::map<unsigned, int64_t> &values = p.scenario.symbols;
    for (size_t k = 0; k < free.size(); ++k)
      values[free[k]] = sizes.cycle[k % sizes.cycle.size()];
    std::optional<unsigned> rowSym = syms.resolve(f.queryLength).getSymbol();
    std::optional<unsigned> batchSym = syms.resolve(f.batch).getSymbol();
    if (sizes.rows && rowSym && syms.isFree(*rowSym))
      values[*rowSym] = *sizes.rows;
    if (sizes.batchOne && batchSym && syms.isFree(*batchSym))
      values[*batchSym] = 1;
    if (!syms.fit(values))
      return std::nullopt;
    values = syms.complete(std::move(values));
    auto value = [&](const SymExpr &e) -> std::optional<int64_t> {
      return syms.resolve(e).substitute(toExprs(values)).getConstant();
    };
    std::optional<int64_t> B = value(f.batch), R = value(f.queryLength),
                           K = value(f.keyLength);
    if (!B || !R || !K || *B < 1 || *R < 1 || *R > *K)
      return std::nullopt;
    p.batch = *B;
    p.rows = *R;
    p.keys = *K;
    return p;
  }

  /// Evaluates one prepared scenario with the constants in `overrides`
  /// replaced, and adds what it shows to `p`. False on failure (`why`).
  bool evaluatePrepared(Prepared &at, const std::map<std::string, Known> &ov,
                        Pattern &into) {
    Pattern p = into;
    if (!evaluateInto(at, ov, p))
      return false;
    into = p;
    return true;
  }

  bool evaluateInto(Prepared &at, const std::map<std::string, Known> &ov,
                    Pattern &p) {
    int64_t B = at.batch, R = at.rows, K = at.keys;
    GraphImporter::Scenario &sc = at.scenario;
    sc.overrides = ov;
    std::vector<int64_t> ones(B * K, 1);
    if (!padding.empty())
      sc.inputs[padding] = ones;
    std::optional<Grid> g =
        evaluateGrid(imp, masks, sc, B, R, K, why, lastFailure);
    if (!g)
      return false;
    ++p.scenarios;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t r = 0; r < R; ++r) {
        int64_t i = r + K - R;
        p.maxSeen = std::max(p.maxSeen, i + 1);
        int64_t lo = -1;
        for (int64_t j = 0; j < K; ++j) {
          bool vis = g->at(b, r, j);
          p.anyHidden |= !vis;
          if (vis && j > i)
            p.band = false;
          if (vis && lo < 0)
            lo = j;
          // Visible keys must be one contiguous run ending at i.
          if (lo >= 0 && j <= i && !vis)
            p.band = false;
        }
        if (lo < 0)
          p.band = false; // the query itself is always visible
        if (lo > 0) {
          int64_t w = i - lo + 1;
          if (p.window && *p.window != w)
            p.windowsAgree = false;
          p.window = w;
        }
      }
    // Left padding in batch row 0: the mask must add it to the pattern.
    if (padding.empty() || K <= 2)
      return true;
    std::vector<int64_t> padded = ones;
    padded[0] = padded[1] = 0;
    sc.inputs[padding] = padded;
    std::optional<Grid> gp =
        evaluateGrid(imp, masks, sc, B, R, K, why, lastFailure);
    if (!gp)
      return false;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t r = 0; r < R; ++r) {
        bool rowHasKey = false;
        for (int64_t j = 0; j < K; ++j)
          rowHasKey |= g->at(b, r, j) && padded[b * K + j];
        if (!rowHasKey)
          continue; // fully padded rows: exporters differ, nobody reads them
        for (int64_t j = 0; j < K; ++j) {
          bool want = g->at(b, r, j) && padded[b * K + j];
          if ((bool)gp->at(b, r, j) != want) {
            if (padded[b * K + j] == 0 && gp->at(b, r, j) == g->at(b, r, j))
              continue; // this mask ignores padding
            why = "it reacts to the padding input in a way that is not a "
                  "padding mask";
            return false;
          }
          if (padded[b * K + j] == 0 && g->at(b, r, j))
            p.paddingUsed = true;
        }
      }
    return true;
  }

  /// The small scenarios: prefill and decode, batch 1 and 2, and one of 12
  /// of every size. At least two must fit the model's limits (and run: an
  /// index out of range passes a scenario over). `each` gets what each
  /// scenario showed (nothing for those passed over).
  bool runBaseline(const std::map<std::string, Known> &ov, Pattern &p,
                   std::vector<std::optional<Pattern>> *each = nullptr) {
    const Sizes all[] = {{{2, 5, 3, 4, 2}, std::nullopt, false},
                         {{1, 7, 2, 3, 3}, std::nullopt, false},
                         {{2, 1, 6, 5, 4}, 1, false},
                         {{2, 9, 4, 6, 5}, std::nullopt, false},
                         {{12}, std::nullopt, true}};
    if (each)
      each->assign(std::size(all), std::nullopt);
    for (size_t i = 0; i < std::size(all); ++i) {
      std::optional<Prepared> at = prepare(all[i]);
      if (!at)
        continue;
      if (at->batch * at->rows * at->keys > kMaxCells) {
        why = "its smallest scenario is too large to evaluate";
        return false;
      }
      Pattern one;
      if (!evaluatePrepared(*at, ov, one)) {
        if (lastFailure == GridFailure::OutOfDomain)
          continue;
        return false;
      }
      p.merge(one);
      if (each)
        (*each)[i] = one;
    }
    if (p.scenarios < 2) {
      why = "its sizes cannot be fixed for evaluation";
      return false;
    }
    return true;
  }

  enum class Outcome { Evaluated, TooLarge, Failed };

  /// Evaluates a scenario in which some query row has at least `keys` keys
  /// up to and including itself, within kMaxCells: a few query rows against
  /// a long past where the model has one, else a prompt that long. Sizes at
  /// which the graph cannot run are passed over.
  Outcome checkAtLeast(int64_t keys, Pattern &p, Prepared &used) {
    for (std::optional<int64_t> rows :
         {std::optional<int64_t>(2), std::optional<int64_t>()}) {
      std::optional<Prepared> at = prepare({{keys + 2}, rows, true});
      if (!at || at->keys < keys || at->batch * at->rows * at->keys > kMaxCells)
        continue;
      if (evaluatePrepared(*at, {}, p)) {
        used = *at;
        return Outcome::Evaluated;
      }
      if (lastFailure != GridFailure::OutOfDomain)
        return Outcome::Failed;
    }
    return Outcome::TooLarge;
  }

  /// Integer constants of magnitude 3 to 2^31 that the mask subgraph
  /// computes with, grouped by magnitude.
  std::vector<Candidate> collectCandidates() {
    const onnx::GraphProto &g = imp.getGraph();
    std::map<int64_t, Candidate> byMagnitude;
    llvm::DenseSet<int> nodes;
    for (const MaskTerm &m : masks)
      for (int n : imp.sliceOf(m.value))
        nodes.insert(n);
    SmallVector<int> sorted(nodes.begin(), nodes.end());
    llvm::sort(sorted);
    for (int n : sorted) {
      const onnx::NodeProto &node = g.node(n);
      if (!computesWith(node.op_type()))
        continue;
      for (const std::string &in : node.input()) {
        if (in.empty() || !imp.hasValue(in))
          continue;
        int p = imp.producer(in);
        bool source = p < 0 ? imp.state(in).initializer != nullptr
                            : g.node(p).op_type() == "Constant";
        const ValueState &s = imp.state(in);
        if (!source || !s.known || s.known->isFloat || s.known->size() != 1)
          continue;
        std::optional<int64_t> c = s.known->ints[0].getConstant();
        if (!c || std::abs(*c) < 3 || std::abs(*c) > (int64_t(1) << 31))
          continue;
        Candidate &cand = byMagnitude[std::abs(*c)];
        cand.magnitude = std::abs(*c);
        if (cand.node.empty())
          cand.node = node.name().empty() ? node.op_type() : node.name();
        if (llvm::none_of(cand.sources,
                          [&](const auto &src) { return src.first == in; }))
          cand.sources.push_back({in, *c < 0 ? -1 : 1});
      }
    }
    std::vector<Candidate> result;
    for (auto &[m, c] : byMagnitude)
      result.push_back(std::move(c));
    return result;
  }

  /// What the constant `c` does to the visibility: the baseline scenarios
  /// with every occurrence of it replaced by 3, 4 and 5 (sign kept).
  Role classify(const Candidate &c, const Pattern &base,
                std::optional<int64_t> &window, std::string &detail) {
    std::optional<int64_t> widths[3];
    bool allSame = true, allWindows = true;
    std::string shown;
    for (int k = 0; k < 3; ++k) {
      int64_t small = 3 + k;
      std::map<std::string, Known> ov;
      for (const auto &[name, sign] : c.sources) {
        Known known = *imp.state(name).known;
        known.ints[0] = SymExpr(sign * small);
        ov[name] = std::move(known);
      }
      Pattern p;
      std::vector<std::optional<Pattern>> each;
      if (!runBaseline(ov, p, &each)) {
        if (lastFailure == GridFailure::NotAMask) {
          // It sets a value of the mask (a fill), not which keys it hides.
          detail = "a value of the mask, not a size";
          return Role::Irrelevant;
        }
        detail = "replaced by " + std::to_string(small) + ", " + why;
        return Role::Unevaluable;
      }
      shown += (k ? ", " : "") + p.str();
      // Compared on the scenarios that ran both ways (a constant that bounds
      // the sizes the graph runs at passes some over).
      int common = 0;
      for (size_t i = 0; i < each.size(); ++i)
        if (each[i] && baseEach[i]) {
          ++common;
          allSame &= each[i]->sameVisibility(*baseEach[i]);
        }
      if (!common) {
        detail = "replaced by " + std::to_string(small) +
                 ", no scenario runs both ways";
        return Role::Unevaluable;
      }
      allWindows &= p.isBand() && p.window.has_value();
      widths[k] = p.window;
    }
    if (allSame) {
      detail = "replaced by 3, 4, 5, the mask does not change";
      return Role::Irrelevant;
    }
    if (allWindows) {
      int64_t a = *widths[1] - *widths[0];
      if (a >= 1 && *widths[2] - *widths[1] == a) {
        int64_t d = *widths[0] - 3 * a;
        window = a * c.magnitude + d;
        detail = "replaced by 3, 4, 5, it gives " + shown +
                 ": the model's window is " + std::to_string(*window);
        if (*window >= 1)
          return Role::Window;
      }
    }
    detail = "replaced by 3, 4, 5, the mask is " + shown;
    return Role::Changes;
  }
};

} // namespace

MaskFacts mlir::swaa::import::analyzeMask(GraphImporter &imp,
                                          const FusedAttention &f,
                                          ArrayRef<MaskTerm> masks) {
  return MaskAnalyzer(imp, f, masks).run();
}
