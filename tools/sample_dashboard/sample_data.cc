#include "tools/sample_dashboard/sample_data.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>

namespace txdir::sample {

namespace {

// --- deterministic randomness (no std distributions: their output differs
// between standard libraries)

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Hash(std::initializer_list<uint64_t> values) {
  uint64_t h = 0x243f6a8885a308d3ULL;
  for (uint64_t v : values) h = Mix(h ^ Mix(v));
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix(state_++); }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return static_cast<int>(Next() % 100) < percent; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Next() % N];
  }

 private:
  uint64_t state_;
};

// --- vocabulary

const char* const kCategories[] = {
    "parser", "lexer",   "typeck", "codegen",   "runtime", "stdlib",   "interpreter", "jit",
    "smf",    "tooling", "lsp",    "formatter", "macros",  "patterns", "async",       "memory"};
const char* const kWords[] = {
    "pattern",  "matching", "generic",    "trait",     "closure",   "lambda",      "module",
    "import",   "export",   "string",     "interning", "unicode",   "integer",     "overflow",
    "float",    "parsing",  "tuple",      "struct",    "enum",      "variant",     "guard",
    "loop",     "iterator", "channel",    "actor",     "future",    "await",       "borrow",
    "lifetime", "region",   "allocation", "arena",     "garbage",   "cycle",       "inline",
    "constant", "folding",  "dead",       "code",      "register",  "spill",       "call",
    "frame",    "stack",    "heap",       "slice",     "array",     "map",         "set",
    "hash",     "ordering", "equality",   "display",   "debug",     "format",      "macro",
    "hygiene",  "span",     "diagnostic", "error",     "recovery",  "incremental", "cache",
    "symbol",   "table",    "resolution", "scope",     "shadowing", "mutation",    "effect"};
const char* const kCrates[] = {"simple_parser",  "simple_lexer", "simple_type",   "simple_compiler",
                               "simple_runtime", "simple_std",   "simple_driver", "simple_lsp",
                               "simple_fmt",     "simple_pkg",   "simple_smf",    "simple_jit"};
const char* const kSrcDirs[] = {"src/parser",  "src/lexer",   "src/type",   "src/compiler",
                                "src/runtime", "src/std",     "src/driver", "src/lsp",
                                "src/fmt",     "src/codegen", "src/smf",    "src/jit"};
const char* const kModes[] = {"interpreter", "jit", "smf_cranelift", "smf_llvm"};
const char* const kPeople[] = {"alice", "bob", "carol", "dmitri", "erin", "farah", "gus", "hana"};
const char* const kBookmarks[] = {"main",         "dev",         "release-0.4", "feature-actors",
                                  "fix-borrowck", "feature-smf", "perf-arena",  "docs-sdn"};
const char* const kTargets[] = {"simple", "simple-lsp", "simple-fmt", "simple-pkg", "simple-test"};
const char* const kDeps[] = {
    "serde",     "tokio",   "clap",        "anyhow",      "thiserror", "regex",    "cranelift",
    "inkwell",   "rayon",   "crossbeam",   "parking_lot", "smallvec",  "indexmap", "hashbrown",
    "once_cell", "tracing", "log",         "libc",        "memmap2",   "tempfile", "walkdir",
    "sha2",      "blake3",  "unicode-xid", "logos",       "lalrpop",   "chumsky",  "ariadne",
    "codespan",  "insta",   "proptest",    "criterion",   "bitflags",  "bumpalo",  "dashmap"};
const char* const kProperties[] = {
    "no_panic",      "termination", "memory_safety",  "bounds_checked", "type_preserved",
    "deterministic", "no_overflow", "refcount_sound", "frame_balanced", "invariant_holds"};
const char* const kMessages[] = {"Fix off-by-one in span merging",
                                 "Add SMF section for debug info",
                                 "Refactor trait resolution, step 3",
                                 "Speed up interning (2x on large files)",
                                 "WIP: actor mailbox back-pressure",
                                 "Merge branch 'dev' into main",
                                 "Bump cranelift to 0.104",
                                 "Document the \"strict\" mode flag",
                                 "Revert \"inline small closures\"",
                                 "Handle CRLF in the lexer",
                                 "tests: mark flaky async spec as slow",
                                 "Tidy up diagnostics: colours, notes"};
