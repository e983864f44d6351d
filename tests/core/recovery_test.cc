// Recovery: leftovers of an interrupted writer, made by hand, are repaired;
// a second run finds nothing; the next publish works.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "test_util.h"
#include "txn/src/writer_lock.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using testing::ReadTree;
using testing::WriteFile;
using Files = std::map<std::string, std::string>;

bool HasAction(const RecoveryReport& r, const std::string& needle) {
  for (const auto& a : r.actions)
    if (a.find(needle) != std::string::npos) return true;
  return false;
}

std::string Joined(const RecoveryReport& r) {
  std::string s;
  for (const auto& a : r.actions) s += "  " + a + "\n";
  return s;
}

// Points the live link at `target` (relative to the root) atomically.
void RepointLive(const testing::RepoFixture& f, const std::string& target) {
  std::string tmp = f.root + "/.live-tmp";
  stdfs::create_symlink(target, tmp);
  stdfs::rename(tmp, f.live());
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.repo);
    f_.Publish(v1_);
    f_.Publish(v2_);
  }

  void ExpectHealthyAt(uint64_t gen, const Files& files) {
    auto s = f_.repo->Status();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->live, std::optional<uint64_t>(gen));
    EXPECT_EQ(s->committed, std::optional<uint64_t>(gen));
    EXPECT_TRUE(s->consistent);
    EXPECT_EQ(ReadTree(f_.live()), files);
  }

  void ExpectSecondRecoverFindsNothingAndPublishWorks() {
    auto again = f_.repo->Recover();
    ASSERT_TRUE(again) << again.error().ToString();
    EXPECT_TRUE(again->actions.empty()) << "second run repaired again:\n" << Joined(*again);
    EXPECT_EQ(again->live, std::optional<uint64_t>(2));
    EXPECT_EQ(f_.Publish({{"a", "three"}}), 3u);
    ExpectHealthyAt(3, {{"a", "three"}});
    std::string out;
    EXPECT_EQ(testing::RunShell("git --git-dir='" + meta_ + "/store.git' fsck --strict", &out), 0)
        << out;
  }

  // Publishes {a: three} as generation 3 through a handle opened now, as a
  // new process would: its first lock decides whether recovery runs.
  void PublishThroughANewHandle() {
    auto fresh = Repository::Open(f_.root);
    ASSERT_TRUE(fresh) << fresh.error().ToString();
    testing::MakeTree(f_.src, {{"a", "three"}});
    auto info = (*fresh)->Publish(f_.src);
    ASSERT_TRUE(info) << info.error().ToString();
    EXPECT_EQ(info->number, 3u);
    ExpectHealthyAt(3, {{"a", "three"}});
  }

  testing::RepoFixture f_;
  const std::string meta_ = f_.root + "/.txdir";
  const Files v1_ = {{"a", "one"}, {"keep", "k"}};
  const Files v2_ = {{"a", "two"}, {"keep", "k"}};
};

TEST_F(RecoveryTest, CleanRepositoryNeedsNothing) {
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->actions.empty()) << Joined(*r);
  EXPECT_EQ(r->live, std::optional<uint64_t>(2));
}

TEST_F(RecoveryTest, RepairsEveryKindOfLeftoverAtOnce) {
  // A staging directory of a publish that died while materializing.
  WriteFile(meta_ + "/tmp/stage-3-999-abcdef/a", "half");
  // A stale lock on the head ref (libgit2 never removes one).
  WriteFile(meta_ + "/store.git/refs/heads/main.lock",
            "0000000000000000000000000000000000000000\n");
  // A generation directory beyond the committed head.
  WriteFile(f_.gen_dir(3) + "/a", "never committed");
  ::chmod(f_.gen_dir(3).c_str(), 0555);
  // A half-written loose object.
  WriteFile(meta_ + "/store.git/objects/ab/tmp_obj_Xy12Zq", "junk");
  // The live link moved back to an older generation.
  RepointLive(f_, ".txdir/gens/1");
  // A temp config file from an interrupted AtomicWriteFile.
  WriteFile(meta_ + "/.config.json.tmp-1-abc", "{");

  auto s = f_.repo->Status();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->live, std::optional<uint64_t>(1));
  EXPECT_FALSE(s->consistent);
  EXPECT_FALSE(s->publish_in_progress);  // nobody holds the lock: this is damage

  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  const std::string all = Joined(*r);
  EXPECT_TRUE(HasAction(*r, "tmp/stage-3-999-abcdef")) << all;
  EXPECT_TRUE(HasAction(*r, "refs/heads/main.lock")) << all;
  EXPECT_TRUE(HasAction(*r, "gens/3")) << all;
  EXPECT_TRUE(HasAction(*r, "objects/ab/tmp_obj_Xy12Zq")) << all;
  EXPECT_TRUE(HasAction(*r, "from generation 1 to generation 2")) << all;
  EXPECT_TRUE(HasAction(*r, ".config.json.tmp-1-abc")) << all;
  EXPECT_EQ(r->live, std::optional<uint64_t>(2));

  EXPECT_TRUE(stdfs::is_empty(meta_ + "/tmp"));
  EXPECT_FALSE(stdfs::exists(meta_ + "/store.git/refs/heads/main.lock"));
  EXPECT_FALSE(stdfs::exists(f_.gen_dir(3)));
  EXPECT_FALSE(stdfs::exists(meta_ + "/store.git/objects/ab/tmp_obj_Xy12Zq"));
  EXPECT_FALSE(stdfs::exists(meta_ + "/.config.json.tmp-1-abc"));
  ExpectHealthyAt(2, v2_);
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

