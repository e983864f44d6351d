// txdir-compare-bench: txdir against what users do today, side by side, in
// one process, one run, on the same generated data (issue 6).
//
//   txdir-compare-bench [--iters N] [--files N] [--big-iters N] [--dir PARENT]
//                       [--json FILE] [--skip-big] [--skip-git] [--quick]
//
// Cases (every one writes the Simple dashboard's 11 SDN tables, ~180 KB,
// tools/sample_dashboard, run R+1 replacing run R):
//   a  txdir Publish, all 11 changed         b  txdir Publish, 1 of 11 changed
//   c  baselines on the same file system: in-place (O_TRUNC) writes; in-place
//      + fsync; temp + fsync + rename per file + dir fsync; a new directory
//      (files fsynced, dir fsynced) + symlink swap + fsync of the link's dir;
//      raw libgit2 blobs + tree + commit (GIT_OPT_ENABLE_FSYNC_GITDIR);
//      SQLite WAL synchronous=FULL, one transaction of 11 blobs
//   d  11 ReadFile of a snapshot (from a LiveReader, and from a one-shot
//      Snapshot::OpenLive) against open/read/close of 11 files
//   e  a tree of --files small files (100 B - 2 KB, 3 directory levels):
//      first publish (in a child process: peak RSS), 1-file publish from the
//      source directory and through Begin/Write/Commit; git CLI first commit
//      and 1-file commit of the same tree
// fsync/fdatasync/syncfs per operation: txdir through a counting Env; the
// file baselines count their own calls; libgit2, SQLite and the git CLI are
// counted with `strace -f -c` on a child process (when strace exists).
//
// --quick: small sizes, few iterations, checks results (published bytes,
// reads equal, commits present) and never times; the CI smoke test.
// Only ratios measured in the same run mean anything: the machine is shared.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "store/bench/libgit2_publish.h"
#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/env.h"
#include "txdir/repository.h"
#include "txdir/snapshot.h"
#include "txdir/transaction.h"

#ifndef TXDIR_BUILD_TYPE
#define TXDIR_BUILD_TYPE "unknown"
#endif

namespace {

namespace fs = std::filesystem;
namespace sample = txdir::sample;
using txdir::bench::ChildOk;
using txdir::bench::FsName;
using txdir::bench::Quantile;
using txdir::bench::RemoveTree;
using txdir::bench::RunChild;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

int g_failures = 0;
// A failed write to stderr has nowhere to be reported; the exit code is.
void Fail(const std::string& what) {
  (void)std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  ++g_failures;
}
[[noreturn]] void Die(const std::string& what) {
  (void)std::fprintf(stderr, "txdir-compare-bench: %s\n", what.c_str());
  // _Exit after flushing, not exit, which is not thread-safe (it runs the
  // atexit handlers and static destructors).
  (void)std::fflush(nullptr);
  std::_Exit(1);
}
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Counts the sync calls and, for the cost breakdown, every other call.
class CountingEnv : public txdir::EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(txdir::Env::Default()) {}
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
  txdir::Result<txdir::Fd> OpenAt(int d, const std::string& p, int f, mode_t m) override {
    ++ops["open"];
    return EnvWrapper::OpenAt(d, p, f, m);
  }
  txdir::Result<size_t> Read(int fd, void* b, size_t n) override {
    ++ops["read"];
    return EnvWrapper::Read(fd, b, n);
  }
  txdir::Status Write(int fd, const void* b, size_t n) override {
    ++ops["write"];
    return EnvWrapper::Write(fd, b, n);
  }
  txdir::Result<struct stat> Fstat(int fd) override {
    ++ops["fstat"];
    return EnvWrapper::Fstat(fd);
  }
  txdir::Result<struct stat> StatAt(int d, const std::string& p, bool f) override {
    ++ops["stat"];
    return EnvWrapper::StatAt(d, p, f);
  }
  txdir::Status MkdirAt(int d, const std::string& p, mode_t m) override {
    ++ops["mkdir"];
    return EnvWrapper::MkdirAt(d, p, m);
  }
  txdir::Status RenameAt(int a, const std::string& x, int b, const std::string& y) override {
    ++ops["rename"];
    return EnvWrapper::RenameAt(a, x, b, y);
  }
  txdir::Status LinkAt(int a, const std::string& x, int b, const std::string& y) override {
    ++ops["link"];
    return EnvWrapper::LinkAt(a, x, b, y);
  }
  txdir::Status Fchmod(int fd, mode_t m) override {
    ++ops["fchmod"];
    return EnvWrapper::Fchmod(fd, m);
  }
  txdir::Result<std::vector<txdir::DirEntry>> ListDir(int fd) override {
    ++ops["listdir"];
    return EnvWrapper::ListDir(fd);
  }
  std::atomic<uint64_t> fsync{0}, fdatasync{0}, syncfs{0};
  std::map<std::string, uint64_t> ops;
};