const char* const kTodoTexts[] = {"handle nested generics in impl blocks",
                                  "this allocation could be avoided",
                                  "remove once the new resolver lands",
                                  "support \"raw\" strings, including escapes",
                                  "error message is confusing: say which arm",
                                  "O(n^2) on large match expressions",
                                  "use the arena here, not Box",
                                  "missing test for the empty case",
                                  "unsafe: check alignment on 32-bit targets",
                                  "port to the new diagnostics API",
                                  "cache this lookup (hot in profiles)",
                                  "what happens when the path contains a ','?",
                                  "C:\\ paths on Windows are not handled",
                                  "duplicate of the logic in resolve.rs"};

std::string FormatTime(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];  // holds any year of an int64_t time
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

// 2026-01-05T06:00:00Z.
constexpr int64_t kBaseTime = 1767592800;
constexpr int64_t kRunInterval = int64_t{6} * 3600;  // the dashboard refreshes every 6 hours

// Runs are numbered 1, 2, ...; rows also have a history before run 1
// (run 0, -1, ...), so the first run already shows varied ages.
int64_t RunTime(const Options& o, int64_t run) {
  int64_t day_offset = static_cast<int64_t>(Hash({o.seed, 0xda7e}) % 60) * 86400;
  int64_t jitter = static_cast<int64_t>(Hash({o.seed, static_cast<uint64_t>(run), 0x7177}) % 2400);
  return kBaseTime + day_offset + (run - 1) * kRunInterval + jitter;
}

int64_t Mod(int64_t a, int64_t n) { return ((a % n) + n) % n; }

// The last run (<= o.run) in which row `row` of table `table` changed. A row
// changes in a run with probability `percent`; row (run mod n) always
// changes, so every table changes in every run; and every row changes at
// least once in 64 runs, which bounds the search.
int64_t LastChange(const Options& o, size_t table, size_t row, size_t n, int percent) {
  const int64_t rrow = static_cast<int64_t>(row);
  for (int64_t r = static_cast<int64_t>(o.run);; --r) {
    if (Mod(r, static_cast<int64_t>(n)) == Mod(rrow, static_cast<int64_t>(n))) return r;
    if (Mod(r + rrow, 64) == 0) return r;
    if (static_cast<int>(Hash({o.seed, table, row, static_cast<uint64_t>(r), 0xc4a6}) % 100) <
        percent)
      return r;
  }
}

std::string Title(Rng& rng, int min_words, int max_words) {
  int n = static_cast<int>(rng.Range(min_words, max_words));
  std::string s;
  for (int i = 0; i < n; ++i) {
    std::string w = rng.Pick(kWords);
    if (i == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
    if (i) s += ' ';
    s += w;
  }
  return s;
}

std::string Ident(Rng& rng) {
  return std::string(rng.Pick(kWords)) + "_" + std::string(rng.Pick(kWords));
}

std::string Hex(uint64_t v, int digits) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < digits; ++i) s += d[(v >> (4 * (15 - i % 16))) & 0xf];
  return s;
}

// --- cells

std::string S(std::string_view s) { return SdnString(s); }
std::string I(int64_t v) { return std::to_string(v); }
std::string F(double v, int decimals = 1) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) std::abort();  // a bug in this generator
  return std::string(buf, static_cast<size_t>(n));
}
std::string B(bool v) { return v ? "true" : "false"; }
std::string T(int64_t t) { return S(FormatTime(t)); }
double Percent(int64_t part, int64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 100.0;
}

