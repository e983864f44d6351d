// Group commit (txn/src/group_commit.h): transactions that find the writer
// lock taken are queued, and the next holder commits them with its own in
// one generation, each under its own strategy.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/cli/cli_runner.h"
#include "tests/txn/txn_test_util.h"
#include "txdir/simple_records.h"
#include "txdir/transaction.h"

namespace txdir {
namespace {

using testing::kTodoFile;
using testing::MustLoadTodos;
using testing::QueueFiles;
using testing::SetTodo;
using testing::TodoDb;
using testing::TxFixture;
using testing::WaitForQueued;
using namespace std::chrono_literals;

struct GroupCommitTest : ::testing::Test, TxFixture {
  GroupCommitTest() {
    auto g = repo->Begin();
    EXPECT_TRUE(g.has_value());
    EXPECT_TRUE((*g)->Write(kTodoFile, TodoDb(8)).has_value());
    EXPECT_TRUE((*g)->Write("counter.txt", "0\n").has_value());
    EXPECT_TRUE((*g)->Commit().has_value());
  }

  // A child process commits ghost.txt, finds the lock taken (the caller
  // holds it), queues itself, and is killed once its request is visible.
  // False if it never queued.
  bool QueueAWriterAndKillIt() {
    const pid_t child = ::fork();
    if (child < 0) return false;
    if (child == 0) {
      OpenOptions o;
      o.lock_timeout = 60s;
      auto h = Repository::Open(root, o);
      if (!h) ::_exit(2);
      auto tx = (*h)->Begin();
      if (!tx || !(*tx)->Write("ghost.txt", "boo\n")) ::_exit(3);
      (void)(*tx)->Commit();
      ::_exit(4);
    }
    const bool queued = WaitForQueued(root, 1);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    return queued;
  }

