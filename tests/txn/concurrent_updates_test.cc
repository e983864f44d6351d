// Multi-process: several processes load
// todo_db.sdn, change a record, and save — the lost-update problem.
//
// Every update is a read-modify-write of one record: it increments the
// record's `line` (a counter) and sets its description to the update's
// name. Each process owns a disjoint set of records, so no two processes
// ever change the same record, and at the end each record's counter must
// equal the number of updates applied to it: any shortfall is a lost update.
//
//  - kMerge, free-running: 0 lost, no Conflict error.
//  - kError, free-running: failed commits are Conflict and publish nothing;
//    retried, every update lands.
//  - Lock-step rounds (all processes begin from the same base, then all
//    commit): kLastWriteWins loses exactly processes-1 updates per round;
//    kMerge loses none; kError fails exactly processes-1 commits per round.
//
// Every generation is checked afterwards: the sum of the counters in
// generation g is exactly g - 1 (each publish adds one update and drops
// none), and each materialized generation verifies.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "tests/txn/txn_test_util.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using testing::kTodoFile;
using namespace std::chrono_literals;

constexpr int kProcesses = 8;

struct Shared {
  testing::ProcessBarrier barrier;
  testing::SharedErrors errors;
  std::atomic<uint64_t> commits{0};    // successful, published commits
  std::atomic<uint64_t> conflicts{0};  // commits that failed with kConflict
  std::atomic<uint64_t> merged{0};     // commits that merged a concurrent change
  std::atomic<uint64_t> not_published{0};
};

struct Config {
  Strategy strategy = Strategy::kMerge;
  int records_per_process = 25;
  int updates_per_process = 200;
  bool retry = false;      // retry a Conflict until it lands
  bool lock_step = false;  // rounds: all begin, barrier, all commit, barrier
};

int RecordOf(const Config& c, int process, int update) {
  return process * c.records_per_process + update % c.records_per_process;
}
std::string UpdateName(int process, int update) {
  return "p" + std::to_string(process) + " u" + std::to_string(update);
}

// One process: applies its updates, each in its own transaction.
int Worker(const std::string& root, int p, const Config& c, Shared* sh) {
  OpenOptions options;
  options.lock_timeout = 300s;  // never the point of this test
  auto repo = Repository::Open(root, options);
  if (!repo) {
    sh->errors.Record("open: " + repo.error().ToString());
    return 2;
  }
  for (int u = 0; u < c.updates_per_process; ++u) {
    const int id = RecordOf(c, p, u);
    for (;;) {
      if (c.lock_step) sh->barrier.Wait();  // round start
      auto tx = (*repo)->Begin();
      if (!tx) {
        sh->errors.Record("begin: " + tx.error().ToString());
        return 3;
      }
      Status s = testing::SetTodo(**tx, id, [&](Todo& t) {
        ++t.line;
        t.description = UpdateName(p, u);
      });
      if (!s) {
        sh->errors.Record("update: " + s.error().ToString());
        return 4;
      }
      if (c.lock_step) sh->barrier.Wait();  // everyone has begun from the same base
      auto r = (*tx)->Commit(CommitOptions{.message = UpdateName(p, u), .strategy = c.strategy});
      if (c.lock_step) sh->barrier.Wait();  // round done
      if (r) {
        if (r->published)
          sh->commits.fetch_add(1);
        else
          sh->not_published.fetch_add(1);
        if (!r->merged.empty()) sh->merged.fetch_add(1);
        break;
      }
      if (r.error().code != Code::kConflict) {
        sh->errors.Record("commit: " + r.error().ToString());
        return 5;
      }
      sh->conflicts.fetch_add(1);
      // A failed commit leaves the repository as it was: live and head agree
      // — unless another writer is between its head update and its link
      // swap right now, which Status reports as a publish in progress.
      auto st = (*repo)->Status();
      if (!st || !(st->consistent || st->publish_in_progress)) {
        sh->errors.Record("after a conflict the repository is not consistent");
        return 6;
      }
      if (!c.retry) break;
    }
  }
  return 0;
}

