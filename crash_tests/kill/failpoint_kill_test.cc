// Kill the CLI with SIGKILL at every named failpoint of an operation, then
// check the invariants (crash_tests/common/invariants.h). For each scenario
// the operation runs once with TXDIR_FAILPOINT_LOG to list the K failpoints
// it reaches, then K more times with TXDIR_CRASH_AT=#k, each from a fresh
// copy of the starting state.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "crash_tests/common/fixtures.h"
#include "crash_tests/common/invariants.h"
#include "crash_tests/common/queued_writers.h"
#include "txdir/repository.h"
#include "txdir/simple_records.h"

namespace txdir::crash {
namespace {

// Builds the starting state under `dir`, fills the expectation for a crash
// during the operation, and returns the operation's command line.
using Prepare = std::function<std::vector<std::string>(const std::string& dir, Expectation* e)>;
// Optional per-point adjustment of the expectation (by failpoint name).
using Adjust = std::function<void(const std::string& point, Expectation* e)>;
// Optional checks after the invariants, on the same directory: violations.
using After = std::function<std::vector<std::string>(const std::string& dir)>;

struct Summary {
  size_t points = 0;
  std::vector<std::string> violations;
};

Summary RunScenario(const std::string& name, const Prepare& prepare, const Adjust& adjust = {},
                    const After& after = {}) {
  Summary s;
  std::vector<std::string> points;
  {
    ScratchDir d(name);
    Expectation e;
    auto argv = prepare(d.path(), &e);
    const std::string log = d / "failpoints.log";
    RunResult r = RunCommand(argv, {"TXDIR_FAILPOINT_LOG=" + log});
    if (r.exit_code != 0) {
      s.violations.push_back("uninterrupted run failed: " + r.Describe());
      return s;
    }
    if (after)
      for (const auto& v : after(d.path())) s.violations.push_back("uninterrupted run: " + v);
    points = ReadLines(log);
  }
  s.points = points.size();
  for (size_t k = 1; k <= points.size(); ++k) {
    const std::string where = "k=" + std::to_string(k) + " (" + points[k - 1] + "): ";
    ScratchDir d(name);
    Expectation e;
    auto argv = prepare(d.path(), &e);
    if (adjust) adjust(points[k - 1], &e);
    RunResult r = RunCommand(argv, {"TXDIR_CRASH_AT=#" + std::to_string(k)});
    if (!r.killed()) {
      s.violations.push_back(where + "expected death by SIGKILL, got " + r.Describe());
      continue;
    }
    for (const auto& v : CheckInvariants(d / "repo", e)) s.violations.push_back(where + v);
    if (after)
      for (const auto& v : after(d.path())) s.violations.push_back(where + v);
  }
  std::printf("FAILPOINTS scenario=%s points=%zu violations=%zu\n", name.c_str(), s.points,
              s.violations.size());
  std::fflush(stdout);
  return s;
}

void ExpectClean(const Summary& s, size_t min_points) {
  EXPECT_GE(s.points, min_points) << "fewer failpoints than expected: were some removed?";
  EXPECT_TRUE(s.violations.empty()) << FormatViolations(s.violations, 40);
}

// Fills the expectation common to all scenarios.
void Common(const std::string& dir, Expectation* e) {
  e->next_source = dir + "/next";
  WriteTree(e->next_source, TreeNext());
  e->next_contents = TreeNext();
}

TEST(FailpointKill, FirstPublish) {
  auto s = RunScenario("publish_first", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    WriteTree(dir + "/src", TreeA());
    Common(dir, e);
    e->acceptable = {0, 1};
    e->contents = {{1, TreeA()}};
    return std::vector<std::string>{CliPath(), "publish", dir + "/repo", "--from", dir + "/src"};
  });
  ExpectClean(s, 15);
}

// Enough new objects that they are written as one pack (pack_writer.h):
// every kill point of the pack's temp files, its rename before its index's,
// and the rest of the publish.
TEST(FailpointKill, LargePublishWritesOnePack) {
  FileMap big = TreeA();
  for (int i = 0; i < 300; ++i)
    big["many/f" + std::to_string(i) + ".txt"] = "file " + std::to_string(i) + "\n";
  auto s = RunScenario("publish_packed", [&big](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    WriteTree(dir + "/src", big);
    Common(dir, e);
    e->acceptable = {0, 1};
    e->contents = {{1, big}};
    return std::vector<std::string>{CliPath(), "publish", dir + "/repo", "--from", dir + "/src"};
  });
  ExpectClean(s, 15);
}

TEST(FailpointKill, LaterPublishHardLinksUnchangedFiles) {
  auto s = RunScenario("publish", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", TreeA());
    WriteTree(dir + "/src", TreeB());
    Common(dir, e);
    e->acknowledged = {1};
    e->acceptable = {1, 2};
    e->contents = {{1, TreeA()}, {2, TreeB()}};
    return std::vector<std::string>{CliPath(), "publish", dir + "/repo", "--from", dir + "/src"};
  });
  ExpectClean(s, 15);
}

