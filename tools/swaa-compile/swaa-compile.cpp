//===- swaa-compile.cpp - compile ONNX models with SWAA recipes -----------===//
//
// The compiler driver: imports an ONNX model, applies a SWAA recipe (from a
// file, a preset or flags) and splits the model into @prefill and @decode,
// prints the module (--emit=mlir) or the recipe's cost (--report). Errors
// are one line, name the file and the node, option or key at fault, and exit
// with code 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/Artifact/Artifact.h"
#include "compiler/Artifact/Destination.h"
#include "compiler/Driver/Report.h"
#include "compiler/Import/Importer.h"
#include "compiler/Import/Ops.h"
#include "compiler/Lowering/Pipelines.h"
#include "compiler/Targets/CPU/SharedObject.h"
#include "compiler/Targets/CUDA/Fatbinary.h"
#include "compiler/Targets/CUDA/LaunchPlan.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "passes/Recipe.h"
#include "tools/RegisterEverything.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>

using namespace mlir;

namespace {
namespace cl = llvm::cl;

cl::OptionCategory category("swaa-compile options");
cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model.onnx>"),
                               cl::cat(category));
cl::opt<std::string> outputPath(
    "o",
    cl::desc("Output file (default: stdout), or the artifact directory. "
             "Only swaa-compile's own artifact or an earlier --emit file is "
             "replaced (never a symbolic link, . or a directory holding the "
             "working directory); the output is written beside it and moved "
             "into place when complete"),
    cl::value_desc("file"), cl::init("-"), cl::cat(category));
enum class Emit { Import, Mlir, LLVM, PTX, Artifact };
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"),
    cl::values(clEnumValN(Emit::Import, "import",
                          "the imported module: @forward, attn + upstream "
                          "MLIR, weights as function arguments"),
               clEnumValN(Emit::Mlir, "mlir",
                          "the module after the recipe: @prefill and @decode "
                          "with the KV cache as state (without any recipe "
                          "option: the imported module, as --emit=import)"),
               clEnumValN(Emit::LLVM, "llvm",
                          "the module lowered for the target (LLVM dialect; "
                          "cuda: the host code, kernels in a gpu.binary)"),
               clEnumValN(Emit::PTX, "ptx",
                          "--target cuda: the module with every kernel "
                          "compiled to PTX (gpu.binary ops)"),
               clEnumValN(Emit::Artifact, "artifact",
                          "the compiled model directory (manifest.json, "
                          "model.so, weights.safetensors) that swaa-run and "
                          "the runtime load; the default when -o ends in "
                          ".swaa")),
    cl::init(Emit::Mlir), cl::cat(category));

cl::OptionCategory targetCategory("Code generation");
cl::opt<std::string> targetFlag(
    "target",
    cl::desc("Target: cpu (the host CPU), or cuda (NVIDIA GPUs: kernels as "
             "PTX/cubin, host code that the runtime's CUDA back end runs)"),
    cl::init("cpu"), cl::cat(targetCategory));
cl::opt<std::string> cudaArch(
    "cuda-arch",
    cl::desc("GPU architectures for --target cuda, comma-separated: a cubin "
             "for each, and the newest one's PTX for newer GPUs"),
    cl::value_desc("sm_80,sm_90"), cl::init("sm_80"), cl::cat(targetCategory));
cl::opt<std::string> cudaToolkit(
    "cuda-toolkit",
    cl::desc("CUDA toolkit root (bin/ptxas, bin/fatbinary, libdevice)"),
    cl::value_desc("dir"), cl::init("/usr/local/cuda"),
    cl::cat(targetCategory));
cl::opt<bool> portable(
    "portable",
    cl::desc("Generate code for any x86-64-v2 CPU instead of tuning for "
             "this machine's (-march=native)"),
    cl::cat(targetCategory));
cl::opt<bool> noOpenMP("no-openmp",
                       cl::desc("Run parallel loops on one thread (no "
                                "libomp)"),
                       cl::cat(targetCategory));
cl::opt<int64_t> queryTile(
    "query-tile",
    cl::desc("Query rows per attention tile (cpu: per parallel iteration; "
             "cuda: per block, at most 128 threads)"),
    cl::init(32), cl::cat(targetCategory));