  // Holds the writer lock (an exclusive transaction) until Commit.
  std::unique_ptr<Transaction> HoldLock(Repository& handle) {
    auto tx = handle.Begin(BeginOptions{.exclusive = true});
    EXPECT_TRUE(tx.has_value()) << tx.error().ToString();
    return tx ? std::move(*tx) : nullptr;
  }
  // Runs `txdir db ... set 1 description=early` parked (TXDIR_PAUSE_AT)
  // once it has applied what it holds, queues a library writer's change to
  // record 2 meanwhile, and lets the db writer go on. `queued_first`: the
  // db writer finds the lock taken, queues, and holds its own request when
  // it gets the lock; else it takes the free lock at once and claims
  // nothing. Either way the late change must land in its generation.
  void ExpectALateRequestJoinsTheHoldersGeneration(bool queued_first) {
    auto blocker_handle = OpenAnother();
    auto blocker = queued_first ? HoldLock(*blocker_handle) : nullptr;
    testing::TempDir pause;
    testing::StartedCli early({"db", root, kTodoFile, "todos", "set", "1", "description=early"},
                              {"TXDIR_PAUSE_AT=group.applied", "TXDIR_PAUSE_DIR=" + pause.path()});
    ASSERT_TRUE(early.started());
    if (queued_first) {
      ASSERT_TRUE(WaitForQueued(root, 1));
      blocker.reset();  // the queued db writer takes the lock and claims its own request
    }
    ASSERT_TRUE(testing::WaitForFile(pause / "paused")) << "the db writer never applied";
    ASSERT_EQ(QueueFiles(root, ".req"), 0u);

    testing::ThreadWriter late;
    late.handle = OpenAnother(20s);
    late.thread = std::thread([&late] {
      auto tx = late.handle->Begin();
      if (!tx) {
        late.result = tl::unexpected(tx.error());
        return;
      }
      auto st = SetTodo(**tx, 2, [](Todo& t) { t.description = "late"; });
      late.result = st ? (*tx)->Commit(CommitOptions{.strategy = Strategy::kMerge})
                       : Result<CommitResult>(tl::unexpected(st.error()));
    });
    const bool queued = WaitForQueued(root, 1);
    testing::WriteFile(pause / "resume", "");
    late.thread.join();
    testing::CliResult r = early.Wait();
    ASSERT_TRUE(queued) << "the late writer never queued";
    ASSERT_EQ(r.exit, 0) << r;
    ASSERT_TRUE(late.result.has_value()) << late.result.error().ToString();
    EXPECT_EQ(late.result->generation.number, 2u) << "the late request got a generation of its own";
    EXPECT_EQ(Head(), 2u);
    auto db = MustLoadTodos(LiveFile(kTodoFile));
    EXPECT_EQ(db.Get("1")->description, "early");
    EXPECT_EQ(db.Get("2")->description, "late");
    EXPECT_EQ(QueueFiles(root, ""), 0u) << "the queue must be empty afterwards";
    ExpectClean(2);
  }
};

using Writer = testing::ThreadWriter;

TEST_F(GroupCommitTest, QueuedTransactionsLandInTheHoldersGeneration) {
  auto holder_handle = OpenAnother();
  auto holder = HoldLock(*holder_handle);
  ASSERT_TRUE(holder);
  constexpr int kWriters = 6;
  std::vector<Writer> writers(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    writers[i].handle = OpenAnother(20s);
    Writer* w = &writers[i];
    w->thread = std::thread([w, i] {
      auto tx = w->handle->Begin();
      if (!tx) {
        w->result = tl::unexpected(tx.error());
        return;
      }
      auto st = SetTodo(**tx, i, [i](Todo& t) { t.description = "changed " + std::to_string(i); });
      if (!st) {
        w->result = tl::unexpected(st.error());
        return;
      }
      w->result = (*tx)->Commit(
          CommitOptions{.message = "set " + std::to_string(i), .strategy = Strategy::kMerge});
    });
  }
  ASSERT_TRUE(WaitForQueued(root, kWriters));
  ASSERT_TRUE(holder->Write("note.txt", "held\n").has_value());
  auto mine = holder->Commit(CommitOptions{.message = "holder"});
  for (auto& w : writers) w.thread.join();
  ASSERT_TRUE(mine.has_value()) << mine.error().ToString();
  EXPECT_EQ(mine->generation.number, 2u);
  for (int i = 0; i < kWriters; ++i) {
    ASSERT_TRUE(writers[i].result.has_value()) << i << ": " << writers[i].result.error().ToString();
    EXPECT_TRUE(writers[i].result->published);
    EXPECT_EQ(writers[i].result->generation.number, 2u) << "writer " << i;
  }
  EXPECT_EQ(Head(), 2u);
  auto db = MustLoadTodos(LiveFile(kTodoFile));
  for (int i = 0; i < kWriters; ++i)
    EXPECT_EQ(db.Get(std::to_string(i))->description, "changed " + std::to_string(i));
  EXPECT_EQ(db.Get("7")->description, "task 7");
  EXPECT_EQ(LiveFile("note.txt"), "held\n");
  // Every transaction's message is in the generation's.
  for (int i = 0; i < kWriters; ++i)
    EXPECT_NE(mine->generation.message.find("set " + std::to_string(i)), std::string::npos);
  EXPECT_EQ(QueueFiles(root, ""), 0u) << "the queue must be empty afterwards";
  ExpectClean(2);
  // Each merge's output fed the next in memory: the only blobs the
  // generation does not hold are the writers' own versions of the table,
  // not one per intermediate merge. git checks the store.
  std::string out;
  ASSERT_EQ(testing::RunShell("git --git-dir=" + root +
                                  "/.txdir/store.git fsck --full --strict --unreachable "
                                  "--no-reflogs",
                              &out),
            0)
      << out;
  size_t unreachable = 0;
  for (size_t at = out.find("unreachable blob"); at != std::string::npos;
       at = out.find("unreachable blob", at + 1))
    ++unreachable;
  EXPECT_LE(unreachable, static_cast<size_t>(kWriters)) << out;
}

// A request queued while the holder applies what it took joins the same
// generation: the holder looks at the queue again before it publishes,
// whether it came to the lock from the queue or found it free.
TEST_F(GroupCommitTest, ARequestQueuedWhileAQueuedHolderAppliesJoinsItsGeneration) {
  ExpectALateRequestJoinsTheHoldersGeneration(/*queued_first=*/true);
}

TEST_F(GroupCommitTest, ARequestQueuedWhileALoneHolderAppliesJoinsItsGeneration) {
  ExpectALateRequestJoinsTheHoldersGeneration(/*queued_first=*/false);
}

TEST_F(GroupCommitTest, AConflictFailsOnlyItsOwnTransaction) {
  auto holder_handle = OpenAnother();
  auto holder = HoldLock(*holder_handle);
  ASSERT_TRUE(holder);
  // Two increments of one counter from the same base under `error`: the
  // second queued must conflict, not silently repeat the first. A record
  // change under `merge` queued after them still lands.
  std::vector<Writer> writers(3);
  auto start = [&](int i, const std::function<Status(Transaction&)>& body, Strategy s) {
    writers[i].handle = OpenAnother(20s);
    Writer* w = &writers[i];
    auto tx = w->handle->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(body(**tx).has_value());
    w->thread = std::thread([w, s, t = std::shared_ptr<Transaction>(std::move(*tx))] {
      w->result = t->Commit(CommitOptions{.strategy = s});
    });
    ASSERT_TRUE(WaitForQueued(root, static_cast<size_t>(i) + 1));
  };
  auto increment = [](Transaction& tx) { return tx.Write("counter.txt", "1\n"); };
  start(0, increment, Strategy::kError);
  start(1, increment, Strategy::kError);
  start(
      2, [](Transaction& tx) { return SetTodo(tx, 3, [](Todo& t) { t.description = "x"; }); },
      Strategy::kMerge);
  auto mine = holder->Commit();
  for (auto& w : writers) w.thread.join();
  ASSERT_TRUE(mine.has_value()) << mine.error().ToString();
  ASSERT_TRUE(writers[0].result.has_value()) << writers[0].result.error().ToString();
  EXPECT_EQ(writers[0].result->generation.number, 2u);
  ASSERT_FALSE(writers[1].result.has_value());
  EXPECT_EQ(writers[1].result.error().code, Code::kConflict);
  EXPECT_NE(writers[1].result.error().message.find("counter.txt"), std::string::npos)
      << writers[1].result.error().message;
  ASSERT_TRUE(writers[2].result.has_value()) << writers[2].result.error().ToString();
  EXPECT_EQ(writers[2].result->generation.number, 2u);
  EXPECT_EQ(LiveFile("counter.txt"), "1\n");
  EXPECT_EQ(MustLoadTodos(LiveFile(kTodoFile)).Get("3")->description, "x");
  ExpectClean(2);
}

TEST_F(GroupCommitTest, AWriterNobodyTakesInGivesUpWithLockedAndIsNeverApplied) {
  auto holder_handle = OpenAnother();
  auto holder = HoldLock(*holder_handle);
  ASSERT_TRUE(holder);
  auto impatient = OpenAnother(300ms);
  auto tx = impatient->Begin();
  ASSERT_TRUE(tx.has_value());
  ASSERT_TRUE((*tx)->Write("late.txt", "late\n").has_value());
  auto r = (*tx)->Commit();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kLocked) << r.error().ToString();
  EXPECT_EQ(QueueFiles(root, ".req"), 0u) << "a writer that gave up must withdraw its request";
  ASSERT_TRUE(holder->Write("note.txt", "held\n").has_value());
  ASSERT_TRUE(holder->Commit().has_value());
  EXPECT_FALSE(std::filesystem::exists(live() + "/late.txt"));
  ExpectClean(2);
}

// A writer killed while queued cannot hear of an outcome: its request is
// dropped, never applied.
TEST_F(GroupCommitTest, ARequestWhoseWriterDiedIsDropped) {
  auto holder_handle = OpenAnother();
  auto holder = HoldLock(*holder_handle);
  ASSERT_TRUE(holder);
  ASSERT_TRUE(QueueAWriterAndKillIt());
  ASSERT_TRUE(holder->Write("note.txt", "held\n").has_value());
  auto mine = holder->Commit();
  ASSERT_TRUE(mine.has_value()) << mine.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(live() + "/ghost.txt"));
  EXPECT_EQ(QueueFiles(root, ""), 0u);
  ExpectClean(2);
}