TEST(FailpointKill, RollbackToMaterializedGeneration) {
  auto s = RunScenario("rollback_to", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", TreeA());
    PublishTree(dir + "/repo", dir + "/src", TreeB());
    PublishTree(dir + "/repo", dir + "/src", TreeC());
    Common(dir, e);
    e->acknowledged = {1, 2, 3};
    e->acceptable = {3, 4};
    e->contents = {{1, TreeA()}, {2, TreeB()}, {3, TreeC()}, {4, TreeA()}};
    return std::vector<std::string>{CliPath(), "rollback", dir + "/repo", "1"};
  });
  // No recovery points: the last writer finished in this boot.
  ExpectClean(s, 13);
}

TEST(FailpointKill, RollbackOneStepBack) {
  auto s = RunScenario("rollback_step", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", TreeA());
    PublishTree(dir + "/repo", dir + "/src", TreeB());
    Common(dir, e);
    e->acknowledged = {1, 2};
    e->acceptable = {2, 3};
    e->contents = {{1, TreeA()}, {2, TreeB()}, {3, TreeA()}};
    return std::vector<std::string>{CliPath(), "rollback", dir + "/repo"};
  });
  ExpectClean(s, 13);
}

// `init --live DIR` adopting an existing directory: before the metadata
// folder exists there is no repository and the directory must be intact;
// `init` is then simply run again. Afterwards recovery must finish the
// adoption.
TEST(FailpointKill, InitAdoptingExistingDirectory) {
  const std::string name = "init_adopt";
  std::vector<std::string> points;
  auto argv_for = [](const std::string& dir) {
    return std::vector<std::string>{CliPath(), "init", dir + "/repo", "--live", dir + "/repo/site"};
  };
  {
    ScratchDir d(name);
    WriteTree(d / "repo/site", TreeA());
    RunResult r = RunCommand(argv_for(d.path()), {"TXDIR_FAILPOINT_LOG=" + (d / "fp.log")});
    ASSERT_EQ(r.exit_code, 0) << r.Describe();
    points = ReadLines(d / "fp.log");
  }
  std::vector<std::string> violations;
  for (size_t k = 1; k <= points.size(); ++k) {
    const std::string where = "k=" + std::to_string(k) + " (" + points[k - 1] + "): ";
    ScratchDir d(name);
    WriteTree(d / "repo/site", TreeA());
    RunResult r = RunCommand(argv_for(d.path()), {"TXDIR_CRASH_AT=#" + std::to_string(k)});
    if (!r.killed()) {
      violations.push_back(where + "expected death by SIGKILL, got " + r.Describe());
      continue;
    }
    Expectation e;
    Common(d.path(), &e);
    e.contents = {{1, TreeA()}};
    e.acceptable = {1};
    if (!std::filesystem::exists(d / "repo/.txdir")) {
      // No repository yet: readers still see the plain directory.
      std::string diff = DiffTrees(TreeA(), ReadTree(d / "repo/site"));
      if (!diff.empty()) violations.push_back(where + "directory changed before init: " + diff);
      RunResult again = RunCommand(argv_for(d.path()));
      if (again.exit_code != 0) {
        violations.push_back(where + "init run again failed: " + again.Describe());
        continue;
      }
      e.acknowledged = {1};
    } else {
      e.unmanaged_live = TreeA();
    }
    for (const auto& v : CheckInvariants(d / "repo", e)) violations.push_back(where + v);
  }
  std::printf("FAILPOINTS scenario=%s points=%zu violations=%zu\n", name.c_str(), points.size(),
              violations.size());
  EXPECT_GE(points.size(), 15u);
  EXPECT_TRUE(violations.empty()) << FormatViolations(violations, 40);
}