// In syncfs mode one flush makes the head ref's rename and the live link's
// durable together; a power loss before it may keep the link's and lose
// the ref's. The state it leaves: the ref on generation 1, its lock file
// naming generation 2's commit, the link on generation 2.
class InterruptedHeadMoveTest : public RecoveryTest {
 protected:
  void SetUp() override {
    RecoveryTest::SetUp();
    auto g1 = f_.repo->Generation(1);
    auto g2 = f_.repo->Generation(2);
    ASSERT_TRUE(g1 && g2);
    c1_ = g1->commit;
    c2_ = g2->commit;
    WriteFile(refs_ + "/main", c1_ + "\n");
  }
  std::string Ref() { return testing::ReadFile(refs_ + "/main"); }
  const std::string refs_ = meta_ + "/store.git/refs/heads";
  std::string c1_, c2_;
};

TEST_F(InterruptedHeadMoveTest, CompletedWhenTheLinkAlreadyShowsItsGeneration) {
  WriteFile(refs_ + "/main.lock", c2_ + "\n");
  auto s = f_.repo->Status();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->committed, std::optional<uint64_t>(1));
  EXPECT_EQ(s->live, std::optional<uint64_t>(2));
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(HasAction(*r, "completed the move of the head to generation 2")) << Joined(*r);
  EXPECT_FALSE(HasAction(*r, "gens/2")) << Joined(*r);
  EXPECT_EQ(Ref(), c2_ + "\n");
  EXPECT_FALSE(stdfs::exists(refs_ + "/main.lock"));
  ExpectHealthyAt(2, v2_);
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

TEST_F(InterruptedHeadMoveTest, UndoneWhenTheLinkDidNotMove) {
  WriteFile(refs_ + "/main.lock", c2_ + "\n");
  RepointLive(f_, ".txdir/gens/1");
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(HasAction(*r, "completed")) << Joined(*r);
  EXPECT_TRUE(HasAction(*r, "refs/heads/main.lock")) << Joined(*r);
  EXPECT_TRUE(HasAction(*r, "uncommitted generation directory gens/2")) << Joined(*r);
  EXPECT_EQ(Ref(), c1_ + "\n");
  ExpectHealthyAt(1, v1_);
  auto again = f_.repo->Recover();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->actions.empty()) << Joined(*again);
  EXPECT_EQ(f_.Publish({{"a", "three"}}), 2u);
}

TEST_F(InterruptedHeadMoveTest, ATornLockFileIsNeverCompleted) {
  // Half of the id, no newline: not what SetHead writes whole.
  WriteFile(refs_ + "/main.lock", c2_.substr(0, 20));
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(HasAction(*r, "completed")) << Joined(*r);
  EXPECT_EQ(Ref(), c1_ + "\n");
  EXPECT_FALSE(stdfs::exists(refs_ + "/main.lock"));
  ExpectHealthyAt(1, v1_);
}