class TableWriter {
 public:
  TableWriter(const std::string& name, std::initializer_list<const char*> columns)
      : columns_(columns.size()), out_(name + " |") {
    bool first = true;
    for (const char* c : columns) {
      if (!first) out_ += ", ";
      out_ += c;
      first = false;
    }
    out_ += "|\n";
  }
  void Row(std::initializer_list<std::string> cells) {
    if (cells.size() != columns_) std::abort();  // a bug in this generator
    out_ += "    ";
    bool first = true;
    for (const auto& c : cells) {
      if (!first) out_ += ", ";
      out_ += c;
      first = false;
    }
    out_ += "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  size_t columns_;
  std::string out_;
};

enum TableId {
  kFeatures,
  kSspecTests,
  kTodos,
  kCoverage,
  kDuplication,
  kTestStatus,
  kVerification,
  kVcsState,
  kBuildTimes,
  kDependencies,
  kPlans,
};

size_t RowsOf(size_t table, size_t k) {
  k = std::max<size_t>(k, 4);
  switch (table) {
    case kFeatures:
    case kSspecTests:
    case kTodos:
    case kCoverage:
      return k;
    case kVerification:
    case kBuildTimes:
      return k / 2;
    case kVcsState:
      return std::min<size_t>(3 + k / 100, std::size(kBookmarks));
    default:
      return k / 4;
  }
}

// Per-row generators: `stable` draws what never changes for the row,
// `now` what this run decides, `epoch` what the row's last change decided.
Rng Stable(const Options& o, size_t t, size_t row) { return Rng(Hash({o.seed, t, row, 0x57ab})); }
Rng Now(const Options& o, size_t t, size_t row) {
  return Rng(Hash({o.seed, t, row, o.run, 0x4e0}));
}
Rng Epoch(const Options& o, size_t t, size_t row, int64_t epoch) {
  return Rng(Hash({o.seed, t, row, static_cast<uint64_t>(epoch), 0xe90c}));
}

std::string Features(const Options& o) {
  TableWriter w("features", {"id", "category", "name", "status", "test_coverage", "last_updated"});
  size_t n = RowsOf(kFeatures, o.rows);
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kFeatures, i);
    int64_t epoch = LastChange(o, kFeatures, i, n, 4);
    Rng ep = Epoch(o, kFeatures, i, epoch);
    std::string category = st.Pick(kCategories);
    std::string name = Title(st, 2, 4);
    // Features move planned -> in_progress -> complete; a few fail or are dropped.
    int64_t start = st.Range(-300, 200), length = st.Range(8, 120);
    std::string status = epoch < start            ? "planned"
                         : epoch < start + length ? "in_progress"
                                                  : "complete";
    if (st.Chance(4)) status = "ignored";
    if (status != "planned" && ep.Chance(5)) status = "failed";
    double coverage = status == "planned"    ? 0.0
                      : status == "complete" ? 70.0 + static_cast<double>(ep.Range(0, 300)) / 10.0
                                             : static_cast<double>(ep.Range(0, 800)) / 10.0;
    w.Row({I(100 + static_cast<int64_t>(i)), S(category), S(name), S(status), F(coverage),
           T(RunTime(o, epoch))});
  }
  return w.Take();
}

std::string SspecTests(const Options& o) {
  TableWriter w("sspec_tests",
                {"id", "file", "title", "category", "difficulty", "status", "total_tests", "passed",
                 "failed", "duration_ms", "has_docs", "last_run"});
  const char* const difficulty[] = {"easy", "medium", "medium", "hard"};
  size_t n = RowsOf(kSspecTests, o.rows);
  int64_t t0 = RunTime(o, static_cast<int64_t>(o.run));
  int64_t elapsed = 0;
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kSspecTests, i);
    Rng now = Now(o, kSspecTests, i);
    std::string category = st.Pick(kCategories);
    std::string file = "test/spec/" + category + "/" + Ident(st) + "_spec.spl";
    std::string title = Title(st, 3, 6);
    std::string diff = st.Pick(difficulty);
    int64_t total = st.Range(3, 60);
    bool flaky = st.Chance(15);
    int64_t failed = flaky && now.Chance(40) ? now.Range(1, std::min<int64_t>(3, total)) : 0;
    bool skipped = now.Chance(2);
    int64_t passed = skipped ? 0 : total - failed;
    if (skipped) failed = 0;
    int64_t base_ms = total * st.Range(2, 40);
    int64_t duration = skipped ? 0 : base_ms + now.Range(0, base_ms / 4 + 5);
    elapsed += duration;
    w.Row({I(static_cast<int64_t>(i) + 1), S(file), S(title), S(category), S(diff),
           S(skipped  ? "skipped"
             : failed ? "failed"
                      : "passed"),
           I(total), I(passed), I(failed), I(duration), B(st.Chance(60)), T(t0 + elapsed / 1000)});
  }
  return w.Take();
}

