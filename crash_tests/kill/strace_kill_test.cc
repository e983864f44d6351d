// Kill the real CLI at every file-system system call, with no code changes:
// strace injects SIGKILL at the k-th invocation of one system call
// (`-e inject=SYSCALL:signal=SIGKILL:when=k`; strace counts invocations per
// system call and per tracee). One recorded run lists how often the command
// makes each mutating or syncing call; then every (call, k) is a kill
// point, each run from a fresh starting state and checked with the
// invariants of crash_tests/common/invariants.h.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "crash_tests/common/fixtures.h"
#include "crash_tests/common/invariants.h"
#include "crash_tests/common/queued_writers.h"

namespace txdir::crash {
namespace {

// Every call that creates, changes, removes, renames, links or syncs
// something in the file system, and close (a kill before close(2) of a
// written file is its own state on some file systems).
const char* const kCandidates[] = {
    "open",      "openat",    "creat",           "write",  "pwrite64",  "writev",    "fsync",
    "fdatasync", "syncfs",    "sync_file_range", "rename", "renameat",  "renameat2", "link",
    "linkat",    "symlink",   "symlinkat",       "unlink", "unlinkat",  "mkdir",     "mkdirat",
    "rmdir",     "fchmod",    "fchmodat",        "chmod",  "ftruncate", "truncate",  "close",
    "flock",     "utimensat", "fallocate"};

std::string FindStrace() {
  for (const char* p : {"/usr/bin/strace", "/bin/strace", "/usr/local/bin/strace"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Why strace cannot be used here, or "" when it can.
std::string StraceUnusable(const std::string& strace) {
  if (strace.empty()) return "strace is not installed";
  RunResult r = RunCommand({strace, "-f", "-qq", "-o", "/dev/null", "/bin/true"});
  if (r.exit_code != 0) return "strace cannot trace here (ptrace not permitted?): " + r.Describe();
  return "";
}

// The candidates this strace knows on this architecture, comma-joined.
std::string TraceSet(const std::string& strace) {
  std::string set;
  for (const char* c : kCandidates) {
    RunResult r = RunCommand(
        {strace, "-qq", "-o", "/dev/null", "-e", std::string("trace=") + c, "/bin/true"});
    if (r.exit_code == 0) set += (set.empty() ? "" : ",") + std::string(c);
  }
  return set;
}

// Invocations per system call of the traced command's first process.
std::map<std::string, int> CountCalls(const std::string& trace_file) {
  std::map<std::string, int> counts;
  std::string first_pid;
  for (const auto& line : ReadLines(trace_file)) {
    std::istringstream in(line);
    std::string pid, rest;
    in >> pid;
    std::getline(in, rest);
    rest.erase(0, rest.find_first_not_of(' '));
    if (rest.rfind("<...", 0) == 0 || rest.rfind("+++", 0) == 0 || rest.rfind("---", 0) == 0)
      continue;
    if (first_pid.empty()) first_pid = pid;
    if (pid != first_pid) continue;  // the CLI is one process; be safe
    size_t paren = rest.find('(');
    if (paren == std::string::npos) continue;
    ++counts[rest.substr(0, paren)];
  }
  return counts;
}

using Prepare = std::function<std::vector<std::string>(const std::string& dir, Expectation* e)>;
// Optional checks after the invariants (e.g. "the next gc completes").
using After = std::function<std::vector<std::string>(const std::string& root)>;

void RunStraceKill(const std::string& command, const Prepare& prepare, const After& after = {}) {
  const std::string strace = FindStrace();
  if (std::string why = StraceUnusable(strace); !why.empty()) GTEST_SKIP() << why;
  const std::string set = TraceSet(strace);
  ASSERT_FALSE(set.empty());

  std::map<std::string, int> counts;
  {
    ScratchDir d("strace-" + command);
    Expectation e;
    auto argv = prepare(d.path(), &e);
    std::vector<std::string> traced = {strace,      "-f", "-qq",         "-o",
                                       d / "trace", "-e", "trace=" + set};
    traced.insert(traced.end(), argv.begin(), argv.end());
    RunResult r = RunCommand(traced);
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    counts = CountCalls(d / "trace");
  }
  std::string per_call;
  size_t points = 0;
  for (const auto& [call, n] : counts) {
    per_call += " " + call + "=" + std::to_string(n);
    points += n;
  }

  std::vector<std::string> violations;
  size_t not_reached = 0;
  for (const auto& [call, n] : counts) {
    for (int k = 1; k <= n; ++k) {
      const std::string where = call + "#" + std::to_string(k) + ": ";
      ScratchDir d("strace-" + command);
      Expectation e;
      auto argv = prepare(d.path(), &e);
      std::vector<std::string> traced = {
          strace,
          "-f",
          "-qq",
          "-o",
          "/dev/null",
          "-e",
          "trace=" + call,
          "-e",
          "inject=" + call + ":signal=SIGKILL:when=" + std::to_string(k)};
      traced.insert(traced.end(), argv.begin(), argv.end());
      RunResult r = RunCommand(traced);
      // strace ends itself with the signal that ended its tracee. Commit
      // ids hash the time, so whether a new object lands in an existing
      // fan-out directory varies and a call count can be one lower than
      // recorded: then the command completes, which must pass the check too.
      if (!r.killed()) {
        if (r.exit_code != 0) {
          violations.push_back(where + "expected death by SIGKILL, got " + r.Describe());
          continue;
        }
        ++not_reached;
      }
      for (const auto& v : CheckInvariants(d / "repo", e)) violations.push_back(where + v);
      if (after)
        for (const auto& v : after(d / "repo")) violations.push_back(where + v);
    }
  }
  std::printf("STRACE_KILL command=%s kill_points=%zu violations=%zu not_reached=%zu\n",
              command.c_str(), points, violations.size(), not_reached);
  std::printf("STRACE_KILL command=%s per_call:%s\n", command.c_str(), per_call.c_str());
  std::fflush(stdout);
  // At least: a barrier for the new data before the commit point, then what
  // makes the head ref's rename and the live link's durable: one syncfs
  // after both in syncfs mode, a directory fsync after each in fsync mode;
  // in single-flush mode nothing after the barrier (recovery completes the
  // renames after a power loss).
  const std::string mode = std::getenv("TXDIR_SYNC") != nullptr ? std::getenv("TXDIR_SYNC") : "";
  const int min_syncs = mode == "fsync" ? 3 : mode == "single-flush" ? 1 : 2;
  EXPECT_GE(counts["fsync"] + counts["fdatasync"] + counts["syncfs"], min_syncs)
      << "a publish that syncs fewer than " << min_syncs << " times cannot be durable";
  EXPECT_LE(not_reached * 20, points) << "most kill points must be reached";
  EXPECT_TRUE(violations.empty()) << FormatViolations(violations, 40);
}

void Common(const std::string& dir, Expectation* e) {
  e->next_source = dir + "/next";
  WriteTree(e->next_source, TreeNext());
  e->next_contents = TreeNext();
}

// Generation 1 is TreeA; the command publishes TreeB as generation 2.
std::vector<std::string> PublishAThenB(const std::string& dir, Expectation* e) {
  InitRepo(dir + "/repo");
  PublishTree(dir + "/repo", dir + "/src", TreeA());
  WriteTree(dir + "/src", TreeB());
  Common(dir, e);
  e->acknowledged = {1};
  e->acceptable = {1, 2};
  e->contents = {{1, TreeA()}, {2, TreeB()}};
  return std::vector<std::string>{CliPath(), "publish", dir + "/repo", "--from", dir + "/src"};
}

TEST(StraceKill, Publish) { RunStraceKill("publish", PublishAThenB); }

// The same publish with its objects written as one pack (pack_writer.h;
// testing builds lower the threshold through TXDIR_PACK_MIN_OBJECTS, which
// the traced CLI inherits): a kill at every system call of the pack's path —
// its temp files, the copy behind its header, the renames.
TEST(StraceKill, PublishAsOnePack) {
  struct PackAlways {
    PackAlways() { ::setenv("TXDIR_PACK_MIN_OBJECTS", "1", 1); }
    ~PackAlways() { ::unsetenv("TXDIR_PACK_MIN_OBJECTS"); }
  } pack_always;
  RunStraceKill("publish-packed", PublishAThenB);
}

TEST(StraceKill, Rollback) {
  RunStraceKill("rollback", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", TreeA());
    PublishTree(dir + "/repo", dir + "/src", TreeB());
    Common(dir, e);
    e->acknowledged = {1, 2};
    e->acceptable = {2, 3};
    e->contents = {{1, TreeA()}, {2, TreeB()}, {3, TreeA()}};
    return std::vector<std::string>{CliPath(), "rollback", dir + "/repo"};
  });
}

// gc --keep 1 --prune-history over three generations: directories removed,
// history rewritten, one pack, old objects deleted. After each kill the
// invariants hold for the retained generation, and the next gc completes:
// one directory, one pack, no loose objects, fsck and git fsck clean.
std::vector<std::string> NextGcCompletes(const std::string& root) {
  std::vector<std::string> v;
  RunResult r = RunCommand({CliPath(), "gc", root, "--keep", "1", "--prune-history"});
  if (r.exit_code != 0) return {"the next gc failed: " + r.Describe()};
  size_t dirs = 0, packs = 0, loose = 0;
  for (const auto& e : std::filesystem::directory_iterator(root + "/.txdir/gens")) {
    (void)e;
    ++dirs;
  }
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root + "/.txdir/store.git/objects")) {
    if (e.path().extension() == ".pack") ++packs;
    if (e.is_regular_file() && e.path().parent_path().filename().string().size() == 2) ++loose;
  }
  if (dirs != 1 || packs != 1 || loose != 0)
    v.push_back("after the next gc: " + std::to_string(dirs) + " generation directories, " +
                std::to_string(packs) + " packs, " + std::to_string(loose) +
                " loose objects; expected 1, 1, 0");
  RunResult fsck = RunCommand({CliPath(), "fsck", root});
  if (fsck.exit_code != 0) v.push_back("fsck after the next gc: " + fsck.Describe());
  RunResult git = RunCommand({"/usr/bin/git", "--git-dir=" + root + "/.txdir/store.git", "fsck",
                              "--full", "--no-dangling"});
  if (git.exit_code != 0) v.push_back("git fsck after the next gc: " + git.Describe());
  return v;
}

TEST(StraceKill, GcPruneHistory) {
  RunStraceKill(
      "gc-prune-history",
      [](const std::string& dir, Expectation* e) {
        InitRepo(dir + "/repo");
        PublishTree(dir + "/repo", dir + "/src", TreeA());
        PublishTree(dir + "/repo", dir + "/src", TreeB());
        PublishTree(dir + "/repo", dir + "/src", TreeC());
        Common(dir, e);
        e->acknowledged = {3};
        e->acceptable = {3};
        e->contents = {{3, TreeC()}};
        return std::vector<std::string>{CliPath(), "gc", dir + "/repo",
                                        "--keep",  "1",  "--prune-history"};
      },
      NextGcCompletes);
}

// Group commit (txn/src/group_commit.h): `txdir db set` takes the lock with
// three writers queued and commits all four in one generation, killed at
// every system call; then each queued writer's report must match the store
// (crash_tests/common/queued_writers.h).
TEST(StraceKill, GroupCommit) {
  RunStraceKill(
      "group-commit",
      [](const std::string& dir, Expectation* e) {
        InitRepo(dir + "/repo");
        PublishTree(dir + "/repo", dir + "/src",
                    {{"todo.sdn", "todos |id, status|\n    1, open\n    2, open\n"}});
        e->acknowledged = {1};
        e->acceptable = {1, 2};
        // No next publish: the draining `db set` of the check is the next write.
        StartQueuedWriters(dir);
        return std::vector<std::string>{CliPath(), "-q",  "db", dir + "/repo", "todo.sdn",
                                        "todos",   "set", "2",  "status=done"};
      },
      [](const std::string& root) {
        return CheckQueuedWriters(std::filesystem::path(root).parent_path().string());
      });
}

}  // namespace
}  // namespace txdir::crash
