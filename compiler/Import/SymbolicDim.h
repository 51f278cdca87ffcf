//===- SymbolicDim.h - symbolic tensor sizes for the importer ---*- C++ -*-===//
//
// Exported models have symbolic batch and sequence sizes ("batch", "seq",
// "past_seq"), and their shape subgraphs compute with them: Reshape to
// [batch * seq, 768], Range(0, past_seq + seq). A SymExpr is a polynomial with
// integer coefficients over such symbols, so that the importer can fold those
// subgraphs and give every tensor a shape whose dimensions are either constants
// or expressions it can materialize as index arithmetic.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_COMPILER_IMPORT_SYMBOLICDIM_H
#define SWAA_COMPILER_IMPORT_SYMBOLICDIM_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir::swaa::import {

/// A polynomial over symbol ids with int64 coefficients, kept canonical
/// (sorted monomials, no zero coefficients), so equality is structural.
class SymExpr {
public:
  /// A monomial: the sorted multiset of symbol ids (empty: the constant term).
  using Monomial = std::vector<unsigned>;

  SymExpr() = default;
  /*implicit*/ SymExpr(int64_t constant);
  static SymExpr symbol(unsigned id);

  bool isConstant() const;
  std::optional<int64_t> getConstant() const;
  /// The symbol id when this is exactly one symbol with coefficient 1.
  std::optional<unsigned> getSymbol() const;
  const std::map<Monomial, int64_t> &terms() const { return terms_; }

  SymExpr operator+(const SymExpr &other) const;
  SymExpr operator-(const SymExpr &other) const;
  SymExpr operator*(const SymExpr &other) const;
  SymExpr operator-() const { return *this * SymExpr(-1); }
  /// Exact division: defined when the divisor is a nonzero constant that
  /// divides every coefficient, or a single monomial that divides every term.
  std::optional<SymExpr> divideExactly(const SymExpr &divisor) const;
  /// Floor division by a positive constant when this is constant, or exact.
  std::optional<SymExpr> floorDiv(const SymExpr &divisor) const;

  bool operator==(const SymExpr &other) const { return terms_ == other.terms_; }
  bool operator!=(const SymExpr &other) const { return !(*this == other); }
  bool operator<(const SymExpr &other) const { return terms_ < other.terms_; }

  /// Substitutes symbols by expressions (symbols not in the map stay).
  SymExpr substitute(const std::map<unsigned, SymExpr> &values) const;

  /// Prints with the given symbol names, e.g. "batch*seq + 1".
  std::string str(llvm::ArrayRef<std::string> names) const;

private:
  std::map<Monomial, int64_t> terms_;
  void add(const Monomial &monomial, int64_t coefficient);
};

/// The symbols of one import: names from the model (`dim_param`) or made up
/// for unnamed dynamic dimensions, and the equalities the graph implies
/// (an attention_mask of size "total_seq" added to scores of size
/// past_seq + seq means total_seq = past_seq + seq).
///
/// A symbol may also be *derived*: `min(x, 0)` for a size expression `x`.
/// That is what ONNX Slice makes of "the last k" of a symbolic axis (`t[-k:]`
/// keeps min(n, k) = k + min(n - k, 0) elements: it clamps when the axis is
/// shorter, as transformers' sliding-window caches rely on) and what
/// torch.export's shape logic computes with Max/Min. A derived symbol is not
/// a polynomial in the others; it gets its value from them (`complete`) and
/// is never assigned freely.
class SizeSymbols {
public:
  struct Derived {
    SymExpr arg; // the symbol is min(arg, 0)
  };

  /// The symbol named `name`, created on first use.
  unsigned getOrCreate(llvm::StringRef name);
  /// A fresh symbol for an unnamed dimension.
  unsigned createAnonymous(llvm::StringRef hint);
  llvm::ArrayRef<std::string> names() const { return names_; }
  unsigned size() const { return names_.size(); }
  /// True when symbol `id` is neither bound to an expression nor derived.
  bool isFree(unsigned id) const {
    return !bindings_.count(id) && !derived_.count(id);
  }
  /// min(a, b) and max(a, b) of two sizes: folded where the sign of a - b is
  /// known, else in terms of a derived symbol min(a - b, 0), made once per
  /// argument (up to sign).
  SymExpr minOf(const SymExpr &a, const SymExpr &b);
  SymExpr maxOf(const SymExpr &a, const SymExpr &b);
  /// The definition of a derived symbol, or null.
  const Derived *derived(unsigned id) const {
    auto it = derived_.find(id);
    return it == derived_.end() ? nullptr : &it->second;
  }
  /// Adjusts the values of free symbols (lowering one where that suffices)
  /// so that they meet the constraints that bindings of derived symbols
  /// imply (a cache sliced to its last 5 keys, exported with a short cache,
  /// is only valid while past <= 5). False when they cannot be met.
  bool fit(std::map<unsigned, int64_t> &values) const;
  /// `values` (for free symbols) plus the values of the derived symbols that
  /// they determine.
  std::map<unsigned, int64_t>
  complete(std::map<unsigned, int64_t> values) const;

  /// `expr` with every bound symbol replaced by what it is bound to.
  SymExpr resolve(const SymExpr &expr) const;
  /// Records that `a` and `b` are equal at run time. Returns false when that
  /// is impossible (two different constants) or cannot be recorded (no
  /// symbol occurs linearly in `a - b`).
  bool unify(const SymExpr &a, const SymExpr &b);
  /// Like unify, for sizes the graph needs equal to run at all (the two
  /// sides of a contraction): a free symbol that occurs linearly in a - b
  /// may then be bound too.
  bool require(const SymExpr &a, const SymExpr &b);
  std::string str(const SymExpr &expr) const {
    return resolve(expr).str(names_);
  }

private:
  std::vector<std::string> names_;
  std::map<unsigned, SymExpr> bindings_;
  std::map<unsigned, Derived> derived_;
  /// Expressions that are <= 0 wherever the model is valid.
  std::vector<SymExpr> constraints_;

  SymExpr minWithZero(const SymExpr &arg);
  /// True when `expr` uses `sym`, directly or in a derived symbol's argument.
  bool dependsOn(const SymExpr &expr, unsigned sym) const;
  /// Binds the symbol to `value` unless that would be circular.
  bool bind(unsigned sym, const SymExpr &value);
};

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_SYMBOLICDIM_H
