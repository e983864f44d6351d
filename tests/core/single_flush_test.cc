// Single-flush mode (config sync = "single-flush", txn/src/single_flush.h):
// a small publish is acknowledged after one syncfs and leaves an ack
// record; recovery completes such a commit when a power loss undid its
// renames, and only when its ack record names it and its objects are
// whole. The power-loss suite enumerates the crash states
// (powerloss.single-flush.*); these tests pin each rule on a state made by
// hand.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "store/git_store.h"
#include "test_util.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using Files = std::map<std::string, std::string>;

// Counts syncfs calls; fails them on request.
class SyncfsEnv : public EnvWrapper {
 public:
  SyncfsEnv() : EnvWrapper(Env::Default()) {}
  Status Syncfs(int fd) override {
    ++syncfs;
    if (fail) return MakeError(Code::kIo, "injected syncfs failure");
    return EnvWrapper::Syncfs(fd);
  }
  int syncfs = 0;
  bool fail = false;
};

// TXDIR_SYNC for the lifetime of the object.
class SyncMode {
 public:
  explicit SyncMode(const char* mode) { ::setenv("TXDIR_SYNC", mode, 1); }
  ~SyncMode() { ::unsetenv("TXDIR_SYNC"); }
  SyncMode(const SyncMode&) = delete;
  SyncMode& operator=(const SyncMode&) = delete;
};

bool HasAction(const RecoveryReport& r, const std::string& needle) {
  for (const auto& a : r.actions)
    if (a.find(needle) != std::string::npos) return true;
  return false;
}

class SingleFlushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.repo);
    f_.Publish(v1_);
  }

  // Opens the repository through `env_` in single-flush mode.
  std::unique_ptr<Repository> Open() {
    auto r = Repository::Open(f_.root, OpenOptions{.env = &env_});
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? std::move(*r) : nullptr;
  }

  Result<GenerationInfo> PublishThrough(Repository& repo, const Files& files) {
    testing::MakeTree(f_.src, files);
    return repo.Publish(f_.src, PublishOptions{.allow_remove_all = true});
  }

  std::string Meta(const std::string& rel) const { return f_.root + "/.txdir/" + rel; }
  std::string Ref(const std::string& name) const { return Meta("store.git/refs/heads/" + name); }

  // Publishes v2_ as generation 2 in single-flush mode, then makes the
  // state a power loss leaves when it keeps everything before the flush and
  // undoes both renames after it: the head back at generation 1 with
  // generation 2's id in main.lock, the live link on generation 1.
  void PublishAndUndoRenames() {
    const std::string first = f_.repo->Log(1)->front().commit;
    {
      auto repo = Open();
      ASSERT_TRUE(repo);
      auto g = PublishThrough(*repo, v2_);
      ASSERT_TRUE(g) << g.error().ToString();
      ASSERT_EQ(g->number, 2u);
    }
    ASSERT_EQ(::rename(Ref("main").c_str(), Ref("main.lock").c_str()), 0);
    testing::WriteFile(Ref("main"), first + "\n");
    const std::string tmp = f_.root + "/.live-tmp";
    stdfs::create_symlink(".txdir/gens/1", tmp);
    stdfs::rename(tmp, f_.live());
    ASSERT_TRUE(stdfs::exists(f_.gen_dir(2)));
  }

  testing::RepoFixture f_;
  SyncfsEnv env_;
  SyncMode mode_{"single-flush"};
  Files v1_{{"a.txt", "one"}, {"b.txt", "two"}};
  Files v2_{{"a.txt", "one"}, {"b.txt", "TWO"}, {"c.txt", "three"}};
};

TEST_F(SingleFlushTest, ASmallPublishFlushesOnceAndRecordsItsCommit) {
  auto repo = Open();
  ASSERT_TRUE(repo);
  auto g = PublishThrough(*repo, v2_);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(env_.syncfs, 1);
  EXPECT_EQ(testing::ReadFile(Meta(g->number % 2 == 0 ? "ack.0" : "ack.1")), g->commit + "\n");
  EXPECT_EQ(testing::ReadTree(f_.live()), v2_);
}

TEST_F(SingleFlushTest, APublishAddingMoreObjectsThanTheCapFlushesTwice) {
  auto repo = Open();
  ASSERT_TRUE(repo);
  Files many;
  for (int i = 0; i < 300; ++i) many["f" + std::to_string(i)] = std::to_string(i);
  auto g = PublishThrough(*repo, many);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(env_.syncfs, 2);
  EXPECT_FALSE(stdfs::exists(Meta(g->number % 2 == 0 ? "ack.0" : "ack.1")));
}

