//===- GraphImporter.cpp - ONNX graph -> attn + upstream MLIR ------------===//
//
// Loading, the three import steps (inference, fusion, emission) and the
// public entry points of Importer.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/GraphImporter.h"

#include "compiler/Import/AttentionFusion.h"
#include "compiler/Import/Ops.h"
#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::swaa;
using namespace mlir::swaa::import;

/// The newest default-domain opset the importer knows the ops of.
static constexpr int64_t kMaxOpset = 25;

GraphImporter::GraphImporter(MLIRContext *context,
                             const onnx::ModelProto &model,
                             llvm::StringRef modelName, llvm::StringRef baseDir,
                             const ImportOptions &options)
    : context(context), model(model), modelName(modelName.str()),
      baseDir(baseDir.str()), options(options), b(context) {
  for (const onnx::OperatorSetIdProto &o : model.opset_import())
    opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  const onnx::GraphProto &g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    for (const std::string &out : g.node(i).output())
      if (!out.empty())
        producers[out] = i;
    for (const std::string &in : g.node(i).input())
      if (!in.empty())
        consumerLists[in].push_back(i);
  }
  for (const onnx::ValueInfoProto &o : g.output())
    outputs.insert(o.name());
}

int64_t GraphImporter::getOpset(llvm::StringRef domain) const {
  auto it = opsets.find(domain == "ai.onnx" ? "" : domain.str());
  return it == opsets.end() ? 1 : it->second;
}

int GraphImporter::producer(llvm::StringRef name) const {
  auto it = producers.find(name);
  return it == producers.end() ? -1 : it->second;
}

llvm::ArrayRef<int> GraphImporter::consumers(llvm::StringRef name) const {
  auto it = consumerLists.find(name);
  if (it == consumerLists.end())
    return {};
  return it->second;
}

bool GraphImporter::isGraphOutput(llvm::StringRef name) const {
  return outputs.contains(name);
}

Location GraphImporter::modelLoc() {
  return FileLineColLoc::get(context, modelName, 0, 0);
}

Location GraphImporter::nodeLoc(const onnx::NodeProto &node) {
  std::string name = node.name();
  if (name.empty())
    name = node.op_type() + (node.output_size() ? " -> " + node.output(0) : "");
  return NameLoc::get(StringAttr::get(context, name), modelLoc());
}

LogicalResult GraphImporter::error(Location loc, const llvm::Twine &message) {
  emitError(loc) << message;
  return failure();
}

Type GraphImporter::elementType(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return Float32Type::get(context);
  case onnx::TensorProto::FLOAT16:
    return Float16Type::get(context);
  case onnx::TensorProto::BFLOAT16:
    return BFloat16Type::get(context);
  case onnx::TensorProto::DOUBLE:
    return Float64Type::get(context);
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT64:
    return IntegerType::get(context, 64);
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return IntegerType::get(context, 32);
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return IntegerType::get(context, 16);
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return IntegerType::get(context, 8);
  case onnx::TensorProto::BOOL:
    return IntegerType::get(context, 1);
  default:
    return {};
  }
}

FailureOr<TensorInfo>
GraphImporter::tensorProtoInfo(const onnx::TensorProto &tensor, Location loc) {
  TensorInfo info;
  info.elementType = elementType(tensor.data_type());
  if (!info.elementType)
    return error(loc, "tensor '" + tensor.name() +
                          "' has unsupported data type " +
                          llvm::Twine(tensor.data_type()));
  int64_t n = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return error(loc,
                   "tensor '" + tensor.name() + "' has a negative dimension");
    if (llvm::MulOverflow(n, d, n))
      return error(loc, "tensor '" + tensor.name() + "' is too large");
    info.shape.push_back(SymExpr(d));
  }
  return info;
}

/// Reads `length` bytes at `offset` of an external-data file.
static bool readFileRange(const std::string &path, uint64_t offset,
                          uint64_t length, std::string &out) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return false;
  out.resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, &out[done], length - done, offset + done);
    if (n <= 0)
      break;
    done += n;
  }
  ::close(fd);
  return done == length;
}

namespace {
struct ExternalRef {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};
ExternalRef externalRef(const onnx::TensorProto &t) {
  ExternalRef r;
  for (const onnx::StringStringEntryProto &e : t.external_data()) {
    if (e.key() == "location")
      r.location = e.value();
    else if (e.key() == "offset")
      r.offset = std::strtoull(e.value().c_str(), nullptr, 10);
    else if (e.key() == "length")
      r.length = std::strtoull(e.value().c_str(), nullptr, 10);
  }
  return r;
}
} // namespace

LogicalResult GraphImporter::checkExternalData(const onnx::TensorProto &t,
                                               Location loc) {
  if (t.data_location() != onnx::TensorProto::EXTERNAL)
    return success();
  ExternalRef ref = externalRef(t);
  if (ref.location.empty() || llvm::sys::path::is_absolute(ref.location) ||
      llvm::StringRef(ref.location).contains(".."))
    return error(loc, "initializer '" + t.name() +
                          "' has an invalid external-data location '" +
                          ref.location + "'");
  llvm::SmallString<256> path(baseDir);
  llvm::sys::path::append(path, ref.location);
  uint64_t size = 0;
  if (llvm::sys::fs::file_size(path, size))
    return error(loc, "missing external-data file '" + path.str().str() +
                          "' for initializer '" + t.name() + "'");
  uint64_t length = ref.length.value_or(size - std::min(size, ref.offset));
  if (ref.offset > size || length > size - ref.offset)
    return error(loc, "external data of initializer '" + t.name() +
                          "' (offset " + llvm::Twine(ref.offset) + ", length " +
                          llvm::Twine(length) + ") lies beyond the end of '" +
                          path.str() + "' (" + llvm::Twine(size) + " bytes)");
  return success();
}