TEST_F(InterruptedHeadMoveTest, TheHeadNeverMovesBackToAnOlderCommit) {
  // The head on 2, a lock file naming 1's commit and the link on 1: the
  // lock file is stale, whatever the link says.
  WriteFile(refs_ + "/main", c2_ + "\n");
  WriteFile(refs_ + "/main.lock", c1_ + "\n");
  RepointLive(f_, ".txdir/gens/1");
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(HasAction(*r, "completed")) << Joined(*r);
  EXPECT_EQ(Ref(), c2_ + "\n");
  ExpectHealthyAt(2, v2_);
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

TEST_F(RecoveryTest, RecreatesADeletedLiveLink) {
  stdfs::remove(f_.live());
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(HasAction(*r, "from nothing to generation 2")) << Joined(*r);
  ExpectHealthyAt(2, v2_);
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

TEST_F(RecoveryTest, RematerializesAMissingCommittedGeneration) {
  // The head moved but its directory is gone (as after a crash between the
  // commit point and the swap, with the directory lost).
  RepointLive(f_, ".txdir/gens/1");
  testing::ForceRemoveAll(f_.gen_dir(2));
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(HasAction(*r, "re-materialized generation 2")) << Joined(*r);
  ExpectHealthyAt(2, v2_);
  EXPECT_EQ(testing::Inode(f_.gen_dir(2) + "/keep"), testing::Inode(f_.gen_dir(1) + "/keep"))
      << "unchanged file re-linked from the live generation";
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

TEST_F(RecoveryTest, LeftoverTemporaryLiveLinkIsRemoved) {
  stdfs::create_symlink(".txdir/gens/1", f_.root + "/.current.txdir-tmp-1-abc");
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(HasAction(*r, ".current.txdir-tmp-1-abc")) << Joined(*r);
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(f_.root + "/.current.txdir-tmp-1-abc")));
  ExpectSecondRecoverFindsNothingAndPublishWorks();
}

// What a writer that died holding the lock leaves: its holder record in
// .txdir/lock (writer_lock.h) and whatever it had half done.
TEST_F(RecoveryTest, PublishRecoversFirst) {
  WriteFile(meta_ + "/store.git/refs/heads/main.lock", "stale\n");
  RepointLive(f_, ".txdir/gens/1");
  WriteFile(meta_ + "/lock", R"({"pid":1,"host":"h","command":"txdir publish","since_ms":1})");
  EXPECT_EQ(f_.Publish({{"a", "three"}}), 3u) << "a stale git lock must not block publishing";
  ExpectHealthyAt(3, {{"a", "three"}});
}

// The same, with the writer really killed while it held the lock, and a
// handle opened before the crash: it has recovered once already, and the
// record left behind tells it to recover again.
TEST_F(RecoveryTest, AHandleOpenedBeforeAnotherWriterDiedRecoversAfterIt) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = internal::WriterLock::Acquire(Env::Default(), meta_ + "/lock",
                                              std::chrono::milliseconds(0));
    if (!lock) ::_exit(2);
    // Half a publish: a staged generation and the git ref's lock file.
    if (::mkdir((meta_ + "/tmp/stage-3-1-dead").c_str(), 0755) != 0) ::_exit(3);
    int fd = ::open((meta_ + "/store.git/refs/heads/main.lock").c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd < 0) ::_exit(4);
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  EXPECT_EQ(f_.Publish({{"a", "three"}}), 3u);
  ExpectHealthyAt(3, {{"a", "three"}});
  EXPECT_FALSE(stdfs::exists(meta_ + "/tmp/stage-3-1-dead"));
  EXPECT_FALSE(stdfs::exists(meta_ + "/store.git/refs/heads/main.lock"));
}

// A handle's first write always recovers, record or not: after a power loss
// the record may be lost with everything else that was not synced.
TEST_F(RecoveryTest, ANewHandleRecoversEvenWithoutARecord) {
  WriteFile(meta_ + "/store.git/refs/heads/main.lock", "stale\n");
  ::mkdir((meta_ + "/tmp/stage-3-1-dead").c_str(), 0755);
  ASSERT_EQ(::truncate((meta_ + "/lock").c_str(), 0), 0);
  ASSERT_NO_FATAL_FAILURE(PublishThroughANewHandle());
  EXPECT_FALSE(stdfs::exists(meta_ + "/tmp/stage-3-1-dead"));
}

// The last writer finished cleanly in this boot: nothing a crash or a power
// loss could have left, so a new handle publishes without recovering. The
// stage planted behind its back shows that recovery did not run.
TEST_F(RecoveryTest, ANewHandleSkipsRecoveryWhenTheLastWriterFinishedInThisBoot) {
  ASSERT_EQ(::mkdir((meta_ + "/tmp/stage-3-1-planted").c_str(), 0755), 0);
  ASSERT_NO_FATAL_FAILURE(PublishThroughANewHandle());
  EXPECT_TRUE(stdfs::exists(meta_ + "/tmp/stage-3-1-planted")) << "recovery ran";
}

// After a restart the clean record names another boot: a power loss may
// have taken the record of a writer that did not finish, so a new handle
// recovers; the same without a boot id at all.
TEST_F(RecoveryTest, ANewHandleRecoversAfterARestartOrWithoutABootId) {
  const Result<std::string> ids[] = {std::string("0c6b1a3e-2d6f-4e7a-9b1c-3f5e7d9a1b2c"),
                                     MakeError(Code::kNotFound, "no /proc")};
  uint64_t target = 1;
  for (const auto& id : ids) {
    ASSERT_EQ(::mkdir((meta_ + "/tmp/stage-9-1-dead").c_str(), 0755), 0);
    testing::BootIdEnv env(id);
    auto fresh = Repository::Open(f_.root, OpenOptions{.env = &env});
    ASSERT_TRUE(fresh) << fresh.error().ToString();
    auto rolled = (*fresh)->Rollback(target++);
    ASSERT_TRUE(rolled) << rolled.error().ToString();
    EXPECT_FALSE(stdfs::exists(meta_ + "/tmp/stage-9-1-dead")) << (id ? *id : "no boot id");
  }
}

TEST_F(RecoveryTest, ForeignEntriesInGensAreLeftAlone) {
  WriteFile(f_.root + "/.txdir/gens/notes.txt", "mine");
  auto r = f_.repo->Recover();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->actions.empty()) << Joined(*r);
  EXPECT_TRUE(stdfs::exists(f_.root + "/.txdir/gens/notes.txt"));
}

}  // namespace
}  // namespace txdir