cl::opt<int64_t> keyTile(
    "key-tile",
    cl::desc("Keys per attention tile (cpu: default 64; cuda: keys staged "
             "in shared memory, default 32)"),
    cl::init(64), cl::cat(targetCategory));
cl::opt<int64_t> chunkRowsFlag(
    "chunk-rows",
    cl::desc("cpu: an MLP (gate, up, activation, down) runs on chunks of "
             "this many prompt rows, so its wide intermediates stay this "
             "tall at any prompt length (default 1024; 0: whole prompts)"),
    cl::init(1024), cl::cat(targetCategory));
cl::opt<std::string> dtypeFlag(
    "dtype",
    cl::desc("Precision: f32 (default), or bf16 / f16: weights and KV caches "
             "stored in 16 bits, matmul and attention inputs rounded to it, "
             "sums in f32"),
    cl::value_desc("f32|bf16|f16"), cl::init("f32"), cl::cat(targetCategory));
cl::opt<std::string> kvDtypeFlag(
    "kv-dtype",
    cl::desc("KV-cache precision (default: --dtype's). With --dtype f32, "
             "bf16 or f16 caches halve the cache memory and what decode "
             "reads per token (llama.cpp's default is f16); weights and "
             "matmuls stay f32, decode's attention reads the cache's type"),
    cl::value_desc("f32|bf16|f16"), cl::init(""), cl::cat(targetCategory));
cl::opt<bool> timing(
    "timing",
    cl::desc("Print on stderr the wall and CPU time of each phase: import, "
             "recipe, each lowering pass, LLVM IR, -O3, code generation, "
             "link, weights (MLIR's timing tree)"),
    cl::cat(category));
cl::opt<unsigned>
    jobs("jobs",
         cl::desc("Threads for compiling (MLIR passes over several functions, "
                  "LLVM's -O3 and code generation in parts); default: the "
                  "machine's hardware threads; 1 compiles on one thread"),
         cl::value_desc("N"), cl::init(0), cl::cat(targetCategory));
cl::opt<bool> keepIR("keep-ir",
                     cl::desc("Keep the optimized LLVM IR (model.so.ll) in "
                              "the artifact"),
                     cl::cat(targetCategory));

cl::OptionCategory recipeCategory(
    "SWAA recipe options (a file or preset, then flags override its values)");
cl::opt<std::string> recipeFile(
    "recipe",
    cl::desc("Recipe JSON: {\"window\": 2048, \"sinks\": 4, \"fa_layers\": "
             "\"every:2\", \"fa_decode\": true}, or the SWAA reference "
             "code's SWAAConfig (sliding_window_size, keep_first, "
             "force_fa_decode, non_sliding_layers), alone or in its settings "
             "files"),
    cl::value_desc("file"), cl::cat(recipeCategory));
cl::opt<unsigned> recipeEntry(
    "recipe-entry",
    cl::desc("Which configuration of a settings file that holds several"),
    cl::value_desc("N"), cl::cat(recipeCategory));
cl::opt<std::string> presetName("preset",
                                cl::desc("A named recipe (see --list-presets)"),
                                cl::value_desc("name"),
                                cl::cat(recipeCategory));
cl::opt<int64_t> windowFlag(
    "window", cl::desc("Sliding window: keys each query sees, itself included"),
    cl::value_desc("W"), cl::cat(recipeCategory));
cl::opt<int64_t>
    sinksFlag("sinks", cl::desc("Sink tokens: the first S tokens stay visible"),
              cl::value_desc("S"), cl::cat(recipeCategory));
cl::opt<std::string> faLayersFlag(
    "fa-layers",
    cl::desc("Layers kept full attention: 0,3,7  0-3  every:K[:offset:O]  "
             "first:N  last:N  odd  even  none  all (comma-joined)"),
    cl::value_desc("spec"), cl::cat(recipeCategory));
cl::opt<std::string> faDecodeFlag(
    "fa-decode",
    cl::desc("Full-attention decode: alone or =true for every layer, "
             "=false, or =SPEC for some layers"),
    cl::value_desc("spec"), cl::ValueOptional, cl::cat(recipeCategory));