// Recovery itself interrupted: a publish died right after its commit point
// (the live link lags one generation), then `txdir recover` dies at each of
// its own failpoints.
TEST(FailpointKill, RecoveryOfLaggingLiveLink) {
  auto s = RunScenario("recover", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", TreeA());
    WriteTree(dir + "/src", TreeB());
    RunResult r = RunCommand({CliPath(), "publish", dir + "/repo", "--from", dir + "/src"},
                             {"TXDIR_CRASH_AT=commit.head_updated"});
    if (!r.killed()) throw std::runtime_error("set-up publish was not killed: " + r.Describe());
    Common(dir, e);
    e->acknowledged = {1};
    e->acceptable = {1, 2};
    e->contents = {{1, TreeA()}, {2, TreeB()}};
    return std::vector<std::string>{CliPath(), "recover", dir + "/repo"};
  });
  ExpectClean(s, 5);
}

// The checker must be able to fail, or all of the above prove nothing.
TEST(FailpointKill, CheckerCatchesAnEditedLiveFile) {
  ScratchDir d("selftest");
  InitRepo(d / "repo");
  PublishTree(d / "repo", d / "src", TreeA());
  Expectation e;
  Common(d.path(), &e);
  e.acknowledged = {1};
  e.acceptable = {1};
  e.contents = {{1, TreeA()}};
  ASSERT_TRUE(CheckInvariants(d / "repo", e).empty());

  // Someone makes a live file writable and edits it in place.
  const std::string f = d / "repo/.txdir/gens/1/index.html";
  ASSERT_EQ(::chmod(f.c_str(), 0644), 0);
  WriteTree(d / "edit", {{"x", "edited\n"}});
  std::filesystem::copy_file(d / "edit/x", f, std::filesystem::copy_options::overwrite_existing);
  e.acceptable = {1, 2};  // the first check published generation 2
  e.contents[2] = TreeNext();
  e.acknowledged = {1, 2};
  ASSERT_EQ(::chmod((d / "repo/.txdir/gens/2/index.html").c_str(), 0644), 0);
  {
    std::FILE* out = std::fopen((d / "repo/.txdir/gens/2/index.html").c_str(), "w");
    ASSERT_NE(out, nullptr);
    std::fputs("edited\n", out);
    std::fclose(out);
  }
  auto v = CheckInvariants(d / "repo", e);
  std::string all;
  for (const auto& line : v) all += line + "\n";
  EXPECT_NE(all.find("mode changed"), std::string::npos) << all;
  EXPECT_NE(all.find("does not match its recorded hash"), std::string::npos) << all;
  EXPECT_NE(all.find("does not hold the files it was published with"), std::string::npos) << all;
}

TEST(FailpointKill, CheckerCatchesALostGeneration) {
  ScratchDir d("selftest");
  InitRepo(d / "repo");
  PublishTree(d / "repo", d / "src", TreeA());
  Expectation e;
  e.acknowledged = {1, 2};  // claims a second publish succeeded: it did not
  e.acceptable = {1, 2};
  auto v = CheckInvariants(d / "repo", e);
  ASSERT_EQ(v.size(), 1u) << FormatViolations(v);
  EXPECT_NE(v[0].find("acknowledged generation 2"), std::string::npos) << v[0];
}

// ---- Transactions: `txdir db` (one transaction) and `txdir exec` whose
// commit must merge with a generation published while its program ran.

namespace txscenario {

FileMap Todo(const std::string& status1, const std::string& status2) {
  FileMap f = TreeA();
  f["todo.sdn"] = "todos |id, status|\n    1, " + status1 + "\n    2, " + status2 + "\n";
  return f;
}

}  // namespace txscenario

