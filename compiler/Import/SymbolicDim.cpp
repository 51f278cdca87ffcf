//===- SymbolicDim.cpp - symbolic tensor sizes for the importer ----------===//
//
// Polynomial arithmetic over size symbols and the table of symbol equalities.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/SymbolicDim.h"

#include <algorithm>

using namespace mlir::swaa::import;

SymExpr::SymExpr(int64_t constant) {
  if (constant != 0)
    terms_[{}] = constant;
}

SymExpr SymExpr::symbol(unsigned id) {
  SymExpr e;
  e.terms_[{id}] = 1;
  return e;
}

void SymExpr::add(const Monomial &monomial, int64_t coefficient) {
  int64_t &c = terms_[monomial];
  c += coefficient;
  if (c == 0)
    terms_.erase(monomial);
}

bool SymExpr::isConstant() const {
  return terms_.empty() ||
         (terms_.size() == 1 && terms_.begin()->first.empty());
}

std::optional<int64_t> SymExpr::getConstant() const {
  if (terms_.empty())
    return 0;
  if (terms_.size() == 1 && terms_.begin()->first.empty())
    return terms_.begin()->second;
  return std::nullopt;
}

std::optional<unsigned> SymExpr::getSymbol() const {
  if (terms_.size() == 1 && terms_.begin()->first.size() == 1 &&
      terms_.begin()->second == 1)
    return terms_.begin()->first.front();
  return std::nullopt;
}

SymExpr SymExpr::operator+(const SymExpr &other) const {
  SymExpr r = *this;
  for (const auto &[m, c] : other.terms_)
    r.add(m, c);
  return r;
}

SymExpr SymExpr::operator-(const SymExpr &other) const {
  SymExpr r = *this;
  for (const auto &[m, c] : other.terms_)
    r.add(m, -c);
  return r;
}

SymExpr SymExpr::operator*(const SymExpr &other) const {
  SymExpr r;
  for (const auto &[m1, c1] : terms_) {
    for (const auto &[m2, c2] : other.terms_) {
      Monomial m;
      std::merge(m1.begin(), m1.end(), m2.begin(), m2.end(),
                 std::back_inserter(m));
      r.add(m, c1 * c2);
    }
  }
  return r;
}

std::optional<SymExpr> SymExpr::divideExactly(const SymExpr &divisor) const {
  if (std::optional<int64_t> d = divisor.getConstant()) {
    if (*d == 0)
      return std::nullopt;
    SymExpr r;
    for (const auto &[m, c] : terms_) {
      if (c % *d != 0)
        return std::nullopt;
      r.terms_[m] = c / *d;
    }
    return r;
  }
  // Division by a polynomial: long division on leading terms (highest
  // degree first), checked by multiplying back.
  if (divisor.terms_.size() != 1) {
    auto lead = [](const SymExpr &e) {
      auto best = e.terms_.begin();
      for (auto it = e.terms_.begin(); it != e.terms_.end(); ++it)
        if (it->first.size() > best->first.size() ||
            (it->first.size() == best->first.size() && it->first > best->first))
          best = it;
      return *best;
    };
    SymExpr rest = *this, quotient;
    auto [dm, dc] = lead(divisor);
    for (int steps = 0; !rest.terms_.empty() && steps < 64; ++steps) {
      auto [rm, rc] = lead(rest);
      SymExpr term;
      term.terms_[rm] = rc;
      SymExpr leadDivisor;
      leadDivisor.terms_[dm] = dc;
      std::optional<SymExpr> q = term.divideExactly(leadDivisor);
      if (!q)
        return std::nullopt;
      quotient = quotient + *q;
      rest = rest - *q * divisor;
    }
    if (!rest.terms_.empty() || quotient * divisor != *this)
      return std::nullopt;
    return quotient;
  }
  const auto &[dm, dc] = *divisor.terms_.begin();
  SymExpr r;
  for (const auto &[m, c] : terms_) {
    if (c % dc != 0)
      return std::nullopt;
    // m must contain dm as a sub-multiset.
    Monomial rest;
    auto it = m.begin();
    for (unsigned s : dm) {
      auto found = std::find(it, m.end(), s);
      if (found == m.end())
        return std::nullopt;
      rest.insert(rest.end(), it, found);
      it = found + 1;
    }
    rest.insert(rest.end(), it, m.end());
    r.add(rest, c / dc);
  }
  return r;
}

std::optional<SymExpr> SymExpr::floorDiv(const SymExpr &divisor) const {
  std::optional<int64_t> n = getConstant(), d = divisor.getConstant();
  if (n && d && *d != 0) {
    int64_t q = *n / *d;
    if ((*n % *d != 0) && ((*n < 0) != (*d < 0)))
      --q;
    return SymExpr(q);
  }
  return divideExactly(divisor);
}

