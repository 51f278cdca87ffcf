//===- swaa-run.cpp - run a compiled model from the command line ----------===//
//
// Loads a `model.swaa` artifact with the runtime's C API (this tool is also
// the example of embedding it: it uses nothing else), prefills a prompt,
// decodes greedily, and prints the generated ids, prefill and decode speed
// and the KV-cache bytes. Every error is one line and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "swaa/runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
const char *kUsage =
    "usage: swaa-run MODEL.swaa [options]\n"
    "\n"
    "Runs a model compiled by swaa-compile: prefill of a prompt, then greedy\n"
    "decoding. Prints the generated token ids, prefill and decode tokens/s\n"
    "and the session's KV-cache bytes.\n"
    "\n"
    "prompt (one of):\n"
    "  --prompt-ids 1,2,3        token ids\n"
    "  --prompt-file FILE        token ids separated by spaces, commas or "
    "newlines\n"
    "  --random-prompt N         N random ids (--seed S, default 0)\n"
    "options:\n"
    "  --max-new-tokens K        tokens to generate (default 16)\n"
    "  --max-context N           session capacity (default: prompt + K)\n"
    "  --dump-logits FILE.npy    the prefill's logits, float32 "
    "[prompt_len, vocab]\n"
    "                            (every row: implies --all-logits)\n"
    "  --all-logits              prefill computes the logits of every prompt\n"
    "                            row (scoring); by default only the last\n"
    "                            row's, which generation needs\n"
    "  --dump-step-logits FILE.npy  each decode step's logits, float32 "
    "[K, vocab]\n"
    "  --profile                 print the time spent per op kind (attention,\n"
    "                            KV-cache writes, matmuls, other) in prefill\n"
    "                            and decode\n"
    "  --runs N                  time N runs (each a fresh session: prefill\n"
    "                            and decoding) and print their medians; the\n"
    "                            last run's tokens, logits and profile are\n"
    "                            the ones printed (default 1)\n"
    "  --warmup N                untimed runs before them (default 0)\n"
    "  --quiet                   print only the generated ids\n";

int fail(const std::string &message) {
  std::fprintf(stderr, "swaa-run: error: %s\n", message.c_str());
  return 1;
}

bool parseIds(const std::string &text, std::vector<int64_t> &ids,
              std::string &bad) {
  std::string item;
  std::istringstream in(text);
  char c;
  auto flush = [&]() {
    if (item.empty())
      return true;
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (!end || *end != '\0' || errno) {
      bad = item;
      return false;
    }
    ids.push_back(v);
    item.clear();
    return true;
  };
  while (in.get(c)) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      if (!flush())
        return false;
    } else {
      item += c;
    }
  }
  return flush();
}

bool writeNpy(const std::string &path, const float *data, size_t rows,
              size_t cols) {
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return false;
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) +
                       "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  out.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = (uint16_t)header.size();
  out.write((const char *)&len, 2);
  out << header;
  out.write((const char *)data, (std::streamsize)(rows * cols * sizeof(float)));
  return (bool)out;
}

size_t argmax(const float *row, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

/// This process's peak resident memory in MiB (Linux's VmHWM, which starts
/// afresh at exec, unlike getrusage's maxrss), or -1 where unknown.
double peakResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return -1;
}

/// Frees a status and turns it into an exit code.
int check(swaa_status *status) {
  if (!status)
    return 0;
  int rc = fail(swaa_status_message(status));
  swaa_status_free(status);
  return rc;
}
} // namespace

