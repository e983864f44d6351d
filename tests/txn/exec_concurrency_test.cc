// `txdir exec` against other processes: recovery run by another writer
// never touches a live exec's stage, and concurrent read-modify-write
// programs under the error strategy lose no update (each exit 0 is one
// update that landed; a stale one is a conflict, or is run again with
// --retry).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

constexpr int kConflict = 5;

std::map<std::string, std::string> ManyFiles(int n) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < n; ++i)
    files["d" + std::to_string(i % 5) + "/f" + std::to_string(i)] = "file " + std::to_string(i);
  return files;
}

// Holds an exec at `point` (TXDIR_PAUSE_AT), runs `txdir recover` from
// another process meanwhile, lets the exec go on: it must publish the
// whole stage.
void ExecSurvivesRecoveryAt(const std::string& point) {
  CliFixture f;
  const auto files = ManyFiles(41);
  ASSERT_EQ(f.Publish(files).exit, 0);
  TempDir pause;
  StartedCli exec({"exec", f.root, "--", "sh", "-c", "echo added > \"$TXDIR_STAGE/new.txt\""},
                  {"TXDIR_PAUSE_AT=" + point, "TXDIR_PAUSE_DIR=" + pause.path()});
  ASSERT_TRUE(exec.started());
  ASSERT_TRUE(WaitForFile(pause / "paused")) << "exec never reached " << point;
  CliResult rec = RunCli({"recover", f.root});
  EXPECT_EQ(rec.exit, 0) << rec;
  WriteFile(pause / "resume", "");
  CliResult r = exec.Wait();
  ASSERT_EQ(r.exit, 0) << r;
  auto published = files;
  published["new.txt"] = "added\n";
  EXPECT_EQ(ReadTree(f.root + "/current"), published);
  EXPECT_TRUE(stdfs::is_empty(f.root + "/.txdir/tmp"));
}

TEST(ExecAgainstRecovery, AStageBeingCreatedIsNotRemoved) {
  ExecSurvivesRecoveryAt("exec.stage_created");
}

TEST(ExecAgainstRecovery, ALockedStageIsNotRemoved) { ExecSurvivesRecoveryAt("exec.staged"); }

// The exec stage under .txdir/tmp, once its program has created `marker`.
std::string StageWith(const std::string& root, const std::string& marker) {
  for (int i = 0; i < 30000; ++i) {
    std::error_code ec;
    for (auto& e : stdfs::directory_iterator(root + "/.txdir/tmp", ec))
      if (stdfs::exists(e.path() / marker)) return e.path().string();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return "";
}

// txdir killed while its program still writes into the stage: the program
// keeps the stage locked (it inherits the lock), so another writer's
// recovery leaves it alone and succeeds; once the program is gone the
// stage is a leftover like any other.
TEST(ExecAgainstRecovery, AKilledExecsProgramStillHoldsItsStage) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"a", "A"}}).exit, 0);
  TempDir done;
  StartedCli exec({"exec", f.root, "--", "sh", "-c",
                   "cd \"$TXDIR_STAGE\"; touch started; for i in 1 2 3 4 5 6 7 8 9 10; do "
                   "mkdir -p d$i; echo $i > d$i/f; sleep 0.1; done; touch " +
                       (done / "finished")},
                  {});
  ASSERT_TRUE(exec.started());
  const std::string stage = StageWith(f.root, "started");
  ASSERT_FALSE(stage.empty());
  ASSERT_EQ(::kill(exec.pid(), SIGKILL), 0);
  EXPECT_EQ(exec.Wait().exit, -1);
  CliResult rec = RunCli({"recover", f.root});
  EXPECT_EQ(rec.exit, 0) << rec;
  EXPECT_TRUE(stdfs::exists(stage)) << "removed under a running program";
  ASSERT_TRUE(WaitForFile(done / "finished"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the shell exits
  rec = RunCli({"recover", f.root});
  EXPECT_EQ(rec.exit, 0) << rec;
  EXPECT_FALSE(stdfs::exists(stage));
  EXPECT_EQ(RunCli({"cat", f.root, "a"}).out, "A");
}

// N processes each run `exec` on a read-modify-write of one counter file
// M times. Under the error strategy every exit 0 is exactly one increment
// that landed; without --retry the stale ones fail with a conflict.
struct CounterRun {
  int successes = 0, conflicts = 0, other = 0;
  std::string first_other;
};

CounterRun RunCounters(const std::string& root, int workers, int each,
                       const std::vector<std::string>& extra_args) {
  const std::string script =
      "n=$(cat \"$TXDIR_STAGE/counter\"); sleep 0.01; "
      "echo $((n+1)) > \"$TXDIR_STAGE/counter\"";
  CounterRun total;
  std::vector<std::thread> threads;
  std::mutex mu;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < each; ++i) {
        std::vector<std::string> args = {"exec", root, "--timeout", "60"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        for (const char* a : {"--", "sh", "-c"}) args.emplace_back(a);
        args.push_back(script);
        CliResult r = RunCli(args);
        std::lock_guard<std::mutex> lock(mu);
        if (r.exit == 0) {
          ++total.successes;
        } else if (r.exit == kConflict) {
          ++total.conflicts;
        } else {
          if (total.other++ == 0) total.first_other = ::testing::PrintToString(r);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return total;
}

int Counter(const std::string& root) { return std::stoi(ReadFile(root + "/current/counter")); }

TEST(ExecCounter, ConcurrentIncrementsWithoutRetryLoseNothing) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"counter", "0\n"}}).exit, 0);
  CounterRun run = RunCounters(f.root, 4, 10, {});
  EXPECT_EQ(run.other, 0) << run.first_other;
  EXPECT_EQ(run.successes + run.conflicts, 40);
  EXPECT_EQ(Counter(f.root), run.successes) << "conflicts: " << run.conflicts;
  std::cout << "[ counter ] 4 x 10 execs: " << run.successes << " landed, " << run.conflicts
            << " conflicts, counter " << Counter(f.root) << "\n";
}

TEST(ExecCounter, ConcurrentIncrementsWithRetryAllLand) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"counter", "0\n"}}).exit, 0);
  CounterRun run = RunCounters(f.root, 4, 10, {"--retry", "1000"});
  EXPECT_EQ(run.other, 0) << run.first_other;
  EXPECT_EQ(run.conflicts, 0);
  EXPECT_EQ(run.successes, 40);
  EXPECT_EQ(Counter(f.root), 40);
}

}  // namespace
}  // namespace txdir::testing
