//===- SharedObject.cpp - the CPU back end's code: a shared object --------===//
//
// In process: MLIR LLVM dialect -> LLVM IR -> packed wrappers -> O3 -> object.
// Out of process: the system C compiler links the object into a shared
// library (it knows the platform's startup files and libc).
//
//===----------------------------------------------------------------------===//

#include "compiler/Targets/CPU/SharedObject.h"

#include "compiler/Artifact/Destination.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/ValueMapper.h"

#include <algorithm>
#include <thread>

using namespace mlir;

namespace {
/// `void swaa_<name>(ptr args, ptr results)` calling `_mlir_ciface_<name>`.
bool addPackedWrapper(llvm::Module &m, StringRef name, bool hasResults,
                      std::string &error) {
  llvm::Function *callee = m.getFunction(("_mlir_ciface_" + name).str());
  if (!callee) {
    error = "no C interface for @" + name.str() + " in the lowered module";
    return false;
  }
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                       {ptrTy, ptrTy}, false);
  auto *wrapper = llvm::Function::Create(
      fnTy, llvm::GlobalValue::ExternalLinkage, ("swaa_" + name).str(), m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Value *args = wrapper->getArg(0);
  SmallVector<llvm::Value *> callArgs;
  unsigned first = 0;
  if (hasResults) {
    callArgs.push_back(wrapper->getArg(1));
    first = 1;
  }
  for (unsigned i = first; i < callee->arg_size(); ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, args, i - first);
    llvm::Value *p = b.CreateLoad(ptrTy, slot);
    llvm::Type *t = callee->getArg(i)->getType();
    callArgs.push_back(t->isPointerTy() ? p : b.CreateLoad(t, p));
  }
  b.CreateCall(callee, callArgs);
  b.CreateRetVoid();
  return true;
}
/// The profile hooks that the compiled code calls (`swaa_profile_begin/end`,
/// declared by the swaa-profile-ops pass) get bodies here that call through
/// function pointers the runtime sets after loading (`<name>_hook`), so the
/// shared object needs no symbol from the process that loads it.
void defineProfileHooks(llvm::Module &m) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  for (const char *name : {"swaa_profile_begin", "swaa_profile_end"}) {
    llvm::Function *f = m.getFunction(name);
    if (!f || !f->isDeclaration())
      continue;
    auto *hook = new llvm::GlobalVariable(
        m, ptrTy, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantPointerNull::get(ptrTy), std::string(name) + "_hook");
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
    llvm::Value *fn = b.CreateLoad(ptrTy, hook);
    auto *call = llvm::BasicBlock::Create(ctx, "call", f);
    auto *done = llvm::BasicBlock::Create(ctx, "done", f);
    b.CreateCondBr(b.CreateIsNull(fn), done, call);
    b.SetInsertPoint(call);
    b.CreateCall(f->getFunctionType(), fn, {f->getArg(0)});
    b.CreateBr(done);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
  }
}

/// With generic allocation functions (the swaa-cpu pipeline), the compiled
/// code allocates through `_mlir_memref_to_llvm_alloc`, `..._aligned_alloc`
/// and `..._free`. They get bodies here that call the runtime's allocator
/// through `swaa_alloc_hook(size, alignment)` and `swaa_free_hook(ptr)`, set
/// after loading (the runtime keeps large blocks for the next call instead
/// of returning them to the system and faulting in fresh pages); with no
/// hook set they are malloc, aligned_alloc and free.
/// `swaa_signature` (the text, NUL-terminated) and `swaa_signature_size`.
void defineSignature(llvm::Module &m, llvm::StringRef signature) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Constant *text =
      llvm::ConstantDataArray::getString(ctx, signature, /*AddNull=*/true);
  new llvm::GlobalVariable(m, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           "swaa_signature");
  new llvm::GlobalVariable(
      m, llvm::Type::getInt64Ty(ctx), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx), signature.size()),
      "swaa_signature_size");
}