std::string Todos(const Options& o) {
  TableWriter w("todos", {"id", "keyword", "area", "priority", "description", "file", "line",
                          "issue", "blocked", "status", "age_days", "assigned", "last_updated"});
  const char* const priorities[] = {"P0", "P1", "P2", "P2", "P2", "P3"};
  const char* const statuses[] = {"open", "open", "open", "blocked", "stale"};
  size_t n = RowsOf(kTodos, o.rows);
  int64_t now_t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kTodos, i);
    int64_t epoch = LastChange(o, kTodos, i, n, 3);
    Rng ep = Epoch(o, kTodos, i, epoch);
    size_t area = st.Next() % std::size(kCategories);
    std::string file = std::string(kSrcDirs[area % std::size(kSrcDirs)]) + "/" +
                       std::string(st.Pick(kWords)) + ".rs";
    int64_t created = kBaseTime - st.Range(0, 400) * 86400 - st.Range(0, 86399);
    std::string issue = st.Chance(30) ? "#" + std::to_string(st.Range(10, 2400)) : "";
    std::string status = ep.Pick(statuses);
    std::string blocked;
    if (status == "blocked") {
      int nb = static_cast<int>(ep.Range(1, 3));
      for (int b = 0; b < nb; ++b) {
        if (b) blocked += ",";
        blocked += std::to_string(ep.Range(0, static_cast<int64_t>(n) - 1));
      }
    }
    std::string assigned = ep.Chance(40) ? ep.Pick(kPeople) : "";
    w.Row({I(static_cast<int64_t>(i)), S(st.Chance(75) ? "TODO" : "FIXME"), S(kCategories[area]),
           S(st.Pick(priorities)), S(st.Pick(kTodoTexts)), S(file), I(st.Range(1, 4000)), S(issue),
           S(blocked), S(status), I((now_t - created) / 86400), S(assigned), T(RunTime(o, epoch))});
  }
  return w.Take();
}

std::string Coverage(const Options& o) {
  TableWriter w("coverage", {"id", "level", "crate", "file", "lines_total", "lines_covered",
                             "lines_percent", "branches_covered", "branches_percent", "timestamp"});
  size_t n = RowsOf(kCoverage, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kCoverage, i);
    int64_t epoch = LastChange(o, kCoverage, i, n, 25);
    Rng ep = Epoch(o, kCoverage, i, epoch);
    bool crate_level = i % 16 == 0;
    size_t c = (i / 16) % std::size(kCrates);
    std::string file = crate_level ? "" : std::string(kSrcDirs[c]) + "/" + Ident(st) + ".rs";
    int64_t lines = crate_level ? st.Range(4000, 40000) : st.Range(40, 2500);
    int64_t branches = lines / 6 + 1;
    int64_t covered = lines * ep.Range(55, 100) / 100;
    int64_t bcovered = branches * ep.Range(40, 100) / 100;
    w.Row({I(static_cast<int64_t>(i) + 1), S(crate_level ? "crate" : "file"), S(kCrates[c]),
           S(file), I(lines), I(covered), F(Percent(covered, lines), 2), I(bcovered),
           F(Percent(bcovered, branches), 2), T(t)});
  }
  return w.Take();
}

std::string Duplication(const Options& o) {
  TableWriter w("duplication",
                {"id", "file1", "file2", "lines", "tokens", "percentage", "timestamp"});
  size_t n = RowsOf(kDuplication, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kDuplication, i);
    int64_t epoch = LastChange(o, kDuplication, i, n, 5);
    Rng ep = Epoch(o, kDuplication, i, epoch);
    std::string f1 = std::string(st.Pick(kSrcDirs)) + "/" + Ident(st) + ".rs";
    std::string f2 = std::string(st.Pick(kSrcDirs)) + "/" + Ident(st) + ".rs";
    int64_t lines = ep.Range(6, 120);
    w.Row({I(static_cast<int64_t>(i) + 1), S(f1), S(f2), I(lines), I(lines * ep.Range(6, 11)),
           F(static_cast<double>(ep.Range(5, 400)) / 100.0, 2), T(t)});
  }
  return w.Take();
}

std::string TestStatus(const Options& o) {
  TableWriter w("test_status", {"id", "mode", "suite", "total", "passed", "failed", "skipped",
                                "duration_ms", "timestamp"});
  size_t n = RowsOf(kTestStatus, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kTestStatus, i / std::size(kModes));
    Rng now = Now(o, kTestStatus, i);
    std::string suite = std::string(st.Pick(kCategories)) + "/" + std::string(st.Pick(kWords));
    int64_t total = st.Range(20, 900);
    int64_t skipped = now.Range(0, total / 30);
    int64_t failed = now.Chance(30) ? now.Range(1, 6) : 0;
    failed = std::min(failed, total - skipped);
    w.Row({I(static_cast<int64_t>(i) + 1), S(kModes[i % std::size(kModes)]), S(suite), I(total),
           I(total - skipped - failed), I(failed), I(skipped),
           I(total * st.Range(3, 30) + now.Range(0, 4000)), T(t + static_cast<int64_t>(i) * 7)});
  }
  return w.Take();
}

