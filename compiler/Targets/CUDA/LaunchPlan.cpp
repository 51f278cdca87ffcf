//===- LaunchPlan.cpp - what the CUDA host code launches ------------------===//

#include "compiler/Targets/CUDA/LaunchPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

static llvm::json::Value size(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c)))
    return c.getSExtValue();
  return nullptr;
}

static llvm::json::Array dims(gpu::KernelDim3 d) {
  return llvm::json::Array{size(d.x), size(d.y), size(d.z)};
}

llvm::json::Object swaa::describeLaunchPlan(ModuleOp module) {
  llvm::json::Object plan;
  for (auto fn : module.getOps<func::FuncOp>()) {
    auto entry = fn->getAttrOfType<StringAttr>("swaa.entry");
    if (!entry)
      continue;
    llvm::json::Array launches;
    fn.walk([&](gpu::LaunchFuncOp launch) {
      int64_t shared = 0;
      if (auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
              launch, launch.getKernel()))
        for (BlockArgument a : kernel.getWorkgroupAttributions())
          if (auto type = dyn_cast<MemRefType>(a.getType());
              type && type.hasStaticShape())
            shared += type.getNumElements() *
                      ((type.getElementTypeBitWidth() + 7) / 8);
      llvm::json::Object l{
          {"kernel", launch.getKernelName().str()},
          {"grid", dims(launch.getGridSizeOperandValues())},
          {"block", dims(launch.getBlockSizeOperandValues())},
          {"shared_memory", shared},
          {"arguments", (int64_t)launch.getNumKernelOperands()}};
      launches.push_back(std::move(l));
    });
    plan[entry.getValue()] = std::move(launches);
  }
  return plan;
}