TEST(FailpointKill, DbSetIsOneTransaction) {
  auto s = RunScenario("tx_db_set", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", txscenario::Todo("open", "open"));
    Common(dir, e);
    e->acknowledged = {1};
    e->acceptable = {1, 2};
    e->contents = {{1, txscenario::Todo("open", "open")}};
    return std::vector<std::string>{CliPath(), "-q",  "db", dir + "/repo", "todo.sdn",
                                    "todos",   "set", "2",  "status=done"};
  });
  ExpectClean(s, 15);
}

TEST(FailpointKill, ExecCommitMergesAConcurrentPublish) {
  auto s = RunScenario("tx_exec_merge", [](const std::string& dir, Expectation* e) {
    InitRepo(dir + "/repo");
    PublishTree(dir + "/repo", dir + "/src", txscenario::Todo("open", "open"));
    Common(dir, e);
    e->acknowledged = {1};
    // 2: the inner `txdir db` (record 1); 3: exec's merged commit (record 2).
    e->acceptable = {1, 2, 3};
    e->contents = {{1, txscenario::Todo("open", "open")}};
    // The program publishes through another txdir process first (without
    // the crash settings, so only the outer exec is killed), then edits
    // record 2 in its stage: the exec commit must merge the two.
    const std::string program =
        "env -u TXDIR_CRASH_AT -u TXDIR_FAILPOINT_LOG '" + CliPath() + "' -q db '" + dir +
        "/repo' todo.sdn todos set 1 status=done && printf 'todos |id, status|\\n    1, "
        "open\\n    2, done\\n' > \"$TXDIR_STAGE/todo.sdn\"";
    return std::vector<std::string>{CliPath(), "-q", "exec",    dir + "/repo", "--strategy",
                                    "merge",   "--", "/bin/sh", "-c",          program};
  });
  ExpectClean(s, 15);
}

// --- Group commit (txn/src/group_commit.h). Three `txdir db insert`
// writers queue while the test holds the writer lock; they only wait for
// their outcome and never take the lock themselves (TXDIR_GROUP_FOLLOW_ONLY,
// testing builds), so the `txdir db set` under test is the holder that
// commits all four, killed at each failpoint. After the invariants a plain
// `txdir db set` takes in whatever is still queued, and then every queued
// writer's report must match the store: exit 0 and its record present, or
// a failure and its record absent; and no queued transaction is named by
// two generations (applied twice).

TEST(FailpointKill, GroupCommitOfQueuedDbWriters) {
  auto s = RunScenario(
      "tx_group",
      [](const std::string& dir, Expectation* e) {
        InitRepo(dir + "/repo");
        PublishTree(dir + "/repo", dir + "/src", txscenario::Todo("open", "open"));
        e->acknowledged = {1};
        e->acceptable = {1, 2};
        e->contents = {{1, txscenario::Todo("open", "open")}};
        // No next publish: the draining `db set` after the invariants is it.
        StartQueuedWriters(dir);
        return std::vector<std::string>{CliPath(), "-q",  "db", dir + "/repo", "todo.sdn",
                                        "todos",   "set", "2",  "status=done"};
      },
      {}, CheckQueuedWriters);
  ExpectClean(s, 18);
}

// --- pull (issue 7). The replica `repo` pulls from a bare repository that
// a publisher pushed to. A pull killed at each failpoint must leave the
// replica on a complete generation; then the next pull must complete.

// Publisher at `dir`/pub with generations of `trees` pushed to `dir`/bare;
// `dir`/repo cloned after the first. Throws on error.
void SetUpReplica(const std::string& dir, const std::vector<FileMap>& trees) {
  auto run = [](const std::vector<std::string>& argv) {
    RunResult r = RunCommand(argv);
    if (r.exit_code != 0) throw std::runtime_error("set-up failed: " + r.Describe());
  };
  run({"/usr/bin/git", "init", "-q", "--bare", dir + "/bare"});
  InitRepo(dir + "/pub");
  run({CliPath(), "remote", dir + "/pub", "add", "origin", "file://" + dir + "/bare"});
  PublishTree(dir + "/pub", dir + "/psrc", trees[0]);
  run({CliPath(), "push", dir + "/pub"});
  run({CliPath(), "clone", "file://" + dir + "/bare", dir + "/repo"});
  for (size_t i = 1; i < trees.size(); ++i) {
    PublishTree(dir + "/pub", dir + "/psrc", trees[i]);
    run({CliPath(), "push", dir + "/pub"});
  }
}