std::string Verification(const Options& o) {
  TableWriter w("verification", {"id", "module", "property", "status", "proof_lines", "timestamp"});
  const char* const statuses[] = {"proven", "proven", "proven", "pending", "failed", "timeout"};
  size_t n = RowsOf(kVerification, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kVerification, i);
    int64_t epoch = LastChange(o, kVerification, i, n, 6);
    Rng ep = Epoch(o, kVerification, i, epoch);
    std::string module =
        "simple." + std::string(st.Pick(kCategories)) + "." + std::string(st.Pick(kWords));
    w.Row({I(static_cast<int64_t>(i) + 1), S(module), S(st.Pick(kProperties)), S(ep.Pick(statuses)),
           I(st.Range(10, 900) + ep.Range(0, 40)), T(t)});
  }
  return w.Take();
}

std::string VcsState(const Options& o) {
  TableWriter w("vcs_state", {"bookmark", "commit_id", "commit_message", "uncommitted_files",
                              "untracked_files", "timestamp"});
  size_t n = RowsOf(kVcsState, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    // main moves every run; other bookmarks now and then.
    int64_t epoch = i == 0 ? static_cast<int64_t>(o.run) : LastChange(o, kVcsState, i, 64, 20);
    Rng ep = Epoch(o, kVcsState, i, epoch);
    Rng now = Now(o, kVcsState, i);
    w.Row({S(kBookmarks[i]), S(Hex(ep.Next(), 12)), S(ep.Pick(kMessages)),
           I(i == 0 ? now.Range(0, 12) : 0), I(i == 0 ? now.Range(0, 5) : 0), T(t)});
  }
  return w.Take();
}

std::string BuildTimes(const Options& o) {
  TableWriter w("build_times", {"id", "timestamp", "target", "mode", "duration_ms",
                                "crates_compiled", "incremental", "commit_id"});
  // A rolling window of the most recent builds, three per run, newest first.
  size_t n = RowsOf(kBuildTimes, o.rows);
  int64_t newest = static_cast<int64_t>(o.run) * 3 + static_cast<int64_t>(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t b = newest - static_cast<int64_t>(i);
    Rng r(Hash({o.seed, kBuildTimes, static_cast<uint64_t>(b), 0xb1d}));
    bool incremental = r.Chance(70);
    bool release = r.Chance(35);
    int64_t crates = incremental ? r.Range(1, 8) : r.Range(40, 96);
    int64_t ms = crates * (release ? r.Range(1800, 4200) : r.Range(500, 1500));
    int64_t when = RunTime(o, 1) + (b - static_cast<int64_t>(n) - 3) * (kRunInterval / 3);
    w.Row({I(b), T(when), S(r.Pick(kTargets)), S(release ? "release" : "debug"), I(ms), I(crates),
           B(incremental), S(Hex(r.Next(), 12))});
  }
  return w.Take();
}

std::string Version(int64_t major, int64_t minor, int64_t patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string Dependencies(const Options& o) {
  TableWriter w("dependencies", {"id", "crate_name", "current_version", "latest_version",
                                 "outdated", "has_security_issue", "last_checked"});
  size_t n = RowsOf(kDependencies, o.rows);
  int64_t t = RunTime(o, static_cast<int64_t>(o.run));
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kDependencies, i);
    std::string name = i < std::size(kDeps) ? kDeps[i]
                                            : std::string(kDeps[i % std::size(kDeps)]) + "-" +
                                                  std::string(st.Pick(kWords));
    int64_t major = st.Range(0, 4), minor = st.Range(0, 30), patch = st.Range(0, 200);
    // Upstream releases: the latest version moves on now and then.
    int64_t epoch = LastChange(o, kDependencies, i, n, 4);
    int64_t bumps =
        static_cast<int64_t>(Hash({o.seed, i, 0xbb}) % 3) + (epoch + 64) / 16;  // epoch > -64
    bool upgraded = Hash({o.seed, i, static_cast<uint64_t>(epoch), 0x09}) % 3 == 0;
    int64_t cur_patch = patch + (upgraded ? bumps : bumps / 2);
    int64_t latest_patch = patch + bumps;
    Rng ep = Epoch(o, kDependencies, i, epoch);
    w.Row({I(static_cast<int64_t>(i) + 1), S(name), S(Version(major, minor, cur_patch)),
           S(Version(major, minor, latest_patch)), B(cur_patch != latest_patch), B(ep.Chance(3)),
           T(t)});
  }
  return w.Take();
}

