// txdir-publish-bench: how long Repository::Publish takes for the Simple
// dashboard's 11 SDN tables, and how many fsync-family calls it makes.
//
//   txdir-publish-bench [--publishes N] [--rows K] [--dir PARENT] [--json FILE] [--quick]
//
// In one process: init a repository in a temporary directory under PARENT
// (default $TMPDIR or /tmp), generate the dashboard (tools/sample_dashboard)
// into a source directory, publish it once (generation 1, not measured), then
//   case "all 11 changed": N times, regenerate every table (next run) and publish;
//   case "1 of 11 changed": N times, rewrite one table (rotating) and publish.
// Only the Publish call is timed. The fsync/fdatasync/syncfs calls are
// counted by an Env wrapper given to the repository, so every call txdir and
// its git object backend make is seen.
//
// After each publish the new generation's file list is compared with the
// previous one: exactly 11 (resp. 1) files must have a new blob. --quick runs
// 5 publishes per case and also checks every published byte (through a
// Snapshot and through the store); it is the CI smoke test and never checks
// times. Build in Release for real figures.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/env.h"
#include "txdir/repository.h"

#ifndef TXDIR_BUILD_TYPE
#define TXDIR_BUILD_TYPE "unknown"
#endif

namespace {

namespace fs = std::filesystem;
namespace sample = txdir::sample;
using txdir::bench::FsName;
using txdir::bench::Quantile;
using txdir::bench::RemoveTree;

class CountingEnv : public txdir::EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  txdir::Status Fsync(int fd) override {
    ++fsync;
    return EnvWrapper::Fsync(fd);
  }
  txdir::Status Fdatasync(int fd) override {
    ++fdatasync;
    return EnvWrapper::Fdatasync(fd);
  }
  txdir::Status Syncfs(int fd) override {
    ++syncfs;
    return EnvWrapper::Syncfs(fd);
  }
  std::atomic<uint64_t> fsync{0}, fdatasync{0}, syncfs{0};
};

struct SyncCounts {
  uint64_t fsync = 0, fdatasync = 0, syncfs = 0;
};

SyncCounts Read(const CountingEnv& e) {
  return {e.fsync.load(), e.fdatasync.load(), e.syncfs.load()};
}

struct CaseResult {
  std::string name;
  std::vector<double> ms;  // one per publish
  std::vector<SyncCounts> syncs;
};

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

struct Bench {
  std::string src;  // the dashboard generator's output directory
  std::unique_ptr<txdir::Repository> repo;
  CountingEnv* env = nullptr;
  bool verify_bytes = false;
  int failures = 0;
  // What the source holds now, by file name.
  std::map<std::string, std::string> expected;
  uint64_t last_gen = 0;

  // Failed writes to stderr have nowhere to be reported; the exit code is.
  void Fail(const std::string& what) {
    (void)std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }

  void WriteTable(size_t t, const sample::Options& o) {
    std::string content = sample::RenderTable(t, o), err;
    if (!sample::WriteFile(src + "/" + sample::FileName(t), content, &err)) {
      (void)std::fprintf(stderr, "txdir-publish-bench: %s\n", err.c_str());
      (void)std::fflush(nullptr);
      std::_Exit(1);  // not exit(), which is not thread-safe
    }
    expected[sample::FileName(t)] = std::move(content);
  }

  // Publishes the source; returns the milliseconds Publish took.
  double PublishOnce(const std::string& message, size_t expect_changed, SyncCounts* syncs) {
    SyncCounts before = Read(*env);
    auto t0 = std::chrono::steady_clock::now();
    auto gen = repo->Publish(src, txdir::PublishOptions{.message = message});
    auto t1 = std::chrono::steady_clock::now();
    SyncCounts after = Read(*env);
    if (!gen) {
      (void)std::fprintf(stderr, "txdir-publish-bench: publish failed: %s\n",
                         gen.error().ToString().c_str());
      (void)std::fflush(nullptr);
      std::_Exit(1);  // not exit(), which is not thread-safe
    }
    if (syncs)
      *syncs = {after.fsync - before.fsync, after.fdatasync - before.fdatasync,
                after.syncfs - before.syncfs};
    Check(gen->number, expect_changed);
    last_gen = gen->number;
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
  }

