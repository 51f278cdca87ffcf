//===- VectorContraction.cpp - matmuls against a weight as FMA blocks -----===//
//
// The CPU target's kernel for the contractions the importer emits for
// MatMul against a weight (q/k/v/o projections, MLP, LM head):
//
//   C[i..., n] = init + sum_k A[i..., k] * B[k, n]      B: [K, N], N static
//
// rewritten (on tensors, before bufferization) to a GEMM micro-kernel in the
// vector dialect: the rows i... flattened to M, a parallel loop over blocks
// of `rows` rows and `vectors` x V columns (V the vector width), and per
// block `rows x vectors` accumulators held in registers over k: each k
// loads `vectors` vectors of B's row k and broadcasts one element of A per
// row into `rows x vectors` FMAs. Rows left over at the end take a one-row
// block, columns left over a one-vector block. The loop nest that the
// generic would otherwise become reads B with a stride of N per k or keeps
// the reduction innermost; this one runs at the FMA units' rate.
//
// Applies to f32 generics with exactly that shape; anything else (other
// element types, a non-2-D or dynamic B, N not a multiple of V) is left to
// the generic lowering.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

namespace mlir::swaa {
#define GEN_PASS_DEF_SWAAVECTORIZECONTRACTIONSPASS
#define GEN_PASS_DEF_SWAAPACKWEIGHTSPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

using namespace mlir;
using namespace mlir::swaa;

namespace {
/// What a matched contraction needs: its operands, the rank of C, and
/// whether the init is a fill with zero (no need to read it).
struct Contraction {
  linalg::GenericOp op;
  Value a, b, init;
  bool zeroInit = false;
  /// B is a weight stored in 24-column panels (swaa-pack-weights): B's map
  /// is (k, n) -> (n floordiv 24, k, n mod 24).
  bool packed = false;
  /// B is stored transposed, [N, K] (a tied LM head reading the embedding
  /// table): B's map is (k, n) -> (n, k). Library calls only.
  bool transposed = false;
  int64_t k, n;
};

/// Columns per panel of a packed weight (SWAA_GEMM_PANEL of the kernels).
constexpr int64_t kPanel = 24;

/// B's indexing map in panels: (..., n, k) -> (n floordiv 24, k, n mod 24).
AffineMap packedBMap(unsigned loops, MLIRContext *ctx) {
  AffineExpr k = getAffineDimExpr(loops - 1, ctx);
  AffineExpr n = getAffineDimExpr(loops - 2, ctx);
  return AffineMap::get(loops, 0, {n.floorDiv(kPanel), k, n % kPanel}, ctx);
}

/// The body's value for input `arg`: the argument itself, or its arith.extf
/// to f32 (what swaa-low-precision writes for 16-bit inputs).
bool isInputValue(Value v, BlockArgument arg) {
  if (v == arg)
    return true;
  auto ext = v.getDefiningOp<arith::ExtFOp>();
  return ext && ext.getIn() == arg;
}

/// C[i..., n] += A[i..., k] * B[k, n] with B a static [K, N]; C f32, A and
/// B f32 or (with `allowBF16`) bf16 widened in the body.
std::optional<Contraction> matchContraction(linalg::GenericOp op,
                                            int64_t vectorWidth,
                                            bool allowBF16) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || !op.hasPureTensorSemantics())
    return std::nullopt;
  unsigned loops = op.getNumLoops();
  auto iterators = op.getIteratorTypesArray();
  if (loops < 2 || iterators.back() != utils::IteratorType::reduction)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  unsigned kDim = loops - 1, nDim = loops - 2;
  // C: the parallel dims in order; B: (k, n); A: the leading dims, then k.
  SmallVector<AffineExpr> cExprs;
  for (unsigned d = 0; d < kDim; ++d)
    cExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap cMap = AffineMap::get(loops, 0, cExprs, ctx);
  SmallVector<AffineExpr> aExprs;
  for (unsigned d = 0; d < nDim; ++d)
    aExprs.push_back(getAffineDimExpr(d, ctx));
  aExprs.push_back(getAffineDimExpr(kDim, ctx));
  AffineMap aMap = AffineMap::get(loops, 0, aExprs, ctx);
  AffineMap bMap = AffineMap::get(
      loops, 0, {getAffineDimExpr(kDim, ctx), getAffineDimExpr(nDim, ctx)},
      ctx);
  AffineMap bTMap = AffineMap::get(
      loops, 0, {getAffineDimExpr(nDim, ctx), getAffineDimExpr(kDim, ctx)},
      ctx);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool packed = allowBF16 && maps[1] == packedBMap(loops, ctx);
  bool transposed = allowBF16 && maps[1] == bTMap;
  if (maps[0] != aMap || (maps[1] != bMap && !packed && !transposed) ||
      maps[2] != cMap)
    return std::nullopt;

