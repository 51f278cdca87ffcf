//===- api_check.cpp - the runtime's C API under use and misuse -----------===//
//
// A host application of the runtime, for the tests of test/Runtime (also
// built under ASan and UBSan: swaa-api-check-sanitized). Each mode prints
// what it saw and exits 0 only when every expectation held.
//
//   swaa-api-check lifetime M            sessions outlive their model
//   swaa-api-check context M N [B]       a session of max_context N, batch B
//   swaa-api-check rejected M            a rejected call changes nothing
//   swaa-api-check reload P REF -- CMD   load P, run CMD (recompiles P),
//                                        load P again: the new code runs
//   swaa-api-check property M SEED STEPS random sequences of API calls
//
// The property mode keeps, for every token sequence it has run, the logits
// of the sequence's last position; whichever way a sequence is reached again
// (one prefill, prefill and decodes, after rejected calls, resets or a
// reload of the model), its logits must agree. M's prefill and decode must
// compute the same attention (full attention, or a window without FA
// decode).
//
//===----------------------------------------------------------------------===//

#include "swaa/runtime.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {
int failures = 0;

void expect(bool ok, const std::string &what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    ++failures;
  }
}

/// The status's message (and frees it); "ok" for success.
std::string take(swaa_status *s) {
  std::string m = swaa_status_message(s);
  swaa_status_free(s);
  return m;
}

swaa_model *load(const char *dir) {
  swaa_model *m = nullptr;
  swaa_status *s = swaa_model_load(dir, &m);
  if (s) {
    std::printf("load %s: %s\n", dir, swaa_status_message(s));
    swaa_status_free(s);
    std::exit(1);
  }
  return m;
}

swaa_session *session(swaa_model *m, size_t context, size_t batch = 1) {
  swaa_session_options o = {context, batch};
  swaa_session *s = nullptr;
  swaa_status *st = swaa_session_create(m, &o, &s);
  if (st) {
    std::printf("session: %s\n", swaa_status_message(st));
    swaa_status_free(st);
    std::exit(1);
  }
  return s;
}

/// The logits of the last row of batch row 0.
std::vector<float> lastRow(const swaa_session *s) {
  const float *data;
  size_t rows, vocab;
  swaa_session_logits(s, &data, &rows, &vocab);
  if (!data || rows == 0)
    return {};
  return std::vector<float>(data + (rows - 1) * vocab, data + rows * vocab);
}

/// Largest difference relative to the largest magnitude (0 for equal).
double distance(const std::vector<float> &a, const std::vector<float> &b) {
  if (a.size() != b.size() || a.empty())
    return INFINITY;
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i]))
      return INFINITY;
    diff = std::max(diff, (double)std::fabs(a[i] - b[i]));
    scale = std::max(scale, (double)std::fabs(b[i]));
  }
  return diff / scale;
}

std::vector<float> runTokens(swaa_session *s, const std::vector<int64_t> &p,
                             const std::vector<int64_t> &decoded) {
  expect(take(swaa_session_prefill(s, p.data(), p.size())) == "ok", "prefill");
  for (int64_t t : decoded)
    expect(take(swaa_session_decode(s, &t)) == "ok", "decode");
  return lastRow(s);
}

int lifetime(const char *dir) {
  swaa_model *m = load(dir);
  swaa_session *a = session(m, 16), *b = session(m, 16);
  swaa_model_free(m); // the sessions keep it
  std::vector<float> x = runTokens(a, {1, 2, 3}, {4, 5});
  swaa_session_free(a);
  std::vector<float> y = runTokens(b, {1, 2, 3}, {4, 5});
  swaa_session_free(b); // the model goes with its last session
  expect(distance(x, y) == 0, "two sessions of a freed model agree");
  std::printf("lifetime: sessions ran after swaa_model_free; %s\n",
              failures ? "FAILED" : "ok");
  return failures != 0;
}

