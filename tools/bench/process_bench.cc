// txdir-process-bench: the `txdir` command as scripts and CI jobs run it, one
// process per operation, against what they would run otherwise, in one run
// on the same data (docs/performance.md):
//
//   version  `txdir --version` against `git --version` (CPU)
//   status   `txdir status DIR` against `git status --porcelain` on a work
//            tree of the same 11 dashboard tables (CPU and wall)
//   publish  one of the 11 tables changed, then `txdir publish DIR --from SRC`
//            against `git add -A` + `git commit` with every fsync on, and
//            against txdir-swapdir-publish (copy into a new directory, fsync,
//            swap a symlink: the floor of a durable whole-set publish) (wall)
//   db       W processes each running `txdir db DIR todo_db.sdn todos set ID
//            status=...` once per update, against the same updates through
//            the `sqlite3` command (WAL, synchronous=FULL); every record is
//            checked afterwards in both (updates/s)
//
// --all also runs the in-process benchmarks next to this program
// (txdir-compare-bench without the big tree, txdir-record-bench with 8
// writers) and prints every goal of the performance work in one table.
// --quick: few runs, results checked, no figure judged: the CI smoke test.
// Cases alternate run by run, so a change in the machine's load falls on all
// of them alike; still, only ratios within one run mean anything. Nothing
// is deleted until the whole run is over (the siblings run with --keep):
// on ext4 without a journal a deletion makes every later file creation
// dearer for minutes, so a clean-up between cases would bill one case's
// files to the next.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "tools/sample_dashboard/sample_data.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using txdir::bench::ChildOk;
using txdir::bench::ChildResult;
using txdir::bench::RunChild;

int g_failures = 0;

[[noreturn]] void Die(const std::string& what) {
  (void)std::fprintf(stderr, "txdir-process-bench: %s\n", what.c_str());
  // _Exit after flushing, not exit, which is not thread-safe.
  (void)std::fflush(nullptr);
  std::_Exit(1);
}

void Check(bool ok, const std::string& what) {
  if (ok) return;
  (void)std::fprintf(stderr, "txdir-process-bench: CHECK FAILED: %s\n", what.c_str());
  ++g_failures;
}

// Runs argv; a failure ends the run with the command line and its exit.
ChildResult Must(const std::vector<std::string>& argv, const std::string& cwd = "") {
  ChildResult r = RunChild(argv, cwd);
  if (!ChildOk(r)) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    Die("command failed (wait status " + std::to_string(r.status) + "): " + line);
  }
  return r;
}

void PutFile(const std::string& path, const std::string& content) {
  std::string error;
  if (!txdir::sample::WriteFile(path, content, &error)) Die(error);
}

std::string GetFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

double Median(const std::vector<double>& v) { return txdir::bench::Quantile(v, 0.5); }

// One measured command: samples of wall and CPU milliseconds.
struct Series {
  std::string id, what;
  std::vector<double> wall, cpu;
  void Add(const ChildResult& r) {
    wall.push_back(r.wall_ms);
    cpu.push_back(r.cpu_ms);
  }
  void Add(double wall_ms, double cpu_ms) {
    wall.push_back(wall_ms);
    cpu.push_back(cpu_ms);
  }
};

// The figure a goal compares: the median of a series' wall or CPU samples,
// or a rate measured otherwise.
struct Figure {
  std::string name;
  double value = 0;
  std::string unit;
};

struct Goal {
  std::string name;
  double measured = 0;
  std::string op;  // "<=" or ">="
  double limit = 0;
  std::string how;
};

struct Options {
  int runs = 40, writers = 8, updates = 7, rounds = 7;
  std::string parent = "/var/tmp", txdir, json_file;
  bool all = false, quick = false, keep = false;
};

std::string SelfDir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) Die("cannot read /proc/self/exe: " + ec.message());
  return p.parent_path().string();
}

// git with every fsync on, and an identity of its own.
std::vector<std::string> GitFsyncOptions() {
  return {"-c", "core.fsync=all", "-c", "core.fsyncMethod=fsync", "-c", "user.name=bench",
          "-c", "user.email=b@x", "-c", "commit.gpgSign=false"};
}