struct Outcome {
  uint64_t updates = 0, lost = 0, conflicts = 0, merged = 0, generations = 0;
  double seconds = 0;
};

// Runs kProcesses workers on a fresh repository; checks every generation.
Outcome RunScenario(const Config& c, const char* label) {
  Outcome out;
  testing::TempDir tmp(testing::FastTmpBase());
  const std::string root = tmp / "repo";
  const int records = kProcesses * c.records_per_process;
  {
    auto repo = Repository::Init(root);
    EXPECT_TRUE(repo.has_value());
    testing::MakeTree(tmp / "src", {{kTodoFile, testing::TodoDb(records)}});
    EXPECT_TRUE((*repo)->Publish(tmp / "src").has_value());
  }
  Shared* sh = testing::MapShared<Shared>();
  sh->barrier.Init(kProcesses);
  const auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcesses; ++p)
    pids.push_back(testing::ForkChild([&, p] { return Worker(root, p, c, sh); }));
  for (int p = 0; p < kProcesses; ++p) EXPECT_EQ(testing::WaitChild(pids[p]), 0) << "process " << p;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(sh->errors.count.load(), 0u) << sh->errors.first;
  out.conflicts = sh->conflicts.load();
  out.merged = sh->merged.load();
  const uint64_t commits = sh->commits.load();
  EXPECT_EQ(sh->not_published.load(), 0u);
  testing::UnmapShared(sh);

  auto repo = Repository::Open(root);
  EXPECT_TRUE(repo.has_value());
  if (!repo) return out;
  auto status = (*repo)->Status();
  out.generations = status->committed.value_or(0);
  EXPECT_TRUE(status->consistent);
  // The head advanced at most once per successful commit: group commit
  // (txn/src/group_commit.h) puts the commits that queue behind a holder in
  // its generation.
  EXPECT_LE(out.generations, 1 + commits);
  EXPECT_GE(out.generations, 2u);

  // Final state: each record's counter against the updates applied to it.
  auto db = testing::MustLoadTodos(testing::ReadFile(root + "/current/" + kTodoFile));
  EXPECT_EQ(db.size(), static_cast<size_t>(records));
  out.updates = static_cast<uint64_t>(kProcesses) * c.updates_per_process;
  uint64_t present = 0;
  for (const Todo& t : db.All()) present += static_cast<uint64_t>(t.line);
  out.lost = out.updates - present;
  if (c.retry || c.strategy == Strategy::kMerge) {
    // Each record ends with its owner's last update.
    for (int p = 0; p < kProcesses; ++p)
      for (int u = std::max(0, c.updates_per_process - c.records_per_process);
           u < c.updates_per_process; ++u)
        EXPECT_EQ(db.Get(std::to_string(RecordOf(c, p, u)))->description, UpdateName(p, u));
  }

  // Every generation: complete, holding more updates than the one before
  // (each holds at least one commit), and the last one every commit's.
  int64_t previous = -1;
  for (uint64_t g = 1; g <= out.generations; ++g) {
    auto bytes = (*repo)->ReadFile(g, kTodoFile);
    EXPECT_TRUE(bytes.has_value()) << g;
    if (!bytes) break;
    auto gdb = Database<Todo>::Load(*bytes);
    EXPECT_TRUE(gdb.has_value()) << "generation " << g << ": " << gdb.error().ToString();
    if (!gdb) break;
    EXPECT_EQ(gdb->size(), static_cast<size_t>(records));
    int64_t sum = 0;
    for (const Todo& t : gdb->All()) sum += t.line;
    if (c.strategy != Strategy::kLastWriteWins) {
      EXPECT_GT(sum, previous) << "generation " << g;
      if (g == 1) EXPECT_EQ(sum, 0);
      if (g == out.generations) EXPECT_EQ(sum, static_cast<int64_t>(commits)) << "generation " << g;
    }
    previous = sum;
  }
  auto v = (*repo)->VerifyGeneration(out.generations);
  EXPECT_TRUE(v && v->ok());

  std::printf("SCENARIO_C strategy=%s processes=%d updates=%" PRIu64 " lost=%" PRIu64
              " conflicts=%" PRIu64 " generations=%" PRIu64 " seconds=%.2f merged=%" PRIu64
              " mode=%s\n",
              std::string(StrategyName(c.strategy)).c_str(), kProcesses, out.updates, out.lost,
              out.conflicts, out.generations, out.seconds, out.merged, label);
  std::fflush(stdout);
  return out;
}