int context(const char *dir, const char *n, const char *b) {
  swaa_model *m = load(dir);
  swaa_session_options o = {(size_t)std::strtoull(n, nullptr, 0),
                            b ? (size_t)std::strtoull(b, nullptr, 0) : 1};
  swaa_session *s = nullptr;
  swaa_status *st = swaa_session_create(m, &o, &s);
  std::printf("context %zu batch %zu: %s\n", o.max_context, o.batch,
              swaa_status_message(st));
  int rc = st ? 2 : 0;
  swaa_status_free(st);
  if (s) {
    std::printf("kv cache: %zu bytes\n", swaa_session_kv_cache_bytes(s));
    std::vector<float> x = runTokens(s, {1, 2}, {3});
    expect(!x.empty(), "the session runs");
    swaa_session_free(s);
  }
  swaa_model_free(m);
  return failures ? 1 : rc;
}

int rejected(const char *dir) {
  swaa_model *m = load(dir);
  int64_t vocab = (int64_t)swaa_model_vocab_size(m);
  swaa_session *ref = session(m, 8), *s = session(m, 8);
  std::vector<float> want = runTokens(ref, {1, 2, 3}, {4, 5});
  runTokens(s, {1, 2, 3}, {});
  std::vector<float> before = lastRow(s);
  // Each rejected call: the position and the logits stay.
  std::vector<int64_t> bad = {1, vocab};
  std::string e1 = take(swaa_session_prefill(s, bad.data(), bad.size()));
  int64_t worse = -1;
  std::string e2 = take(swaa_session_decode(s, &worse));
  std::vector<int64_t> longer(9, 1);
  std::string e3 = take(swaa_session_prefill(s, longer.data(), 9));
  std::string e4 = take(swaa_session_prefill(s, nullptr, 2));
  std::string e5 = take(swaa_session_prefill(s, bad.data(), 0));
  for (const std::string &e : {e1, e2, e3, e4, e5}) {
    std::printf("rejected: %s\n", e.c_str());
    expect(e != "ok", "the call is rejected");
  }
  expect(swaa_session_position(s) == 3, "the position stays 3");
  expect(distance(lastRow(s), before) == 0, "the logits stay");
  int64_t t = 4;
  expect(take(swaa_session_decode(s, &t)) == "ok", "decode 4");
  t = 5;
  expect(take(swaa_session_decode(s, &t)) == "ok", "decode 5");
  double d = distance(lastRow(s), want);
  std::printf("rejected calls left the sequence: continued it with distance "
              "%.2g from an undisturbed session\n",
              d);
  expect(d < 1e-5, "the sequence continues as if nothing had happened");
  swaa_session_free(ref);
  swaa_session_free(s);
  swaa_model_free(m);
  return failures != 0;
}

int reload(const char *path, const char *ref, const char *command) {
  swaa_model *old = load(path);
  swaa_session *so = session(old, 16);
  std::vector<float> a = runTokens(so, {1, 2, 3, 4, 5, 6, 7}, {8});
  if (std::system(command) != 0) {
    std::printf("reload: '%s' failed\n", command);
    return 1;
  }
  swaa_model *fresh = load(path); // the usual hot swap: load new, free old
  swaa_model *want = load(ref);
  swaa_session *sn = session(fresh, 16), *sw = session(want, 16);
  std::vector<float> b = runTokens(sn, {1, 2, 3, 4, 5, 6, 7}, {8});
  std::vector<float> c = runTokens(sw, {1, 2, 3, 4, 5, 6, 7}, {8});
  std::vector<float> a2 = runTokens(so, {1, 2, 3, 4, 5, 6, 7}, {8});
  swaa_session_free(so);
  swaa_model_free(old);
  std::vector<float> b2 = runTokens(sn, {1, 2, 3, 4, 5, 6, 7}, {8});
  std::printf("reload: old vs new %.3g, new vs reference %.3g, old before vs "
              "after %.3g, new after freeing old %.3g\n",
              distance(a, b), distance(b, c), distance(a, a2), distance(b, b2));
  expect(distance(a, b) > 1e-3, "the recompiled artifact computes anew");
  expect(distance(b, c) == 0, "the reloaded code is the new code");
  expect(distance(a, a2) == 0, "the old model still runs its own code");
  expect(distance(b, b2) == 0, "the new model outlives the old one");
  swaa_session_free(sn);
  swaa_session_free(sw);
  swaa_model_free(fresh);
  swaa_model_free(want);
  return failures != 0;
}