  void Check(uint64_t gen, size_t expect_changed) {
    std::string where = "generation " + std::to_string(gen);
    if (gen != last_gen + 1) Fail(where + ": expected generation " + std::to_string(last_gen + 1));
    auto files = repo->ListFiles(gen);
    if (!files) return Fail(where + ": ListFiles: " + files.error().ToString());
    if (files->size() != sample::kTableCount)
      Fail(where + ": " + std::to_string(files->size()) + " files, expected 11");
    if (last_gen > 0 && expect_changed > 0) {
      auto prev = repo->ListFiles(last_gen);
      if (!prev) return Fail(where + ": ListFiles(prev): " + prev.error().ToString());
      std::map<std::string, std::string> old;
      for (const auto& f : *prev) old[f.path] = f.blob;
      size_t changed = 0;
      for (const auto& f : *files) changed += old[f.path] != f.blob;
      if (changed != expect_changed)
        Fail(where + ": " + std::to_string(changed) + " files changed, expected " +
             std::to_string(expect_changed));
    }
    if (!verify_bytes) return;
    auto snap = repo->OpenSnapshot();
    if (!snap) return Fail(where + ": OpenSnapshot: " + snap.error().ToString());
    if (snap->generation() != gen)
      Fail(where + ": live generation is " + std::to_string(snap->generation()));
    auto names = snap->ListFiles();
    if (!names) return Fail(where + ": Snapshot::ListFiles: " + names.error().ToString());
    std::vector<std::string> want;
    for (const auto& [name, _] : expected) want.push_back(name);
    if (*names != want) Fail(where + ": live file list differs from the source");
    for (const auto& [name, content] : expected) {
      auto live = snap->ReadFile(name);
      if (!live || *live != content) Fail(where + ": live " + name + " differs from the source");
      auto stored = repo->ReadFile(gen, name);
      if (!stored || *stored != content)
        Fail(where + ": stored " + name + " differs from the source");
    }
  }
};

void PrintTable(const std::vector<CaseResult>& cases) {
  std::printf("%-18s %6s %10s %9s %9s %9s %14s\n", "case", "count", "median ms", "p10 ms", "p90 ms",
              "mean ms", "fsync/publish");
  for (const auto& c : cases) {
    double fsyncs = 0;
    for (const auto& s : c.syncs) fsyncs += static_cast<double>(s.fsync + s.fdatasync + s.syncfs);
    fsyncs /= std::max<size_t>(1, c.syncs.size());
    std::printf("%-18s %6zu %10.3f %9.3f %9.3f %9.3f %14.1f\n", c.name.c_str(), c.ms.size(),
                Quantile(c.ms, 0.5), Quantile(c.ms, 0.1), Quantile(c.ms, 0.9), Mean(c.ms), fsyncs);
  }
}