TEST_F(SingleFlushTest, SyncfsModeStillFlushesAfterTheCommitPoint) {
  SyncMode syncfs("syncfs");
  auto repo = Open();
  ASSERT_TRUE(repo);
  ASSERT_TRUE(PublishThrough(*repo, v2_));
  EXPECT_EQ(env_.syncfs, 2);
  EXPECT_FALSE(stdfs::exists(Meta("ack.0")));
}

TEST_F(SingleFlushTest, RecoveryCompletesAnAcknowledgedCommitWhoseRenamesWereLost) {
  ASSERT_NO_FATAL_FAILURE(PublishAndUndoRenames());
  // A reader before recovery sees the previous generation, whole, and
  // status says which generation awaits recovery.
  EXPECT_EQ(testing::ReadTree(f_.live()), v1_);

  auto repo = Open();
  ASSERT_TRUE(repo);
  auto before = repo->Status();
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_EQ(before->awaiting_recovery, std::optional<uint64_t>(2));
  EXPECT_EQ(before->committed, std::optional<uint64_t>(1));
  auto report = repo->Recover();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(HasAction(*report, "completed the commit of generation 2")) << report->actions[0];
  auto st = repo->Status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->committed, std::optional<uint64_t>(2));
  EXPECT_EQ(st->live, std::optional<uint64_t>(2));
  EXPECT_FALSE(st->awaiting_recovery);
  EXPECT_EQ(testing::ReadTree(f_.live()), v2_);
  EXPECT_FALSE(stdfs::exists(Ref("main.lock")));
  auto again = repo->Recover();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->actions.empty());
}

TEST_F(SingleFlushTest, WithoutItsAckRecordAPendingCommitIsDropped) {
  ASSERT_NO_FATAL_FAILURE(PublishAndUndoRenames());
  // The record's write was lost: it holds what it held before (here: torn).
  testing::WriteFile(Meta("ack.0"), std::string(41, '\0'));

  auto repo = Open();
  ASSERT_TRUE(repo);
  EXPECT_FALSE(repo->Status()->awaiting_recovery);
  auto report = repo->Recover();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(HasAction(*report, "completed the commit"));
  EXPECT_TRUE(HasAction(*report, "removed stale git lock refs/heads/main.lock"));
  EXPECT_EQ(repo->Status()->committed, std::optional<uint64_t>(1));
  EXPECT_EQ(testing::ReadTree(f_.live()), v1_);
}

TEST_F(SingleFlushTest, APendingCommitWithADamagedObjectIsDropped) {
  ASSERT_NO_FATAL_FAILURE(PublishAndUndoRenames());
  // The new file's object kept its name and lost its bytes.
  auto store = store::GitStore::Open(Env::Default(), Meta("store.git"));
  ASSERT_TRUE(store);
  auto blob = (*store)->WriteBlob("three");  // exists already: its id
  ASSERT_TRUE(blob);
  const std::string hex = store::OidHex(*blob);
  const std::string path = Meta("store.git/objects/" + hex.substr(0, 2) + "/" + hex.substr(2));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  testing::WriteFile(path, "");

  auto repo = Open();
  ASSERT_TRUE(repo);
  auto report = repo->Recover();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(HasAction(*report, "completed the commit"));
  EXPECT_EQ(repo->Status()->committed, std::optional<uint64_t>(1));
  EXPECT_EQ(testing::ReadTree(f_.live()), v1_);
}

TEST_F(SingleFlushTest, AFailedFlushIsReportedAsAnUnknownOutcome) {
  auto repo = Open();
  ASSERT_TRUE(repo);
  env_.fail = true;
  auto g = PublishThrough(*repo, v2_);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("commit outcome unknown"), std::string::npos)
      << g.error().ToString();
  EXPECT_NE(g.error().message.find("injected syncfs failure"), std::string::npos);
  env_.fail = false;
  // Without a power loss nothing was committed: the next writer recovers
  // (the lock is tainted) and finds the previous generation.
  auto report = repo->Recover();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(repo->Status()->committed, std::optional<uint64_t>(1));
  EXPECT_EQ(testing::ReadTree(f_.live()), v1_);
}

}  // namespace
}  // namespace txdir