struct Syncs {
  double fsync = 0, fdatasync = 0, syncfs = 0;
  double total() const { return fsync + fdatasync + syncfs; }
};
Syncs Snap(const CountingEnv& e) {
  return {double(e.fsync.load()), double(e.fdatasync.load()), double(e.syncfs.load())};
}
Syncs Minus(const Syncs& a, const Syncs& b) {
  return {a.fsync - b.fsync, a.fdatasync - b.fdatasync, a.syncfs - b.syncfs};
}

struct Case {
  std::string id, name;
  std::vector<double> ms;
  Syncs syncs;  // per operation
  bool counted = true;
  std::string note;                   // how the syncs were counted
  std::map<std::string, double> ops;  // Env calls per operation (txdir cases)
  long peak_rss_kb = 0;
};

double Median(const Case& c) { return Quantile(c.ms, 0.5); }

// --- plain POSIX helpers for the baselines (each counts its own fsyncs) ---
int g_fsyncs = 0;
void Check(bool ok, const std::string& what) {
  if (!ok) Die(what + ": " + ::strerrordesc_np(errno));
}
void WriteAllFd(int fd, const std::string& data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    Check(n > 0, "write " + what);
    off += size_t(n);
  }
}
void FsyncFd(int fd, const std::string& what) {
  Check(::fsync(fd) == 0, "fsync " + what);
  ++g_fsyncs;
}
void FsyncPath(const std::string& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  Check(fd >= 0, "open " + p);
  FsyncFd(fd, p);
  ::close(fd);
}
void PutFile(const std::string& path, const std::string& data, bool sync, int flags = O_TRUNC) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
  Check(fd >= 0, "open " + path);
  WriteAllFd(fd, data, path);
  if (sync) FsyncFd(fd, path);
  ::close(fd);
}
std::string GetFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  Check(fd >= 0, "open " + path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    Check(n >= 0, "read " + path);
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

using Dashboard = std::vector<sample::File>;

// --- libgit2 and SQLite baselines (also run alone in a child under strace) ---
// Commits each dashboard in turn to a fresh bare repository; returns ms each.
// The libgit2 calls are store/bench/libgit2_publish.h (store/ is the only
// code that calls libgit2); what is timed is one Publish: blobs, tree,
// commit.
std::vector<double> RunLibgit2(const std::string& dir, const std::vector<Dashboard>& runs,
                               bool verify) {
  namespace baseline = txdir::store::bench;
  auto publisher = baseline::Libgit2Publisher::Create(dir);
  if (!publisher) Die(publisher.error().ToString());
  std::vector<double> ms;
  std::vector<baseline::BaselineFile> files;
  for (const auto& run : runs) {
    files.clear();  // views of `run`, built before the clock starts
    for (const auto& f : run) files.push_back({f.name.c_str(), f.content});
    auto t0 = Clock::now();
    auto published = (*publisher)->Publish(files);
    ms.push_back(Ms(t0, Clock::now()));
    if (!published) Die(published.error().ToString());
    if (verify) {
      auto got = (*publisher)->ReadHeadFile(run[0].name);
      if (!got) Die(got.error().ToString());
      if (*got != run[0].content) Fail("libgit2 baseline: HEAD content differs");
    }
  }
  return ms;
}

void SqlCheck(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    Die(std::string(what) + ": " + sqlite3_errmsg(db));
}

std::vector<double> RunSqlite(const std::string& path, const std::vector<Dashboard>& runs,
                              bool verify) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("sqlite3_open " + path);
  SqlCheck(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), "wal");
  SqlCheck(db, sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr), "sync");
  SqlCheck(db,
           sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS files(name TEXT PRIMARY KEY, data BLOB)",
                        nullptr, nullptr, nullptr),
           "create");
  sqlite3_stmt* put = nullptr;
  SqlCheck(db,
           sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO files(name, data) VALUES(?, ?)", -1, &put,
                              nullptr),
           "prepare");
  std::vector<double> ms;
  for (const auto& run : runs) {
    auto t0 = Clock::now();
    SqlCheck(db, sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), "begin");
    for (const auto& f : run) {
      sqlite3_bind_text(put, 1, f.name.data(), int(f.name.size()), SQLITE_STATIC);
      sqlite3_bind_blob(put, 2, f.content.data(), int(f.content.size()), SQLITE_STATIC);
      SqlCheck(db, sqlite3_step(put), "insert");
      sqlite3_reset(put);
    }
    SqlCheck(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
    ms.push_back(Ms(t0, Clock::now()));
  }
  sqlite3_finalize(put);
  if (verify && !runs.empty()) {
    sqlite3_stmt* get = nullptr;
    SqlCheck(db, sqlite3_prepare_v2(db, "SELECT data FROM files WHERE name=?", -1, &get, nullptr),
             "prepare");
    for (const auto& f : runs.back()) {
      sqlite3_bind_text(get, 1, f.name.data(), int(f.name.size()), SQLITE_STATIC);
      if (sqlite3_step(get) != SQLITE_ROW) {
        Fail("sqlite baseline: row missing");
      } else {
        std::string got(static_cast<const char*>(sqlite3_column_blob(get, 0)),
                        size_t(sqlite3_column_bytes(get, 0)));
        if (got != f.content) Fail("sqlite baseline: content differs");
      }
      sqlite3_reset(get);
    }
    sqlite3_finalize(get);
  }
  sqlite3_close(db);
  return ms;
}

