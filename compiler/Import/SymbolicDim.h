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
class SizeSymbols {
public:
  /// The symbol named `name`, created on first use.
  unsigned getOrCreate(llvm::StringRef name);
  /// A fresh symbol for an unnamed dimension.
  unsigned createAnonymous(llvm::StringRef hint);
  llvm::ArrayRef<std::string> names() const { return names_; }
  unsigned size() const { return names_.size(); }
  /// True when symbol `id` is not bound to an expression.
  bool isFree(unsigned id) const { return !bindings_.count(id); }

  /// `expr` with every bound symbol replaced by what it is bound to.
  SymExpr resolve(const SymExpr &expr) const;
  /// Records that `a` and `b` are equal at run time. Returns false when that
  /// is impossible (two different constants) or cannot be recorded (neither
  /// side resolves to a single free symbol).
  bool unify(const SymExpr &a, const SymExpr &b);
  std::string str(const SymExpr &expr) const {
    return resolve(expr).str(names_);
  }

private:
  std::vector<std::string> names_;
  std::map<unsigned, SymExpr> bindings_;
};

} // namespace mlir::swaa::import

#endif // SWAA_COMPILER_IMPORT_SYMBOLICDIM_H