std::string Plans(const Options& o) {
  TableWriter w("plans", {"id", "file", "title", "status", "created", "last_updated", "total_steps",
                          "completed_steps", "blocked"});
  size_t n = RowsOf(kPlans, o.rows);
  for (size_t i = 0; i < n; ++i) {
    Rng st = Stable(o, kPlans, i);
    int64_t epoch = LastChange(o, kPlans, i, n, 8);
    Rng ep = Epoch(o, kPlans, i, epoch);
    std::string slug = Ident(st);
    std::replace(slug.begin(), slug.end(), '_', '-');
    int64_t created = kBaseTime - st.Range(1, 300) * 86400 - st.Range(0, 86399);
    int64_t total = st.Range(3, 24);
    // Progress: one step every `pace` runs from run `start`; blocked now and then.
    int64_t start = st.Range(-200, 150), pace = st.Range(2, 12);
    int64_t done = std::clamp<int64_t>((epoch - start) / pace, 0, total);
    std::string status = epoch < start   ? "draft"
                         : done == total ? "done"
                         : ep.Chance(12) ? "blocked"
                                         : "active";
    w.Row({I(static_cast<int64_t>(i) + 1), S("doc/plan/" + slug + ".md"), S(Title(st, 3, 7)),
           S(status), T(created), T(RunTime(o, epoch)), I(total), I(done), B(status == "blocked")});
  }
  return w.Take();
}

}  // namespace

const std::vector<std::string>& TableNames() {
  static const std::vector<std::string> names = {
      "features",     "sspec_tests", "todos",       "coverage",     "duplication", "test_status",
      "verification", "vcs_state",   "build_times", "dependencies", "plans"};
  return names;
}

std::string FileName(size_t table) { return TableNames().at(table) + ".sdn"; }

std::string SdnString(std::string_view s) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool bare = !s.empty() && (letter(s[0]) || s[0] == '_');
  for (char c : s)
    if (!(letter(c) || digit(c) || c == '_' || c == '/' || c == '.' || c == '-')) bare = false;
  // Keywords would read back as booleans or null.
  if (s == "true" || s == "false" || s == "null" || s == "nil") bare = false;
  if (bare) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

std::string RenderTable(size_t table, const Options& o) {
  switch (table) {
    case kFeatures:
      return Features(o);
    case kSspecTests:
      return SspecTests(o);
    case kTodos:
      return Todos(o);
    case kCoverage:
      return Coverage(o);
    case kDuplication:
      return Duplication(o);
    case kTestStatus:
      return TestStatus(o);
    case kVerification:
      return Verification(o);
    case kVcsState:
      return VcsState(o);
    case kBuildTimes:
      return BuildTimes(o);
    case kDependencies:
      return Dependencies(o);
    case kPlans:
      return Plans(o);
  }
  return {};
}

std::vector<File> RenderDashboard(const Options& options) {
  std::vector<File> files;
  for (size_t t = 0; t < kTableCount; ++t) files.push_back({FileName(t), RenderTable(t, options)});
  return files;
}

bool WriteFile(const std::string& path, std::string_view content, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    *error = path + ": " + ::strerrordesc_np(errno);
    return false;
  }
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) *error = path + ": write failed: " + ::strerrordesc_np(err);
  return ok;
}

bool WriteDashboard(const std::string& out_dir, const Options& options, std::string* error) {
  if (::mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = out_dir + ": " + ::strerrordesc_np(errno);
    return false;
  }
  for (size_t t = 0; t < kTableCount; ++t)
    if (!WriteFile(out_dir + "/" + FileName(t), RenderTable(t, options), error)) return false;
  return true;
}

}  // namespace txdir::sample