FailureOr<Known> GraphImporter::readTensor(const onnx::TensorProto &t,
                                           Location loc) {
  FailureOr<TensorInfo> info = tensorProtoInfo(t, loc);
  if (failed(info))
    return failure();
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  Known k;
  k.isFloat = info->isFloat();
  const std::string *raw = nullptr;
  std::string external;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    if (failed(checkExternalData(t, loc)))
      return failure();
    ExternalRef ref = externalRef(t);
    llvm::SmallString<256> path(baseDir);
    llvm::sys::path::append(path, ref.location);
    unsigned width =
        std::max(1u, info->elementType.getIntOrFloatBitWidth() / 8);
    if (!readFileRange(path.str().str(), ref.offset, n * width, external))
      return error(loc, "cannot read external data of '" + t.name() + "'");
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }
  int32_t dt = t.data_type();
  auto bad = [&]() {
    return error(loc, "tensor '" + t.name() + "' holds " + llvm::Twine(n) +
                          " elements but its data does not");
  };
  auto pushF = [&](double v) { k.floats.push_back(v); };
  auto pushI = [&](int64_t v) { k.ints.push_back(SymExpr(v)); };
  if (raw) {
    unsigned width =
        dt == onnx::TensorProto::BOOL
            ? 1
            : std::max(1u, info->elementType.getIntOrFloatBitWidth() / 8);
    if ((int64_t)raw->size() != n * (int64_t)width)
      return bad();
    const char *p = raw->data();
    for (int64_t i = 0; i < n; ++i, p += width) {
      switch (dt) {
      case onnx::TensorProto::FLOAT: {
        float v;
        std::memcpy(&v, p, 4);
        pushF(v);
        break;
      }
      case onnx::TensorProto::DOUBLE: {
        double v;
        std::memcpy(&v, p, 8);
        pushF(v);
        break;
      }
      case onnx::TensorProto::FLOAT16: {
        uint16_t h;
        std::memcpy(&h, p, 2);
        pushF(APFloat(APFloat::IEEEhalf(), APInt(16, h)).convertToFloat());
        break;
      }
      case onnx::TensorProto::BFLOAT16: {
        uint16_t h;
        std::memcpy(&h, p, 2);
        pushF(APFloat(APFloat::BFloat(), APInt(16, h)).convertToFloat());
        break;
      }
      case onnx::TensorProto::INT64:
      case onnx::TensorProto::UINT64: {
        int64_t v;
        std::memcpy(&v, p, 8);
        pushI(v);
        break;
      }
      case onnx::TensorProto::INT32: {
        int32_t v;
        std::memcpy(&v, p, 4);
        pushI(v);
        break;
      }
      case onnx::TensorProto::UINT32: {
        uint32_t v;
        std::memcpy(&v, p, 4);
        pushI(v);
        break;
      }
      case onnx::TensorProto::INT16: {
        int16_t v;
        std::memcpy(&v, p, 2);
        pushI(v);
        break;
      }
      case onnx::TensorProto::UINT16: {
        uint16_t v;
        std::memcpy(&v, p, 2);
        pushI(v);
        break;
      }
      case onnx::TensorProto::INT8:
        pushI((int8_t)*p);
        break;
      case onnx::TensorProto::UINT8:
      case onnx::TensorProto::BOOL:
        pushI((uint8_t)*p);
        break;
      default:
        return error(loc, "unsupported data type");
      }
    }
    return k;
  }
  switch (dt) {
  case onnx::TensorProto::FLOAT:
    if (t.float_data_size() != n)
      return bad();
    for (float v : t.float_data())
      pushF(v);
    break;
  case onnx::TensorProto::DOUBLE:
    if (t.double_data_size() != n)
      return bad();
    for (double v : t.double_data())
      pushF(v);
    break;
  case onnx::TensorProto::INT64:
    if (t.int64_data_size() != n)
      return bad();
    for (int64_t v : t.int64_data())
      pushI(v);
    break;
  case onnx::TensorProto::UINT64:
    if (t.uint64_data_size() != n)
      return bad();
    for (uint64_t v : t.uint64_data())
      pushI((int64_t)v);
    break;
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    if (t.int32_data_size() != n)
      return bad();
    for (int32_t v : t.int32_data())
      pushF(APFloat(dt == onnx::TensorProto::FLOAT16 ? APFloat::IEEEhalf()
                                                     : APFloat::BFloat(),
                    APInt(16, (uint16_t)v))
                .convertToFloat());
    break;
  default:
    if (t.int32_data_size() != n)
      return bad();
    for (int32_t v : t.int32_data())
      pushI(v);
  }
  return k;
}

RankedTensorType GraphImporter::tensorType(const TensorInfo &info) {
  SmallVector<int64_t> dims;
  for (const SymExpr &d : info.shape) {
    std::optional<int64_t> c = symbols.resolve(d).getConstant();
    dims.push_back(c ? *c : ShapedType::kDynamic);
  }
  return RankedTensorType::get(dims, info.elementType);
}

Value GraphImporter::symbolValue(unsigned sym) {
  auto it = symbolValues.find(sym);
  if (it != symbolValues.end())
    return it->second;
  // Only derived sizes are made on demand (every free symbol comes from a
  // graph input's dimension); at the function entry, so that they dominate
  // every use.
  const SizeSymbols::Derived *d = symbols.derived(sym);
  if (!d)
    llvm::report_fatal_error("swaa importer: size symbol '" +
                             llvm::Twine(symbols.names()[sym]) +
                             "' has no value");
  OpBuilder::InsertionGuard guard(b);
  b.restoreInsertionPoint(symbolsEnd);
  Value arg = indexValue(d->arg);
  Value v = arith::MinSIOp::create(
      b, modelLoc(), arg, arith::ConstantIndexOp::create(b, modelLoc(), 0));
  symbolsEnd = b.saveInsertionPoint();
  symbolValues[sym] = v;
  return v;
}