cl::opt<bool> overrideNativeFlag(
    "override-native-windows",
    cl::desc("Let the recipe change the layers that have the model's own "
             "sliding window (by default they keep it: --window applies to "
             "the model's full-attention layers, and --fa-layers or "
             "--fa-decode=SPEC naming such a layer is an error)"),
    cl::cat(recipeCategory));
cl::opt<bool> listPresets("list-presets",
                          cl::desc("Print the named recipes and exit"),
                          cl::cat(recipeCategory));

cl::OptionCategory reportCategory("Cost report");
cl::opt<bool> report(
    "report",
    cl::desc("Print a per-layer table of the recipe's attention kinds, "
             "FLOPs and KV-cache bytes for a prefill of --context tokens, "
             "against full attention"),
    cl::cat(reportCategory));
cl::opt<int64_t> contextFlag(
    "context",
    cl::desc("Context length for --report (and the window check: a window "
             "that covers it is full attention)"),
    cl::value_desc("N"), cl::cat(reportCategory));
cl::opt<int64_t> batchFlag("batch", cl::desc("Batch size for --report"),
                           cl::value_desc("B"), cl::init(1),
                           cl::cat(reportCategory));

cl::opt<bool> importTrace(
    "import-trace",
    cl::desc("Explain on stderr which nodes failed inference and why masks "
             "were not proven (debugging the importer on a model)"),
    cl::cat(category));
cl::opt<bool> listOps("list-ops",
                      cl::desc("Print the ONNX ops the importer supports"),
                      cl::cat(category));

