//===- Fatbinary.cpp - PTX objects -> one fat binary ----------------------===//

#include "compiler/Targets/CUDA/Fatbinary.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
/// Temporary files removed when it goes out of scope.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const std::string &p : paths)
      llvm::sys::fs::remove(p);
  }
  bool create(llvm::StringRef suffix, std::string &path, std::string &error) {
    llvm::SmallString<128> p;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("swaa-kernels", suffix, p)) {
      error = "cannot create a temporary file: " + ec.message();
      return false;
    }
    path = p.str().str();
    paths.push_back(path);
    return true;
  }
};

bool writeFile(const std::string &path, llvm::StringRef data,
               std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write " + path + ": " + ec.message();
    return false;
  }
  os << data;
  return true;
}

bool run(const std::string &tool, llvm::ArrayRef<std::string> args,
         std::string &error) {
  std::string errFile;
  llvm::SmallString<128> log;
  llvm::sys::fs::createTemporaryFile("swaa-tool", "log", log);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  llvm::SmallVector<llvm::StringRef> argv = {tool};
  for (const std::string &a : args)
    argv.push_back(a);
  std::string execError;
  int rc = llvm::sys::ExecuteAndWait(tool, argv, std::nullopt, redirects, 0, 0,
                                     &execError);
  if (rc != 0) {
    auto text = llvm::MemoryBuffer::getFile(log);
    error = llvm::sys::path::filename(tool).str() + " failed (exit " +
            std::to_string(rc) + ")" +
            (execError.empty() ? "" : ": " + execError) +
            (text ? ": " + (*text)->getBuffer().trim().str() : "");
  }
  llvm::sys::fs::remove(log);
  return rc == 0;
}
} // namespace

bool swaa::packFatbinaries(ModuleOp module, llvm::StringRef toolkit,
                           std::vector<std::string> &archs,
                           std::string &error) {
  llvm::SmallString<128> ptxas(toolkit), fatbinary(toolkit);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  llvm::sys::path::append(fatbinary, "bin", "fatbinary");
  for (llvm::StringRef tool : {ptxas.str(), fatbinary.str()})
    if (!llvm::sys::fs::can_execute(tool)) {
      error = "the CUDA toolkit has no " + tool.str() +
              " (set --cuda-toolkit to the toolkit's root)";
      return false;
    }
  archs.clear();
  bool failedAny = false;
  module.walk([&](gpu::BinaryOp binary) {
    if (failedAny)
      return;
    TempFiles temps;
    std::vector<std::string> images;
    Attribute firstTarget;
    int newest = -1;
    std::string newestPTX;
    for (Attribute a : binary.getObjects()) {
      auto object = cast<gpu::ObjectAttr>(a);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly) {
        error = "gpu.binary @" + binary.getName().str() +
                ": expected PTX objects for NVVM targets";
        failedAny = true;
        return;
      }
      if (!firstTarget)
        firstTarget = target;
      llvm::StringRef digits = target.getChip();
      int sm = 0;
      if (!digits.consume_front("sm_") ||
          digits.take_while(llvm::isDigit).getAsInteger(10, sm)) {
        error = "unexpected GPU architecture " + target.getChip().str();
        failedAny = true;
        return;
      }
      std::string ptx, cubin;
      if (!temps.create("ptx", ptx, error) ||
          !writeFile(ptx, object.getObject().getValue(), error) ||
          !temps.create("cubin", cubin, error) ||
          !run(ptxas.str().str(),
               {"-arch=" + target.getChip().str(), "-O3", ptx, "-o", cubin},
               error)) {
        failedAny = true;
        return;
      }
      images.push_back("--image3=kind=elf,sm=" + std::to_string(sm) +
                       ",file=" + cubin);
      archs.push_back(target.getChip().str());
      if (sm > newest) {
        newest = sm;
        newestPTX = ptx;
      }
    }
    if (images.empty()) {
      error = "gpu.binary @" + binary.getName().str() + " holds no object";
      failedAny = true;
      return;
    }
    images.push_back("--image3=kind=ptx,sm=" + std::to_string(newest) +
                     ",file=" + newestPTX);
    std::string fatbin;
    if (!temps.create("fatbin", fatbin, error)) {
      failedAny = true;
      return;
    }
    std::vector<std::string> args = {"-64", "--create=" + fatbin};
    args.insert(args.end(), images.begin(), images.end());
    if (!run(fatbinary.str().str(), args, error)) {
      failedAny = true;
      return;
    }
    auto data = llvm::MemoryBuffer::getFile(fatbin, /*IsText=*/false);
    if (!data) {
      error = "cannot read " + fatbin;
      failedAny = true;
      return;
    }
    MLIRContext *ctx = module.getContext();
    auto object = gpu::ObjectAttr::get(
        ctx, firstTarget, gpu::CompilationTarget::Fatbin,
        StringAttr::get(ctx, (*data)->getBuffer()), nullptr, nullptr);
    binary.setObjectsAttr(ArrayAttr::get(ctx, {object}));
  });
  return !failedAny;
}