Value GraphImporter::indexValue(const SymExpr &size) {
  SymExpr e = symbols.resolve(size);
  Location loc = b.getUnknownLoc();
  Value total;
  for (const auto &[monomial, coeff] : e.terms()) {
    Value term;
    for (unsigned s : monomial) {
      Value sv = symbolValue(s);
      term = term ? (Value)arith::MulIOp::create(b, loc, term, sv) : sv;
    }
    if (!term)
      term = arith::ConstantIndexOp::create(b, loc, coeff);
    else if (coeff != 1)
      term = arith::MulIOp::create(
          b, loc, term, arith::ConstantIndexOp::create(b, loc, coeff));
    total = total ? (Value)arith::AddIOp::create(b, loc, total, term) : term;
  }
  return total ? total : (Value)arith::ConstantIndexOp::create(b, loc, 0);
}

SmallVector<OpFoldResult> GraphImporter::mixedShape(ArrayRef<SymExpr> shape) {
  SmallVector<OpFoldResult> out;
  for (const SymExpr &d : shape) {
    std::optional<int64_t> c = symbols.resolve(d).getConstant();
    if (c)
      out.push_back(b.getIndexAttr(*c));
    else
      out.push_back(indexValue(d));
  }
  return out;
}

Value GraphImporter::reshape(Location loc, Value v, ArrayRef<SymExpr> shape) {
  auto type = cast<RankedTensorType>(v.getType());
  Type elem = type.getElementType();
  RankedTensorType outType = tensorType({elem, SmallVector<SymExpr>(shape)});
  if (outType == type)
    return v;
  auto all = [](int64_t rank) {
    ReassociationIndices group;
    for (int64_t i = 0; i < rank; ++i)
      group.push_back(i);
    return SmallVector<ReassociationIndices>{group};
  };
  if (type.getRank() == 0 || shape.empty()) {
    // One element: read it and rebuild (reshapes to or from rank 0 are not
    // collapse/expand-friendly).
    SmallVector<Value> zeros(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
    Value x = tensor::ExtractOp::create(b, loc, v, zeros);
    SmallVector<Value> elems(outType.getNumElements(), x);
    return tensor::FromElementsOp::create(b, loc, outType, elems);
  }
  // Match runs of source and target dimensions with equal products
  // ([B, S, 64] -> [B, S, 4, 16] is [B] [S] [64 -> 4x16]); collapse each run
  // of the source to one dimension and expand it into the target's run. This
  // keeps dynamic sizes in runs of their own, which later passes need.
  SmallVector<ReassociationIndices> srcGroups, dstGroups;
  {
    auto srcShape = cast<RankedTensorType>(v.getType()).getShape();
    // Symbolic source sizes are not tracked on Values; use the static sizes
    // and require a dynamic size to stand alone on both sides.
    int64_t i = 0, j = 0, n = srcShape.size(), m = shape.size();
    bool ok = true;
    while (ok && (i < n || j < m)) {
      ReassociationIndices sg, dg;
      if (i < n && j < m && ShapedType::isDynamic(srcShape[i])) {
        std::optional<int64_t> d = symbols.resolve(shape[j]).getConstant();
        if (d) {
          ok = false;
          break;
        }
        sg.push_back(i++);
        dg.push_back(j++);
      } else {
        int64_t ps = 1, pd = 1;
        if (i < n) {
          ps = srcShape[i];
          sg.push_back(i++);
        }
        std::optional<int64_t> d =
            j < m ? symbols.resolve(shape[j]).getConstant() : std::nullopt;
        if (!d) {
          ok = false;
          break;
        }
        pd = *d;
        dg.push_back(j++);
        while (ok && ps != pd) {
          if (ps < pd && i < n && !ShapedType::isDynamic(srcShape[i])) {
            ps *= srcShape[i];
            sg.push_back(i++);
          } else if (pd < ps && j < m &&
                     symbols.resolve(shape[j]).getConstant()) {
            pd *= *symbols.resolve(shape[j]).getConstant();
            dg.push_back(j++);
          } else {
            ok = false;
          }
        }
      }
      // Trailing size-1 dimensions join the last run.
      while (ok && i < n && srcShape[i] == 1 && j == m)
        sg.push_back(i++);
      while (ok && j < m &&
             symbols.resolve(shape[j]).getConstant() ==
                 std::optional<int64_t>(1) &&
             i == n)
        dg.push_back(j++);
      srcGroups.push_back(sg);
      dstGroups.push_back(dg);
    }
    if (ok && !srcGroups.empty()) {
      SmallVector<int64_t> mid;
      for (const ReassociationIndices &g : srcGroups) {
        int64_t size = 1;
        for (int64_t d : g)
          size =
              ShapedType::isDynamic(srcShape[d]) || size == ShapedType::kDynamic
                  ? ShapedType::kDynamic
                  : size * srcShape[d];
        mid.push_back(size);
      }
      Value collapsed = v;
      if (mid.size() != srcShape.size())
        collapsed = tensor::CollapseShapeOp::create(
            b, loc, RankedTensorType::get(mid, elem), v, srcGroups);
      if (mid.size() == shape.size())
        return conform(collapsed, {elem, SmallVector<SymExpr>(shape)}, loc);
      return tensor::ExpandShapeOp::create(b, loc, outType, collapsed,
                                           dstGroups, mixedShape(shape));
    }
  }
  // Otherwise ([B*S, 64] -> [B, S, 64]: one dynamic size splits into two),
  // copy element by element through the row-major linear index. (An
  // expand_shape group with two dynamic sizes crashes MLIR 22's
  // expand-strided-metadata.)
  (void)all;
  int64_t srcRank = type.getRank(), dstRank = shape.size();
  SmallVector<Value> srcDims;
  for (int64_t d = 0; d < srcRank; ++d)
    srcDims.push_back(tensor::DimOp::create(b, loc, v, d));
  SmallVector<Value> dstDims;
  for (const SymExpr &d : shape)
    dstDims.push_back(indexValue(d));
  Value init = tensor::EmptyOp::create(b, loc, mixedShape(shape), elem);
  SmallVector<utils::IteratorType> its(dstRank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{}, ValueRange{init},
             ArrayRef<AffineMap>{
                 AffineMap::getMultiDimIdentityMap(dstRank, context)},
             its,
             [&](OpBuilder &nb, Location l, ValueRange) {
               Value linear = arith::ConstantIndexOp::create(nb, l, 0);
               for (int64_t d = 0; d < dstRank; ++d)
                 linear = arith::AddIOp::create(
                     nb, l, arith::MulIOp::create(nb, l, linear, dstDims[d]),
                     linalg::IndexOp::create(nb, l, d));
               SmallVector<Value> coords(srcRank);
               for (int64_t d = srcRank - 1; d >= 0; --d) {
                 coords[d] = arith::RemUIOp::create(nb, l, linear, srcDims[d]);
                 linear = arith::DivUIOp::create(nb, l, linear, srcDims[d]);
               }
               linalg::YieldOp::create(
                   nb, l,
                   tensor::ExtractOp::create(nb, l, v, coords).getResult());
             })
      .getResult(0);
}

Value GraphImporter::conform(Value v, const TensorInfo &info, Location loc) {
  RankedTensorType want = tensorType(info);
  if (v.getType() == want)
    return v;
  return tensor::CastOp::create(b, loc, want, v);
}

Value GraphImporter::materialize(llvm::StringRef name, Location loc) {
  ValueState &s = values[name];
  if (s.value)
    return s.value;
  RankedTensorType type = tensorType(s.info);
  if (!s.known) {
    // An importer bug, reported on the model rather than crashing: the
    // value's producer was not emitted (a node that fusion absorbed, say).
    if (!internalErrors++)
      (void)error(loc, "internal error: '" + name +
                           "' is used but was never computed (its producer "
                           "was not emitted)");
    SmallVector<Value> dynamic;
    for (const SymExpr &d : s.info.shape)
      if (!symbols.resolve(d).isConstant())
        dynamic.push_back(indexValue(d));
    s.value = tensor::EmptyOp::create(b, loc, type, dynamic);
    return s.value;
  }
  const Known &k = *s.known;
  if (k.isFloat) {
    SmallVector<Attribute> attrs;
    for (double v : k.floats)
      attrs.push_back(b.getFloatAttr(s.info.elementType, v));
    s.value =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, attrs));
    return s.value;
  }
  bool allConstant = llvm::all_of(k.ints, [&](const SymExpr &e) {
    return symbols.resolve(e).isConstant();
  });
  if (allConstant) {
    SmallVector<APInt> ints;
    unsigned width = s.info.elementType.getIntOrFloatBitWidth();
    for (const SymExpr &e : k.ints)
      ints.push_back(APInt(width, *symbols.resolve(e).getConstant(),
                           /*isSigned=*/true,
                           /*implicitTrunc=*/true));
    s.value =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, ints));
    return s.value;
  }
  SmallVector<Value> elems;
  for (const SymExpr &e : k.ints)
    elems.push_back(
        arith::IndexCastOp::create(b, loc, s.info.elementType, indexValue(e)));
  s.value = tensor::FromElementsOp::create(b, loc, type, elems);
  return s.value;
}