void defineAllocationHooks(llvm::Module &m) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  auto hook = [&](const char *name) {
    return new llvm::GlobalVariable(
        m, ptrTy, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantPointerNull::get(ptrTy), name);
  };
  llvm::GlobalVariable *allocHook = nullptr, *freeHook = nullptr;
  // Body of f: call through *hook when set, else `fallback`.
  auto define = [&](llvm::Function *f, llvm::GlobalVariable *ptr,
                    llvm::FunctionType *hookType,
                    llvm::ArrayRef<llvm::Value *> hookArgs,
                    llvm::FunctionCallee fallback,
                    llvm::ArrayRef<llvm::Value *> fallbackArgs) {
    f->setLinkage(llvm::GlobalValue::InternalLinkage);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
    llvm::Value *fn = b.CreateLoad(ptrTy, ptr);
    auto *call = llvm::BasicBlock::Create(ctx, "hook", f);
    auto *other = llvm::BasicBlock::Create(ctx, "fallback", f);
    b.CreateCondBr(b.CreateIsNull(fn), other, call);
    b.SetInsertPoint(call);
    llvm::Value *r = b.CreateCall(hookType, fn, hookArgs);
    if (f->getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(r);
    b.SetInsertPoint(other);
    llvm::Value *r2 = b.CreateCall(fallback, fallbackArgs);
    if (f->getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(r2);
  };
  auto *allocType = llvm::FunctionType::get(ptrTy, {i64, i64}, false);
  if (llvm::Function *f = m.getFunction("_mlir_memref_to_llvm_alloc");
      f && f->isDeclaration()) {
    allocHook = allocHook ? allocHook : hook("swaa_alloc_hook");
    define(f, allocHook, allocType,
           {f->getArg(0), llvm::ConstantInt::get(i64, 64)},
           m.getOrInsertFunction("malloc", ptrTy, i64), {f->getArg(0)});
  }
  if (llvm::Function *f = m.getFunction("_mlir_memref_to_llvm_aligned_alloc");
      f && f->isDeclaration()) {
    allocHook = allocHook ? allocHook : hook("swaa_alloc_hook");
    define(f, allocHook, allocType, {f->getArg(1), f->getArg(0)},
           m.getOrInsertFunction("aligned_alloc", ptrTy, i64, i64),
           {f->getArg(0), f->getArg(1)});
  }
  if (llvm::Function *f = m.getFunction("_mlir_memref_to_llvm_free");
      f && f->isDeclaration()) {
    freeHook = hook("swaa_free_hook");
    define(f, freeHook, llvm::FunctionType::get(voidTy, {ptrTy}, false),
           {f->getArg(0)}, m.getOrInsertFunction("free", voidTy, ptrTy),
           {f->getArg(0)});
  }
}

/// Optimizes `m` at -O3 for `cpu`/`features` and writes it to `object`
/// (and, when `irPath` is set, the optimized IR there). `dropDeadLocals`
/// first removes local functions and constants nothing uses (a part of a
/// split module holds every local: see splitForCodegen).
bool compileToObject(llvm::Module &m, const std::string &cpu,
                     const std::string &features, bool dropDeadLocals,
                     const std::string &object, std::string &error,
                     const std::string &irPath = "") {
  if (dropDeadLocals) {
    for (bool changed = true; changed;) {
      changed = false;
      for (llvm::Function &f : llvm::make_early_inc_range(m)) {
        f.removeDeadConstantUsers();
        if (f.hasLocalLinkage() && f.use_empty()) {
          f.eraseFromParent();
          changed = true;
        }
      }
      for (llvm::GlobalVariable &g : llvm::make_early_inc_range(m.globals())) {
        g.removeDeadConstantUsers();
        if (g.hasLocalLinkage() && g.use_empty()) {
          g.eraseFromParent();
          changed = true;
        }
      }
    }
  }
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string targetError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, targetError);
  if (!target) {
    error = "no LLVM target for " + triple.str() + ": " + targetError;
    return false;
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for " + triple.str();
    return false;
  }
  m.setDataLayout(machine->createDataLayout());
  m.setTargetTriple(triple);
  auto optimize = makeOptimizingTransformer(3, 0, machine.get());
  if (llvm::Error e = optimize(&m)) {
    error = "LLVM optimization failed: " + llvm::toString(std::move(e));
    return false;
  }
  if (!irPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream ir(irPath, ec);
    if (ec) {
      error = "cannot write " + irPath + ": " + ec.message();
      return false;
    }
    m.print(ir, nullptr);
    if (std::string why = swaa::closeOutput(ir); !why.empty()) {
      error = "cannot write " + irPath + ": " + why;
      return false;
    }
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(object, ec);
  if (ec) {
    error = "cannot write " + object + ": " + ec.message();
    return false;
  }
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return false;
  }
  pm.run(m);
  if (std::string why = swaa::closeOutput(os); !why.empty()) {
    error = "cannot write " + object + ": " + why;
    return false;
  }
  return true;
}