std::vector<std::string> CheckGenerationDirs(const std::string& root) {
  std::vector<std::string> v;
  auto repo = Repository::Open(root);
  if (!repo) return {"cannot open: " + repo.error().ToString()};
  for (const auto& e : std::filesystem::directory_iterator(root + "/.txdir/gens")) {
    const std::string name = e.path().filename();
    if (name.empty() || name[0] == '.') continue;
    auto rep = (*repo)->VerifyGeneration(std::stoull(name));
    if (!rep) {
      v.push_back("gens/" + name + ": " + rep.error().ToString());
    } else if (!rep->ok()) {
      v.push_back("gens/" + name + " does not hold generation " + name +
                  " of the head's chain: " + rep->issues[0].path + ": " + rep->issues[0].problem);
    }
  }
  return v;
}

// Kills `argv` (made by `prepare`) at each of its failpoints; after each
// kill checks the invariants without publishing, then runs the same pull
// again and checks that it completes on `final_gen` with `final_tree`.
//
// `window`: failpoints between the commit point and the live swap of a pull
// that resolved a divergence. There the live link still shows the replaced
// local generation, complete (`window_tree`), but its number now names a
// different commit of the head's chain, so the checker's by-number
// verification does not apply: the files readers see are compared with
// `window_tree` instead, and recovery runs before the invariants.
//
// Setting a replica up runs a dozen processes (a bare remote, a publisher,
// pushes, a clone), so it is set up once and each run starts from a copy
// (`cp -a`: hard links, symlinks and modes kept). The copy's remote is the
// template's bare repository, which a pull only reads.
Summary RunPullScenario(const std::string& name, const Prepare& prepare, uint64_t final_gen,
                        const FileMap& final_tree, const std::set<std::string>& window = {},
                        const FileMap& window_tree = {}) {
  Summary s;
  ScratchDir tmpl(name + "_template");
  Expectation tmpl_e;
  const std::vector<std::string> tmpl_argv = prepare(tmpl.path(), &tmpl_e);
  // A fresh copy of the template in `d`, and the command with its paths there.
  auto copy = [&](const ScratchDir& d, Expectation* e) {
    RunResult cp = RunCommand({"/bin/cp", "-a", tmpl.path() + "/.", d.path()});
    if (cp.exit_code != 0) throw std::runtime_error("copying the replica failed: " + cp.Describe());
    *e = tmpl_e;
    std::vector<std::string> argv = tmpl_argv;
    for (auto& a : argv)
      if (a.rfind(tmpl.path() + "/", 0) == 0) a = d.path() + a.substr(tmpl.path().size());
    return argv;
  };
  std::vector<std::string> points;
  {
    ScratchDir d(name);
    Expectation e;
    auto argv = copy(d, &e);
    RunResult r = RunCommand(argv, {"TXDIR_FAILPOINT_LOG=" + (d / "fp.log")});
    if (r.exit_code != 0) {
      s.violations.push_back("uninterrupted run failed: " + r.Describe());
      return s;
    }
    points = ReadLines(d / "fp.log");
  }
  s.points = points.size();
  for (size_t k = 1; k <= points.size(); ++k) {
    const std::string where = "k=" + std::to_string(k) + " (" + points[k - 1] + "): ";
    ScratchDir d(name);
    Expectation e;
    auto argv = copy(d, &e);
    RunResult r = RunCommand(argv, {"TXDIR_CRASH_AT=#" + std::to_string(k)});
    if (!r.killed()) {
      s.violations.push_back(where + "expected death by SIGKILL, got " + r.Describe());
      continue;
    }
    e.next_source.clear();  // a local publish would make the next pull diverge
    if (window.count(points[k - 1])) {
      std::string diff =
          DiffTrees(window_tree, ReadTree(std::filesystem::canonical(d / "repo/current")));
      if (!diff.empty()) s.violations.push_back(where + "readers see an incomplete tree: " + diff);
      RunResult rec = RunCommand({CliPath(), "recover", d / "repo"});
      if (rec.exit_code != 0) s.violations.push_back(where + "recover failed: " + rec.Describe());
      e.acceptable = {final_gen};
    }
    for (const auto& v : CheckInvariants(d / "repo", e)) s.violations.push_back(where + v);
    RunResult again = RunCommand(argv);  // the same pull, uninterrupted
    if (again.exit_code != 0) {
      s.violations.push_back(where + "the next pull failed: " + again.Describe());
      continue;
    }
    Expectation after;
    Common(d.path(), &after);
    after.acknowledged = {final_gen};
    after.acceptable = {final_gen};
    after.contents = {{final_gen, final_tree}};
    for (const auto& v : CheckInvariants(d / "repo", after))
      s.violations.push_back(where + "after the next pull: " + v);
    // Every generation directory left must hold the files its number names
    // in the head's chain (a replaced local generation must not linger).
    for (const auto& v : CheckGenerationDirs(d / "repo")) s.violations.push_back(where + v);
  }
  std::printf("FAILPOINTS scenario=%s points=%zu violations=%zu\n", name.c_str(), s.points,
              s.violations.size());
  std::fflush(stdout);
  return s;
}

