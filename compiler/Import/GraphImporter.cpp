//===- GraphImporter.cpp - ONNX graph -> attn + upstream MLIR ------------===//
//
// Loading, the three import steps (inference, fusion, emission) and the
// public entry points of Importer.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/GraphImporter.h"

#include "compiler/Import/AttentionOps.h"
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

bool mlir::swaa::import::readFileRange(const std::string &path, uint64_t offset,
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

ExternalRef mlir::swaa::import::externalRef(const onnx::TensorProto &t) {
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
  // Only a regular file inside the model's folder, as onnx itself requires:
  // a symbolic link (or a folder reached through one) could make the
  // artifact copy any file the compiling user can read.
  llvm::sys::fs::file_status status;
  llvm::SmallString<256> real, realBase;
  if (llvm::sys::fs::status(path, status, /*follow=*/false) ||
      llvm::sys::fs::is_symlink_file(status) ||
      !llvm::sys::fs::is_regular_file(status) ||
      llvm::sys::fs::real_path(path, real) ||
      llvm::sys::fs::real_path(baseDir.empty() ? "." : baseDir, realBase) ||
      !llvm::StringRef(real).starts_with((realBase + "/").str()))
    return error(loc, "external-data file '" + path.str().str() +
                          "' of initializer '" + t.name() +
                          "' is not a regular file inside the model's folder "
                          "(a symbolic link?); swaa reads external data only "
                          "from regular files beside the model");
  uint64_t length = ref.length.value_or(size - std::min(size, ref.offset));
  if (ref.offset > size || length > size - ref.offset)
    return error(loc, "external data of initializer '" + t.name() +
                          "' (offset " + llvm::Twine(ref.offset) + ", length " +
                          llvm::Twine(length) + ") lies beyond the end of '" +
                          path.str() + "' (" + llvm::Twine(size) + " bytes)");
  return success();
}

bool GraphImporter::rawBytes(const onnx::TensorProto &t, std::string &storage,
                             llvm::StringRef &bytes) {
  FailureOr<TensorInfo> info = tensorProtoInfo(t, modelLoc());
  if (failed(info) || !info->elementType.isIntOrFloat())
    return false;
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  uint64_t length =
      n * std::max(1u, info->elementType.getIntOrFloatBitWidth() / 8);
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    ExternalRef ref = externalRef(t);
    llvm::SmallString<256> path(baseDir);
    llvm::sys::path::append(path, ref.location);
    if (failed(checkExternalData(t, modelLoc())) ||
        !readFileRange(path.str().str(), ref.offset, length, storage))
      return false;
    bytes = storage;
    return true;
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != length)
      return false;
    bytes = t.raw_data();
    return true;
  }
  // Typed fields: float_data for f32, int32_data (16 bits each) for f16/bf16.
  int32_t dt = t.data_type();
  if (dt == onnx::TensorProto::FLOAT && t.float_data_size() == n) {
    storage.assign((const char *)t.float_data().data(), length);
  } else if ((dt == onnx::TensorProto::FLOAT16 ||
              dt == onnx::TensorProto::BFLOAT16) &&
             t.int32_data_size() == n) {
    storage.resize(length);
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h = (uint16_t)t.int32_data((int)i);
      std::memcpy(&storage[i * 2], &h, 2);
    }
  } else {
    return false;
  }
  bytes = storage;
  return true;
}

void GraphImporter::findTransposedCopies(SmallVector<std::string> &weightNames) {
  const onnx::GraphProto &g = model.graph();
  auto matrix = [&](const std::string &name) -> const onnx::TensorProto * {
    const onnx::TensorProto *t = values[name].initializer;
    return t && t->dims_size() == 2 && values[name].info.isFloat() ? t
                                                                    : nullptr;
  };
  // Candidates: 2-D weights that every consumer reads as a MatMul's B.
  SmallVector<std::string> copies;
  for (const std::string &w : weightNames) {
    if (!matrix(w) || isGraphOutput(w) || consumers(w).empty())
      continue;
    bool onlyMatMulB = true;
    for (int node : consumers(w)) {
      const onnx::NodeProto &nd = g.node(node);
      if (nd.op_type() != "MatMul" || !nd.domain().empty() ||
          nd.input_size() != 2 || nd.input(1) != w || nd.input(0) == w)
        onlyMatMulB = false;
    }
    if (onlyMatMulB)
      copies.push_back(w);
  }
  llvm::StringSet<> dropped;
  for (const std::string &w : copies) {
    const onnx::TensorProto *tw = matrix(w);
    int64_t k = tw->dims(0), n = tw->dims(1);
    for (const std::string &e : weightNames) {
      const onnx::TensorProto *te = matrix(e);
      if (e == w || !te || dropped.contains(e) ||
          te->data_type() != tw->data_type() || te->dims(0) != n ||
          te->dims(1) != k)
        continue;
      std::string ws, es;
      llvm::StringRef wb, eb;
      if (!rawBytes(*tw, ws, wb) || !rawBytes(*te, es, eb) ||
          wb.size() != eb.size())
        continue;
      // W[kk, nn] == E[nn, kk], bytewise.
      size_t width = wb.size() / (size_t)(k * n);
      bool same = true;
      for (int64_t nn = 0; nn < n && same; ++nn)
        for (int64_t kk = 0; kk < k; ++kk)
          if (std::memcmp(wb.data() + (kk * n + nn) * width,
                          eb.data() + (nn * k + kk) * width, width) != 0) {
            same = false;
            break;
          }
      if (!same)
        continue;
      values[w].transposeOf = e;
      dropped.insert(w);
      break;
    }
  }
  llvm::erase_if(weightNames,
                 [&](const std::string &w) { return dropped.contains(w); });
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
  std::string name = node.name().empty() ? "" : ", node '" + node.name() + "'";
  std::string hint = node.op_type() == "TopK"
                         ? " (mixture-of-experts routing is not supported)"
                         : "";
  return "unsupported op " + node.op_type() + " (domain " + domain +
         ", opset " + std::to_string(getOpset(node.domain())) + name + ")" +
         hint + "; `swaa-compile --list-ops` prints the supported ops";
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
  findTransposedCopies(weightNames);

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

LogicalResult GraphImporter::inferGraph() {
  return failure(failed(checkModel()) || failed(declareInputs()) ||
                 failed(inferAll()));
}

OwningOpRef<ModuleOp> GraphImporter::emitModule() {
  if (failed(emitAll()) || internalErrors)
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