/// Random sequences of C API calls, misuse included (see the file comment).
int property(const char *dir, unsigned seed, unsigned steps) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return n ? rng() % n : 0; };
  std::vector<swaa_model *> models = {load(dir)};
  int64_t vocab = (int64_t)swaa_model_vocab_size(models[0]);
  struct Session {
    swaa_session *s;
    size_t context, batch;
    bool started = false;
    bool allLogits = false;
    std::vector<int64_t> tokens; // batch row 0
  };
  std::vector<Session> sessions;
  std::map<std::vector<int64_t>, std::vector<float>> seen;
  unsigned checked = 0, rejectedCalls = 0, calls = 0;
  double worst = 0;
  // Tokens from a small alphabet (so that sequences recur), now and then
  // one outside the vocabulary.
  auto token = [&]() -> int64_t {
    switch (pick(80)) {
    case 0:
      return vocab + (int64_t)pick(3);
    case 1:
      return -1 - (int64_t)pick(2);
    default:
      return 1 + (int64_t)pick(3);
    }
  };
  auto record = [&](Session &x) {
    std::vector<float> row = lastRow(x.s);
    auto [it, fresh] = seen.emplace(x.tokens, row);
    if (!fresh) {
      double d = distance(row, it->second);
      worst = std::max(worst, d);
      ++checked;
      if (d > 1e-4) {
        std::string seq;
        for (int64_t t : x.tokens)
          seq += std::to_string(t) + ",";
        expect(false, "logits of " + seq + " differ by " + std::to_string(d));
      }
    }
  };
  for (unsigned step = 0; step < steps && failures < 5; ++step) {
    unsigned op = (unsigned)pick(100);
    ++calls;
    if (sessions.empty() || op < 8) {
      // A session, sometimes with options the runtime must refuse.
      size_t context = 1 + pick(10), batch = 1 + pick(2);
      switch (pick(12)) {
      case 0:
        context = 0;
        break;
      case 1:
        context = (size_t)1 << (41 + pick(23));
        break;
      case 2:
        batch = (size_t)1 << (41 + pick(23));
        break;
      default:
        break;
      }
      // Half the sessions keep every prefill row's logits.
      int all = (int)pick(2);
      swaa_session_options o = {context, batch, all};
      swaa_session *s = nullptr;
      swaa_model *m = models[pick(models.size())];
      swaa_status *st = swaa_session_create(m, &o, &s);
      bool sane = context >= 1 && context <= 64 && batch <= 2;
      expect(sane == (st == nullptr),
             "session_create(" + std::to_string(context) + ", " +
                 std::to_string(batch) + "): " + swaa_status_message(st));
      rejectedCalls += st != nullptr;
      swaa_status_free(st);
      if (s)
        sessions.push_back({s, context, batch, false, all != 0, {}});
      continue;
    }
    Session &x = sessions[pick(sessions.size())];
    if (op < 12) {
      swaa_session_free(x.s);
      x = sessions.back();
      sessions.pop_back();
    } else if (op < 40) {
      size_t n = pick(x.context + 3);
      std::vector<int64_t> p(x.batch * (n ? n : 1));
      for (int64_t &t : p)
        t = token();
      bool valid = n >= 1 && n <= x.context;
      for (int64_t t : p)
        valid = valid && t >= 0 && t < vocab;
      size_t before = swaa_session_position(x.s);
      swaa_status *st = swaa_session_prefill(x.s, p.data(), n);
      expect(valid == (st == nullptr),
             std::string("prefill: ") + swaa_status_message(st));
      if (st) {
        ++rejectedCalls;
        expect(swaa_session_position(x.s) == before,
               "a rejected prefill keeps the position");
        swaa_status_free(st);
      } else {
        x.started = true;
        x.tokens.assign(p.begin(), p.begin() + n);
        size_t rows;
        swaa_session_logits(x.s, nullptr, &rows, nullptr);
        expect(rows == (x.allLogits ? n : 1) &&
                   swaa_session_position(x.s) == n,
               "prefill's rows (all of them, or the last) and position");
        record(x);
      }
    } else if (op < 80) {
      std::vector<int64_t> t(x.batch);
      for (int64_t &v : t)
        v = token();
      bool valid = x.started && x.tokens.size() < x.context;
      for (int64_t v : t)
        valid = valid && v >= 0 && v < vocab;
      size_t before = swaa_session_position(x.s);
      swaa_status *st = swaa_session_decode(x.s, t.data());
      expect(valid == (st == nullptr),
             std::string("decode: ") + swaa_status_message(st));
      if (st) {
        ++rejectedCalls;
        expect(swaa_session_position(x.s) == before,
               "a rejected decode keeps the position");
        swaa_status_free(st);
      } else {
        x.tokens.push_back(t[0]);
        expect(swaa_session_position(x.s) == x.tokens.size(),
               "decode's position");
        record(x);
      }
    } else if (op < 85) {
      swaa_session_reset(x.s);
      x.started = false;
      x.tokens.clear();
      expect(swaa_session_position(x.s) == 0, "reset");
    } else if (op < 90) {
      swaa_session_set_profiling(x.s, (int)pick(2));
      swaa_profile prof;
      swaa_session_profile(x.s, &prof);
      expect(prof.attention >= 0 && prof.matmul >= 0, "profile");
      expect(swaa_session_kv_cache_bytes(x.s) > 0 ||
                 swaa_model_num_layers(models[0]) == 0 ||
                 !swaa_model_has_decode(models[0]),
             "kv cache bytes");
    } else if (op < 95) {
      // Null arguments: statuses, never crashes.
      int64_t t = 1;
      expect(take(swaa_session_prefill(nullptr, &t, 1)) != "ok", "null s");
      expect(take(swaa_session_decode(x.s, nullptr)) != "ok", "null tokens");
      expect(take(swaa_session_create(nullptr, nullptr, nullptr)) != "ok",
             "null create");
      rejectedCalls += 3;
    } else if (op < 98 && models.size() < 3) {
      models.push_back(load(dir)); // a second load of the same artifact
    } else if (models.size() > 1) {
      // Free a model whose sessions live on.
      size_t i = pick(models.size());
      swaa_model_free(models[i]);
      models.erase(models.begin() + (long)i);
    }
  }
  for (Session &x : sessions)
    swaa_session_free(x.s);
  for (swaa_model *m : models)
    swaa_model_free(m);
  std::printf("property: seed %u, %u calls (%u rejected), %u sequences, %u "
              "repeated sequences agree (largest difference %.2g): %s\n",
              seed, calls, rejectedCalls, (unsigned)seen.size(), checked, worst,
              failures ? "FAILED" : "ok");
  return failures != 0 || checked == 0;
}
} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "lifetime" && argc == 3)
    return lifetime(argv[2]);
  if (mode == "context" && (argc == 4 || argc == 5))
    return context(argv[2], argv[3], argc == 5 ? argv[4] : nullptr);
  if (mode == "rejected" && argc == 3)
    return rejected(argv[2]);
  if (mode == "reload" && argc == 6 && std::string(argv[4]) == "--")
    return reload(argv[2], argv[3], argv[5]);
  if (mode == "property" && argc == 5)
    return property(argv[2], (unsigned)std::atoi(argv[3]),
                    (unsigned)std::atoi(argv[4]));
  std::fprintf(stderr, "usage: swaa-api-check lifetime|context|rejected|reload|"
                       "property ... (see api_check.cpp)\n");
  return 2;
}