//===----------------------------------------------------------------------===//
// Step 0: inputs and initializers
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::checkModel() {
  const onnx::GraphProto &g = model.graph();
  if (!model.has_graph() || g.node_size() == 0)
    return error(modelLoc(), "the model has no graph nodes");
  if (model.opset_import_size() == 0)
    return error(modelLoc(), "the model declares no opset");
  int64_t opset = getOpset("");
  if (opset > kMaxOpset)
    return error(modelLoc(),
                 "the model uses default-domain opset " + llvm::Twine(opset) +
                     "; swaa knows opsets up to " + llvm::Twine(kMaxOpset));
  for (const auto &[domain, version] : opsets)
    if (!domain.empty() && domain != "com.microsoft" &&
        domain != "ai.onnx.ml" && domain != "ai.onnx.preview.training")
      return error(modelLoc(), "the model imports unknown opset domain '" +
                                   domain + "' (version " +
                                   llvm::Twine(version) + ")");
  return success();
}

LogicalResult GraphImporter::declareInputs() {
  const onnx::GraphProto &g = model.graph();
  for (const onnx::TensorProto &t : g.initializer()) {
    Location loc = NameLoc::get(StringAttr::get(context, t.name()), modelLoc());
    if (failed(checkExternalData(t, loc)))
      return failure();
    FailureOr<TensorInfo> info = tensorProtoInfo(t, loc);
    if (failed(info))
      return failure();
    ValueState &s = values[t.name()];
    s.info = *info;
    s.inferred = true;
    s.initializer = &t;
    int64_t n = 1;
    for (int64_t d : t.dims())
      n *= d;
    // Integer initializers and small float ones feed shape computations.
    if (n <= options.maxInlineElements ||
        (!info->isFloat() && n <= kMaxKnownElements)) {
      FailureOr<Known> k = readTensor(t, loc);
      if (failed(k))
        return failure();
      s.known = *k;
    }
  }
  unsigned index = 0;
  for (const onnx::ValueInfoProto &in : g.input()) {
    if (values.count(in.name()) && values[in.name()].initializer)
      continue; // an initializer listed as an input (IR < 4)
    Location loc =
        NameLoc::get(StringAttr::get(context, in.name()), modelLoc());
    if (!in.type().has_tensor_type())
      return error(loc, "graph input '" + in.name() + "' is not a tensor");
    const onnx::TypeProto::Tensor &tt = in.type().tensor_type();
    TensorInfo info;
    info.elementType = elementType(tt.elem_type());
    if (!info.elementType)
      return error(loc, "graph input '" + in.name() +
                            "' has unsupported element type " +
                            llvm::Twine(tt.elem_type()));
    if (!tt.has_shape())
      return error(loc, "graph input '" + in.name() + "' has no shape");
    for (int axis = 0; axis < tt.shape().dim_size(); ++axis) {
      const onnx::TensorShapeProto::Dimension &d = tt.shape().dim(axis);
      if (d.has_dim_value()) {
        if (d.dim_value() < 0)
          return error(loc, "graph input '" + in.name() +
                                "' has a negative dimension");
        info.shape.push_back(SymExpr(d.dim_value()));
        continue;
      }
      unsigned sym = d.has_dim_param() && !d.dim_param().empty()
                         ? symbols.getOrCreate(d.dim_param())
                         : symbols.createAnonymous(in.name() + "_dim" +
                                                   std::to_string(axis));
      symbolOrigins.try_emplace(sym, index, axis);
      info.shape.push_back(SymExpr::symbol(sym));
    }
    ValueState &s = values[in.name()];
    s.info = info;
    s.inferred = true;
    s.inputIndex = index++;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Step 1: inference
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::inferAll() {
  const onnx::GraphProto &g = model.graph();
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &node = g.node(i);
    for (const std::string &in : node.input()) {
      if (in.empty())
        continue;
      auto it = values.find(in);
      if (it == values.end() || !it->second.inferred) {
        // Unknown because an earlier node failed (or the value is missing):
        // fail later, only if this node turns out to be needed.
        if (it == values.end() && producer(in) < 0 && !isGraphOutput(in)) {
          failedNodes[i] = "input '" + in +
                           "' is not produced by any node, "
                           "initializer or graph input";
        } else {
          failedNodes[i] = failedNodes.count(producer(in))
                               ? failedNodes[producer(in)]
                               : "input '" + in + "' is unknown";
          failedInputsOnly.insert(i);
        }
        break;
      }
    }
    if (failedNodes.count(i))
      continue;
    const OpHandler *handler = lookupOp(node.domain(), node.op_type());
    if (!handler && !isFusableOp(node)) {
      failedNodes[i] = unsupportedMessage(node);
      continue;
    }
    unsigned present = 0;
    for (int k = 0; k < node.input_size() && k < (int)minInputs(node.op_type());
         ++k)
      present += !node.input(k).empty();
    if (present < minInputs(node.op_type()) || node.output_size() < 1 ||
        node.output(0).empty()) {
      failedNodes[i] = node.op_type() + " node: expected at least " +
                       std::to_string(minInputs(node.op_type())) +
                       " inputs and one output";
      continue;
    }
    // Capture the diagnostic of a failing inference: it only matters if the
    // node is needed after fusion.
    std::string message;
    LogicalResult result = success();
    {
      ScopedDiagnosticHandler capture(context, [&](Diagnostic &d) {
        if (message.empty())
          message = d.str();
        return success();
      });
      NodeContext c(*this, node, i);
      result = handler ? handler->infer(c) : inferFusableOp(*this, c);
    }
    if (failed(result))
      failedNodes[i] = message.empty() ? "inference failed" : message;
  }
  return success();
}

std::string GraphImporter::unsupportedMessage(const onnx::NodeProto &node) {
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  std::string name =
      node.name().empty() ? "" : ", node '" + node.name() + "'";
  std::string hint = node.op_type() == "TopK"
                         ? " (mixture-of-experts routing is not supported)"
                         : "";
  return "unsupported op " + node.op_type() + " (domain " + domain +
         ", opset " + std::to_string(getOpset(node.domain())) + name + ")" +
         hint + "; `swaa-compile --list-ops` prints the supported ops";
}

SmallVector<int> GraphImporter::sliceOf(llvm::StringRef target) {
  llvm::DenseSet<int> nodes;
  llvm::StringSet<> seen;
  SmallVector<std::string> work = {target.str()};
  while (!work.empty()) {
    std::string name = work.pop_back_val();
    if (!seen.insert(name).second)
      continue;
    int p = producer(name);
    if (p < 0 || !nodes.insert(p).second)
      continue;
    for (const std::string &in : model.graph().node(p).input())
      if (!in.empty())
        work.push_back(in);
  }
  SmallVector<int> sorted(nodes.begin(), nodes.end());
  llvm::sort(sorted);
  return sorted;
}

SmallVector<std::string> GraphImporter::inputsOf(llvm::StringRef target) {
  SmallVector<std::string> result;
  llvm::StringSet<> slice;
  for (int i : sliceOf(target))
    for (const std::string &in : model.graph().node(i).input())
      slice.insert(in);
  slice.insert(target);
  for (const onnx::ValueInfoProto &in : model.graph().input())
    if (slice.contains(in.name()) && values[in.name()].inputIndex)
      result.push_back(in.name());
  return result;
}

std::optional<GraphImporter::Evaluated>
GraphImporter::evaluate(llvm::StringRef target, const Scenario &scenario,
                        int64_t maxElements) {
  SmallVector<int> slice = sliceOf(target);
  indexOutOfRange = false;
  llvm::StringMap<ValueState> savedValues = values;
  SizeSymbols savedSymbols = symbols;
  auto restore = [&]() {
    values = std::move(savedValues);
    symbols = std::move(savedSymbols);
  };
  for (const auto &[sym, v] : scenario.symbols)
    if (!symbols.unify(SymExpr::symbol(sym), SymExpr(v))) {
      restore();
      return std::nullopt;
    }
  for (const onnx::ValueInfoProto &in : model.graph().input()) {
    ValueState &s = values[in.name()];
    if (!s.inputIndex)
      continue;
    SmallVector<SymExpr> shape;
    int64_t n = 1;
    for (const SymExpr &d : s.info.shape) {
      std::optional<int64_t> c = symbols.resolve(d).getConstant();
      if (!c) {
        n = -1;
        break;
      }
      shape.push_back(SymExpr(*c));
      n *= *c;
    }
    s.info.shape = shape;
    s.known.reset();
    if (n < 0 || n > maxElements)
      continue;
    Known k;
    k.isFloat = s.info.isFloat();
    auto it = scenario.inputs.find(in.name());
    for (int64_t e = 0; e < n; ++e) {
      if (k.isFloat)
        k.floats.push_back(0.0);
      else
        k.ints.push_back(SymExpr(it != scenario.inputs.end() &&
                                         e < (int64_t)it->second.size()
                                     ? it->second[e]
                                     : 0));
    }
    s.known = std::move(k);
  }
  for (const auto &[name, known] : scenario.overrides)
    values[name].known = known;
  bool ok = true;
  for (int i : slice) {
    const onnx::NodeProto &node = model.graph().node(i);
    if (!scenario.overrides.empty() &&
        llvm::all_of(node.output(), [&](const std::string &out) {
          return scenario.overrides.count(out);
        }))
      continue;
    const OpHandler *handler = lookupOp(node.domain(), node.op_type());
    if (!handler) {
      if (options.trace)
        llvm::errs() << "import-trace: evaluate: no handler for "
                     << node.op_type() << "\n";
      ok = false;
      break;
    }
    std::string message;
    ScopedDiagnosticHandler quiet(context, [&](Diagnostic &d) {
      message = d.str();
      return success();
    });
    NodeContext c(*this, node, i, maxElements);
    if (failed(handler->infer(c))) {
      if (options.trace)
        llvm::errs() << "import-trace: evaluate: node " << i << " "
                     << node.op_type() << " " << node.name() << ": " << message
                     << "\n";
      ok = false;
      break;
    }
  }
  if (ok && !values[target].known && options.trace)
    for (int i : slice) {
      const onnx::NodeProto &node = model.graph().node(i);
      bool insKnown = llvm::all_of(node.input(), [&](const std::string &in) {
        return in.empty() || values[in].known;
      });
      if (insKnown && node.output_size() && !values[node.output(0)].known) {
        llvm::errs() << "import-trace: evaluate: " << node.op_type() << " "
                     << node.name() << " does not fold\n";
        break;
      }
    }
  std::optional<Evaluated> result;
  ValueState &t = values[target];
  if (ok && t.known) {
    Evaluated e;
    e.known = *t.known;
    for (const SymExpr &d : t.info.shape)
      e.shape.push_back(symbols.resolve(d).getConstant().value_or(-1));
    result = std::move(e);
  }
  restore();
  return result;
}

//===----------------------------------------------------------------------===//
// Step 3: emission
//===----------------------------------------------------------------------===//

bool GraphImporter::isWeightSource(llvm::StringRef name) const {
  int p = producer(name);
  // An initializer, or a Constant node's tensor too large to fold (GPT-J's
  // rotary table): readWeights finds both by name.
  return p < 0 || model.graph().node(p).op_type() == "Constant";
}

LogicalResult GraphImporter::emitAll() {
  const onnx::GraphProto &g = model.graph();
  int n = g.node_size();

  // Inputs of a node as emission sees it (fused nodes read q/k/v/mask).
  auto nodeInputs = [&](int i) {
    SmallVector<std::string> ins;
    auto it = fused.find(i);
    if (it != fused.end()) {
      const FusedAttention &f = it->second;
      for (const std::string *s :
           {&f.query, &f.key, &f.value, &f.mask, &f.paddingInput})
        if (!s->empty())
          ins.push_back(*s);
      for (const std::string &s : f.extraInputs)
        ins.push_back(s);
    } else {
      for (const std::string &s : g.node(i).input())
        if (!s.empty())
          ins.push_back(s);
    }
    return ins;
  };

  // Which nodes the graph outputs need.
  std::vector<char> needed(n, 0);
  SmallVector<std::string> work;
  for (const onnx::ValueInfoProto &o : g.output())
    work.push_back(o.name());
  llvm::StringSet<> seen;
  while (!work.empty()) {
    std::string name = work.pop_back_val();
    if (!seen.insert(name).second)
      continue;
    int p = producer(name);
    if (p < 0 || needed[p])
      continue;
    needed[p] = 1;
    for (const std::string &in : nodeInputs(p))
      work.push_back(in);
  }
  for (int i = 0; i < n; ++i)
    if (needed[i] && failedNodes.count(i) && !fused.count(i))
      return error(nodeLoc(g.node(i)), failedNodes[i]);

  // Weights: needed initializers (and large constants) without known
  // contents become arguments, in order of first use.
  SmallVector<std::string> weightNames;
  llvm::StringSet<> weightSet;
  for (int i = 0; i < n; ++i) {
    if (!needed[i])
      continue;
    for (const std::string &in : nodeInputs(i)) {
      ValueState &s = values[in];
      if (s.initializer && !s.known && isWeightSource(in) &&
          weightSet.insert(in).second)
        weightNames.push_back(in);
    }
  }
  for (const onnx::ValueInfoProto &o : g.output()) {
    ValueState &s = values[o.name()];
    if (s.initializer && !s.known && isWeightSource(o.name()) &&
        weightSet.insert(o.name()).second)
      weightNames.push_back(o.name());
  }

  // The function.
  ModuleOp module = ModuleOp::create(modelLoc());
  moduleOp = OwningOpRef<ModuleOp>(module);
  module->setAttr("swaa.source", StringAttr::get(context, modelName));
  SmallVector<Type> argTypes;
  SmallVector<Attribute> argAttrs;
  SmallVector<std::string> argNames;
  for (const onnx::ValueInfoProto &in : g.input()) {
    ValueState &s = values[in.name()];
    if (!s.inputIndex)
      continue;
    argTypes.push_back(tensorType(s.info));
    argNames.push_back(in.name());
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("swaa.input", b.getStringAttr(in.name()))};
    for (const NamedAttribute &a : inputAttrs[in.name()])
      attrs.push_back(a);
    argAttrs.push_back(b.getDictionaryAttr(attrs));
  }
  for (const std::string &w : weightNames) {
    argTypes.push_back(tensorType(values[w].info));
    argNames.push_back(w);
    argAttrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("swaa.weight", b.getStringAttr(w))}));
  }
  SmallVector<Type> resultTypes;
  SmallVector<Attribute> resultAttrs;
  for (const onnx::ValueInfoProto &o : g.output()) {
    if (!values.count(o.name()) || !values[o.name()].inferred)
      return error(modelLoc(),
                   "graph output '" + o.name() + "' is not computed");
    resultTypes.push_back(tensorType(values[o.name()].info));
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("swaa.output", b.getStringAttr(o.name()))};
    for (const NamedAttribute &a : outputAttrs[o.name()])
      attrs.push_back(a);
    resultAttrs.push_back(b.getDictionaryAttr(attrs));
  }
  b.setInsertionPointToEnd(module.getBody());
  func = func::FuncOp::create(b, modelLoc(), options.entryName,
                              b.getFunctionType(argTypes, resultTypes));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (unsigned i = 0; i < argNames.size(); ++i)
    values[argNames[i]].value = entry->getArgument(i);
  // Symbol values: sizes of the inputs that introduced them.
  for (const auto &[sym, origin] : symbolOrigins)
    symbolValues[sym] = tensor::DimOp::create(
        b, modelLoc(), entry->getArgument(origin.first), origin.second);
  // Derived sizes (min(x, 0)) get their values where they are first needed,
  // also at the function entry: after these.
  symbolsEnd = b.saveInsertionPoint();

  for (int i = 0; i < n; ++i) {
    if (!needed[i])
      continue;
    const onnx::NodeProto &node = g.node(i);
    NodeContext c(*this, node, i);
    auto it = fused.find(i);
    if (it != fused.end()) {
      if (failed(emitFusedAttention(*this, c, it->second)))
        return failure();
      continue;
    }
    // Outputs with known contents fold: nothing to emit.
    bool allKnown = true;
    for (const std::string &out : node.output())
      if (!out.empty() && !values[out].known && !values[out].initializer)
        allKnown = false;
    if (allKnown)
      continue;
    const OpHandler *handler = lookupOp(node.domain(), node.op_type());
    LogicalResult result = handler ? handler->emit(c) : emitFusableOp(*this, c);
    if (failed(result))
      return failure();
  }

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &o : g.output())
    results.push_back(materialize(o.name(), modelLoc()));
  func::ReturnOp::create(b, modelLoc(), results);
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  if (failed(checkModel()) || failed(declareInputs()) || failed(inferAll()) ||
      failed(runAttentionFusion(*this)) || failed(emitAll()) || internalErrors)
    return nullptr;
  // Every window found at import is the model's own.
  moduleOp->walk([](attn::AttentionOp op) {
    if (op.getWindowAttr())
      op->setAttr(attn::kNativeWindowAttr, op.getWindowAttr());
  });
  if (failed(verify(*moduleOp))) {
    emitError(modelLoc())
        << "internal error: the imported module does not verify";
    return nullptr;
  }
  return std::move(moduleOp);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

