// Replication on one machine playing several roles: a publisher, a bare
// repository made by git, and replicas pulling over file:// and over a
// `git daemon` (git://127.0.0.1:<free port>) that the test starts and stops.
#include "txdir/replication.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tests/replication/repl_test_util.h"
#include "txdir/snapshot.h"

namespace txdir {
namespace {

using testing::CliResult;
using testing::RunCli;
using testing::TempDir;

// Counters a reader process shares with the test.
struct ReaderStats {
  std::atomic<int> stop{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> torn{0};
  std::atomic<uint64_t> wrong_generation{0};
  std::atomic<uint64_t> max_generation{0};
  std::atomic<uint64_t> errors{0};
  char first_error[256];
};

// A process that reads all files of the live generation through a
// Snapshot, again and again, checking they belong to one round and that
// round n is generation n.
class Reader {
 public:
  explicit Reader(const std::string& root) {
    void* mem = ::mmap(nullptr, sizeof(ReaderStats), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    stats_ = new (mem) ReaderStats();
    pid_ = ::fork();
    if (pid_ == 0) {
      Run(root);
      ::_exit(0);
    }
  }
  ~Reader() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    stats_->stop.store(1);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  const ReaderStats& stats() const { return *stats_; }

 private:
  void Run(const std::string& root) {
    auto error = [&](const std::string& what) {
      if (stats_->errors.fetch_add(1) == 0)
        std::snprintf(stats_->first_error, sizeof stats_->first_error, "%s", what.c_str());
    };
    while (stats_->stop.load() == 0) {
      auto snap = Snapshot::OpenLive(root);
      if (!snap) {
        if (snap.error().code != Code::kNotFound) error("OpenLive: " + snap.error().ToString());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      std::vector<std::string> files;
      for (int i = 0; i < testing::kRoundFiles; ++i) {
        auto data = snap->ReadFile(testing::RoundFileName(i));
        if (!data) {
          error("read: " + data.error().ToString());
          break;
        }
        files.push_back(*data);
      }
      if (files.size() != testing::kRoundFiles) continue;
      stats_->reads.fetch_add(1);
      int64_t round = testing::RoundOf(files);
      if (round < 0)
        stats_->torn.fetch_add(1);
      else if (static_cast<uint64_t>(round) != snap->generation())
        stats_->wrong_generation.fetch_add(1);
      uint64_t g = snap->generation(), cur = stats_->max_generation.load();
      while (g > cur && !stats_->max_generation.compare_exchange_weak(cur, g)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  ReaderStats* stats_;
  pid_t pid_ = -1;
};

void ExpectCleanReads(const Reader& r, const std::string& who) {
  const ReaderStats& s = r.stats();
  std::printf("REPLICATION_READER %s reads=%llu torn=%llu wrong_generation=%llu errors=%llu\n",
              who.c_str(), static_cast<unsigned long long>(s.reads.load()),
              static_cast<unsigned long long>(s.torn.load()),
              static_cast<unsigned long long>(s.wrong_generation.load()),
              static_cast<unsigned long long>(s.errors.load()));
  EXPECT_GT(s.reads.load(), 0u) << who;
  EXPECT_EQ(s.torn.load(), 0u) << who;
  EXPECT_EQ(s.wrong_generation.load(), 0u) << who;
  EXPECT_EQ(s.errors.load(), 0u) << who << ": " << s.first_error;
}

uint64_t LiveGeneration(const std::string& root) {
  auto snap = Snapshot::OpenLive(root);
  return snap ? snap->generation() : 0;
}

nlohmann::json LogJson(const std::string& root) {
  CliResult r = RunCli({"log", root, "--json"});
  EXPECT_EQ(r.exit, 0) << r;
  return nlohmann::json::parse(r.out, nullptr, false);
}

// The publisher's repository with `origin` = a bare repository made by git.
struct World {
  TempDir tmp{testing::ReplBase()};
  std::string bare = tmp / "remotes/dash.git";
  std::string pub = tmp / "publisher";
  std::string src = tmp / "src";
  std::unique_ptr<testing::GitDaemon> daemon;

  World() {
    testing::MakeBare(bare);
    CliResult r = RunCli({"init", pub});
    EXPECT_EQ(r.exit, 0) << r;
    r = RunCli({"remote", pub, "add", "origin", "file://" + bare});
    EXPECT_EQ(r.exit, 0) << r;
  }
  void StartDaemon() { daemon = std::make_unique<testing::GitDaemon>(tmp / "remotes"); }
  std::string GitUrl() const { return daemon->Url("dash.git"); }

  // Publishes round `seq` (generation `seq` when rounds start at 1).
  void PublishRound(uint64_t seq) {
    testing::WriteRound(src, seq);
    CliResult r = RunCli({"publish", pub, "--from", src, "-m", "round " + std::to_string(seq)});
    ASSERT_EQ(r.exit, 0) << r;
  }
  void Push() {
    CliResult r = RunCli({"push", pub});
    ASSERT_EQ(r.exit, 0) << r;
  }
};

TEST(Replication, PushToALocalPathCountsObjectsAndClaimsNoBytes) {
  // libgit2's local transport copies objects and reports a few bytes for
  // dozens of them; only objects are counted for it.
  World w;
  w.PublishRound(1);
  CliResult r = RunCli({"push", w.pub});
  ASSERT_EQ(r.exit, 0) << r;
  const size_t open = r.out.rfind(" ("), sent = r.out.find(" objects sent)\n");
  ASSERT_NE(open, std::string::npos) << r;
  ASSERT_NE(sent, std::string::npos) << r;
  const std::string count = r.out.substr(open + 2, sent - open - 2);
  ASSERT_FALSE(count.empty()) << r;
  EXPECT_EQ(count.find_first_not_of("0123456789"), std::string::npos) << "no bytes: " << r;
  EXPECT_GT(std::stoul(count), 10u) << r;
}

TEST(Replication, TwentyGenerationsReachBothReplicasWhole) {
  World w;
  w.StartDaemon();
  ASSERT_TRUE(w.daemon->ok()) << w.daemon->error();
  w.PublishRound(1);
  w.Push();
  const std::string r1 = w.tmp / "replica_file", r2 = w.tmp / "replica_git";
  CliResult c1 = RunCli({"clone", "file://" + w.bare, r1});
  ASSERT_EQ(c1.exit, 0) << c1;
  CliResult c2 = RunCli({"clone", w.GitUrl(), r2});
  ASSERT_EQ(c2.exit, 0) << c2;
  EXPECT_NE(c2.out.find("pulled generation 1"), std::string::npos) << c2;
  Reader reader1(r1), reader2(r2);

  for (uint64_t seq = 2; seq <= 20; ++seq) {
    w.PublishRound(seq);
    w.Push();
    if (seq % 3 == 0) {
      CliResult p = RunCli({"pull", r1});
      ASSERT_EQ(p.exit, 0) << p;
      EXPECT_NE(p.out.find("pulled generation " + std::to_string(seq)), std::string::npos) << p;
      EXPECT_NE(p.out.find("bytes"), std::string::npos) << p;
    }
    if (seq % 4 == 0) {
      CliResult p = RunCli({"pull", r2, "origin"});
      ASSERT_EQ(p.exit, 0) << p;
      EXPECT_NE(p.out.find("pulled generation " + std::to_string(seq)), std::string::npos) << p;
    }
  }
  for (const auto& r : {r1, r2}) {
    CliResult p = RunCli({"pull", r});
    ASSERT_EQ(p.exit, 0) << p;
    CliResult again = RunCli({"pull", r});
    EXPECT_NE(again.out.find("up to date"), std::string::npos) << again;
  }
  // Let the readers see the last generation, then stop them.
  for (int i = 0; i < 200 && (reader1.stats().max_generation.load() < 20 ||
                              reader2.stats().max_generation.load() < 20);
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  reader1.Stop();
  reader2.Stop();
  ExpectCleanReads(reader1, "file://");
  ExpectCleanReads(reader2, "git://");

  // Same generations, same commits, same metadata (host included).
  auto want = LogJson(w.pub);
  ASSERT_EQ(want.size(), 20u);
  for (const auto& r : {r1, r2}) {
    EXPECT_EQ(LiveGeneration(r), 20u) << r;
    auto got = LogJson(r);
    ASSERT_EQ(got.size(), 20u) << r;
    for (size_t i = 0; i < 20; ++i) {
      EXPECT_EQ(got[i]["commit"], want[i]["commit"]);
      EXPECT_EQ(got[i]["generation"], want[i]["generation"]);
      EXPECT_EQ(got[i]["host"], want[i]["host"]);
      EXPECT_EQ(got[i]["time_ms"], want[i]["time_ms"]);
    }
    EXPECT_EQ(testing::ReadTree(r + "/current"), testing::ReadTree(w.pub + "/current"));
  }
}

TEST(Replication, DivergedReplicaIsRefusedThenResolvedByStrategy) {
  World w;
  testing::WriteFile(w.src + "/shared.txt", "v1\n");
  testing::WriteFile(w.src + "/theirs.txt", "t1\n");
  testing::WriteFile(w.src + "/ours.txt", "o1\n");
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);
  w.Push();
  const std::string rep = w.tmp / "replica", rsrc = w.tmp / "rsrc";
  ASSERT_EQ(RunCli({"clone", "file://" + w.bare, rep}).exit, 0);

  // The replica publishes locally (generation 2), the publisher twice (2, 3).
  testing::WriteFile(rsrc + "/shared.txt", "v1\n");
  testing::WriteFile(rsrc + "/theirs.txt", "t1\n");
  testing::WriteFile(rsrc + "/ours.txt", "o2-local\n");
  ASSERT_EQ(RunCli({"publish", rep, "--from", rsrc}).exit, 0);
  testing::WriteFile(w.src + "/theirs.txt", "t2\n");
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);
  testing::WriteFile(w.src + "/theirs.txt", "t3\n");
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);
  w.Push();

  CliResult refused = RunCli({"pull", rep});
  EXPECT_EQ(refused.exit, 5) << refused;
  EXPECT_NE(refused.err.find("diverged"), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("local head generation 2"), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("remote 'origin' head generation 3"), std::string::npos) << refused;
  EXPECT_NE(refused.err.find("merge base generation 1"), std::string::npos) << refused;
  EXPECT_EQ(LiveGeneration(rep), 2u);
  EXPECT_EQ(testing::ReadFile(rep + "/current/ours.txt"), "o2-local\n");
  // The replica cannot push over the publisher either.
  CliResult push = RunCli({"push", rep});
  EXPECT_EQ(push.exit, 5) << push;

  // Resolved: a new generation max(2, 3) + 1 on top of the remote head.
  CliResult merged = RunCli({"pull", rep, "--strategy", "merge"});
  ASSERT_EQ(merged.exit, 0) << merged;
  EXPECT_NE(merged.out.find("published generation 4"), std::string::npos) << merged;
  EXPECT_EQ(LiveGeneration(rep), 4u);
  EXPECT_EQ(testing::ReadFile(rep + "/current/ours.txt"), "o2-local\n");
  EXPECT_EQ(testing::ReadFile(rep + "/current/theirs.txt"), "t3\n");
  auto log = LogJson(rep);
  ASSERT_EQ(log.size(), 4u);  // 4, then the remote's 3, 2, 1 (first parents)
  EXPECT_EQ(log[0]["kind"], "pull");
  EXPECT_EQ(log[1]["generation"], 3);
  // The local generation 2 is kept as the second parent, and its
  // directory no longer answers to the number 2.
  std::string git_dir = rep + "/.txdir/store.git";
  EXPECT_EQ(testing::RunProgram({"git", "--git-dir=" + git_dir, "rev-parse", "--verify", "-q",
                                 "refs/heads/main^2"}),
            0);
  auto verify2 = RunCli({"recover", rep});
  EXPECT_EQ(verify2.exit, 0) << verify2;
  EXPECT_FALSE(std::filesystem::exists(rep + "/.txdir/gens/2")) << "stale local generation 2";

  // The resolved generation fast-forwards the remote and the publisher.
  ASSERT_EQ(RunCli({"push", rep}).exit, 0);
  CliResult back = RunCli({"pull", w.pub});
  ASSERT_EQ(back.exit, 0) << back;
  EXPECT_EQ(LiveGeneration(w.pub), 4u);
  EXPECT_EQ(testing::ReadFile(w.pub + "/current/ours.txt"), "o2-local\n");

  // Both sides change the same file: merge cannot resolve a non-table file.
  testing::WriteFile(rsrc + "/theirs.txt", "t3\n");
  testing::WriteFile(rsrc + "/shared.txt", "v2-replica\n");
  ASSERT_EQ(RunCli({"publish", rep, "--from", rsrc}).exit, 0);  // 5 on the replica
  testing::WriteFile(w.src + "/ours.txt", "o2-local\n");
  testing::WriteFile(w.src + "/shared.txt", "v2-publisher\n");
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);  // 5 on the publisher
  w.Push();
  CliResult conflict = RunCli({"pull", rep, "--strategy", "merge"});
  EXPECT_EQ(conflict.exit, 5) << conflict;
  EXPECT_NE(conflict.err.find("shared.txt"), std::string::npos) << conflict;
  EXPECT_EQ(LiveGeneration(rep), 5u);
  CliResult lww = RunCli({"pull", rep, "--strategy", "last-write-wins"});
  ASSERT_EQ(lww.exit, 0) << lww;
  EXPECT_EQ(LiveGeneration(rep), 6u);
  EXPECT_EQ(testing::ReadFile(rep + "/current/shared.txt"), "v2-replica\n");
}

TEST(Replication, PushAfterAnotherMachinePushedIsAConflict) {
  World w;
  w.StartDaemon();
  ASSERT_TRUE(w.daemon->ok()) << w.daemon->error();
  w.PublishRound(1);
  w.Push();
  // A second publishing machine, over git://.
  const std::string other = w.tmp / "other", osrc = w.tmp / "osrc";
  ASSERT_EQ(RunCli({"clone", w.GitUrl(), other}).exit, 0);
  w.PublishRound(2);
  w.Push();
  testing::WriteRound(osrc, 7);
  ASSERT_EQ(RunCli({"publish", other, "--from", osrc}).exit, 0);
  CliResult late = RunCli({"push", other});
  EXPECT_EQ(late.exit, 5) << late;
  EXPECT_NE(late.err.find("pushed first"), std::string::npos) << late;
  // The remote still has the first machine's generation 2.
  auto remote_head = [&] {
    std::string out = w.tmp / "head.txt";
    testing::RunProgram({"git", "--git-dir=" + w.bare, "rev-parse", "refs/heads/main"}, out);
    return testing::ReadFile(out);
  };
  EXPECT_EQ(remote_head().substr(0, 40), LogJson(w.pub)[0]["commit"].get<std::string>());
  // Also when our own check is bypassed by a stale view: the publisher
  // pushes over file:// after `other` moved the remote through the daemon.
  ASSERT_EQ(RunCli({"pull", other, "--strategy", "last-write-wins"}).exit, 0);
  ASSERT_EQ(RunCli({"push", other}).exit, 0);
  w.PublishRound(3);
  CliResult stale = RunCli({"push", w.pub});
  EXPECT_EQ(stale.exit, 5) << stale;
}

TEST(Replication, RemoteCommandsAndErrors) {
  World w;
  CliResult list = RunCli({"remote", w.pub, "list"});
  ASSERT_EQ(list.exit, 0) << list;
  EXPECT_EQ(list.out, "origin\tfile://" + w.bare + "\n");
  EXPECT_EQ(RunCli({"remote", w.pub, "add", "origin", "/elsewhere"}).exit, 9);
  EXPECT_EQ(RunCli({"remote", w.pub, "add", "backup", w.tmp / "backup.git"}).exit, 0);
  EXPECT_EQ(RunCli({"remote", w.pub, "remove", "backup"}).exit, 0);
  EXPECT_EQ(RunCli({"remote", w.pub, "remove", "backup"}).exit, 3);
  EXPECT_EQ(RunCli({"remote", w.pub, "add", "x"}).exit, 2);
  EXPECT_EQ(RunCli({"pull", w.pub, "nosuch"}).exit, 3);
  EXPECT_EQ(RunCli({"push", w.pub}).exit, 3);  // nothing published yet
  // An empty remote: nothing to pull.
  CliResult empty = RunCli({"pull", w.pub});
  EXPECT_EQ(empty.exit, 0) << empty;
  EXPECT_NE(empty.out.find("no generations yet"), std::string::npos) << empty;
  // The remote behind the local head.
  w.PublishRound(1);
  w.Push();
  w.PublishRound(2);
  CliResult behind = RunCli({"pull", w.pub});
  EXPECT_EQ(behind.exit, 0) << behind;
  EXPECT_NE(behind.out.find("nothing to pull"), std::string::npos) << behind;
  // An unreachable remote is an I/O error (7).
  EXPECT_EQ(RunCli({"remote", w.pub, "add", "gone", "file://" + w.tmp / "missing.git"}).exit, 0);
  EXPECT_EQ(RunCli({"pull", w.pub, "gone"}).exit, 7);
  EXPECT_EQ(RunCli({"pull", w.pub, "--strategy", "nonsense"}).exit, 2);
}

TEST(Replication, WatchFollowsThePublisherAndStopsOnSigterm) {
  World w;
  w.PublishRound(1);
  w.Push();
  const std::string rep = w.tmp / "replica";
  ASSERT_EQ(RunCli({"clone", "file://" + w.bare, rep}).exit, 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string log = w.tmp / "watch.log";
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    ::execl(TXDIR_CLI, TXDIR_CLI, "pull", rep.c_str(), "--watch", "--interval", "0.1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  w.PublishRound(2);
  w.Push();
  w.PublishRound(3);
  w.Push();
  for (int i = 0; i < 300 && LiveGeneration(rep) != 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(LiveGeneration(rep), 3u);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_NE(testing::ReadFile(w.tmp / "watch.log").find("stopped watching"), std::string::npos);
}

// 10,000 files: the first pull moves everything, an incremental pull of a
// one-file change moves one blob and its trees. Figures only; no asserts
// on time.
TEST(Replication, TenThousandFiles) {
  World w;
  w.StartDaemon();
  ASSERT_TRUE(w.daemon->ok()) << w.daemon->error();
  for (int i = 0; i < 10000; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "d%02d/f%05d.txt", i % 100, i);
    testing::WriteFile(w.src + "/" + name, "file " + std::to_string(i) + "\n" +
                                               std::string(64 + i % 97, 'a' + i % 26) + "\n");
  }
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);
  w.Push();
  const std::string rep = w.tmp / "replica";
  ASSERT_EQ(RunCli({"init", rep}).exit, 0);
  ASSERT_EQ(RunCli({"remote", rep, "add", "origin", w.GitUrl()}).exit, 0);
  auto repo = Repository::Open(rep);
  ASSERT_TRUE(repo) << repo.error().ToString();
  auto t0 = std::chrono::steady_clock::now();
  auto first = Pull(**repo, "origin");
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(first) << first.error().ToString();
  EXPECT_EQ(first->outcome, PullOutcome::kFastForward);

  testing::WriteFile(w.src + "/d07/f00007.txt", "changed\n");
  ASSERT_EQ(RunCli({"publish", w.pub, "--from", w.src}).exit, 0);
  w.Push();
  auto t2 = std::chrono::steady_clock::now();
  auto incr = Pull(**repo, "origin");
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(incr) << incr.error().ToString();
  EXPECT_EQ(incr->outcome, PullOutcome::kFastForward);
  EXPECT_EQ(testing::ReadFile(rep + "/current/d07/f00007.txt"), "changed\n");
  EXPECT_EQ(testing::ReadTree(rep + "/current").size(), 10000u);
  EXPECT_GT(first->transfer.bytes, 0u);
  EXPECT_LT(incr->transfer.bytes, first->transfer.bytes / 10);
  auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  std::printf(
      "REPLICATION_10K first_pull_ms=%lld first_pull_bytes=%llu incr_pull_ms=%lld "
      "incr_pull_bytes=%llu\n",
      static_cast<long long>(ms(t0, t1)), static_cast<unsigned long long>(first->transfer.bytes),
      static_cast<long long>(ms(t2, t3)), static_cast<unsigned long long>(incr->transfer.bytes));
}

}  // namespace
}  // namespace txdir
