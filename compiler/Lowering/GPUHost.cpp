//===- GPUHost.cpp - the CUDA back end's host side ------------------------===//
//
// Two passes that turn the bufferized entry points into host code that only
// launches kernels and manages device memory:
//
// swaa-parallel-loops-to-gpu: every outermost scf.parallel becomes one
// gpu.launch over its whole iteration space, flattened to one dimension
// (`threads` threads per block, the loop's innermost dimension fastest, so
// neighbouring threads touch neighbouring elements), and every store left
// on the host (a scalar written into a buffer) a one-thread kernel.
//
// swaa-gpu-free-buffers: each buffer that the host allocates is freed after
// its last use in its block (upstream's ownership-based deallocation adds
// ownership arguments to gpu.launch regions, which the launch rejects).
//
// swaa-gpu-merge-modules: the kernels that outlining put in one gpu.module
// each go into one module (one PTX, one ptxas run per architecture, one
// module load at run time).
//
// swaa-gpu-host-memory: on the host, buffers become device buffers
// (memref.alloc/dealloc -> gpu.alloc/dealloc, constants copied from their
// host globals with gpu.memcpy, memref.copy -> gpu.memcpy); any other host
// access to buffer contents is an error that names the op, since it would
// read device memory on the CPU.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::swaa;

namespace mlir::swaa {
#define GEN_PASS_DEF_SWAAPARALLELLOOPSTOGPUPASS
#define GEN_PASS_DEF_SWAAGPUHOSTMEMORYPASS
#define GEN_PASS_DEF_SWAAGPUMERGEMODULESPASS
#define GEN_PASS_DEF_SWAAGPUFREEBUFFERSPASS
#include "compiler/Lowering/Passes.h.inc"
} // namespace mlir::swaa