SymExpr SymExpr::substitute(const std::map<unsigned, SymExpr> &values) const {
  SymExpr r;
  for (const auto &[m, c] : terms_) {
    SymExpr term(c);
    for (unsigned s : m) {
      auto it = values.find(s);
      term = term * (it == values.end() ? symbol(s) : it->second);
    }
    r = r + term;
  }
  return r;
}

std::string SymExpr::str(llvm::ArrayRef<std::string> names) const {
  if (terms_.empty())
    return "0";
  std::string out;
  // Highest-degree terms first, the constant last.
  for (auto it = terms_.rbegin(); it != terms_.rend(); ++it) {
    const auto &[m, c] = *it;
    int64_t coeff = c;
    if (!out.empty()) {
      out += coeff < 0 ? " - " : " + ";
      coeff = coeff < 0 ? -coeff : coeff;
    }
    std::string mono;
    for (unsigned s : m)
      mono += (mono.empty() ? "" : "*") +
              (s < names.size() ? names[s] : "s" + std::to_string(s));
    if (mono.empty())
      out += std::to_string(coeff);
    else if (coeff == 1)
      out += mono;
    else if (coeff == -1)
      out += "-" + mono;
    else
      out += std::to_string(coeff) + "*" + mono;
  }
  return out;
}

unsigned SizeSymbols::getOrCreate(llvm::StringRef name) {
  auto it = std::find(names_.begin(), names_.end(), name.str());
  if (it != names_.end())
    return it - names_.begin();
  names_.push_back(name.str());
  return names_.size() - 1;
}

unsigned SizeSymbols::createAnonymous(llvm::StringRef hint) {
  names_.push_back(hint.str() + "_" + std::to_string(names_.size()));
  return names_.size() - 1;
}

SymExpr SizeSymbols::resolve(const SymExpr &expr) const {
  if (bindings_.empty())
    return expr;
  // Bindings are kept fully resolved, so one substitution suffices.
  return expr.substitute(bindings_);
}

SymExpr SizeSymbols::minWithZero(const SymExpr &arg) {
  SymExpr x = resolve(arg);
  if (std::optional<int64_t> c = x.getConstant())
    return SymExpr(std::min<int64_t>(*c, 0));
  // Sizes are never negative: a polynomial with only non-negative (or only
  // non-positive) coefficients has a known sign.
  bool allNonNeg = true, allNonPos = true;
  for (const auto &[m, c] : x.terms()) {
    allNonNeg &= c >= 0;
    allNonPos &= c <= 0;
  }
  if (allNonNeg)
    return SymExpr(0);
  if (allNonPos)
    return x;
  // One symbol for min(x, 0) and min(-x, 0) = min(x, 0) - x: keep the
  // highest term's coefficient positive.
  if (x.terms().rbegin()->second < 0)
    return minWithZero(-x) + x;
  // The same min(x, 0) is one symbol (it resolves to its binding, if the
  // graph has bound it).
  for (const auto &[id, d] : derived_)
    if (resolve(d.arg) == x)
      return resolve(SymExpr::symbol(id));
  names_.push_back("min(" + x.str(names_) + ", 0)");
  unsigned id = names_.size() - 1;
  derived_[id] = {x};
  return SymExpr::symbol(id);
}

SymExpr SizeSymbols::minOf(const SymExpr &a, const SymExpr &b) {
  return b + minWithZero(a - b);
}

SymExpr SizeSymbols::maxOf(const SymExpr &a, const SymExpr &b) {
  return a - minWithZero(a - b);
}

std::map<unsigned, int64_t>
SizeSymbols::complete(std::map<unsigned, int64_t> values) const {
  std::map<unsigned, SymExpr> exprs;
  for (const auto &[s, v] : values)
    exprs[s] = SymExpr(v);
  // A derived symbol's argument only uses symbols made before it.
  for (const auto &[id, d] : derived_) {
    if (values.count(id) || bindings_.count(id))
      continue;
    std::optional<int64_t> a = resolve(d.arg).substitute(exprs).getConstant();
    if (!a)
      continue;
    values[id] = std::min<int64_t>(*a, 0);
    exprs[id] = SymExpr(values[id]);
  }
  return values;
}

bool SizeSymbols::dependsOn(const SymExpr &expr, unsigned sym) const {
  for (const auto &term : expr.terms())
    for (unsigned s : term.first) {
      if (s == sym)
        return true;
      auto d = derived_.find(s);
      if (d != derived_.end() && dependsOn(resolve(d->second.arg), sym))
        return true;
    }
  return false;
}