// Recovery leaves the queue holding only what live writers wait for: the
// request of a writer killed while queued is removed, not applied.
TEST_F(GroupCommitTest, RecoveryRemovesARequestWhoseWriterDied) {
  auto holder_handle = OpenAnother();
  auto holder = HoldLock(*holder_handle);
  ASSERT_TRUE(holder);
  ASSERT_TRUE(QueueAWriterAndKillIt());
  holder.reset();  // releases the lock without committing
  auto report = repo->Recover();
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  bool said = false;
  for (const auto& a : report->actions) said = said || a.find("removed queued transaction") == 0;
  EXPECT_TRUE(said) << "recovery must say what it removed";
  EXPECT_EQ(QueueFiles(root, ""), 0u);
  auto again = repo->Recover();
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->actions.empty()) << again->actions.front();
  EXPECT_FALSE(std::filesystem::exists(live() + "/ghost.txt"));
}

// Without contention nothing is queued: each commit is its own generation.
TEST_F(GroupCommitTest, AnUncontendedCommitQueuesNothing) {
  for (int i = 0; i < 3; ++i) {
    auto tx = repo->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE((*tx)->Write("n.txt", std::to_string(i)).has_value());
    auto r = (*tx)->Commit();
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(r->generation.number, static_cast<uint64_t>(i) + 2);
  }
  EXPECT_EQ(QueueFiles(root, ""), 0u);
}

}  // namespace
}  // namespace txdir