namespace {
/// Inside a kernel already (or a loop that will be one).
bool onDevice(Operation *op) {
  return op->getParentOfType<gpu::LaunchOp>() ||
         op->getParentOfType<gpu::GPUModuleOp>() ||
         op->getParentOfType<scf::ParallelOp>();
}

/// `scf.parallel` -> a 1-D `gpu.launch` of ceil(n / threads) blocks.
LogicalResult parallelToLaunch(RewriterBase &b, scf::ParallelOp loop,
                               int64_t threads) {
  if (loop.getNumReductions() != 0)
    return loop.emitOpError(
        "with reductions cannot become a GPU kernel (a parallel loop with "
        "reductions should have been a sequential loop)");
  Location loc = loop.getLoc();
  b.setInsertionPoint(loop);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  // Trip counts and the flattened size.
  SmallVector<Value> counts;
  Value total = idx(1);
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
    Value n = b.createOrFold<arith::CeilDivSIOp>(
        loc, b.createOrFold<arith::SubIOp>(loc, ub, lb), step);
    if (!getConstantIntValue(n))
      n = arith::MaxSIOp::create(b, loc, n, idx(0));
    counts.push_back(n);
    total = b.createOrFold<arith::MulIOp>(loc, total, n);
  }
  // At least one block (a grid of 0 is invalid; an empty iteration space
  // runs one block that does nothing): no host branch, so the launches stay
  // one asynchronous sequence on the stream.
  Value blocks = arith::MaxUIOp::create(
      b, loc, arith::CeilDivUIOp::create(b, loc, total, idx(threads)), idx(1));
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, idx(threads),
                                      one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  Value linear = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, idx(threads)),
      launch.getThreadIds().x);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        linear, total);
  auto inside = scf::IfOp::create(b, loc, inRange, /*withElse=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(inside.thenBlock());
  // Delinearize, innermost dimension fastest.
  SmallVector<Value> ivs(counts.size());
  Value rest = linear;
  for (int64_t d = (int64_t)counts.size() - 1; d >= 0; --d) {
    Value i = d == 0 ? rest : arith::RemUIOp::create(b, loc, rest, counts[d]);
    if (d > 0)
      rest = arith::DivUIOp::create(b, loc, rest, counts[d]);
    ivs[d] = arith::AddIOp::create(
        b, loc, loop.getLowerBound()[d],
        arith::MulIOp::create(b, loc, i, loop.getStep()[d]));
  }
  Block *loopBody = loop.getBody();
  b.eraseOp(loopBody->getTerminator());
  b.inlineBlockBefore(loopBody, inside.thenBlock()->getTerminator(), ivs);
  b.eraseOp(loop);
  return success();
}

struct SwaaParallelLoopsToGPUPass final
    : swaa::impl::SwaaParallelLoopsToGPUPassBase<SwaaParallelLoopsToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter b(&getContext());
    SmallVector<scf::ParallelOp> loops;
    SmallVector<memref::StoreOp> stores;
    getOperation()->walk([&](Operation *op) {
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        if (!op->getParentOfType<scf::ParallelOp>() &&
            !op->getParentOfType<gpu::LaunchOp>())
          loops.push_back(loop);
      } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
        if (!onDevice(op))
          stores.push_back(store);
      }
    });
    // A host store becomes a kernel of one thread (its operands are
    // computed on the host and passed in).
    for (memref::StoreOp store : stores) {
      Location loc = store.getLoc();
      b.setInsertionPoint(store);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      auto launch = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
      b.setInsertionPointToStart(&launch.getBody().front());
      gpu::TerminatorOp::create(b, loc);
      store->moveBefore(launch.getBody().front().getTerminator());
    }
    for (scf::ParallelOp loop : loops)
      if (failed(parallelToLaunch(b, loop, threads)))
        return signalPassFailure();
  }
};

struct SwaaGPUHostMemoryPass final
    : swaa::impl::SwaaGPUHostMemoryPassBase<SwaaGPUHostMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter b(&getContext());
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      SmallVector<Value> constants;
      WalkResult walk = fn.walk([&](Operation *op) -> WalkResult {
        Location loc = op->getLoc();
        b.setInsertionPoint(op);
        if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
          auto device = gpu::AllocOp::create(
              b, loc, alloc.getType(), Type(), ValueRange{},
              alloc.getDynamicSizes(), alloc.getSymbolOperands());
          b.replaceOp(alloc, device.getMemref());
          return WalkResult::advance();
        }
        if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
          gpu::DeallocOp::create(b, loc, Type(), ValueRange{},
                                 dealloc.getMemref());
          b.eraseOp(dealloc);
          return WalkResult::advance();
        }
        if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
          // A constant: a device copy for this call.
          b.setInsertionPointAfter(global);
          auto device = gpu::AllocOp::create(b, loc, global.getType(), Type(),
                                             ValueRange{}, ValueRange{},
                                             ValueRange{});
          Value copy = device.getMemref();
          b.replaceAllUsesWith(global.getResult(), copy);
          gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, copy,
                                global.getResult());
          constants.push_back(copy);
          return WalkResult::advance();
        }
        if (auto copy = dyn_cast<memref::CopyOp>(op)) {
          gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, copy.getTarget(),
                                copy.getSource());
          b.eraseOp(copy);
          return WalkResult::advance();
        }
        if (isa<gpu::LaunchFuncOp, gpu::LaunchOp>(op))
          return WalkResult::skip();
        if (isa<memref::LoadOp, memref::StoreOp, memref::AtomicRMWOp,
                memref::GenericAtomicRMWOp, memref::ReshapeOp>(op) ||
            isa<linalg::LinalgOp>(op)) {
          op->emitOpError("reads or writes a buffer on the host; in the CUDA "
                          "back end every buffer lives on the device (the op "
                          "should have been part of a kernel)");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
      // The constants' device copies live until the function returns.
      fn.walk([&](func::ReturnOp ret) {
        b.setInsertionPoint(ret);
        for (Value c : constants)
          gpu::DeallocOp::create(b, ret.getLoc(), Type(), ValueRange{}, c);
      });
    }
  }
};

struct SwaaGPUFreeBuffersPass final
    : swaa::impl::SwaaGPUFreeBuffersPassBase<SwaaGPUFreeBuffersPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation()->walk([&](memref::AllocOp alloc) {
      if (!alloc->getParentOfType<gpu::LaunchOp>() &&
          !alloc->getParentOfType<scf::ParallelOp>())
        allocs.push_back(alloc);
    });
    OpBuilder b(&getContext());
    for (memref::AllocOp alloc : allocs) {
      Block *block = alloc->getBlock();
      Operation *last = alloc;
      bool escapes = false;
      SmallVector<Value> work = {alloc.getResult()};
      while (!work.empty() && !escapes) {
        Value v = work.pop_back_val();
        for (Operation *user : v.getUsers()) {
          if (auto view = dyn_cast<ViewLikeOpInterface>(user);
              view && view.getViewSource() == v) {
            work.push_back(user->getResult(0));
          } else if (isa<CastOpInterface>(user)) {
            work.append(user->result_begin(), user->result_end());
          } else if (user->hasTrait<OpTrait::IsTerminator>() ||
                     llvm::any_of(user->getResultTypes(),
                                  llvm::IsaPred<BaseMemRefType>)) {
            // Returned, yielded or captured: its owner frees it.
            escapes = true;
            break;
          }
          Operation *at = block->findAncestorOpInBlock(*user);
          if (!at) {
            escapes = true;
            break;
          }
          if (last->isBeforeInBlock(at))
            last = at;
        }
      }
      if (escapes)
        continue;
      b.setInsertionPointAfter(last);
      memref::DeallocOp::create(b, alloc.getLoc(), alloc.getResult());
    }
  }
};

struct SwaaGPUMergeModulesPass final
    : swaa::impl::SwaaGPUMergeModulesPassBase<SwaaGPUMergeModulesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> modules(module.getOps<gpu::GPUModuleOp>());
    if (modules.empty())
      return;
    OpBuilder b(&getContext());
    b.setInsertionPoint(modules.front());
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), "swaa_kernels");
    SymbolTable symbols(merged);
    // Each kernel is named after its old module (unique in the parent).
    DenseMap<StringAttr, StringAttr> renamed;
    for (gpu::GPUModuleOp m : modules) {
      SmallVector<gpu::GPUFuncOp> fns(m.getOps<gpu::GPUFuncOp>());
      if (fns.size() != 1 ||
          !llvm::all_of(m.getBody()->getOperations(), [](Operation &op) {
            return isa<gpu::GPUFuncOp>(op) || op.hasTrait<OpTrait::IsTerminator>();
          })) {
        m.emitOpError("is not one outlined kernel; cannot merge it");
        return signalPassFailure();
      }
      gpu::GPUFuncOp fn = fns.front();
      fn->remove();
      fn.setName(m.getName());
      // Kernels with shared memory (attention) keep their row state in
      // registers: at least one block per SM, so that ptxas gives them the
      // registers they need (its default for a known block size aims at
      // more blocks and spills).
      if (!fn.getWorkgroupAttributions().empty())
        fn->setAttr("nvvm.minctasm",
                    IntegerAttr::get(IntegerType::get(fn.getContext(), 32), 1));
      symbols.insert(fn);
      renamed[m.getNameAttr()] = fn.getNameAttr();
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr old = launch.getKernelModuleName();
      launch.setKernelAttr(SymbolRefAttr::get(
          merged.getNameAttr(), {FlatSymbolRefAttr::get(renamed.lookup(old))}));
    });
    for (gpu::GPUModuleOp m : modules)
      m.erase();
  }
};
} // namespace

namespace {
/// gpu.barrier orders the block's reads and writes of shared memory; said
/// as a read and a write of unknown memory, so that passes which need every
/// op's memory effects (buffer deallocation) accept kernels, and none may
/// drop or move it as if it had none.
struct BarrierMemoryEffects
    : public MemoryEffectOpInterface::ExternalModel<BarrierMemoryEffects,
                                                    gpu::BarrierOp> {
  void getEffects(
      Operation *,
      SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
          &effects) const {
    effects.emplace_back(MemoryEffects::Read::get());
    effects.emplace_back(MemoryEffects::Write::get());
  }
};
} // namespace

void swaa::registerGPUExternalModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, gpu::GPUDialect *) {
    gpu::BarrierOp::attachInterface<BarrierMemoryEffects>(*ctx);
  });
}