// --- child processes -------------------------------------------------------
std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

bool HaveStrace() { return ::access("/usr/bin/strace", X_OK) == 0; }

// `strace -f -c` of argv, counting the fsync family; nullopt when unavailable.
std::optional<Syncs> StraceCount(const std::vector<std::string>& argv, const std::string& cwd,
                                 const std::string& tmp_out) {
  if (!HaveStrace()) return std::nullopt;
  std::vector<std::string> full = {
      "strace", "-f", "-c", "-o", tmp_out, "-e", "trace=fsync,fdatasync,syncfs"};
  full.insert(full.end(), argv.begin(), argv.end());
  auto r = RunChild(full, cwd, /*quiet_stderr=*/true);
  if (!ChildOk(r)) return std::nullopt;
  std::ifstream in(tmp_out);
  Syncs s;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> cols;
    for (std::string w; ls >> w;) cols.push_back(w);
    if (cols.size() < 5) continue;
    const std::string& name = cols.back();
    // columns: % time, seconds, usecs/call, calls, [errors,] syscall
    double calls = std::atof(cols[3].c_str());
    if (name == "fsync") s.fsync = calls;
    if (name == "fdatasync") s.fdatasync = calls;
    if (name == "syncfs") s.syncfs = calls;
  }
  return s;
}

// --- the big tree ---------------------------------------------------------
std::string BigContent(size_t i, uint64_t version) {
  std::mt19937_64 rng(i * 1000003 + version * 7919 + 17);
  size_t len = 100 + rng() % 1900;
  std::string s;
  s.reserve(len);
  static const char kAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789 ,.|\n";
  while (s.size() < len) s.push_back(kAlpha[rng() % (sizeof kAlpha - 1)]);
  return s;
}
// Three directory levels, ~100 files per leaf directory.
std::string BigPath(size_t i, size_t n) {
  size_t leaves = std::max<size_t>(1, n / 100);
  size_t fan = std::max<size_t>(2, size_t(std::ceil(std::cbrt(double(leaves)))));
  size_t leaf = i % leaves;
  char buf[96];
  const int len = std::snprintf(buf, sizeof buf, "d%02zu/e%02zu/f%02zu/file%06zu.txt",
                                leaf / (fan * fan) % fan, leaf / fan % fan, leaf % fan, i);
  if (len < 0 || static_cast<size_t>(len) >= sizeof buf) Die("BigPath: cannot format");
  return std::string(buf, static_cast<size_t>(len));
}
void WriteBigTree(const std::string& root, size_t n) {
  std::set<std::string> made;
  for (size_t i = 0; i < n; ++i) {
    std::string rel = BigPath(i, n);
    std::string dir = root + "/" + rel.substr(0, rel.rfind('/'));
    if (made.insert(dir).second) fs::create_directories(dir);
    PutFile(root + "/" + rel, BigContent(i, 0), false);
  }
}

uint64_t DirBytes(const std::string& root) {
  uint64_t b = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) b += uint64_t(st.st_blocks) * 512;
  }
  return b;
}

