//===- Importer.cpp - the importer's entry points -----------------------===//
//
// See Importer.h. Parses the ONNX protobuf (with its external data) and runs
// the three steps of GraphImporter.h: inference over the graph, attention
// fusion on top of it, emission. Also reads the weights for the artifact
// writer, straight from the model file.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/AttentionFusion.h"
#include "compiler/Import/GraphImporter.h"
#include "dialects/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

using namespace mlir;
using namespace mlir::swaa;
using namespace mlir::swaa::import;

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
  // Step 1 (inference), step 2 (fusion, on top of the graph walk and the op
  // table), step 3 (emission): see GraphImporter.h.
  GraphImporter importer(context, model, name, baseDir, options);
  if (failed(importer.inferGraph()) || failed(runAttentionFusion(importer)))
    return nullptr;
  return importer.emitModule();
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