/// Splits `m` into at most `jobs` parts (bitcode) that compile on threads
/// of their own and link back together; none (an empty list) when it has
/// fewer than two externally visible functions or anything a split would
/// have to merge (constructors, aliases, comdats).
///
/// The parts partition the externally visible functions, balanced by size
/// (a function's instructions and those of the local functions it reaches,
/// largest first into the lightest part). Every local function and local
/// constant (and linkonce definition) is copied into every part, so calls to
/// them stay calls to local functions that -O3 inlines (compileToObject drops
/// the unused copies);
/// local variables, which are state that must exist once, become hidden
/// globals of the first part, as do the external variables.
std::vector<std::string> splitForCodegen(llvm::Module &m, unsigned jobs) {
  for (llvm::GlobalVariable &g : m.globals())
    if (g.hasAppendingLinkage())
      return {};
  if (!m.alias_empty() || !m.ifunc_empty() || !m.getComdatSymbolTable().empty())
    return {};
  // Copied into every part: locals, and definitions a part may drop when
  // it does not use them itself (linkonce, available_externally: weak in
  // the object files, so the linker keeps one of the copies).
  auto everywhere = [](const llvm::GlobalValue *gv) {
    return gv->hasLocalLinkage() || gv->isDiscardableIfUnused();
  };
  std::vector<llvm::Function *> roots;
  for (llvm::Function &f : m)
    if (!f.isDeclaration() && !everywhere(&f))
      roots.push_back(&f);
  unsigned numParts = std::min<size_t>(jobs, roots.size());
  if (numParts < 2)
    return {};

  // Cost of a root: its instructions and those of the locals it reaches.
  auto costOf = [&](llvm::Function *root) {
    size_t cost = 0;
    llvm::SmallPtrSet<llvm::Function *, 16> seen{root};
    llvm::SmallVector<llvm::Function *> work{root};
    while (!work.empty()) {
      llvm::Function *f = work.pop_back_val();
      for (llvm::BasicBlock &bb : *f)
        for (llvm::Instruction &inst : bb) {
          ++cost;
          for (llvm::Value *operand : inst.operands())
            if (auto *callee = llvm::dyn_cast<llvm::Function>(operand))
              if (everywhere(callee) && !callee->isDeclaration() &&
                  seen.insert(callee).second)
                work.push_back(callee);
        }
    }
    return cost;
  };
  std::vector<std::pair<size_t, llvm::Function *>> bySize;
  for (llvm::Function *root : roots)
    bySize.push_back({costOf(root), root});
  llvm::stable_sort(
      bySize, [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<size_t> load(numParts, 0);
  llvm::DenseMap<const llvm::GlobalValue *, unsigned> partOf;
  for (auto &[cost, root] : bySize) {
    unsigned lightest =
        std::min_element(load.begin(), load.end()) - load.begin();
    load[lightest] += cost;
    partOf[root] = lightest;
  }
  for (llvm::GlobalVariable &g : m.globals())
    if (g.hasLocalLinkage() && !g.isConstant()) {
      g.setLinkage(llvm::GlobalValue::ExternalLinkage);
      g.setVisibility(llvm::GlobalValue::HiddenVisibility);
      if (!g.hasName())
        g.setName("swaa.state");
    }

  std::vector<std::string> parts;
  for (unsigned i = 0; i < numParts; ++i) {
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> part =
        llvm::CloneModule(m, map, [&](const llvm::GlobalValue *gv) {
          if (everywhere(gv))
            return true;
          auto it = partOf.find(gv);
          return it == partOf.end() ? i == 0 : it->second == i;
        });
    std::string bitcode;
    llvm::raw_string_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*part, os);
    os.flush();
    parts.push_back(std::move(bitcode));
  }
  return parts;
}

/// The CUDA back end's host code (gpu-to-llvm and the gpu.binary's
/// translation) calls the mgpu* functions of MLIR's GPU runtime ABI and loads
/// its kernels in global constructors. The shared object must load on a
/// machine without a driver, and take its GPU functions from the runtime
/// that loads it (not from a library it links), so:
/// - the constructors and destructors become `swaa_gpu_load()` and
///   `swaa_gpu_unload()`, which the runtime calls once it has a device;
/// - each mgpu* function calls through a pointer `swaa_gpu_<name>` that the
///   runtime sets, and `swaa_gpu_imports` lists their names (a null-ended
///   array of C strings) so that the runtime can refuse code that needs one
///   it does not provide.
void bindGPURuntime(llvm::Module &m) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *voidFn = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), false);
  for (auto [array, name] : {std::pair<const char *, const char *>{
                                 "llvm.global_ctors", "swaa_gpu_load"},
                             {"llvm.global_dtors", "swaa_gpu_unload"}}) {
    auto *fn = llvm::Function::Create(
        voidFn, llvm::GlobalValue::ExternalLinkage, name, m);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
    if (llvm::GlobalVariable *gv = m.getNamedGlobal(array)) {
      SmallVector<std::pair<uint64_t, llvm::Function *>> calls;
      if (auto *init = dyn_cast<llvm::ConstantArray>(gv->getInitializer()))
        for (llvm::Use &u : init->operands()) {
          auto *entry = cast<llvm::ConstantStruct>(u.get());
          auto *priority = cast<llvm::ConstantInt>(entry->getOperand(0));
          if (auto *f = dyn_cast<llvm::Function>(entry->getOperand(1)))
            calls.push_back({priority->getZExtValue(), f});
        }
      llvm::stable_sort(calls,
                        [](auto &x, auto &y) { return x.first < y.first; });
      gv->eraseFromParent();
      for (auto &[priority, f] : calls)
        b.CreateCall(f);
    }
    b.CreateRetVoid();
  }
  SmallVector<llvm::Constant *> names;
  for (llvm::Function &f : m.functions()) {
    if (!f.isDeclaration() || !f.getName().starts_with("mgpu"))
      continue;
    std::string name = f.getName().str();
    auto *slot = new llvm::GlobalVariable(
        m, ptrTy, /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
        llvm::ConstantPointerNull::get(ptrTy), "swaa_gpu_" + name);
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", &f));
    SmallVector<llvm::Value *> args;
    for (llvm::Argument &a : f.args())
      args.push_back(&a);
    llvm::Value *callee = b.CreateLoad(ptrTy, slot);
    llvm::CallInst *call = b.CreateCall(f.getFunctionType(), callee, args);
    if (f.getReturnType()->isVoidTy())
      b.CreateRetVoid();
    else
      b.CreateRet(call);
    names.push_back(b.CreateGlobalString(name, "swaa_gpu_import_" + name));
  }
  names.push_back(llvm::ConstantPointerNull::get(ptrTy));
  auto *arrayTy = llvm::ArrayType::get(ptrTy, names.size());
  new llvm::GlobalVariable(
      m, arrayTy, /*isConstant=*/true, llvm::GlobalValue::ExternalLinkage,
      llvm::ConstantArray::get(arrayTy, names), "swaa_gpu_imports");
}
} // namespace