  // Body: yield out + a * b (either order of the operands).
  Block &body = op.getRegion().front();
  auto aType = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  auto bType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  auto cType = cast<RankedTensorType>(op.getDpsInits()[0].getType());
  Type f32 = Float32Type::get(ctx), bf16 = BFloat16Type::get(ctx);
  auto inputOk = [&](Type t) {
    return t == f32 || (allowBF16 && t == bf16);
  };
  if (!inputOk(aType.getElementType()) || !inputOk(bType.getElementType()) ||
      cType.getElementType() != f32 || !bType.hasStaticShape())
    return std::nullopt;
  size_t widened = (aType.getElementType() != f32) +
                   (bType.getElementType() != f32);
  if (body.getOperations().size() != 3 + widened)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto addOp = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!addOp)
    return std::nullopt;
  Value out = body.getArgument(2);
  Value product = addOp.getLhs() == out ? addOp.getRhs() : addOp.getLhs();
  if (addOp.getLhs() != out && addOp.getRhs() != out)
    return std::nullopt;
  auto mulOp = product.getDefiningOp<arith::MulFOp>();
  if (!mulOp)
    return std::nullopt;
  BlockArgument x = body.getArgument(0), y = body.getArgument(1);
  if (!((isInputValue(mulOp.getLhs(), x) && isInputValue(mulOp.getRhs(), y)) ||
        (isInputValue(mulOp.getLhs(), y) && isInputValue(mulOp.getRhs(), x))))
    return std::nullopt;

  Contraction c;
  c.op = op;
  c.a = op.getDpsInputs()[0];
  c.b = op.getDpsInputs()[1];
  c.init = op.getDpsInits()[0];
  c.packed = packed;
  c.transposed = transposed;
  c.k = bType.getDimSize(packed || transposed ? 1 : 0);
  c.n = packed       ? cType.getDimSize(cType.getRank() - 1)
        : transposed ? bType.getDimSize(0)
                     : bType.getDimSize(1);
  if (ShapedType::isDynamic(c.n))
    return std::nullopt;
  if ((vectorWidth > 0 && c.n % vectorWidth != 0) ||
      cType.getDimSize(cType.getRank() - 1) != c.n)
    return std::nullopt;
  if (auto fill = c.init.getDefiningOp<linalg::FillOp>()) {
    FloatAttr value;
    if (matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
        value.getValue().isZero())
      c.zeroInit = true;
  }
  return c;
}

/// `buf` (identity layout) with its leading dims collapsed into one.
Value collapseToRows(OpBuilder &b, Location loc, Value buf) {
  int64_t rank = cast<MemRefType>(buf.getType()).getRank();
  if (rank == 2)
    return buf;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d + 1 < rank; ++d)
    groups[0].push_back(d);
  groups.push_back({rank - 1});
  return memref::CollapseShapeOp::create(b, loc, buf, groups);
}

class ContractionBuilder {
public:
  ContractionBuilder(RewriterBase &b, Contraction c, int64_t vw,
                     int64_t rows, int64_t vectors)
      : b(b), c(c), loc(c.op.getLoc()), vw(vw), rows(rows), vectors(vectors) {
    f32 = b.getF32Type();
    vt = VectorType::get({vw}, f32);
  }