TEST(FailpointKill, PullFastForward) {
  auto s = RunPullScenario(
      "pull_ff",
      [](const std::string& dir, Expectation* e) {
        SetUpReplica(dir, {TreeA(), TreeB(), TreeC()});
        e->acknowledged = {1};
        e->acceptable = {1, 3};
        e->contents = {{1, TreeA()}, {3, TreeC()}};
        return std::vector<std::string>{CliPath(), "pull", dir + "/repo"};
      },
      3, TreeC());
  ExpectClean(s, 15);
}

// The replica published its own generation 2 meanwhile; pull --strategy
// resolves the divergence into generation 4 (max(2, 3) + 1) whose files are
// the remote's plus the replica's own change.
TEST(FailpointKill, PullResolvingADivergence) {
  FileMap local = TreeA();
  local["local-only.txt"] = "published on the replica\n";
  FileMap merged = TreeC();
  merged["local-only.txt"] = "published on the replica\n";
  auto s = RunPullScenario(
      "pull_diverged",
      [&](const std::string& dir, Expectation* e) {
        SetUpReplica(dir, {TreeA(), TreeB(), TreeC()});
        PublishTree(dir + "/repo", dir + "/rsrc", local);
        e->acknowledged = {1};
        e->acceptable = {2, 4};
        e->contents = {{1, TreeA()}, {2, local}, {4, merged}};
        return std::vector<std::string>{CliPath(), "pull", dir + "/repo", "--strategy",
                                        "last-write-wins"};
      },
      4, merged, {"store.sethead.after_rename", "adopt.head_updated", "live.after_symlink"}, local);
  ExpectClean(s, 15);
}

// --- gc (issue 4 and 5). Directories outside the policy and, with
// --prune-history, the history are removed; killed at each failpoint, the
// invariants must hold for what is retained, and the next gc (after the
// checker's publish) must complete and leave exactly the policy: the
// newest generation's directory, and with --prune-history one pack, no
// loose objects, fsck clean.

// Three generations A, B, C; the expectation covers C, the one retained.
void ThreeGenerations(const std::string& dir, Expectation* e) {
  InitRepo(dir + "/repo");
  PublishTree(dir + "/repo", dir + "/src", TreeA());
  PublishTree(dir + "/repo", dir + "/src", TreeB());
  PublishTree(dir + "/repo", dir + "/src", TreeC());
  Common(dir, e);
  e->acknowledged = {3};
  e->acceptable = {3};
  e->contents = {{3, TreeC()}};
}