nlohmann::json CaseJson(const CaseResult& c) {
  auto per = [&](uint64_t SyncCounts::*m) {
    double s = 0;
    for (const auto& x : c.syncs) s += static_cast<double>(x.*m);
    return s / static_cast<double>(std::max<size_t>(1, c.syncs.size()));
  };
  return {{"case", c.name},
          {"count", c.ms.size()},
          {"median_ms", Quantile(c.ms, 0.5)},
          {"p10_ms", Quantile(c.ms, 0.1)},
          {"p90_ms", Quantile(c.ms, 0.9)},
          {"mean_ms", Mean(c.ms)},
          {"min_ms", c.ms.empty() ? 0 : *std::min_element(c.ms.begin(), c.ms.end())},
          {"max_ms", c.ms.empty() ? 0 : *std::max_element(c.ms.begin(), c.ms.end())},
          {"fsync_per_publish", per(&SyncCounts::fsync)},
          {"fdatasync_per_publish", per(&SyncCounts::fdatasync)},
          {"syncfs_per_publish", per(&SyncCounts::syncfs)}};
}

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-publish-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Benchmark Repository::Publish on the Simple dashboard's 11 SDN tables";
  size_t publishes = 200;
  size_t rows = sample::kDefaultRows;
  uint64_t seed = 1;
  std::string parent, json_file;
  bool quick = false, keep = false;
  app.Add("--publishes", &publishes, "Measured publishes per case")
      .Range(1, std::numeric_limits<int>::max())
      .ShowDefault();
  app.Add("--rows", &rows, "Rows scale of the generated tables").Range(4, 1000000).ShowDefault();
  app.Add("--seed", &seed, "Seed of the generated tables").ShowDefault();
  app.Add("--dir", &parent, "Parent of the temporary repository (default $TMPDIR or /tmp)");
  app.Add("--json", &json_file, "Also write the figures as JSON to FILE");
  app.Flag("--quick", &quick,
           "Smoke test: 5 publishes per case, check every published byte, no timing claims");
  app.Flag("--keep", &keep, "Keep the temporary repository");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;
  if (quick) publishes = 5;

  if (parent.empty()) {
    const char* t = std::getenv("TMPDIR");
    parent = t && *t ? t : "/tmp";
  }
  std::string tmpl = parent + "/txdir-bench.XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::perror(("txdir-publish-bench: mkdtemp " + tmpl).c_str());
    return 1;
  }
  const std::string work = tmpl;

  CountingEnv env;
  Bench b;
  b.env = &env;
  b.verify_bytes = quick;
  b.src = work + "/src";
  {
    auto repo = txdir::Repository::Init(work + "/repo", txdir::InitOptions{.env = &env});
    if (!repo) {
      (void)std::fprintf(stderr, "txdir-publish-bench: init: %s\n",
                         repo.error().ToString().c_str());
      return 1;
    }
    // Publish through a repository opened as a writer would open it.
    repo->reset();
    auto opened = txdir::Repository::Open(work + "/repo", txdir::OpenOptions{.env = &env});
    if (!opened) {
      (void)std::fprintf(stderr, "txdir-publish-bench: open: %s\n",
                         opened.error().ToString().c_str());
      return 1;
    }
    b.repo = std::move(*opened);
  }

  sample::Options o{.seed = seed, .run = 1, .rows = rows};
  fs::create_directories(b.src);
  for (size_t t = 0; t < sample::kTableCount; ++t) b.WriteTable(t, o);
  size_t bytes = 0;
  for (const auto& [_, c] : b.expected) bytes += c.size();

  std::printf(
      "txdir-publish-bench: %zu publishes per case, 11 SDN tables, %zu bytes (rows %zu, "
      "seed %llu)\n",
      publishes, bytes, rows, static_cast<unsigned long long>(seed));
  std::printf("repository: %s (%s); build type: %s%s\n", (work + "/repo").c_str(),
              FsName(work).c_str(), TXDIR_BUILD_TYPE, quick ? "; --quick: smoke test" : "");
  if (!quick && std::string(TXDIR_BUILD_TYPE) != "Release")
    std::printf(
        "note: not a Release build; build with -DCMAKE_BUILD_TYPE=Release for real "
        "figures\n");

  // Generation 1: the first publish of the dashboard (not measured).
  b.PublishOnce("dashboard run 1", 0, nullptr);

  std::vector<CaseResult> cases(2);
  cases[0].name = "all 11 changed";
  for (size_t i = 0; i < publishes; ++i) {
    ++o.run;
    for (size_t t = 0; t < sample::kTableCount; ++t) b.WriteTable(t, o);
    SyncCounts s;
    cases[0].ms.push_back(
        b.PublishOnce("dashboard run " + std::to_string(o.run), sample::kTableCount, &s));
    cases[0].syncs.push_back(s);
  }
  cases[1].name = "1 of 11 changed";
  for (size_t i = 0; i < publishes; ++i) {
    // A later run of one table: its timestamps always differ from the last.
    ++o.run;
    size_t t = i % sample::kTableCount;
    b.WriteTable(t, o);
    SyncCounts s;
    cases[1].ms.push_back(b.PublishOnce(
        "run " + std::to_string(o.run) + ": " + sample::FileName(t) + " only", 1, &s));
    cases[1].syncs.push_back(s);
  }

  std::printf("\n");
  PrintTable(cases);
  std::printf("\nfsync-family calls per publish (fsync + fdatasync + syncfs), by case:\n");
  for (const auto& c : cases) {
    uint64_t lo = UINT64_MAX, hi = 0, f = 0, d = 0, s = 0;
    for (const auto& x : c.syncs) {
      uint64_t total = x.fsync + x.fdatasync + x.syncfs;
      lo = std::min(lo, total);
      hi = std::max(hi, total);
      f += x.fsync;
      d += x.fdatasync;
      s += x.syncfs;
    }
    size_t n = std::max<size_t>(1, c.syncs.size());
    std::printf("  %-16s fsync %.1f, fdatasync %.1f, syncfs %.1f (min %llu, max %llu)\n",
                c.name.c_str(), static_cast<double>(f) / n, static_cast<double>(d) / n,
                static_cast<double>(s) / n, static_cast<unsigned long long>(lo),
                static_cast<unsigned long long>(hi));
  }

  if (!json_file.empty()) {
    nlohmann::json j = {{"publishes_per_case", publishes},
                        {"files", sample::kTableCount},
                        {"bytes", bytes},
                        {"rows", rows},
                        {"seed", seed},
                        {"filesystem", FsName(work)},
                        {"build_type", TXDIR_BUILD_TYPE},
                        {"quick", quick},
                        {"cases", {CaseJson(cases[0]), CaseJson(cases[1])}}};
    std::ofstream out(json_file);
    out << j.dump(2) << "\n";
    if (!out) {
      (void)std::fprintf(stderr, "txdir-publish-bench: cannot write %s\n", json_file.c_str());
      return 1;
    }
  }

  b.repo.reset();
  if (keep)
    std::printf("\nkept %s\n", work.c_str());
  else
    RemoveTree(work);
  if (b.failures) {
    std::printf("\n%d check(s) FAILED\n", b.failures);
    return 1;
  }
  std::printf("\nchecks: %zu generations verified%s\n", 1 + 2 * publishes,
              quick ? " (file lists, changed blobs, every byte live and stored)"
                    : " (file lists, changed blobs)");
  return 0;
}