  Value build() {
    auto cType = cast<RankedTensorType>(c.op.getResultTypes()[0]);
    int64_t rank = cType.getRank();
    // A and C as [M, K] and [M, N] buffers (identity layouts, so the
    // leading dims collapse).
    aBuf = collapseToRows(b, loc, bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(cast<ShapedType>(c.a.getType()).getShape(), f32),
        c.a, /*read_only=*/true));
    bBuf = bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(cast<ShapedType>(c.b.getType()).getShape(), f32),
        c.b, /*read_only=*/true);
    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < rank; ++d)
      if (cType.isDynamicDim(d))
        dynSizes.push_back(b.createOrFold<tensor::DimOp>(loc, c.init, d));
    auto outType = MemRefType::get(cType.getShape(), f32);
    Value out = memref::AllocOp::create(b, loc, outType, dynSizes);
    if (!c.zeroInit) {
      // Accumulate onto a copy of the init.
      Value init = bufferization::ToBufferOp::create(b, loc, outType, c.init,
                                                     /*read_only=*/true);
      memref::CopyOp::create(b, loc, init, out);
    }
    cBuf = collapseToRows(b, loc, out);
    m = b.createOrFold<memref::DimOp>(loc, cBuf, 0);

    Value zero = idx(0), one = idx(1);
    Value rowBlocks = arith::CeilDivUIOp::create(b, loc, m, idx(rows));
    int64_t colBlock = vectors * vw;
    int64_t fullCols = c.n / colBlock * colBlock;
    Value colBlocks = idx(llvm::divideCeil(c.n, colBlock));
    scf::ParallelOp::create(
        b, loc, ValueRange{zero, zero}, ValueRange{rowBlocks, colBlocks},
        ValueRange{one, one}, [&](OpBuilder &, Location, ValueRange ivs) {
          Value m0 = arith::MulIOp::create(b, loc, ivs[0], idx(rows));
          Value n0 = arith::MulIOp::create(b, loc, ivs[1], idx(colBlock));
          Value here = arith::MinSIOp::create(
              b, loc, idx(rows), arith::SubIOp::create(b, loc, m, m0));
          // Columns: a full block, or the vectors left at the end.
          auto columns = [&](int64_t nRows, Value r0) {
            if (fullCols == c.n) {
              block(r0, n0, nRows, vectors);
              return;
            }
            Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                               n0, idx(fullCols));
            scf::IfOp::create(
                b, loc, full,
                [&](OpBuilder &, Location) {
                  block(r0, n0, nRows, vectors);
                  scf::YieldOp::create(b, loc);
                },
                [&](OpBuilder &, Location) {
                  scf::ForOp::create(
                      b, loc, n0, idx(c.n), idx(vw), ValueRange{},
                      [&](OpBuilder &, Location, Value nv, ValueRange) {
                        block(r0, nv, nRows, 1);
                        scf::YieldOp::create(b, loc);
                      });
                  scf::YieldOp::create(b, loc);
                });
          };
          Value whole = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              here, idx(rows));
          scf::IfOp::create(
              b, loc, whole,
              [&](OpBuilder &, Location) {
                columns(rows, m0);
                scf::YieldOp::create(b, loc);
              },
              [&](OpBuilder &, Location) {
                scf::ForOp::create(
                    b, loc, m0, arith::AddIOp::create(b, loc, m0, here), one,
                    ValueRange{}, [&](OpBuilder &, Location, Value r, ValueRange) {
                      columns(1, r);
                      scf::YieldOp::create(b, loc);
                    });
                scf::YieldOp::create(b, loc);
              });
        });
    return bufferization::ToTensorOp::create(b, loc, cType, out,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

private:
  RewriterBase &b;
  Contraction c;
  Location loc;
  int64_t vw, rows, vectors;
  Type f32;
  VectorType vt;
  Value aBuf, bBuf, cBuf, m;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// C[r0 .. r0+nRows, n0 .. n0+nVec*V] (+)= A . B, in registers over k.
  void block(Value r0, Value n0, int64_t nRows, int64_t nVec) {
    SmallVector<Value> rowsIdx, colsIdx;
    for (int64_t r = 0; r < nRows; ++r)
      rowsIdx.push_back(arith::AddIOp::create(b, loc, r0, idx(r)));
    for (int64_t j = 0; j < nVec; ++j)
      colsIdx.push_back(arith::AddIOp::create(b, loc, n0, idx(j * vw)));
    SmallVector<Value> init;
    for (int64_t r = 0; r < nRows; ++r)
      for (int64_t j = 0; j < nVec; ++j)
        init.push_back(
            c.zeroInit
                ? arith::ConstantOp::create(b, loc, vt,
                                            DenseElementsAttr::get(vt, 0.0f))
                      .getResult()
                : vector::LoadOp::create(b, loc, vt, cBuf,
                                         ValueRange{rowsIdx[r], colsIdx[j]})
                      .getResult());
    auto loop = scf::ForOp::create(
        b, loc, idx(0), idx(c.k), idx(1), init,
        [&](OpBuilder &, Location, Value kk, ValueRange acc) {
          SmallVector<Value> bv;
          for (int64_t j = 0; j < nVec; ++j)
            bv.push_back(vector::LoadOp::create(b, loc, vt, bBuf,
                                                ValueRange{kk, colsIdx[j]}));
          SmallVector<Value> next(acc);
          for (int64_t r = 0; r < nRows; ++r) {
            Value a = memref::LoadOp::create(b, loc, aBuf,
                                             ValueRange{rowsIdx[r], kk});
            Value av = vector::BroadcastOp::create(b, loc, vt, a);
            for (int64_t j = 0; j < nVec; ++j)
              next[r * nVec + j] =
                  vector::FMAOp::create(b, loc, av, bv[j], next[r * nVec + j]);
          }
          scf::YieldOp::create(b, loc, next);
        });
    for (int64_t r = 0; r < nRows; ++r)
      for (int64_t j = 0; j < nVec; ++j)
        vector::StoreOp::create(b, loc, loop.getResult(r * nVec + j), cBuf,
                                ValueRange{rowsIdx[r], colsIdx[j]});
  }
};