// Child mode: the first publish of the big tree, alone in a process (peak RSS).
int FirstPublishChild(const std::string& src, const std::string& root) {
  CountingEnv env;
  auto init = txdir::Repository::Init(root, txdir::InitOptions{.env = &env});
  if (!init) Die("init: " + init.error().ToString());
  init->reset();
  auto repo = txdir::Repository::Open(root, txdir::OpenOptions{.env = &env});
  if (!repo) Die("open: " + repo.error().ToString());
  Syncs before = Snap(env);
  auto t0 = Clock::now();
  auto gen = (*repo)->Publish(src, txdir::PublishOptions{.message = "first"});
  double ms = Ms(t0, Clock::now());
  if (!gen) Die("publish: " + gen.error().ToString());
  Syncs s = Minus(Snap(env), before);
  json j = {{"ms", ms},
            {"generation", gen->number},
            {"fsync", s.fsync},
            {"fdatasync", s.fdatasync},
            {"syncfs", s.syncfs}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

// Child mode: one baseline alone (for strace -c).
int BaselineChild(const std::string& which, const std::string& dir, size_t iters, size_t rows) {
  std::vector<Dashboard> runs;
  for (size_t r = 0; r < iters; ++r)
    runs.push_back(sample::RenderDashboard({.seed = 1, .run = 100 + r, .rows = rows}));
  const txdir::store::bench::Libgit2Scope libgit2;
  if (which == "libgit2") RunLibgit2(dir, runs, false);
  if (which == "sqlite") RunSqlite(dir, runs, false);
  return 0;
}

// --- output ---------------------------------------------------------------
void PrintCases(const std::vector<Case>& cases) {
  std::printf("%-4s %-52s %6s %10s %9s %9s %8s %8s %8s\n", "id", "case", "count", "median ms",
              "p10 ms", "p90 ms", "fsync", "fdatasyn", "syncfs");
  for (const auto& c : cases) {
    auto count = [&](double v) {
      if (!c.counted) return std::string("n/c");
      std::ostringstream s;
      s << std::fixed << std::setprecision(1) << v;
      return s.str();
    };
    const std::string f[3] = {count(c.syncs.fsync), count(c.syncs.fdatasync),
                              count(c.syncs.syncfs)};
    std::printf("%-4s %-52s %6zu %10.3f %9.3f %9.3f %8s %8s %8s\n", c.id.c_str(), c.name.c_str(),
                c.ms.size(), Median(c), Quantile(c.ms, 0.1), Quantile(c.ms, 0.9), f[0].c_str(),
                f[1].c_str(), f[2].c_str());
  }
}

json CaseJson(const Case& c) {
  json j = {{"id", c.id},
            {"case", c.name},
            {"count", c.ms.size()},
            {"median_ms", Median(c)},
            {"p10_ms", Quantile(c.ms, 0.1)},
            {"p90_ms", Quantile(c.ms, 0.9)},
            {"samples_ms", c.ms},
            {"syncs_counted", c.counted},
            {"sync_count_method", c.note}};
  if (c.counted) {
    j["fsync_per_op"] = c.syncs.fsync;
    j["fdatasync_per_op"] = c.syncs.fdatasync;
    j["syncfs_per_op"] = c.syncs.syncfs;
  }
  if (!c.ops.empty()) j["env_calls_per_op"] = c.ops;
  if (c.peak_rss_kb) j["peak_rss_kb"] = c.peak_rss_kb;
  return j;
}

struct Options {
  size_t iters = 50, big_iters = 5, files = 100000, rows = sample::kDefaultRows;
  std::string parent, json_file;
  bool quick = false, skip_big = false, skip_git = false, keep = false;
};

// Publishes with Env counting; returns ms, fills per-op sync and call counts.
template <typename F>
double Timed(CountingEnv& env, Case& c, F&& f,
             std::map<std::string, uint64_t>* ops_delta = nullptr) {
  Syncs before = Snap(env);
  auto ops_before = env.ops;
  auto t0 = Clock::now();
  f();
  double ms = Ms(t0, Clock::now());
  Syncs d = Minus(Snap(env), before);
  c.syncs.fsync += d.fsync;
  c.syncs.fdatasync += d.fdatasync;
  c.syncs.syncfs += d.syncfs;
  for (const auto& [k, v] : env.ops) c.ops[k] += double(v - ops_before[k]);
  (void)ops_delta;
  c.ms.push_back(ms);
  return ms;
}
void PerOp(Case& c) {
  double n = double(std::max<size_t>(1, c.ms.size()));
  c.syncs = {c.syncs.fsync / n, c.syncs.fdatasync / n, c.syncs.syncfs / n};
  for (auto& [k, v] : c.ops) v /= n;
}

std::unique_ptr<txdir::Repository> OpenRepo(const std::string& root, CountingEnv* env, bool init) {
  if (init) {
    auto r = txdir::Repository::Init(root, txdir::InitOptions{.env = env});
    if (!r) Die("init " + root + ": " + r.error().ToString());
  }
  auto r = txdir::Repository::Open(root, txdir::OpenOptions{.env = env});
  if (!r) Die("open " + root + ": " + r.error().ToString());
  return std::move(*r);
}

void VerifyLive(txdir::Repository& repo, const std::map<std::string, std::string>& want,
                const std::string& what) {
  auto snap = repo.OpenSnapshot();
  if (!snap) return Fail(what + ": OpenSnapshot: " + snap.error().ToString());
  for (const auto& [name, content] : want) {
    auto got = snap->ReadFile(name);
    if (!got || *got != content) Fail(what + ": live " + name + " differs");
  }
}

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-compare-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "txdir against the alternatives, side by side";
  Options o;
  std::string child_mode, child_a, child_b;
  size_t child_iters = 0;
  app.Add("--iters", &o.iters, "Measured operations per 11-file case").ShowDefault();
  app.Add("--files", &o.files, "Files in the big tree (e)").ShowDefault();
  app.Add("--big-iters", &o.big_iters, "1-file changes measured in the big tree").ShowDefault();
  app.Add("--rows", &o.rows, "Rows scale of the dashboard tables").ShowDefault();
  app.Add("--dir", &o.parent, "Parent of the work directory (default $TMPDIR or /tmp)");
  app.Add("--json", &o.json_file, "Also write every figure as JSON to FILE");
  app.Flag("--skip-big", &o.skip_big, "Skip the big tree (e)");
  app.Flag("--skip-git", &o.skip_git, "Skip the git CLI in (e)");
  app.Flag("--keep", &o.keep, "Keep the work directory");
  app.Flag("--quick", &o.quick, "Smoke test: small sizes, checks results, no timing claims");
  app.Add("--child", &child_mode, "(internal)").Hidden();
  app.Add("--child-a", &child_a, "(internal)").Hidden();
  app.Add("--child-b", &child_b, "(internal)").Hidden();
  app.Add("--child-iters", &child_iters, "(internal)").Hidden();
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;

  if (child_mode == "first-publish") return FirstPublishChild(child_a, child_b);
  if (child_mode == "libgit2" || child_mode == "sqlite")
    return BaselineChild(child_mode, child_a, child_iters, o.rows);
  if (!child_mode.empty()) Die("unknown --child " + child_mode);

  if (o.quick) {
    o.iters = 4;
    o.big_iters = 2;
    o.files = 300;
  }
  if (o.parent.empty()) {
    const char* t = std::getenv("TMPDIR");
    o.parent = t && *t ? t : "/tmp";
  }
  std::string tmpl = o.parent + "/txdir-compare.XXXXXX";
  Check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp " + tmpl);
  const std::string work = tmpl;
  const std::string self = SelfExe();
  // Shut down when main returns, after everything declared below (`repo`).
  const txdir::store::bench::Libgit2Scope libgit2;

  // The dashboard runs: run 1 is the base; runs 2.. are the measured ones.
  const size_t n_runs = o.iters + 1;
  std::vector<Dashboard> runs;
  for (size_t r = 0; r < n_runs; ++r)
    runs.push_back(sample::RenderDashboard({.seed = 1, .run = 1 + r, .rows = o.rows}));
  size_t bytes = 0;
  for (const auto& f : runs[0]) bytes += f.content.size();
  std::printf("txdir-compare-bench: %zu ops per case; 11 SDN tables, %zu bytes; big tree %s\n",
              o.iters, bytes,
              o.skip_big ? "skipped" : (std::to_string(o.files) + " files").c_str());
  std::printf("work dir: %s (%s); build type: %s%s\n", work.c_str(), FsName(work).c_str(),
              TXDIR_BUILD_TYPE, o.quick ? "; --quick: smoke test, times mean nothing" : "");
  const char* sync_env = std::getenv("TXDIR_SYNC");
  std::printf("txdir sync mode: %s\n",
              sync_env && *sync_env ? sync_env : "config (default syncfs)");

  std::vector<Case> cases;
  cases.reserve(64);  // references to cases stay valid
  auto add = [&](std::string id, std::string name) -> Case& {
    cases.push_back(Case{std::move(id), std::move(name)});
    return cases.back();
  };

  // ---- (a), (b): txdir Publish ----
  CountingEnv env;
  const std::string src = work + "/src";
  fs::create_directories(src);
  auto repo = OpenRepo(work + "/repo", &env, true);
  std::map<std::string, std::string> current;
  auto put_src = [&](const sample::File& f) {
    PutFile(src + "/" + f.name, f.content, false);
    current[f.name] = f.content;
  };
  for (const auto& f : runs[0]) put_src(f);
  if (auto g = repo->Publish(src, {.message = "run 1"}); !g) Die(g.error().ToString());
  {
    Case& a = add("a", "txdir Publish, all 11 changed");
    a.note = "counting Env";
    for (size_t i = 1; i < n_runs; ++i) {
      for (const auto& f : runs[i]) put_src(f);
      Timed(env, a, [&] {
        if (auto g = repo->Publish(src, {.message = "all"}); !g) Die(g.error().ToString());
      });
      if (o.quick) VerifyLive(*repo, current, "(a)");
    }
    PerOp(a);
  }
  {
    Case& b = add("b", "txdir Publish, 1 of 11 changed");
    b.note = "counting Env";
    for (size_t i = 0; i < o.iters; ++i) {
      // A later run of one table (its timestamps always differ).
      sample::File f{sample::FileName(i % 11),
                     sample::RenderTable(i % 11, {.seed = 1, .run = 1000 + i, .rows = o.rows})};
      put_src(f);
      Timed(env, b, [&] {
        if (auto g = repo->Publish(src, {.message = "one"}); !g) Die(g.error().ToString());
      });
      if (o.quick) VerifyLive(*repo, current, "(b)");
    }
    PerOp(b);
  }

  // ---- (c): baselines ----
  const std::string plain = work + "/plain";
  fs::create_directories(plain);
  for (const auto& f : runs[0]) PutFile(plain + "/" + f.name, f.content, false);
  auto baseline = [&](const std::string& id, const std::string& name,
                      const std::function<void(const Dashboard&, size_t)>& op) {
    Case& c = add(id, name);
    c.note = "own calls";
    double total = 0;
    for (size_t i = 1; i < n_runs; ++i) {
      int before = g_fsyncs;
      auto t0 = Clock::now();
      op(runs[i], i);
      c.ms.push_back(Ms(t0, Clock::now()));
      total += g_fsyncs - before;
    }
    c.syncs.fsync = total / double(o.iters);
    if (o.quick) {
      // Whatever the layout, the last run's bytes must be readable.
      std::string dir = id == "c4" ? work + "/swap/current" : plain;
      for (const auto& f : runs.back())
        if (GetFile(dir + "/" + f.name) != f.content) Fail("baseline " + id + ": content differs");
    }
  };
  baseline("c1", "in-place writes (O_TRUNC), no fsync", [&](const Dashboard& d, size_t) {
    for (const auto& f : d) PutFile(plain + "/" + f.name, f.content, false);
  });
  baseline("c2", "in-place writes + fsync each", [&](const Dashboard& d, size_t) {
    for (const auto& f : d) PutFile(plain + "/" + f.name, f.content, true);
  });
  baseline("c3", "temp + fsync + rename per file, dir fsync", [&](const Dashboard& d, size_t) {
    for (const auto& f : d) {
      std::string tmp = plain + "/." + f.name + ".tmp";
      PutFile(tmp, f.content, true);
      Check(::rename(tmp.c_str(), (plain + "/" + f.name).c_str()) == 0, "rename");
    }
    FsyncPath(plain);
  });
  const std::string swap = work + "/swap";
  fs::create_directories(swap);
  baseline("c4", "new dir (files+dir fsync) + symlink swap + fsync",
           [&](const Dashboard& d, size_t i) {
             std::string name = "gen-" + std::to_string(i), dir = swap + "/" + name;
             Check(::mkdir(dir.c_str(), 0755) == 0, "mkdir " + dir);
             for (const auto& f : d) PutFile(dir + "/" + f.name, f.content, true, O_EXCL);
             FsyncPath(dir);
             std::string link = swap + "/.current.tmp";
             ::unlink(link.c_str());
             Check(::symlink(name.c_str(), link.c_str()) == 0, "symlink");
             Check(::rename(link.c_str(), (swap + "/current").c_str()) == 0, "rename link");
             FsyncPath(swap);
           });

  // libgit2 and SQLite in-process (timing); fsync counts from a strace'd child.
  auto external = [&](const std::string& id, const std::string& name, const std::string& kind,
                      const std::vector<double>& ms) {
    Case& c = add(id, name);
    c.ms = ms;
    const size_t k = 5;
    std::string dir = work + "/strace-" + kind + (kind == "sqlite" ? ".db" : "");
    auto s = StraceCount({self, "--child", kind, "--child-a", dir, "--child-iters",
                          std::to_string(k), "--rows", std::to_string(o.rows)},
                         "", work + "/strace-" + kind + ".txt");
    if (s) {
      c.syncs = {s->fsync / k, s->fdatasync / k, s->syncfs / k};
      c.note = "strace -f -c on a child, " + std::to_string(k) + " commits (includes setup)";
    } else {
      c.counted = false;
      c.note = "not counted (no strace)";
    }
  };
  {
    std::vector<Dashboard> measured(runs.begin() + 1, runs.end());
    external("c5", "libgit2 blobs+tree+commit, FSYNC_GITDIR", "libgit2",
             RunLibgit2(work + "/libgit2.git", measured, o.quick));
    external("c6", "SQLite WAL synchronous=FULL, 1 txn of 11 blobs", "sqlite",
             RunSqlite(work + "/bench.db", measured, o.quick));
  }

  // ---- (d): reads ----
  {
    const size_t reads = o.quick ? 4 : std::max<size_t>(o.iters * 4, 200);
    std::vector<std::string> names;
    for (const auto& f : runs[0]) names.push_back(f.name);
    // The plain directory holds the same bytes as the live generation.
    for (const auto& [name, content] : current) PutFile(plain + "/" + name, content, false);
    Case& d1 = add("d1", "read 11: LiveReader::OpenSnapshot + ReadFile");
    Case& d2 = add("d2", "read 11: open/read/close, plain directory");
    Case& d3 = add("d3", "read 11: Snapshot::OpenLive + ReadFile");
    d1.note = d2.note = d3.note = "none made";
    const std::string root = work + "/repo";
    auto reader = txdir::LiveReader::Open(root);
    if (!reader) Die("LiveReader::Open: " + reader.error().ToString());
    size_t sink = 0;
    auto read_all = [&](const txdir::Snapshot& snap, const char* what) {
      for (const auto& n : names) {
        auto got = snap.ReadFile(n);
        if (!got) Die(std::string(what) + " ReadFile: " + got.error().ToString());
        sink += got->size();
        if (o.quick && *got != current[n]) Fail(std::string("(d) ") + what + " read differs: " + n);
      }
    };
    const size_t first = cases.size() - 3;
    for (size_t i = 0; i < reads; ++i) {
      // Alternate so all three see the same machine state.
      auto t0 = Clock::now();
      {
        auto snap = reader->OpenSnapshot();
        if (!snap) Die("OpenSnapshot: " + snap.error().ToString());
        read_all(*snap, "reader");
      }
      auto t1 = Clock::now();
      for (const auto& n : names) {
        std::string got = GetFile(plain + "/" + n);
        sink += got.size();
        if (o.quick && got != current[n]) Fail("(d) plain read differs: " + n);
      }
      auto t2 = Clock::now();
      {
        auto snap = txdir::Snapshot::OpenLive(root);
        if (!snap) Die("OpenLive: " + snap.error().ToString());
        read_all(*snap, "OpenLive");
      }
      auto t3 = Clock::now();
      cases[first].ms.push_back(Ms(t0, t1));
      cases[first + 1].ms.push_back(Ms(t1, t2));
      cases[first + 2].ms.push_back(Ms(t2, t3));
    }
    if (sink == 0) Fail("(d) nothing read");
  }
  repo.reset();

  // ---- (e): the big tree ----
  long big_rss_kb = 0;
  if (!o.skip_big) {
    const std::string bsrc = work + "/big-src", broot = work + "/big-repo";
    std::printf("\n(e) generating %zu files...\n", o.files);
    (void)std::fflush(stdout);  // progress only: a failed flush changes no result
    WriteBigTree(bsrc, o.files);
    ::sync();
    std::printf("(e) source: %.1f MB on disk\n", double(DirBytes(bsrc)) / 1e6);
    (void)std::fflush(stdout);  // progress only: a failed flush changes no result
    {
      Case& c = add("e1", "big tree: txdir first publish (child process)");
      auto r = RunChild({self, "--child", "first-publish", "--child-a", bsrc, "--child-b", broot});
      if (!ChildOk(r)) Die("first-publish child failed");
      json j = json::parse(r.out);
      c.ms.push_back(j["ms"].get<double>());
      c.syncs = {j["fsync"].get<double>(), j["fdatasync"].get<double>(), j["syncfs"].get<double>()};
      c.note = "counting Env in the child";
      c.peak_rss_kb = big_rss_kb = r.maxrss_kb;
    }
    CountingEnv benv;
    auto brepo = OpenRepo(broot, &benv, false);
    auto change = [&](size_t k) {
      size_t i = (k * 7919 + 13) % o.files;
      std::string content = BigContent(i, 1 + k);
      return std::make_pair(BigPath(i, o.files), content);
    };
    size_t k = 0;
    {
      Case& c = add("e2", "big tree: txdir Publish, 1 file changed");
      c.note = "counting Env";
      for (size_t it = 0; it < o.big_iters; ++it, ++k) {
        auto [path, content] = change(k);
        PutFile(bsrc + "/" + path, content, false);
        Timed(benv, c, [&] {
          if (auto g = brepo->Publish(bsrc, {.message = "one"}); !g) Die(g.error().ToString());
        });
        if (o.quick) VerifyLive(*brepo, {{path, content}}, "(e2)");
      }
      PerOp(c);
    }
    {
      Case& c = add("e3", "big tree: txdir Begin/Write 1/Commit");
      c.note = "counting Env";
      for (size_t it = 0; it < o.big_iters; ++it, ++k) {
        // Named references, not a structured binding: the lambda below uses
        // them (clang before 16 cannot capture structured bindings).
        const auto change_k = change(k);
        const std::string& path = change_k.first;
        const std::string& content = change_k.second;
        PutFile(bsrc + "/" + path, content, false);  // keep the source in step
        Timed(benv, c, [&] {
          auto tx = brepo->Begin();
          if (!tx) Die("Begin: " + tx.error().ToString());
          if (auto s = (*tx)->Write(path, content); !s) Die("Write: " + s.error().ToString());
          auto done = (*tx)->Commit({.message = "one"});
          if (!done) Die("Commit: " + done.error().ToString());
          if (!done->published) Fail("(e3) nothing published");
        });
        if (o.quick) VerifyLive(*brepo, {{path, content}}, "(e3)");
      }
      PerOp(c);
    }
    if (o.quick) {
      auto snap = brepo->OpenSnapshot();
      auto listed = snap ? snap->ListFiles()
                         : txdir::Result<std::vector<std::string>>(tl::unexpected(snap.error()));
      if (!listed || listed->size() != o.files) Fail("(e) live generation lacks files");
    }
    brepo.reset();

    if (!o.skip_git) {
      const std::string gdir = work + "/big.git";
      std::vector<std::string> git = {"git",
                                      "--git-dir=" + gdir,
                                      "--work-tree=" + bsrc,
                                      "-c",
                                      "user.name=bench",
                                      "-c",
                                      "user.email=bench@example.invalid"};
      auto run_git = [&](std::vector<std::string> args) {
        std::vector<std::string> full = git;
        full.insert(full.end(), args.begin(), args.end());
        auto r = RunChild(full, bsrc);
        if (!ChildOk(r)) Die("git " + args[0] + " failed");
      };
      auto t0 = Clock::now();
      run_git({"init", "-q"});
      run_git({"add", "-A"});
      run_git({"commit", "-q", "-m", "first"});
      Case& c1 = add("e4", "big tree: git init + add -A + commit (CLI)");
      c1.ms.push_back(Ms(t0, Clock::now()));
      Case& c2 = add("e5", "big tree: git add -A + commit, 1 file changed");
      for (size_t it = 0; it < o.big_iters; ++it, ++k) {
        auto [path, content] = change(k);
        PutFile(bsrc + "/" + path, content, false);
        auto t1 = Clock::now();
        run_git({"add", "-A"});
        run_git({"commit", "-q", "-m", "one"});
        c2.ms.push_back(Ms(t1, Clock::now()));
      }
      // The fsync counts: one more 1-file commit, and a first commit into a
      // second git directory, each under strace.
      auto [path, content] = change(k++);
      PutFile(bsrc + "/" + path, content, false);
      auto count = [&](const std::string& script) {
        return StraceCount({"sh", "-c", script}, bsrc, work + "/strace-git.txt");
      };
      const std::string id =
          " -c user.name=bench -c user.email=bench@example.invalid --work-tree=" + bsrc;
      auto s2 = count("git --git-dir=" + gdir + id + " add -A && git --git-dir=" + gdir + id +
                      " commit -q -m counted");
      const std::string g2 = work + "/big2.git";
      auto s1 = count("git --git-dir=" + g2 + id + " init -q && git --git-dir=" + g2 + id +
                      " add -A && git --git-dir=" + g2 + id + " commit -q -m first");
      for (auto [c, s] : {std::pair{&c1, s1}, std::pair{&c2, s2}}) {
        if (s) {
          c->syncs = *s;
          c->note = "strace -f -c, one separate run";
        } else {
          c->counted = false;
          c->note = "not counted";
        }
      }
      if (o.quick) {
        auto r = RunChild({"git", "--git-dir=" + gdir, "rev-list", "--count", "HEAD"}, bsrc);
        if (!ChildOk(r) || std::atoi(r.out.c_str()) != int(o.big_iters + 2))
          Fail("(e) git CLI history has the wrong number of commits");
      }
    }
  }

  // ---- report ----
  std::printf("\n");
  PrintCases(cases);
  auto find = [&](const std::string& id) -> const Case* {
    for (const auto& c : cases)
      if (c.id == id) return &c;
    return nullptr;
  };
  struct Goal {
    std::string name, num, den;
    double limit;
  };
  std::vector<Goal> goals = {{"(a) / new dir + swap", "a", "c4", 1.3},
                             {"(b) / in-place + fsync", "b", "c2", 0.4},
                             {"(d) snapshot / plain reads", "d1", "d2", 1.1},
                             {"(d) one-shot OpenLive / plain reads", "d3", "d2", 1.1},
                             {"(e) 1 file in big tree / 1 file in 11", "e2", "b", 5.0},
                             {"(e) tx 1 file in big tree / 1 file in 11", "e3", "b", 5.0},
                             {"(e) first big publish / git CLI", "e1", "e4", 1.0}};
  json jgoals = json::array();
  std::printf("\ngoals (ratios of medians in this run):\n");
  for (const auto& g : goals) {
    const Case *n = find(g.num), *d = find(g.den);
    if (!n || !d || Median(*d) <= 0) continue;
    double ratio = Median(*n) / Median(*d);
    bool met = ratio <= g.limit;
    std::printf("  %-44s %8.2fx  (goal <= %.1fx)  %s\n", g.name.c_str(), ratio, g.limit,
                o.quick ? "(quick: not judged)"
                : met   ? "met"
                        : "MISSED");
    jgoals.push_back({{"goal", g.name}, {"ratio", ratio}, {"limit", g.limit}, {"met", met}});
  }
  if (big_rss_kb) {
    bool met = big_rss_kb <= 200L * 1024;
    std::printf("  %-44s %8.1f MB (goal <= 200 MB)  %s\n", "(e) peak RSS, first big publish",
                double(big_rss_kb) / 1024,
                o.quick ? "(quick: not judged)"
                : met   ? "met"
                        : "MISSED");
    jgoals.push_back({{"goal", "(e) peak RSS MB"},
                      {"value", double(big_rss_kb) / 1024},
                      {"limit", 200},
                      {"met", met}});
  }
  for (const char* id : {"b", "e2", "e3"}) {
    const Case* c = find(id);
    if (!c || c->ops.empty()) continue;
    std::printf("Env calls per op, %s:", id);
    for (const auto& [k, v] : c->ops) std::printf(" %s %.0f", k.c_str(), v);
    std::printf("\n");
  }

  if (!o.json_file.empty()) {
    json j = {{"iters", o.iters},
              {"big_files", o.skip_big ? 0 : o.files},
              {"big_iters", o.big_iters},
              {"dashboard_bytes", bytes},
              {"rows", o.rows},
              {"filesystem", FsName(work)},
              {"build_type", TXDIR_BUILD_TYPE},
              {"txdir_sync_env", sync_env ? sync_env : ""},
              {"quick", o.quick},
              {"goals", jgoals}};
    for (const auto& c : cases) j["cases"].push_back(CaseJson(c));
    std::ofstream out(o.json_file);
    out << j.dump(2) << "\n";
    if (!out) Die("cannot write " + o.json_file);
  }
  if (o.keep)
    std::printf("\nkept %s\n", work.c_str());
  else
    RemoveTree(work);
  if (g_failures) {
    std::printf("\n%d check(s) FAILED\n", g_failures);
    return 1;
  }
  if (o.quick) std::printf("\nchecks passed\n");
  return 0;
}