// What the next `gc --keep 1` must leave.
std::vector<std::string> CheckNextGc(const std::string& root, bool prune) {
  std::vector<std::string> v;
  std::vector<std::string> argv = {CliPath(), "gc", root, "--keep", "1"};
  if (prune) argv.push_back("--prune-history");
  RunResult r = RunCommand(argv);
  if (r.exit_code != 0) return {"the next gc failed: " + r.Describe()};
  std::vector<std::string> gens;
  for (const auto& e : std::filesystem::directory_iterator(root + "/.txdir/gens"))
    gens.push_back(e.path().filename().string());
  if (gens != std::vector<std::string>{"4"}) {
    std::string all;
    for (const auto& g : gens) all += " " + g;
    v.push_back("after the next gc gens/ holds" + all + ", expected only 4");
  }
  RunResult fsck = RunCommand({CliPath(), "fsck", root});
  if (fsck.exit_code != 0) v.push_back("fsck after the next gc: " + fsck.Describe());
  if (!prune) return v;
  size_t packs = 0, loose = 0;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(root + "/.txdir/store.git/objects")) {
    if (e.path().extension() == ".pack") ++packs;
    if (e.is_regular_file() && e.path().parent_path().filename().string().size() == 2) ++loose;
  }
  if (packs != 1 || loose != 0)
    v.push_back("after the next gc --prune-history: " + std::to_string(packs) + " packs and " +
                std::to_string(loose) + " loose objects, expected 1 and 0");
  RunResult git = RunCommand({"/usr/bin/git", "--git-dir=" + root + "/.txdir/store.git", "fsck",
                              "--full", "--no-dangling"});
  if (git.exit_code != 0) v.push_back("git fsck after the next gc: " + git.Describe());
  return v;
}

Summary RunGcScenario(const std::string& name, bool prune) {
  std::vector<std::string> argv_tail = {"--keep", "1"};
  if (prune) argv_tail.push_back("--prune-history");
  auto prepare = [&](const std::string& dir, Expectation* e) {
    ThreeGenerations(dir, e);
    std::vector<std::string> argv = {CliPath(), "gc", dir + "/repo"};
    argv.insert(argv.end(), argv_tail.begin(), argv_tail.end());
    return argv;
  };
  Summary s;
  std::vector<std::string> points;
  {
    ScratchDir d(name);
    Expectation e;
    auto argv = prepare(d.path(), &e);
    RunResult r = RunCommand(argv, {"TXDIR_FAILPOINT_LOG=" + (d / "fp.log")});
    if (r.exit_code != 0) {
      s.violations.push_back("uninterrupted run failed: " + r.Describe());
      return s;
    }
    points = ReadLines(d / "fp.log");
  }
  s.points = points.size();
  for (size_t k = 1; k <= points.size(); ++k) {
    const std::string where = "k=" + std::to_string(k) + " (" + points[k - 1] + "): ";
    ScratchDir d(name);
    Expectation e;
    auto argv = prepare(d.path(), &e);
    RunResult r = RunCommand(argv, {"TXDIR_CRASH_AT=#" + std::to_string(k)});
    if (!r.killed()) {
      s.violations.push_back(where + "expected death by SIGKILL, got " + r.Describe());
      continue;
    }
    for (const auto& v : CheckInvariants(d / "repo", e)) s.violations.push_back(where + v);
    for (const auto& v : CheckNextGc(d / "repo", prune)) s.violations.push_back(where + v);
  }
  std::printf("FAILPOINTS scenario=%s points=%zu violations=%zu\n", name.c_str(), s.points,
              s.violations.size());
  std::fflush(stdout);
  return s;
}

TEST(FailpointKill, GcRemovesDirectories) {
  // gc.planned, 2 x gc.renamed, gc.renames_synced, 2 x gc.removed, gc.done (no
  // recovery: the last writer finished in this boot).
  ExpectClean(RunGcScenario("gc", /*prune=*/false), 7);
}

TEST(FailpointKill, GcPruneHistory) {
  // As above plus commits written, pack written, head updated, pack and
  // loose-object deletions, done.
  ExpectClean(RunGcScenario("gc_prune", /*prune=*/true), 15);
}

}  // namespace
}  // namespace txdir::crash