static OwningOpRef<ModuleOp> importParsed(MLIRContext *context,
                                          const onnx::ModelProto &model,
                                          llvm::StringRef name,
                                          llvm::StringRef baseDir,
                                          const ImportOptions &options) {
  context->loadDialect<attn::AttnDialect, arith::ArithDialect,
                       func::FuncDialect, linalg::LinalgDialect,
                       math::MathDialect, tensor::TensorDialect>();
  GraphImporter importer(context, model, name, baseDir, options);
  return importer.run();
}

static bool parseModel(google::protobuf::io::ZeroCopyInputStream &stream,
                       onnx::ModelProto &model) {
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
  return model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

OwningOpRef<ModuleOp> mlir::swaa::importOnnxFile(MLIRContext *context,
                                                 llvm::StringRef path,
                                                 const ImportOptions &options) {
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  int fd = ::open(path.str().c_str(), O_RDONLY);
  if (fd < 0) {
    emitError(loc) << "cannot open the model: " << std::strerror(errno);
    return nullptr;
  }
  onnx::ModelProto model;
  bool ok;
  {
    google::protobuf::io::FileInputStream stream(fd);
    ok = parseModel(stream, model);
  }
  ::close(fd);
  if (!ok) {
    emitError(loc) << "not a valid ONNX model (the protobuf does not parse: "
                      "truncated or corrupt file?)";
    return nullptr;
  }
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  return importParsed(context, model, path, dir, options);
}

OwningOpRef<ModuleOp>
mlir::swaa::importOnnxBuffer(MLIRContext *context, llvm::StringRef bytes,
                             llvm::StringRef name, llvm::StringRef baseDir,
                             const ImportOptions &options) {
  onnx::ModelProto model;
  google::protobuf::io::ArrayInputStream stream(bytes.data(), bytes.size());
  if (!parseModel(stream, model)) {
    emitError(FileLineColLoc::get(context, name, 0, 0))
        << "not a valid ONNX model (the protobuf does not parse: truncated or "
           "corrupt file?)";
    return nullptr;
  }
  return importParsed(context, model, name, baseDir, options);
}

void mlir::swaa::registerImportDialects(DialectRegistry &registry) {
  registry.insert<attn::AttnDialect, arith::ArithDialect, func::FuncDialect,
                  linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
}

//===----------------------------------------------------------------------===//
// Weights for the artifact
//===----------------------------------------------------------------------===//

namespace {
struct DtypeInfo {
  const char *name;
  unsigned width;
};
std::optional<DtypeInfo> safetensorsDtype(int32_t t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return DtypeInfo{"F32", 4};
  case onnx::TensorProto::FLOAT16:
    return DtypeInfo{"F16", 2};
  case onnx::TensorProto::BFLOAT16:
    return DtypeInfo{"BF16", 2};
  case onnx::TensorProto::DOUBLE:
    return DtypeInfo{"F64", 8};
  case onnx::TensorProto::INT64:
    return DtypeInfo{"I64", 8};
  case onnx::TensorProto::INT32:
    return DtypeInfo{"I32", 4};
  case onnx::TensorProto::INT8:
    return DtypeInfo{"I8", 1};
  case onnx::TensorProto::UINT8:
    return DtypeInfo{"U8", 1};
  case onnx::TensorProto::BOOL:
    return DtypeInfo{"BOOL", 1};
  default:
    return std::nullopt;
  }
}

/// Parses the model at `path` and indexes its initializers.
bool loadForWeights(llvm::StringRef path, onnx::ModelProto &model,
                    std::map<std::string, const onnx::TensorProto *> &byName,
                    std::string &error) {
  int fd = ::open(path.str().c_str(), O_RDONLY);
  if (fd < 0) {
    error = path.str() + ": cannot open the model: " + std::strerror(errno);
    return false;
  }
  bool ok;
  {
    google::protobuf::io::FileInputStream stream(fd);
    ok = parseModel(stream, model);
  }
  ::close(fd);
  if (!ok) {
    error = path.str() + ": not a valid ONNX model";
    return false;
  }
  for (const onnx::TensorProto &t : model.graph().initializer())
    byName[t.name()] = &t;
  // Constant nodes' tensors that the importer made weights (too large to
  // fold), by their output's name.
  for (const onnx::NodeProto &n : model.graph().node())
    if (n.op_type() == "Constant" && n.output_size() == 1 &&
        n.attribute_size() == 1 && n.attribute(0).name() == "value" &&
        !byName.count(n.output(0)))
      byName[n.output(0)] = &n.attribute(0).t();
  return true;
}

bool describe(const onnx::TensorProto &t, WeightData &w, std::string &error) {
  std::optional<DtypeInfo> dt = safetensorsDtype(t.data_type());
  if (!dt) {
    error = "initializer '" + t.name() + "' has ONNX data type " +
            std::to_string(t.data_type()) + ", which swaa cannot store";
    return false;
  }
  w.name = t.name();
  w.dtype = dt->name;
  w.shape.assign(t.dims().begin(), t.dims().end());
  return true;
}
} // namespace