/// "file: node 'name': error: message" from the importer's locations.
std::string describe(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    std::string inner = describe(name.getChildLoc());
    return inner + (inner.empty() ? "" : ": ") + "node '" +
           name.getName().str() + "'";
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return file.getFilename().str();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return describe(fused.getLocations().front());
  return "";
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // A write past the file-size limit fails with EFBIG and becomes the
  // tool's one-line error, like a full disk (after InitLLVM, whose signal
  // handlers would otherwise take SIGXFSZ for a crash).
  ::signal(SIGXFSZ, SIG_IGN);
  cl::HideUnrelatedOptions(
      {&category, &recipeCategory, &reportCategory, &targetCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "swaa-compile: compile an ONNX decoder model with a SWAA recipe\n\n"
      "  swaa-compile model.onnx --emit=import            the imported model\n"
      "  swaa-compile model.onnx --preset fa-decode -o model.swaa   compile\n"
      "  swaa-compile model.onnx --preset interleave-1/2+fa-decode "
      "--emit=mlir\n"
      "  swaa-compile model.onnx --window 2048 --sinks 4 --fa-layers odd \\\n"
      "               --fa-decode --report --context 32768\n\n"
      "Every attention of the model becomes one attn.attention op; the rest\n"
      "is upstream MLIR. Weights stay out of the IR: they are function\n"
      "arguments tagged with their initializer names. A recipe sets sliding\n"
      "windows, sink tokens, full-attention layers and FA decode, and splits\n"
      "the model into @prefill and @decode with the KV cache as state.\n");
  if (listOps) {
    llvm::outs() << mlir::swaa::import::supportedOpsText();
    return 0;
  }
  if (listPresets) {
    for (const swaa::Preset &p : swaa::presets())
      llvm::outs() << llvm::left_justify(p.name, 26) << p.description << "\n";
    llvm::outs() << "\n(\"Sliding Window Attention Adaptation\", "
                    "github.com/yuyijiong/sliding-window-attention-adaptation;"
                    " flags override a preset's values)\n";
    return 0;
  }
  if (inputPath.empty()) {
    llvm::errs() << "swaa-compile: error: no input model (see --help)\n";
    return 1;
  }

  DialectRegistry registry;
  // Every dialect and its external interfaces (bufferization, inlining,
  // LLVM translation): the back end lowers through all of them.
  swaa::registerAllSwaaDialects(registry);
  MLIRContext mlirContext(registry);
  if (jobs.getNumOccurrences() && jobs < 1) {
    llvm::errs() << "swaa-compile: error: --jobs must be at least 1\n";
    return 1;
  }
  unsigned threads =
      jobs ? unsigned(jobs)
           : std::max(1u, llvm::hardware_concurrency().compute_thread_count());
  if (threads == 1)
    mlirContext.disableMultithreading();
  bool failedAny = false;
  ScopedDiagnosticHandler handler(&mlirContext, [&](Diagnostic &d) {
    const char *kind = d.getSeverity() == DiagnosticSeverity::Error ? "error"
                       : d.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
    failedAny |= d.getSeverity() == DiagnosticSeverity::Error;
    std::string where = describe(d.getLocation());
    llvm::errs() << "swaa-compile: " << (where.empty() ? "" : where + ": ")
                 << kind << ": " << d.str() << "\n";
    return success();
  });

  // --timing: one tree of phases, printed when the manager goes out of
  // scope (after the last phase, also on an early error return).
  DefaultTimingManager timingManager;
  timingManager.setEnabled(timing);
  timingManager.setDisplayMode(DefaultTimingManager::DisplayMode::Tree);
  TimingScope rootTimer = timingManager.getRootScope();
  // Runs a pass pipeline as one phase (each pass timed within it).
  auto runPasses = [&](PassManager &pm, StringRef phase, ModuleOp op) {
    TimingScope phaseTimer = rootTimer.nest(phase);
    if (timing)
      pm.enableTiming(phaseTimer);
    return succeeded(pm.run(op)) && !failedAny;
  };

  // The recipe: a file or a preset, then the flags.
  bool hasRecipe = !recipeFile.empty() || !presetName.empty() ||
                   windowFlag.getNumOccurrences() ||
                   sinksFlag.getNumOccurrences() ||
                   faLayersFlag.getNumOccurrences() ||
                   faDecodeFlag.getNumOccurrences() || overrideNativeFlag;
  auto fail = [](const llvm::Twine &message) {
    llvm::errs() << "swaa-compile: error: " << message << "\n";
    return 1;
  };
  swaa::Recipe recipe;
  if (!recipeFile.empty() && !presetName.empty())
    return fail("give --recipe or --preset, not both");
  if (recipeEntry.getNumOccurrences() && recipeFile.empty())
    return fail("--recipe-entry picks an entry of a --recipe file; give "
                "--recipe FILE");
  if (!recipeFile.empty()) {
    std::optional<unsigned> entry;
    if (recipeEntry.getNumOccurrences())
      entry = recipeEntry;
    llvm::Expected<swaa::Recipe> r = swaa::loadRecipeFile(recipeFile, entry);
    if (!r)
      return fail(llvm::toString(r.takeError()));
    recipe = *r;
  } else if (!presetName.empty()) {
    llvm::Expected<swaa::Recipe> r = swaa::presetRecipe(presetName);
    if (!r)
      return fail("--preset: " + llvm::toString(r.takeError()));
    recipe = *r;
  }
  if (windowFlag.getNumOccurrences())
    recipe.window = windowFlag;
  if (sinksFlag.getNumOccurrences())
    recipe.sinks = sinksFlag;
  if (faLayersFlag.getNumOccurrences())
    recipe.faLayers = faLayersFlag;
  if (faDecodeFlag.getNumOccurrences())
    recipe.faDecode =
        faDecodeFlag.empty() ? std::string("true") : std::string(faDecodeFlag);
  if (overrideNativeFlag)
    recipe.overrideNative = true;
  if (hasRecipe && recipe.source == "full" &&
      (windowFlag.getNumOccurrences() || sinksFlag.getNumOccurrences() ||
       faLayersFlag.getNumOccurrences() || faDecodeFlag.getNumOccurrences() ||
       overrideNativeFlag))
    recipe.source = "flags";
  std::optional<int64_t> context;
  if (contextFlag.getNumOccurrences()) {
    if (contextFlag < 1)
      return fail("--context must be at least 1, got " +
                  llvm::Twine(contextFlag));
    context = contextFlag;
  }
  if (report && !context)
    return fail("--report needs --context N (the prompt length to cost)");
  if (batchFlag < 1)
    return fail("--batch must be at least 1");

  // The destination, before any long work: what is at -o must be replaceable
  // (swaa-compile's own artifact or output, never a user's directory).
  if (outputPath != "-") {
    bool writesArtifact = emit == Emit::Artifact ||
                          (emit.getNumOccurrences() == 0 &&
                           llvm::StringRef(outputPath).ends_with(".swaa"));
    std::string error;
    if (writesArtifact ? !swaa::checkArtifactDestination(
                             outputPath, swaa::artifactFiles("model.so"), error)
                       : !swaa::checkTextDestination(outputPath, error))
      return fail(error);
  }

  swaa::ImportOptions options;
  options.trace = importTrace;
  TimingScope importTimer = rootTimer.nest("import " + inputPath);
  OwningOpRef<ModuleOp> module =
      swaa::importOnnxFile(&mlirContext, inputPath, options);
  if (!module || failedAny)
    return 1;
  importTimer.stop();

  if (dtypeFlag != "f32" && dtypeFlag != "bf16" && dtypeFlag != "f16")
    return fail("--dtype " + dtypeFlag + ": expected f32, bf16 or f16");
  if (kvDtypeFlag.getNumOccurrences() && kvDtypeFlag != "f32" &&
      kvDtypeFlag != "bf16" && kvDtypeFlag != "f16")
    return fail("--kv-dtype " + kvDtypeFlag + ": expected f32, bf16 or f16");
  // The caches' type: --dtype's unless given; only an f32 model may choose.
  std::string kvDtype =
      kvDtypeFlag.getNumOccurrences() ? kvDtypeFlag : dtypeFlag;
  if (kvDtype != dtypeFlag && dtypeFlag != "f32")
    return fail("--kv-dtype " + kvDtype + " with --dtype " + dtypeFlag +
                ": a 16-bit model keeps its KV caches in its own type");
  if (kvDtype != dtypeFlag && targetFlag != "cpu")
    return fail("--kv-dtype " + kvDtype +
                " differs from --dtype: the CPU target only");
  // Checks against the model (layer ranges), then the passes.
  int64_t numLayers = swaa::countAttentionLayers(*module);
  if (llvm::Error e = swaa::validateRecipe(
          recipe, numLayers, context, [&](const std::string &warning) {
            llvm::errs() << "swaa-compile: warning: " << warning << "\n";
          }))
    return fail(llvm::toString(std::move(e)));

  // --dtype: 16-bit storage and matmul/attention inputs after the split.
  auto addPrecision = [&](PassManager &pm) {
    if (dtypeFlag == "f32" && kvDtype == "f32")
      return;
    swaa::SwaaLowPrecisionPassOptions precision;
    precision.dtype = dtypeFlag;
    precision.kvDtype = kvDtype;
    pm.addPass(swaa::createSwaaLowPrecisionPass(precision));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  };

  OwningOpRef<ModuleOp> full;
  if (report)
    full = module->clone();
  // The recipe and the prefill/decode split: for everything but the plain
  // import (and --emit=mlir without a recipe, which prints the import).
  bool artifact = emit == Emit::Artifact ||
                  (emit.getNumOccurrences() == 0 &&
                   llvm::StringRef(outputPath).ends_with(".swaa"));
  bool split = report || artifact || emit == Emit::LLVM || emit == Emit::PTX ||
               (emit == Emit::Mlir &&
                (hasRecipe || dtypeFlag != "f32" || kvDtype != "f32"));
  if (split) {
    PassManager pm(&mlirContext);
    swaa::buildSwaaPipeline(pm, recipe, /*split=*/true);
    addPrecision(pm);
    // Prefill computes the logits of the rows the runtime asks for (the
    // last one, unless a session wants them all).
    pm.addPass(swaa::createSwaaLogitsRowsPass());
    if (!runPasses(pm, "recipe and prefill/decode split", *module))
      return 1;
  }

  // What every artifact records: where it goes, the model, the recipe, the
  // entry points and layers (described before lowering).
  auto artifactSpec = [&](const char *target,
                          std::vector<swaa::EntryPoint> entries,
                          std::vector<swaa::ArtifactSpec::Layer> layers) {
    swaa::ArtifactSpec spec;
    spec.dir = outputPath;
    spec.modelPath = inputPath;
    spec.target = target;
    spec.recipe = recipe;
    spec.entries = std::move(entries);
    spec.layers = std::move(layers);
    return spec;
  };

  // The module, as text, to -o (every --emit but artifact and the report),
  // through a temporary file renamed into place.
  auto printModule = [&]() {
    std::string text, error;
    llvm::raw_string_ostream os(text);
    module->print(os);
    os << "\n";
    if (!swaa::writeTextOutput(outputPath, text, error))
      return fail(error);
    return 0;
  };

  if (targetFlag != "cpu" && targetFlag != "cuda")
    return fail("--target " + targetFlag + ": expected cpu or cuda");
  if (emit == Emit::PTX && targetFlag != "cuda")
    return fail("--emit=ptx needs --target cuda");
  if (artifact && outputPath == "-")
    return fail("an artifact is a directory: give -o DIR.swaa");
  if (queryTile < 1 || keyTile < 1)
    return fail("--query-tile and --key-tile must be at least 1");
  if (chunkRowsFlag < 0)
    return fail("--chunk-rows must be 0 (whole prompts) or more");

  if (targetFlag == "cuda" &&
      (emit == Emit::PTX || emit == Emit::LLVM || artifact)) {
    llvm::SmallVector<llvm::StringRef> archs;
    llvm::StringRef(cudaArch).split(archs, ',', -1, /*KeepEmpty=*/false);
    if (archs.empty())
      return fail("--cuda-arch: give at least one architecture (sm_80)");
    for (llvm::StringRef arch : archs) {
      unsigned sm = 0;
      llvm::StringRef digits = arch;
      if (!digits.consume_front("sm_") || digits.getAsInteger(10, sm) ||
          sm < 50)
        return fail("--cuda-arch " + arch.str() +
                    ": expected sm_NN (sm_50 or newer), e.g. sm_80,sm_90");
    }
    {
      llvm::SmallString<128> ptxas(cudaToolkit);
      llvm::sys::path::append(ptxas, "bin", "ptxas");
      if (!llvm::sys::fs::can_execute(ptxas))
        return fail("--cuda-toolkit " + cudaToolkit +
                    ": no bin/ptxas there (give the CUDA toolkit's root)");
    }
    std::vector<swaa::EntryPoint> entries;
    std::vector<swaa::ArtifactSpec::Layer> layers;
    if (artifact) {
      FailureOr<std::vector<swaa::EntryPoint>> described =
          swaa::describeEntryPoints(*module);
      if (failed(described))
        return 1;
      entries = std::move(*described);
      layers = swaa::describeLayers(*module);
    }
    auto start = std::chrono::steady_clock::now();
    swaa::CUDAKernelOptions cuda;
    cuda.chip = cudaArch;
    cuda.format = "isa";
    cuda.toolkit = cudaToolkit;
    if (queryTile.getNumOccurrences())
      cuda.queryTile = queryTile;
    if (keyTile.getNumOccurrences())
      cuda.keyTile = keyTile;
    PassManager outline(&mlirContext);
    swaa::buildCUDAOutliningPipeline(outline, cuda);
    if (failed(outline.run(*module)) || failedAny)
      return 1;
    llvm::json::Object plan = swaa::describeLaunchPlan(*module);
    PassManager serialize(&mlirContext);
    swaa::buildCUDASerializationPipeline(serialize, cuda);
    if (failed(serialize.run(*module)) || failedAny)
      return 1;
    if (emit == Emit::PTX)
      return printModule();
    std::vector<std::string> cubins;
    std::string error;
    if (!swaa::packFatbinaries(*module, cudaToolkit, cubins, error))
      return fail(error);
    PassManager host(&mlirContext);
    swaa::buildCUDAHostPipeline(host);
    if (failed(host.run(*module)) || failedAny)
      return 1;
    if (emit == Emit::LLVM)
      return printModule();
    swaa::ArtifactSpec spec =
        artifactSpec("cuda", std::move(entries), std::move(layers));
    llvm::json::Array archList;
    for (llvm::StringRef arch : archs)
      archList.push_back(arch.str());
    spec.targetInfo["cuda"] =
        llvm::json::Object{{"archs", std::move(archList)},
                           {"ptx", true},
                           {"launch_plan", std::move(plan)}};
    swaa::SharedObjectOptions so;
    so.hostCPU = !portable;
    so.openmp = false;
    so.gpuRuntime = true;
    so.keepIR = keepIR;
    spec.writeCode = [&](llvm::StringRef path, llvm::StringRef signature,
                         std::string &error) {
      so.signature = signature.str();
      return swaa::emitSharedObject(*module, {"prefill", "decode"}, path, so,
                                    error);
    };
    if (!swaa::writeArtifact(spec, error))
      return fail(error);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << "swaa-compile: wrote " << outputPath << " (cuda "
                 << cudaArch << "; " << recipe.str() << "; code generated in "
                 << llvm::format("%.1f", seconds) << " s)\n";
    return 0;
  }

  if (artifact || emit == Emit::LLVM) {
    // Weights that only matmuls read are stored in the CPU kernels' panels
    // (before the entries are described: the manifest gives their layout).
    {
      PassManager pack(&mlirContext);
      pack.addPass(swaa::createSwaaPackWeightsPass());
      if (!runPasses(pack, "pack weights", *module))
        return 1;
    }
    FailureOr<std::vector<swaa::EntryPoint>> entries =
        swaa::describeEntryPoints(*module);
    if (failed(entries))
      return 1;
    std::vector<swaa::ArtifactSpec::Layer> layers =
        swaa::describeLayers(*module);
    auto start = std::chrono::steady_clock::now();
    PassManager pm(&mlirContext);
    swaa::CPUPipelineOptions cpu;
    cpu.queryTile = queryTile;
    cpu.chunkRows = chunkRowsFlag;
    cpu.keyTile = keyTile;
    cpu.vectorWidth = swaa::cpuVectorWidth(/*hostCPU=*/!portable);
    cpu.openmp = !noOpenMP;
    // Artifacts always carry the profile hooks (two clock reads per op when
    // a session profiles, a flag test when not); swaa-opt's pipeline does
    // not, since nothing provides the hooks there.
    cpu.profile = emit == Emit::Artifact || artifact;
    swaa::buildCPUPipeline(pm, cpu);
    if (!runPasses(pm, "CPU lowering (swaa-cpu)", *module))
      return 1;
    if (emit == Emit::LLVM)
      return printModule();
    swaa::ArtifactSpec spec =
        artifactSpec("cpu", std::move(*entries), std::move(layers));
    swaa::SharedObjectOptions so;
    so.hostCPU = !portable;
    so.openmp = !noOpenMP;
    so.openmpLibDir = SWAA_OPENMP_LIB_DIR;
    so.kernelsLibrary = SWAA_CPU_KERNELS_LIBRARY;
    so.keepIR = keepIR;
    so.jobs = threads;
    TimingScope artifactTimer = rootTimer.nest("write " + outputPath);
    if (timing) {
      so.timing = &artifactTimer;
      spec.timing = &artifactTimer;
    }
    spec.writeCode = [&](llvm::StringRef path, llvm::StringRef signature,
                         std::string &error) {
      so.signature = signature.str();
      return swaa::emitSharedObject(*module, {"prefill", "decode"}, path, so,
                                    error);
    };
    std::string error;
    if (!swaa::writeArtifact(spec, error))
      return fail(error);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << "swaa-compile: wrote " << outputPath << " (" << recipe.str()
                 << "; code generated in " << llvm::format("%.1f", seconds)
                 << " s)\n";
    return 0;
  }

  if (report) {
    std::string error;
    // The full-attention baseline in the same precision.
    PassManager pm(&mlirContext);
    swaa::buildSwaaPipeline(pm, swaa::Recipe(), /*split=*/true);
    addPrecision(pm);
    pm.addPass(swaa::createSwaaLogitsRowsPass());
    if (failed(pm.run(*full)) || failedAny)
      return 1;
    llvm::Expected<std::string> table =
        swaa::formatReport(*module, *full, recipe, *context, batchFlag);
    if (!table)
      return fail(llvm::toString(table.takeError()));
    if (!swaa::writeTextOutput(outputPath, *table, error))
      return fail(error);
    return 0;
  }
  return printModule();
}