bool swaa::emitSharedObject(ModuleOp module, ArrayRef<std::string> entries,
                            StringRef path, const SharedObjectOptions &options,
                            std::string &error) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  if (options.gpuRuntime) {
    registerGPUDialectTranslation(registry);
    gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  }
  module->getContext()->appendDialectRegistry(registry);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  // A phase's timer (a no-op scope when nothing times this call).
  auto phase = [&](StringRef name) {
    return options.timing ? options.timing->nest(name) : TimingScope();
  };
  TimingScope translateTimer = phase("translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "swaa_model");
  if (!llvmModule) {
    error = "cannot translate the lowered module to LLVM IR";
    return false;
  }
  defineProfileHooks(*llvmModule);
  defineAllocationHooks(*llvmModule);
  defineSignature(*llvmModule, options.signature);
  if (options.gpuRuntime)
    bindGPURuntime(*llvmModule);
  for (const std::string &name : entries) {
    auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
    if (!fn)
      continue;
    bool hasResults =
        !isa<LLVM::LLVMVoidType>(fn.getFunctionType().getReturnType());
    if (!addPackedWrapper(*llvmModule, name, hasResults, error))
      return false;
  }

  std::string cpu = options.hostCPU ? llvm::sys::getHostCPUName().str()
                                    : std::string("x86-64-v2");
  std::string features;
  if (options.hostCPU) {
    llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
    for (auto &f : hostFeatures)
      features += (features.empty() ? "" : ",") +
                  std::string(f.second ? "+" : "-") + f.first().str();
  }
  translateTimer.stop();

  // The object files beside the output (inside the artifact's temporary
  // directory), removed on every path out of here and on an interrupt.
  std::vector<std::string> objects;
  auto dropObjects = [&] {
    for (const std::string &object : objects) {
      llvm::sys::fs::remove(object);
      llvm::sys::DontRemoveFileOnSignal(object);
    }
  };
  auto objectPath = [&](unsigned part) {
    std::string object =
        (path + (part ? "." + std::to_string(part) : std::string()) + ".o")
            .str();
    llvm::sys::RemoveFileOnSignal(object);
    objects.push_back(object);
    return object;
  };

  // The module is optimized and compiled in parts on several threads when
  // it has enough functions (the IR kept for --keep-ir is one module, so
  // that build compiles it whole).
  unsigned jobs = options.keepIR ? 1 : std::max(1u, options.jobs);
  std::vector<std::string> parts;
  if (jobs > 1)
    parts = splitForCodegen(*llvmModule, jobs);
  if (parts.size() > 1) {
    TimingScope codegenTimer =
        phase("LLVM -O3 and code generation (" + std::to_string(parts.size()) +
              " parts in parallel)");
    std::vector<std::string> paths, errors(parts.size());
    for (unsigned i = 0; i < parts.size(); ++i)
      paths.push_back(objectPath(i));
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < parts.size(); ++i)
      threads.emplace_back([&, i] {
        llvm::LLVMContext partContext;
        llvm::Expected<std::unique_ptr<llvm::Module>> part =
            llvm::parseBitcodeFile(
                llvm::MemoryBufferRef(parts[i], "swaa_model_part"),
                partContext);
        if (!part) {
          errors[i] =
              "cannot read part " + std::to_string(i) +
              " of the LLVM module: " + llvm::toString(part.takeError());
          return;
        }
        compileToObject(**part, cpu, features, /*globalDCE=*/true, paths[i],
                        errors[i]);
      });
    for (std::thread &t : threads)
      t.join();
    for (const std::string &e : errors)
      if (!e.empty()) {
        error = e;
        dropObjects();
        return false;
      }
  } else {
    TimingScope codegenTimer = phase("LLVM -O3 and code generation");
    std::string object = objectPath(0);
    std::string irPath = options.keepIR ? (path + ".ll").str() : "";
    if (!compileToObject(*llvmModule, cpu, features, /*globalDCE=*/false,
                         object, error, irPath)) {
      dropObjects();
      return false;
    }
  }

  // Link with the system compiler driver.
  TimingScope linkTimer = phase("link (cc -shared)");
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    cc = llvm::sys::findProgramByName("c++");
  if (!cc) {
    dropObjects();
    error = "no C compiler (cc) on PATH to link the shared object";
    return false;
  }
  std::string out = path.str();
  SmallVector<std::string> argv = {*cc, "-shared", "-o", out};
  argv.append(objects.begin(), objects.end());
  if (!options.kernelsLibrary.empty()) {
    if (!llvm::sys::fs::exists(options.kernelsLibrary)) {
      dropObjects();
      error = "the CPU kernel library " + options.kernelsLibrary +
              " is missing (rebuild swaa: it is built with swaa-compile)";
      return false;
    }
    argv.push_back(options.kernelsLibrary);
  }
  if (options.openmp) {
    argv.push_back("-L" + options.openmpLibDir);
    argv.push_back("-Wl,-rpath," + options.openmpLibDir);
    argv.push_back("-lomp");
  }
  argv.push_back("-lm");
  SmallVector<StringRef> argvRefs(argv.begin(), argv.end());
  // The linker's messages go to a log beside the output: a failure is one
  // line that quotes them, not the linker's own lines on the terminal.
  std::string log = (path + ".log").str();
  llvm::sys::RemoveFileOnSignal(log);
  std::optional<StringRef> redirects[] = {std::nullopt, std::nullopt,
                                          StringRef(log)};
  std::string linkError;
  int rc = llvm::sys::ExecuteAndWait(*cc, argvRefs, std::nullopt, redirects, 0,
                                     0, &linkError);
  dropObjects();
  std::string messages;
  if (rc != 0) {
    if (auto text = llvm::MemoryBuffer::getFile(log)) {
      SmallVector<StringRef> lines;
      (*text)->getBuffer().split(lines, '\n', -1, /*KeepEmpty=*/false);
      for (StringRef line : llvm::ArrayRef(lines).take_front(3))
        messages += (messages.empty() ? "" : "; ") + line.trim().str();
    }
  }
  llvm::sys::fs::remove(log);
  llvm::sys::DontRemoveFileOnSignal(log);
  if (rc != 0) {
    error = "linking " + out + " with " + *cc + " failed" +
            (linkError.empty() ? "" : ": " + linkError) +
            (messages.empty() ? "" : ": " + messages);
    return false;
  }
  return true;
}

int64_t swaa::cpuVectorWidth(bool hostCPU) {
  if (!hostCPU)
    return 4;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return features.lookup(name); };
  if (has("avx512f"))
    return 16;
  if (has("avx2") || has("avx"))
    return 8;
  return 4;
}