TEST(ConcurrentUpdates, MergeLosesNoUpdate) {
  Config c;
  c.strategy = Strategy::kMerge;
  Outcome o = RunScenario(c, "free-running");
  EXPECT_EQ(o.updates, 1600u);
  EXPECT_EQ(o.lost, 0u);
  EXPECT_EQ(o.conflicts, 0u);
  // Group commit takes updates that queue behind a holder into its
  // generation: at most one generation per update.
  EXPECT_LE(o.generations, 1601u);
}

TEST(ConcurrentUpdates, ErrorReportsConflictsAndRetriedEveryUpdateLands) {
  Config c;
  c.strategy = Strategy::kError;
  c.updates_per_process = 25;
  c.retry = true;
  Outcome o = RunScenario(c, "free-running,retry");
  EXPECT_EQ(o.lost, 0u);
  // Under `error` a commit lands only on the generation it began from, so
  // even group commit makes one generation per update.
  EXPECT_EQ(o.generations, 1 + o.updates);
  // Conflicts depend on the schedule; the lock-step test below pins them.
}

TEST(ConcurrentUpdates, LockStepLastWriteWinsDropsTheOtherProcessesUpdates) {
  Config c;
  c.strategy = Strategy::kLastWriteWins;
  c.updates_per_process = 5;
  c.lock_step = true;
  Outcome o = RunScenario(c, "lock-step");
  // Each round all 8 commit from the same base; each later commit takes its
  // own whole file, so only the last committer's update survives the round.
  EXPECT_EQ(o.lost, static_cast<uint64_t>((kProcesses - 1) * c.updates_per_process));
  EXPECT_EQ(o.conflicts, 0u);
  EXPECT_LE(o.generations, 1 + o.updates);  // the same with group commit
}

TEST(ConcurrentUpdates, LockStepMergeLosesNothing) {
  Config c;
  c.strategy = Strategy::kMerge;
  c.updates_per_process = 5;
  c.lock_step = true;
  Outcome o = RunScenario(c, "lock-step");
  EXPECT_EQ(o.lost, 0u);
  EXPECT_EQ(o.merged, static_cast<uint64_t>((kProcesses - 1) * c.updates_per_process));
}

TEST(ConcurrentUpdates, LockStepErrorFailsAllButOneCommitPerRound) {
  Config c;
  c.strategy = Strategy::kError;
  c.updates_per_process = 5;
  c.lock_step = true;
  Outcome o = RunScenario(c, "lock-step,no-retry");
  EXPECT_EQ(o.conflicts, static_cast<uint64_t>((kProcesses - 1) * c.updates_per_process));
  EXPECT_EQ(o.lost, o.conflicts);  // a failed commit is an update not applied...
  EXPECT_EQ(o.generations, 1u + c.updates_per_process);  // ...and publishes nothing
}

TEST(ConcurrentUpdates, FreeRunningLastWriteWinsLosesUpdates) {
  // Not asserted beyond consistency: how many are lost depends on the
  // schedule. Printed for docs/transactions.md.
  Config c;
  c.strategy = Strategy::kLastWriteWins;
  c.updates_per_process = 50;
  Outcome o = RunScenario(c, "free-running");
  EXPECT_LE(o.lost, o.updates);
}

}  // namespace
}  // namespace txdir