bool mlir::swaa::readWeights(
    llvm::StringRef path, llvm::ArrayRef<std::string> names,
    llvm::function_ref<bool(llvm::ArrayRef<WeightData>)> described,
    llvm::function_ref<bool(const WeightData &)> sink, std::string &error) {
  onnx::ModelProto model;
  std::map<std::string, const onnx::TensorProto *> byName;
  if (!loadForWeights(path, model, byName, error))
    return false;
  // Every weight's name, dtype and shape first (a safetensors header needs
  // them all), then the data, one weight at a time.
  llvm::SmallVector<const onnx::TensorProto *> tensors;
  llvm::SmallVector<WeightData> descriptions;
  for (const std::string &name : names) {
    auto it = byName.find(name);
    if (it == byName.end()) {
      error = path.str() + ": no initializer '" + name + "'";
      return false;
    }
    tensors.push_back(it->second);
    if (!describe(*it->second, descriptions.emplace_back(), error))
      return false;
    descriptions.back().name = name; // a Constant node's tensor has none
  }
  if (!described(descriptions))
    return false;
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  for (size_t i = 0; i < tensors.size(); ++i) {
    // One weight's bytes at a time: memory stays near the largest weight.
    const onnx::TensorProto &t = *tensors[i];
    WeightData w = descriptions[i];
    const std::string &name = w.name;
    uint64_t n = 1;
    for (int64_t d : w.shape)
      n *= (uint64_t)d;
    unsigned width = safetensorsDtype(t.data_type())->width;
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      ExternalRef ref = externalRef(t);
      llvm::SmallString<256> file(dir);
      llvm::sys::path::append(file, ref.location);
      if (ref.location.empty() || llvm::sys::path::is_absolute(ref.location) ||
          llvm::StringRef(ref.location).contains("..") ||
          !readFileRange(file.str().str(), ref.offset, n * width, w.bytes)) {
        error = "cannot read the external data of initializer '" + name +
                "' from '" + file.str().str() + "'";
        return false;
      }
    } else if (t.has_raw_data()) {
      w.bytes = t.raw_data();
    } else {
      // Typed fields: floats, int32 (which also carries f16/bf16/bool/int8
      // bit patterns), int64, doubles.
      auto append = [&](const void *p, size_t size) {
        w.bytes.append(static_cast<const char *>(p), size);
      };
      switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        for (float v : t.float_data())
          append(&v, 4);
        break;
      case onnx::TensorProto::DOUBLE:
        for (double v : t.double_data())
          append(&v, 8);
        break;
      case onnx::TensorProto::INT64:
        for (int64_t v : t.int64_data())
          append(&v, 8);
        break;
      default:
        for (int32_t v : t.int32_data())
          append(&v, width);
        break;
      }
    }
    if (w.bytes.size() != n * width) {
      error = "initializer '" + name + "' holds " +
              std::to_string(w.bytes.size()) + " bytes of data for " +
              std::to_string(n) + " elements";
      return false;
    }
    if (!sink(w))
      return false;
  }
  return true;
}