StringRef dtypeName(Type t) { return t.isBF16() ? "bf16" : "f32"; }

/// The kernel library's entry points (compiler/Targets/CPU/Kernels), declared
/// in `module` on first use: `swaa_gemm_tiles(m, n, k) -> tiles` and
/// `swaa_gemm_<A>_<B>(tile, A, B, C, accumulate)` with 2-D dynamic memrefs
/// (C interface: the library receives memref descriptors).
func::FuncOp declareKernel(OpBuilder &b, ModuleOp module, StringRef name,
                           FunctionType type, bool cInterface) {
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name, type);
  f.setPrivate();
  if (cInterface)
    f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return f;
}

/// C = init + A . B as `swaa_gemm_tiles` tiles of the kernel library, one
/// `swaa_gemm_<A>_<B>` call per iteration of a parallel loop (the compiled
/// code's threads; the library's policy decides the tiles).
Value buildLibraryCall(RewriterBase &b, ModuleOp module, Contraction c) {
  Location loc = c.op.getLoc();
  auto cType = cast<RankedTensorType>(c.op.getResultTypes()[0]);
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  auto buffer = [&](Value t) -> Value {
    auto type = cast<RankedTensorType>(t.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), t,
        /*read_only=*/true);
  };
  Value aBuf = collapseToRows(b, loc, buffer(c.a));
  Value bBuf = buffer(c.b);
  SmallVector<Value> dynSizes;
  for (int64_t d = 0; d < cType.getRank(); ++d)
    if (cType.isDynamicDim(d))
      dynSizes.push_back(b.createOrFold<tensor::DimOp>(loc, c.init, d));
  auto outType = MemRefType::get(cType.getShape(), f32);
  Value out = memref::AllocOp::create(b, loc, outType, dynSizes);
  if (!c.zeroInit) {
    Value init = bufferization::ToBufferOp::create(b, loc, outType, c.init,
                                                   /*read_only=*/true);
    memref::CopyOp::create(b, loc, init, out);
  }
  Value cBuf = collapseToRows(b, loc, out);
  auto dynamic2D = [&](Value buf) -> Value {
    auto type = cast<MemRefType>(buf.getType());
    SmallVector<int64_t> shape(type.getRank(), ShapedType::kDynamic);
    return memref::CastOp::create(
        b, loc, MemRefType::get(shape, type.getElementType()), buf);
  };
  Value aDyn = dynamic2D(aBuf), bDyn = dynamic2D(bBuf), cDyn = dynamic2D(cBuf);

  auto i64Const = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, i64, v);
  };
  Value m = arith::IndexCastOp::create(
      b, loc, i64, b.createOrFold<memref::DimOp>(loc, cBuf, 0));
  func::FuncOp tilesFn = declareKernel(
      b, module, "swaa_gemm_tiles", b.getFunctionType({i64, i64, i64}, {i64}),
      /*cInterface=*/false);
  Value tiles = func::CallOp::create(b, loc, tilesFn,
                                     ValueRange{m, i64Const(c.n), i64Const(c.k)})
                    .getResult(0);
  std::string name = ("swaa_gemm_" + dtypeName(getElementTypeOrSelf(c.a)) +
                      "_" + dtypeName(getElementTypeOrSelf(c.b)) +
                      (c.packed ? "_packed" : c.transposed ? "_t" : ""))
                         .str();
  func::FuncOp tileFn = declareKernel(
      b, module, name,
      b.getFunctionType({i64, aDyn.getType(), bDyn.getType(), cDyn.getType(), i64},
                        {}),
      /*cInterface=*/true);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value upper = arith::IndexCastOp::create(b, loc, b.getIndexType(), tiles);
  Value accumulate = i64Const(c.zeroInit ? 0 : 1);
  scf::ParallelOp::create(
      b, loc, ValueRange{zero}, ValueRange{upper}, ValueRange{one},
      [&](OpBuilder &nb, Location l, ValueRange ivs) {
        Value t = arith::IndexCastOp::create(nb, l, i64, ivs[0]);
        func::CallOp::create(nb, l, tileFn,
                             ValueRange{t, aDyn, bDyn, cDyn, accumulate});
      });
  return bufferization::ToTensorOp::create(b, loc, cType, out,
                                           /*restrict=*/true,
                                           /*writable=*/true);
}

