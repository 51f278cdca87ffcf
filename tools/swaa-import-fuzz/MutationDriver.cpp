//===- MutationDriver.cpp - run a fuzz target without libFuzzer ----------===//
//
// A small, deterministic stand-in for libFuzzer where clang is not available:
// reads seed inputs (models, or the runtime target's files), applies random
// mutations (bit flips, byte overwrites with boundary values, truncations,
// insertions, chunk duplication) and feeds each mutant to
// LLVMFuzzerTestOneInput. A crash kills the process, which the test that runs
// it reports.
//
//   swaa-import-fuzz [--runs N] [--seed S] SEED.onnx...
//   swaa-runtime-fuzz [--runs N] [--seed S] SEED...
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace cl = llvm::cl;

static cl::list<std::string> seeds(cl::Positional, cl::desc("<seed.onnx>..."),
                                   cl::OneOrMore);
static cl::opt<unsigned> runs("runs", cl::desc("Number of mutants"),
                              cl::init(1000));
static cl::opt<unsigned> seed("seed", cl::desc("Random seed"), cl::init(1));
static cl::opt<std::string>
    crashFile("crash-file", cl::desc("Where the input that crashed is written"),
              cl::init("swaa-import-fuzz-crash.onnx"));

/// The mutant being imported, written out if the process crashes.
static const std::string *current = nullptr;
/// The program's name (this driver serves several fuzz targets).
static std::string tool = "swaa-fuzz";

static void saveCrash(void *) {
  if (!current)
    return;
  if (FILE *f = std::fopen(crashFile.c_str(), "wb")) {
    std::fwrite(current->data(), 1, current->size(), f);
    std::fclose(f);
    std::fprintf(stderr, "%s: crashed; input saved to %s\n", tool.c_str(),
                 crashFile.c_str());
  }
}

int main(int argc, char **argv) {
  tool = llvm::sys::path::filename(argv[0]).str();
  cl::ParseCommandLineOptions(
      argc, argv, "mutation fuzzing of a swaa fuzz target (" + tool + ")\n");
  std::vector<std::string> corpus;
  for (const std::string &path : seeds) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer) {
      llvm::errs() << tool << ": error: cannot read " << path << "\n";
      return 1;
    }
    corpus.push_back((*buffer)->getBuffer().str());
  }
  llvm::sys::AddSignalHandler(saveCrash, nullptr);
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  const uint8_t special[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x10, 0x12};
  auto start = std::chrono::steady_clock::now();
  for (unsigned run = 0; run < runs; ++run) {
    std::string input = corpus[pick(corpus.size())];
    unsigned edits = 1 + pick(8);
    for (unsigned e = 0; e < edits && !input.empty(); ++e) {
      size_t at = pick(input.size());
      switch (pick(6)) {
      case 0:
        input[at] ^= (char)(1u << pick(8));
        break;
      case 1:
        input[at] = (char)special[pick(sizeof(special))];
        break;
      case 2:
        input.resize(at);
        break;
      case 3:
        input.insert(at, std::string(1 + pick(16), (char)pick(256)));
        break;
      case 4: {
        size_t len = 1 + pick(std::min<size_t>(64, input.size() - at));
        input.insert(pick(input.size()), input.substr(at, len));
        break;
      }
      default:
        input[at] = (char)pick(256);
        break;
      }
    }
    current = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(input.data()),
                           input.size());
    current = nullptr;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  llvm::outs() << tool << ": " << runs << " mutants of " << corpus.size()
               << " seeds in " << llvm::format("%.1f", seconds)
               << " s, no crash\n";
  return 0;
}