bool SizeSymbols::bind(unsigned sym, const SymExpr &value) {
  // A symbol cannot be bound to an expression that contains it, directly or
  // through a derived symbol's definition.
  if (dependsOn(value, sym))
    return false;
  // min(x, 0) = v implies v <= 0 and v <= x: the sizes for which the model
  // is valid (evaluations at import time must stay within them).
  if (auto d = derived_.find(sym); d != derived_.end()) {
    for (const SymExpr &e : {value, value - resolve(d->second.arg)}) {
      std::optional<int64_t> c = e.getConstant();
      if (c && *c > 0)
        return false;
      if (!c)
        constraints_.push_back(e);
    }
  }
  // Bind, and keep the other bindings resolved.
  std::map<unsigned, SymExpr> one = {{sym, value}};
  for (auto &[s, e] : bindings_)
    e = e.substitute(one);
  bindings_[sym] = value;
  return true;
}

bool SizeSymbols::unify(const SymExpr &a, const SymExpr &b) {
  SymExpr ra = resolve(a), rb = resolve(b);
  if (ra == rb)
    return true;
  if (ra.isConstant() && rb.isConstant())
    return false;
  // One side is a symbol: bind it to the other side, a free symbol in
  // preference to a derived one, which keeps its definition.
  std::optional<unsigned> sa = ra.getSymbol(), sb = rb.getSymbol();
  if (sa && sb && derived_.count(*sa) && !derived_.count(*sb))
    return bind(*sb, ra);
  if (sa)
    return bind(*sa, rb);
  if (sb)
    return bind(*sb, ra);
  // Otherwise, when a - b is linear in a derived symbol (coefficient +-1, in
  // no other term), bind that: `min(past - 5, 0) + 5 + seq = past + seq` says
  // the clamp does not bite in a model that is only valid while it does not
  // (an export that slices its cache to the last W-1 keys, traced with a
  // short cache). Free symbols are only ever bound to a whole side, as
  // above, so that a speculative unify never specializes the model.
  SymExpr diff = ra - rb;
  std::optional<unsigned> pick;
  SymExpr pickValue;
  for (const auto &[monomial, coeff] : diff.terms()) {
    if (monomial.size() != 1 || (coeff != 1 && coeff != -1) ||
        !derived_.count(monomial[0]))
      continue;
    unsigned s = monomial[0];
    SymExpr value =
        (diff - SymExpr::symbol(s) * SymExpr(coeff)) * SymExpr(-coeff);
    if (!dependsOn(value, s)) {
      pick = s;
      pickValue = value;
      break;
    }
  }
  return pick && bind(*pick, pickValue);
}

bool SizeSymbols::require(const SymExpr &a, const SymExpr &b) {
  if (unify(a, b))
    return true;
  // The graph cannot run unless a == b: a free symbol of a - b (coefficient
  // +-1, in no other term) may be bound (transformers' OnnxExporter gives the
  // past keys and the past values lengths symbols of their own, s85 + seq
  // and s81 + seq, that a MatMul contracts).
  SymExpr diff = resolve(a) - resolve(b);
  for (const auto &[monomial, coeff] : diff.terms()) {
    if (monomial.size() != 1 || (coeff != 1 && coeff != -1) ||
        !isFree(monomial[0]))
      continue;
    unsigned sym = monomial[0];
    SymExpr value =
        (diff - SymExpr::symbol(sym) * SymExpr(coeff)) * SymExpr(-coeff);
    if (!dependsOn(value, sym) && bind(sym, value))
      return true;
  }
  return false;
}

bool SizeSymbols::fit(std::map<unsigned, int64_t> &values) const {
  for (const SymExpr &constraint : constraints_) {
    SymExpr e = resolve(constraint);
    std::map<unsigned, SymExpr> exprs;
    for (const auto &[s, v] : values)
      exprs[s] = SymExpr(v);
    std::optional<int64_t> excess = e.substitute(exprs).getConstant();
    if (!excess)
      return false;
    if (*excess <= 0)
      continue;
    // Lower one free symbol that the constraint grows with linearly.
    bool fixed = false;
    for (const auto &[monomial, coeff] : e.terms()) {
      if (monomial.size() != 1 || coeff <= 0 || !values.count(monomial[0]) ||
          !isFree(monomial[0]))
        continue;
      int64_t &v = values[monomial[0]];
      int64_t step = (*excess + coeff - 1) / coeff;
      if (v - step < 0)
        continue;
      v -= step;
      fixed = true;
      break;
    }
    if (!fixed)
      return false;
  }
  // A lowered symbol may break an earlier constraint: check them all again.
  for (const SymExpr &constraint : constraints_) {
    std::map<unsigned, SymExpr> exprs;
    for (const auto &[s, v] : values)
      exprs[s] = SymExpr(v);
    std::optional<int64_t> c =
        resolve(constraint).substitute(exprs).getConstant();
    if (!c || *c > 0)
      return false;
  }
  return true;
}