std::vector<std::string> Git(const std::string& wt, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-C", wt};
  for (auto& o : GitFsyncOptions()) argv.push_back(std::move(o));
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// --- version, status, publish ------------------------------------------------

struct StartCases {
  Series txdir_version{"v1", "txdir --version"}, git_version{"v2", "git --version"};
  Series txdir_status{"s1", "txdir status DIR"}, git_status{"s2", "git status --porcelain"};
  Series txdir_publish{"p1", "txdir publish DIR --from SRC, 1 of 11 changed"};
  Series git_commit{"p2", "git add -A + git commit, fsync on, 1 of 11 changed"};
  Series swapdir{"p3", "txdir-swapdir-publish SRC ROOT, 1 of 11 changed"};
};

void RunStartAndPublish(const Options& o, const std::string& work, const std::string& swapdir_exe,
                        StartCases& c) {
  namespace sample = txdir::sample;
  const std::string src = work + "/src", repo = work + "/repo", wt = work + "/wt",
                    swap_src = work + "/swap-src", swap_root = work + "/swap";
  for (const auto& d : {src, wt, swap_src, swap_root}) fs::create_directories(d);
  for (const auto& f : sample::RenderDashboard({.seed = 1, .run = 1})) {
    for (const auto& d : {src, wt, swap_src}) PutFile(d + "/" + f.name, f.content);
  }
  Must({o.txdir, "-q", "init", repo});
  Must({o.txdir, "-q", "publish", repo, "--from", src, "-m", "run 1"});
  Must({"git", "init", "-q", wt});
  Must(Git(wt, {"add", "-A"}));
  Must(Git(wt, {"commit", "-q", "-m", "run 1"}));
  Must({swapdir_exe, swap_src, swap_root});

  for (int i = 0; i < o.runs; ++i) {
    // Start-up: the two program pairs, alternating which goes first.
    auto version = [&] { c.txdir_version.Add(Must({o.txdir, "--version"})); };
    auto gitcli_version = [&] { c.git_version.Add(Must({"git", "--version"})); };
    auto status = [&] { c.txdir_status.Add(Must({o.txdir, "status", repo})); };
    auto gitcli_status = [&] {
      c.git_status.Add(Must({"git", "-C", wt, "status", "--porcelain"}));
    };
    if (i % 2) {
      version(), gitcli_version(), status(), gitcli_status();
    } else {
      gitcli_version(), version(), gitcli_status(), status();
    }

    // Publish: the same one-table change in each source, then each tool.
    const size_t table = size_t(i) % sample::kTableCount;
    const std::string name = sample::FileName(table);
    const std::string content = sample::RenderTable(
        table, {.seed = 1, .run = 2 + uint64_t(i), .rows = sample::kDefaultRows});
    for (const auto& d : {src, wt, swap_src}) PutFile(d + "/" + name, content);
    const std::string msg = "run " + std::to_string(i + 2);
    std::vector<std::function<void()>> publishers = {
        [&] {
          c.txdir_publish.Add(Must({o.txdir, "-q", "publish", repo, "--from", src, "-m", msg}));
        },
        [&] {
          ChildResult add = Must(Git(wt, {"add", "-A"}));
          ChildResult commit = Must(Git(wt, {"commit", "-q", "-m", msg}));
          c.git_commit.Add(add.wall_ms + commit.wall_ms, add.cpu_ms + commit.cpu_ms);
        },
        [&] {
          c.swapdir.Add(Must({swapdir_exe, swap_src, swap_root}));
        }};
    for (size_t k = 0; k < publishers.size(); ++k) publishers[(k + size_t(i)) % 3]();

    // What each published is what its source holds.
    Check(Must({o.txdir, "cat", repo, name}).out == content, "txdir published " + name);
    Check(Must({"git", "-C", wt, "show", "HEAD:" + name}).out == content, "git committed " + name);
    Check(GetFile(swap_root + "/current/" + name) == content, "swapdir published " + name);
  }
}

// --- db: record updates from W processes -----------------------------------

struct DbRound {
  double txdir_s = 0, sqlite_s = 0;
};

// Runs W writer processes; writer w makes `updates` updates in turn through
// `set(id, value)`, one process per update. Returns the wall seconds.
double RunWriters(
    int writers, int updates, const std::vector<std::string>& ids,
    const std::function<std::vector<std::string>(const std::string&, const std::string&)>& set) {
  auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    pid_t pid = ::fork();
    if (pid < 0) Die("fork failed");
    if (pid == 0) {
      for (int u = 0; u < updates; ++u) {
        const std::string& id = ids[(size_t(u) * size_t(writers)) + size_t(w)];
        ChildResult r = RunChild(set(id, "done-" + std::to_string(w) + "-" + std::to_string(u)));
        if (!ChildOk(r)) ::_exit(1);
      }
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  bool ok = true;
  for (pid_t pid : pids) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    ok = ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  if (!ok) Die("a writer process failed");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Every record holds its writer's last update.
void CheckUpdates(const std::string& tool, int writers, int updates,
                  const std::vector<std::string>& ids,
                  const std::map<std::string, std::string>& got) {
  int lost = 0;
  for (int w = 0; w < writers; ++w) {
    for (int u = 0; u < updates; ++u) {
      const std::string& id = ids[(size_t(u) * size_t(writers)) + size_t(w)];
      auto it = got.find(id);
      if (it == got.end() || it->second != "done-" + std::to_string(w) + "-" + std::to_string(u))
        ++lost;
    }
  }
  Check(lost == 0, tool + ": " + std::to_string(lost) + " update(s) lost");
}

std::vector<DbRound> RunDb(const Options& o, const std::string& work, std::string* table_note) {
  const std::string fixture = TXDIR_SOURCE_DIR "/../shared/fixtures/simple-sdn/todo/todo_db.sdn";
  const int total = o.writers * o.updates;
  std::string table;
  if (fs::exists(fixture)) {
    table = GetFile(fixture);
    *table_note = "the Simple tooling's todo_db.sdn (../shared/fixtures)";
  } else {
    table = txdir::bench::GenerateTodoTable(std::max(64, total));
    *table_note = "a generated todos table";
  }
  std::vector<DbRound> rounds;
  for (int r = 0; r < o.rounds; ++r) {
    const std::string dir = work + "/db" + std::to_string(r);
    const std::string repo = dir + "/repo", src = dir + "/src", db = dir + "/db.sqlite";
    fs::create_directories(src);
    PutFile(src + "/todo_db.sdn", table);
    Must({o.txdir, "-q", "init", repo});
    Must({o.txdir, "-q", "publish", repo, "--from", src});
    auto list = [&] {
      std::map<std::string, std::string> status;
      for (const auto& rec :
           json::parse(Must({o.txdir, "db", repo, "todo_db.sdn", "todos", "list", "--json"}).out))
        status[rec.at("id").get<std::string>()] = rec.value("status", "");
      return status;
    };
    std::vector<std::string> ids;
    for (const auto& [id, _] : list()) ids.push_back(id);
    if (ids.size() < size_t(total))
      Die("the todo table has " + std::to_string(ids.size()) + " records, fewer than " +
          std::to_string(total) + " updates");

    std::string sql =
        "PRAGMA journal_mode=WAL; CREATE TABLE todos(id TEXT PRIMARY KEY, status TEXT);";
    for (const auto& id : ids) sql += "INSERT INTO todos VALUES('" + id + "', 'open');";
    Must({"sqlite3", db, sql});

    DbRound round;
    auto txdir_set = [&](const std::string& id, const std::string& value) {
      return std::vector<std::string>{o.txdir, "-q", "--timeout",      "60",
                                      "db",    repo, "todo_db.sdn",    "todos",
                                      "set",   id,   "status=" + value};
    };
    auto sqlite_set = [&](const std::string& id, const std::string& value) {
      return std::vector<std::string>{"sqlite3", "-cmd", ".timeout 60000", db,
                                      "PRAGMA synchronous=FULL; UPDATE todos SET status='" + value +
                                          "' WHERE id='" + id + "';"};
    };
    if (r % 2) {
      round.sqlite_s = RunWriters(o.writers, o.updates, ids, sqlite_set);
      round.txdir_s = RunWriters(o.writers, o.updates, ids, txdir_set);
    } else {
      round.txdir_s = RunWriters(o.writers, o.updates, ids, txdir_set);
      round.sqlite_s = RunWriters(o.writers, o.updates, ids, sqlite_set);
    }
    CheckUpdates("txdir", o.writers, o.updates, ids, list());
    std::map<std::string, std::string> sqlite_status;
    std::istringstream rows(
        Must({"sqlite3", "-separator", "\t", db, "SELECT id, status FROM todos;"}).out);
    for (std::string line; std::getline(rows, line);) {
      auto tab = line.find('\t');
      if (tab != std::string::npos) sqlite_status[line.substr(0, tab)] = line.substr(tab + 1);
    }
    CheckUpdates("sqlite3", o.writers, o.updates, ids, sqlite_status);
    rounds.push_back(round);
    // Nothing is deleted before the end of the whole run: on ext4 without
    // a journal every file created afterwards would pay for it (see
    // txdir-record-bench).
  }
  return rounds;
}

// --- in-process benchmarks (--all) -----------------------------------------

// Runs a sibling benchmark with --json and returns what it wrote.
json RunSibling(const std::string& exe, std::vector<std::string> args, const std::string& json_path,
                const std::string& sync_mode = "") {
  // A sync mode for the child goes through env(1): this process's
  // environment stays as it is.
  std::vector<std::string> argv;
  if (!sync_mode.empty()) argv = {"env", "TXDIR_SYNC=" + sync_mode};
  argv.push_back(exe);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  argv.push_back(json_path);
  std::printf("\n$ %s%s", sync_mode.empty() ? "" : ("TXDIR_SYNC=" + sync_mode + " ").c_str(),
              exe.c_str());
  for (const auto& a : args) std::printf(" %s", a.c_str());
  std::printf("\n");
  (void)std::fflush(stdout);
  ChildResult r = RunChild(argv);
  (void)std::fputs(r.out.c_str(), stdout);
  if (!ChildOk(r)) Die(exe + " failed");
  return json::parse(GetFile(json_path));
}

// --- output -----------------------------------------------------------------

void PrintSeries(const Series& s) {
  std::printf("| %s | %s | %zu | %.2f | %.2f |\n", s.id.c_str(), s.what.c_str(), s.wall.size(),
              Median(s.wall), Median(s.cpu));
}

json SeriesJson(const Series& s) {
  return {{"id", s.id},
          {"what", s.what},
          {"wall_ms", s.wall},
          {"cpu_ms", s.cpu},
          {"median_wall_ms", Median(s.wall)},
          {"median_cpu_ms", Median(s.cpu)}};
}

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-process-bench";
  Options o;
  txdir::cmdline::Command& app = program.globals;
  app.help =
      "The txdir command, one process per operation, against git, sqlite3 and a minimal publisher";
  app.Add("--runs", &o.runs, "Runs of each start-up and publish command")
      .ShowDefault()
      .Range(1, 100000);
  app.Add("--writers", &o.writers, "Processes making record updates").ShowDefault().Range(1, 64);
  app.Add("--updates", &o.updates, "Updates per writer process").ShowDefault().Range(1, 10000);
  app.Add("--rounds", &o.rounds, "Rounds of the record-update case").ShowDefault().Range(1, 1000);
  app.Add("--dir", &o.parent,
          "Parent of the work directory (a real disk: durability is what costs)")
      .ShowDefault();
  app.Add("--txdir", &o.txdir, "The txdir program to measure (default: the one built with this)");
  app.Add("--json", &o.json_file, "Also write every sample as JSON to FILE");
  app.Flag("--all", &o.all, "Also run txdir-compare-bench and txdir-record-bench; one goal table");
  app.Flag("--quick", &o.quick, "Smoke run: 2 runs, 2 writers x 2 updates, checked, not judged");
  app.Flag("--keep", &o.keep, "Keep the work directory");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;
  if (o.quick) {
    o.runs = 2, o.writers = 2, o.updates = 2, o.rounds = 1;
  }
  const std::string here = SelfDir();
  if (o.txdir.empty()) o.txdir = TXDIR_CLI;
  const std::string swapdir_exe = here + "/txdir-swapdir-publish";
  for (const auto& exe : {o.txdir, swapdir_exe})
    if (::access(exe.c_str(), X_OK) != 0) Die("no program at " + exe);

  std::string work = o.parent + "/txdir-process-bench.XXXXXX";
  if (!::mkdtemp(work.data())) Die("cannot create a directory under " + o.parent);
  std::printf(
      "txdir-process-bench: %s; work dir %s (%s); %d runs; db: %d writers x %d updates, %d "
      "rounds%s\n",
      o.txdir.c_str(), work.c_str(), txdir::bench::FsName(work).c_str(), o.runs, o.writers,
      o.updates, o.rounds, o.quick ? "; --quick: checked, not judged" : "");
  (void)std::fflush(stdout);

  StartCases c;
  RunStartAndPublish(o, work, swapdir_exe, c);
  std::string table_note;
  std::vector<DbRound> db = RunDb(o, work, &table_note);
  const int total = o.writers * o.updates;
  std::vector<double> txdir_ups, sqlite_ups;
  for (const auto& r : db) {
    txdir_ups.push_back(total / r.txdir_s);
    sqlite_ups.push_back(total / r.sqlite_s);
  }

  std::printf("\nwhole processes (medians of %d runs, ms):\n\n", o.runs);
  std::printf("| id | command | runs | wall | CPU |\n|----|---------|-----:|-----:|----:|\n");
  for (const Series* s : {&c.txdir_version, &c.git_version, &c.txdir_status, &c.git_status,
                          &c.txdir_publish, &c.git_commit, &c.swapdir})
    PrintSeries(*s);
  std::printf("\nrecord updates, %d processes x %d updates (%s; medians of %d rounds):\n\n",
              o.writers, o.updates, table_note.c_str(), o.rounds);
  std::printf("| command | updates/s |\n|---------|----------:|\n");
  std::printf("| txdir db ... set | %.1f |\n| sqlite3 (WAL, synchronous=FULL) | %.1f |\n",
              Median(txdir_ups), Median(sqlite_ups));

  std::vector<Goal> goals = {
      {"txdir status / git status (wall)", Median(c.txdir_status.wall) / Median(c.git_status.wall),
       "<=", 1.0, "s1 / s2"},
      {"txdir --version CPU, ms", Median(c.txdir_version.cpu), "<=", 3.0, "v1"},
      {"publish 1 of 11 / git add + commit (wall)",
       Median(c.txdir_publish.wall) / Median(c.git_commit.wall), "<=", 1.0, "p1 / p2"},
      {"publish 1 of 11 / swap-directory publisher (wall)",
       Median(c.txdir_publish.wall) / Median(c.swapdir.wall), "<=", 1.5, "p1 / p3"},
      {"db set, " + std::to_string(o.writers) + " processes / sqlite3 command (updates/s)",
       Median(txdir_ups) / Median(sqlite_ups), ">=", 1.0, "db"}};

  json j_all;
  if (o.all) {
    const std::string compare = here + "/txdir-compare-bench",
                      record = here + "/txdir-record-bench";
    // --keep: their files go with the work directory, at the very end.
    std::vector<std::string> cargs = {"--skip-big", "--keep", "--dir", work};
    if (o.quick) cargs.push_back("--quick");
    json jc = RunSibling(compare, cargs, work + "/compare.json");
    std::vector<std::string> rargs = {"--writers", "8", "--keep", "--dir", work};
    if (o.quick) rargs.push_back("--quick");
    json jr = RunSibling(record, rargs, work + "/record.json");
    for (const auto& g : jc.at("goals")) {
      if (!g.contains("ratio")) continue;
      goals.push_back({"in-process " + g.at("goal").get<std::string>(), g.at("ratio").get<double>(),
                       "<=", g.at("limit").get<double>(), "txdir-compare-bench"});
    }
    for (const auto& r : jr.at("results")) {
      if (r.at("writers").get<int>() != 8) continue;
      double ratio =
          r.at("txdir_updates_per_s").get<double>() / r.at("sqlite_updates_per_s").get<double>();
      goals.push_back({"in-process records, 8 writers / SQLite WAL (updates/s)", ratio, ">=", 0.5,
                       "txdir-record-bench"});
    }
    // The same in-process cases in single-flush mode (config sync, here
    // TXDIR_SYNC): a small generation acknowledged after one flush.
    // Reported beside the default mode's.
    json jsf = RunSibling(compare, cargs, work + "/compare-single-flush.json", "single-flush");
    json jrsf = RunSibling(record, rargs, work + "/record-single-flush.json", "single-flush");
    for (const auto& r : jrsf.at("results")) {
      if (r.at("writers").get<int>() != 8) continue;
      double ratio =
          r.at("txdir_updates_per_s").get<double>() / r.at("sqlite_updates_per_s").get<double>();
      goals.push_back({"in-process records, 8 writers / SQLite WAL (updates/s), single-flush mode",
                       ratio, ">=", 0.5, "txdir-record-bench"});
    }
    for (const auto& g : jsf.at("goals")) {
      const std::string name = g.at("goal").get<std::string>();
      if (!g.contains("ratio") || (name.rfind("(a)", 0) != 0 && name.rfind("(b)", 0) != 0))
        continue;
      goals.push_back({"in-process " + name + ", single-flush mode", g.at("ratio").get<double>(),
                       "<=", g.at("limit").get<double>(), "txdir-compare-bench"});
    }
    j_all = {{"compare", jc},
             {"compare_single_flush", jsf},
             {"record", jr},
             {"record_single_flush", jrsf}};
  }

  std::printf(
      "\ngoals (in this run):\n\n| goal | measured | goal | verdict "
      "|\n|------|---------:|-----:|---------|\n");
  json jgoals = json::array();
  for (const auto& g : goals) {
    const bool met = g.op == "<=" ? g.measured <= g.limit : g.measured >= g.limit;
    std::printf("| %s | %.2f%s | %s %.1f%s | %s |\n", g.name.c_str(), g.measured,
                g.name.find(", ms") != std::string::npos ? "" : "x", g.op.c_str(), g.limit,
                g.name.find(", ms") != std::string::npos ? "" : "x",
                o.quick ? "not judged (--quick)"
                : met   ? "met"
                        : "missed");
    jgoals.push_back({{"goal", g.name},
                      {"measured", g.measured},
                      {"op", g.op},
                      {"limit", g.limit},
                      {"met", met}});
  }

  if (!o.json_file.empty()) {
    json j = {{"txdir", o.txdir},
              {"runs", o.runs},
              {"filesystem", txdir::bench::FsName(work)},
              {"quick", o.quick},
              {"db",
               {{"writers", o.writers},
                {"updates_per_writer", o.updates},
                {"table", table_note},
                {"txdir_updates_per_s", txdir_ups},
                {"sqlite_updates_per_s", sqlite_ups}}},
              {"goals", jgoals}};
    for (const Series* s : {&c.txdir_version, &c.git_version, &c.txdir_status, &c.git_status,
                            &c.txdir_publish, &c.git_commit, &c.swapdir})
      j["series"].push_back(SeriesJson(*s));
    if (o.all) j["in_process"] = j_all;
    std::ofstream out(o.json_file);
    out << j.dump(2) << "\n";
    if (!out) Die("cannot write " + o.json_file);
  }
  if (o.keep)
    std::printf("\nkept %s\n", work.c_str());
  else
    txdir::bench::RemoveTree(work);
  if (g_failures) {
    std::printf("\n%d check(s) FAILED\n", g_failures);
    return 1;
  }
  std::printf("\nevery published file and every record update checked\n");
  return 0;
}