/// swaa-pack-weights: a weight argument whose every use is the B of a
/// contraction is stored in 24-column panels.
struct SwaaPackWeightsPass final
    : swaa::impl::SwaaPackWeightsPassBase<SwaaPackWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      SmallVector<Type> argTypes(fn.getArgumentTypes());
      bool changed = false;
      for (BlockArgument arg : fn.getArguments()) {
        unsigned i = arg.getArgNumber();
        if (!fn.getArgAttr(i, "swaa.weight") || fn.getArgAttr(i, "swaa.layout"))
          continue;
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
            !(type.getElementType().isF32() || type.getElementType().isBF16()))
          continue;
        SmallVector<linalg::GenericOp> users;
        bool all = !arg.use_empty();
        for (OpOperand &use : arg.getUses()) {
          auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
          if (!generic || use.getOperandNumber() != 1 ||
              generic.getDpsInputs().size() != 2 ||
              generic.getDpsInputs()[0] == arg) {
            all = false;
            break;
          }
          std::optional<Contraction> c =
              matchContraction(generic, /*vectorWidth=*/0, /*allowBF16=*/true);
          if (!c || c->transposed) {
            all = false;
            break;
          }
          users.push_back(generic);
        }
        if (!all)
          continue;
        int64_t k = type.getDimSize(0), n = type.getDimSize(1);
        auto packed = RankedTensorType::get(
            {(n + kPanel - 1) / kPanel, k, kPanel}, type.getElementType());
        arg.setType(packed);
        argTypes[i] = packed;
        fn.setArgAttr(i, "swaa.layout", StringAttr::get(ctx, "panels24"));
        fn.setArgAttr(i, "swaa.source_shape",
                      DenseI64ArrayAttr::get(ctx, {k, n}));
        for (linalg::GenericOp g : llvm::make_early_inc_range(users)) {
          SmallVector<AffineMap> maps = g.getIndexingMapsArray();
          maps[1] = packedBMap(g.getNumLoops(), ctx);
          g.setIndexingMapsAttr(
              ArrayAttr::get(ctx, llvm::to_vector(llvm::map_range(
                                      maps, [](AffineMap m) -> Attribute {
                                        return AffineMapAttr::get(m);
                                      }))));
        }
        changed = true;
      }
      if (changed)
        fn.setType(FunctionType::get(ctx, argTypes, fn.getResultTypes()));
    }
  }
};

struct SwaaVectorizeContractionsPass final
    : swaa::impl::SwaaVectorizeContractionsPassBase<SwaaVectorizeContractionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (library) {
      auto module = dyn_cast<ModuleOp>(getOperation());
      if (!module)
        module = getOperation()->getParentOfType<ModuleOp>();
      if (!module) {
        getOperation()->emitError("swaa-vectorize-contractions{library}: "
                                  "needs a module for the kernels' declarations");
        return signalPassFailure();
      }
      SmallVector<Contraction> found;
      getOperation()->walk([&](linalg::GenericOp op) {
        if (auto c = matchContraction(op, /*vectorWidth=*/0, /*allowBF16=*/true))
          found.push_back(*c);
      });
      IRRewriter rewriter(&getContext());
      for (Contraction &c : found) {
        rewriter.setInsertionPoint(c.op);
        rewriter.replaceOp(c.op, buildLibraryCall(rewriter, module, c));
      }
      return;
    }
    if (vectorWidth < 2)
      return;
    SmallVector<Contraction> found;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (auto c = matchContraction(op, vectorWidth, /*allowBF16=*/false))
        found.push_back(*c);
    });
    // Register blocks: 6 rows x 4 vectors with 32 vector registers (24
    // accumulators, 4 vectors of B and a broadcast of A), 4 x 2 with 16.
    int64_t vectors = vectorWidth >= 16 ? 4 : 2;
    int64_t rows = vectorWidth >= 16 ? 6 : 4;
    IRRewriter rewriter(&getContext());
    for (Contraction &c : found) {
      int64_t blockVectors = std::min(vectors, c.n / vectorWidth);
      rewriter.setInsertionPoint(c.op);
      Value result =
          ContractionBuilder(rewriter, c, vectorWidth, rows,
                             blockVectors)
              .build();
      rewriter.replaceOp(c.op, result);
    }
  }
};
} // namespace