int main(int argc, char **argv) {
  std::string model, promptIds, promptFile, dumpLogits, dumpSteps;
  bool allLogits = false;
  long long randomPrompt = -1, seed = 0, maxNew = 16, maxContext = -1;
  long long runs = 1, warmup = 0;
  bool runsGiven = false; // --runs prints the summary line even for 1
  bool quiet = false, profile = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "swaa-run: error: %s needs a value\n", flag);
        std::exit(1);
      }
      return argv[++i];
    };
    auto number = [&](const char *flag) {
      const char *v = value(flag);
      char *end = nullptr;
      errno = 0;
      long long n = std::strtoll(v, &end, 10);
      if (!end || end == v || *end || n < 0 || errno == ERANGE) {
        std::fprintf(stderr,
                     "swaa-run: error: %s needs a non-negative "
                     "integer, got '%s'\n",
                     flag, v);
        std::exit(1);
      }
      return n;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--prompt-ids")
      promptIds = value("--prompt-ids");
    else if (a == "--prompt-file")
      promptFile = value("--prompt-file");
    else if (a == "--random-prompt")
      randomPrompt = number("--random-prompt");
    else if (a == "--seed")
      seed = number("--seed");
    else if (a == "--max-new-tokens")
      maxNew = number("--max-new-tokens");
    else if (a == "--max-context") {
      maxContext = number("--max-context");
      if (maxContext < 1)
        return fail("--max-context must be at least 1 (leave it out for the "
                    "prompt + --max-new-tokens)");
    } else if (a == "--dump-logits")
      dumpLogits = value("--dump-logits");
    else if (a == "--all-logits")
      allLogits = true;
    else if (a == "--dump-step-logits")
      dumpSteps = value("--dump-step-logits");
    else if (a == "--runs")
      runs = number("--runs"), runsGiven = true;
    else if (a == "--warmup")
      warmup = number("--warmup");
    else if (a == "--quiet")
      quiet = true;
    else if (a == "--profile")
      profile = true;
    else if (!a.empty() && a[0] == '-')
      return fail("unknown option '" + a + "' (see --help)");
    else if (model.empty())
      model = a;
    else
      return fail("more than one model given ('" + model + "', '" + a + "')");
  }
  if (model.empty())
    return fail("no model given (see --help)");
  if (runs < 1)
    return fail("--runs needs at least 1");
  int sources = !promptIds.empty() + !promptFile.empty() + (randomPrompt >= 0);
  if (sources != 1)
    return fail("give exactly one of --prompt-ids, --prompt-file, "
                "--random-prompt");

  swaa_model *m = nullptr;
  if (int rc = check(swaa_model_load(model.c_str(), &m)))
    return rc;
  // Freed on every return, errors included.
  std::unique_ptr<swaa_model, void (*)(swaa_model *)> modelOwner(
      m, swaa_model_free);
  size_t vocab = swaa_model_vocab_size(m);
  std::vector<int64_t> prompt;
  std::string bad;
  if (!promptIds.empty() && !parseIds(promptIds, prompt, bad))
    return fail("--prompt-ids: '" + bad + "' is not a token id");
  if (!promptFile.empty()) {
    std::ifstream in(promptFile);
    if (!in)
      return fail("--prompt-file: cannot read '" + promptFile + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    if (!parseIds(ss.str(), prompt, bad))
      return fail(promptFile + ": '" + bad + "' is not a token id");
  }
  if (randomPrompt >= 0) {
    std::mt19937_64 rng((uint64_t)seed);
    for (long long i = 0; i < randomPrompt; ++i)
      prompt.push_back((int64_t)(rng() % vocab));
  }
  if (prompt.empty())
    return fail("the prompt is empty");
  if (maxNew > 0 && !swaa_model_has_decode(m) && !quiet)
    std::fprintf(stderr,
                 "swaa-run: note: %s has no decode program (its model was "
                 "exported without past key/values): each token re-runs the "
                 "prefill\n",
                 model.c_str());
  size_t context =
      maxContext > 0 ? (size_t)maxContext : prompt.size() + (size_t)maxNew;
  swaa_session_options options = {context, 1,
                                   allLogits || !dumpLogits.empty()};
  using clock = std::chrono::steady_clock;
  auto printProfile = [&](const char *phase, const swaa_profile &p,
                          double total) {
    std::printf("profile %s: attention %.4f s, kv-cache %.4f s, matmul "
                "%.4f s, other %.4f s (of %.4f s)\n",
                phase, p.attention, p.kv_cache, p.matmul, p.other, total);
  };

  // Each run is a fresh session: prefill, then greedy decoding. The last
  // run's results are printed; the others only time (--warmup, --runs).
  swaa_session *s = nullptr;
  std::unique_ptr<swaa_session, void (*)(swaa_session *)> sessionOwner(
      nullptr, swaa_session_free);
  std::vector<int64_t> generated;
  std::vector<float> steps;
  double prefillSeconds = 0, decodeSeconds = 0;
  swaa_profile prefillProfile = {};
  std::vector<double> prefillTimes, decodeTimes;
  for (long long run = 0; run < warmup + runs; ++run) {
    sessionOwner.reset();
    if (int rc = check(swaa_session_create(m, &options, &s)))
      return rc;
    sessionOwner.reset(s);
    swaa_session_set_profiling(s, profile);
    if (!quiet && prompt.size() >= 2048)
      std::fprintf(stderr, "swaa-run: prefilling %zu tokens...\n",
                   prompt.size());
    auto t0 = clock::now();
    if (int rc = check(swaa_session_prefill(s, prompt.data(), prompt.size())))
      return rc;
    prefillSeconds = std::chrono::duration<double>(clock::now() - t0).count();
    swaa_session_profile(s, &prefillProfile);
    const float *logits;
    size_t rows;
    swaa_session_logits(s, &logits, &rows, &vocab);
    if (!dumpLogits.empty() && !writeNpy(dumpLogits, logits, rows, vocab))
      return fail("cannot write " + dumpLogits);

    generated.clear();
    steps.clear();
    int64_t next = (int64_t)argmax(logits + (rows - 1) * vocab, vocab);
    auto t1 = clock::now();
    for (long long i = 0; i < maxNew; ++i) {
      generated.push_back(next);
      if (i + 1 == maxNew && dumpSteps.empty())
        break; // the last token needs no step of its own
      if (int rc = check(swaa_session_decode(s, &next)))
        return rc;
      swaa_session_logits(s, &logits, &rows, &vocab);
      steps.insert(steps.end(), logits, logits + vocab);
      next = (int64_t)argmax(logits, vocab);
    }
    decodeSeconds = std::chrono::duration<double>(clock::now() - t1).count();
    if (run >= warmup) {
      prefillTimes.push_back(prefillSeconds);
      decodeTimes.push_back(decodeSeconds);
    }
  }
  size_t decodeSteps = steps.size() / (vocab ? vocab : 1);
  if (!dumpSteps.empty() &&
      !writeNpy(dumpSteps, steps.data(), decodeSteps, vocab))
    return fail("cannot write " + dumpSteps);

  std::string ids;
  for (int64_t t : generated)
    ids += (ids.empty() ? "" : ",") + std::to_string(t);
  std::printf("generated: %s\n", ids.c_str());
  if (!quiet) {
    std::printf("prefill: %zu tokens in %.3f s (%.1f tokens/s)\n",
                prompt.size(), prefillSeconds,
                prompt.size() / std::max(prefillSeconds, 1e-9));
    if (decodeSteps)
      std::printf("decode: %zu steps in %.3f s (%.1f tokens/s)\n", decodeSteps,
                  decodeSeconds, decodeSteps / std::max(decodeSeconds, 1e-9));
    std::printf("kv cache: %zu bytes (context %zu, recipe: %s)\n",
                swaa_session_kv_cache_bytes(s), context, swaa_model_recipe(m));
    if (runs > 1 || warmup > 0 || runsGiven) {
      auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
      };
      double p = median(prefillTimes);
      std::printf("median of %lld runs (after %lld warm-up): prefill %.4f s "
                  "(%.1f tokens/s)",
                  runs, warmup, p, prompt.size() / std::max(p, 1e-9));
      if (decodeSteps) {
        double d = median(decodeTimes);
        std::printf(", decode %.4f s (%.1f tokens/s)", d,
                    decodeSteps / std::max(d, 1e-9));
      }
      double peak = peakResidentMiB();
      if (peak >= 0)
        std::printf(", peak resident memory %.1f MiB", peak);
      std::printf("\n");
    }
    if (profile) {
      swaa_profile all, decode;
      swaa_session_profile(s, &all);
      decode = {all.attention - prefillProfile.attention,
                all.kv_cache - prefillProfile.kv_cache,
                all.matmul - prefillProfile.matmul,
                all.other - prefillProfile.other};
      printProfile("prefill", prefillProfile, prefillSeconds);
      if (decodeSteps)
        printProfile("decode", decode, decodeSeconds);
    }
  }
  return 0;
}
