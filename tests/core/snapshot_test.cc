// Snapshot: one generation for the reader's whole life, pinned by a shared
// flock on the generation directory.
#include "txdir/snapshot.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "test_util.h"

namespace txdir {
namespace {

using Files = std::map<std::string, std::string>;

TEST(SnapshotTest, ReadsSeeOneGenerationWhilePublishing) {
  testing::RepoFixture f;
  f.Publish({{"a", "a1"}, {"d/b", "b1"}});
  auto snap = f.repo->OpenSnapshot();
  ASSERT_TRUE(snap) << snap.error().ToString();
  EXPECT_EQ(snap->generation(), 1u);
  EXPECT_EQ(*snap->ReadFile("a"), "a1");
  f.Publish({{"a", "a2"}, {"d/b", "b2"}, {"c", "c2"}});
  f.Publish({{"a", "a3"}});
  // Still generation 1, whole: the old file, the removed file, no new file.
  EXPECT_EQ(*snap->ReadFile("d/b"), "b1");
  EXPECT_EQ(*snap->ReadFile("a"), "a1");
  auto c = snap->ReadFile("c");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kNotFound);
  EXPECT_EQ(*snap->ListFiles(), (std::vector<std::string>{"a", "d/b"}));
  // A new snapshot sees the newest.
  auto snap3 = Snapshot::OpenLive(f.root);
  ASSERT_TRUE(snap3);
  EXPECT_EQ(snap3->generation(), 3u);
  EXPECT_EQ(*snap3->ReadFile("a"), "a3");
  EXPECT_EQ(snap3->path(), f.gen_dir(3));
}

TEST(SnapshotTest, PinBlocksExclusiveLockWhileTheSnapshotLives) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  f.Publish({{"a", "2"}});
  ASSERT_TRUE(testing::CanLockExclusive(f.gen_dir(2)));
  {
    auto snap = Snapshot::OpenLive(f.root);
    ASSERT_TRUE(snap);
    EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(2))) << "gc could delete a pinned generation";
    EXPECT_TRUE(testing::CanLockExclusive(f.gen_dir(1)))
        << "only the snapshot's generation is pinned";
    Snapshot moved = std::move(*snap);
    EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(2))) << "the pin moves with the Snapshot";
  }
  EXPECT_TRUE(testing::CanLockExclusive(f.gen_dir(2))) << "pin released with the Snapshot";
}

TEST(SnapshotTest, OpenGenerationPinsAnOlderGeneration) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  f.Publish({{"a", "2"}});
  auto s1 = Snapshot::OpenGeneration(f.root, 1);
  ASSERT_TRUE(s1) << s1.error().ToString();
  EXPECT_EQ(*s1->ReadFile("a"), "1");
  EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(1)));
  auto s9 = Snapshot::OpenGeneration(f.root, 9);
  ASSERT_FALSE(s9);
  EXPECT_EQ(s9.error().code, Code::kNotFound);
}

TEST(SnapshotTest, NothingPublishedIsNotFound) {
  testing::RepoFixture f;
  auto s = Snapshot::OpenLive(f.root);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kNotFound);
}

TEST(SnapshotTest, NotARepositoryIsNotFound) {
  testing::TempDir tmp;
  auto s = Snapshot::OpenLive(tmp.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kNotFound);
}

TEST(SnapshotTest, RefusesPathsThatLeaveTheGeneration) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  auto snap = f.repo->OpenSnapshot();
  ASSERT_TRUE(snap);
  for (const std::string p : {"../../lock", "/etc/passwd", "a/../a", ""}) {
    auto r = snap->ReadFile(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << p;
  }
}

// Reading a directory is "not a file" (NotFound), as Repository::ReadFile
// says for the same path, not an I/O error.
TEST(SnapshotTest, ReadingADirectoryIsNotFound) {
  testing::RepoFixture f;
  f.Publish({{"d/f", "x"}});
  auto snap = f.repo->OpenSnapshot();
  ASSERT_TRUE(snap);
  auto r = snap->ReadFile("d");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound) << r.error().ToString();
  EXPECT_NE(r.error().ToString().find("d"), std::string::npos);
  auto from_store = f.repo->ReadFile(1, "d");
  ASSERT_FALSE(from_store);
  EXPECT_EQ(from_store.error().code, r.error().code) << "snapshot and store agree";
}

// ReadFile reads exactly the size fstat gives (a generation's files never
// change). Empty files and files larger than any one read come back whole.
TEST(SnapshotTest, ReadsFilesOfEverySizeWhole) {
  testing::RepoFixture f;
  std::string big(300 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  f.Publish({{"empty", ""}, {"one", "1"}, {"big", big}});
  auto snap = Snapshot::OpenLive(f.root);
  ASSERT_TRUE(snap);
  EXPECT_EQ(*snap->ReadFile("empty"), "");
  EXPECT_EQ(*snap->ReadFile("one"), "1");
  EXPECT_EQ(*snap->ReadFile("big"), big);
}

// A generation file cut short after publish (someone wrote into .txdir) is
// reported as corruption, never returned as if it were the whole content.
TEST(SnapshotTest, AFileCutShortWhileReadingIsCorruptionNotShortContent) {
  testing::RepoFixture f;
  f.Publish({{"a", std::string(5000, 'a')}});
  const std::string file = f.gen_dir(1) + "/a";
  // Cuts the file to 10 bytes right after ReadFile's fstat saw 5000.
  struct CutAfterFstat : EnvWrapper {
    using EnvWrapper::EnvWrapper;
    std::string victim;
    Result<struct stat> Fstat(int fd) override {
      auto st = EnvWrapper::Fstat(fd);
      if (st && S_ISREG(st->st_mode) && !victim.empty()) {
        EXPECT_EQ(::chmod(victim.c_str(), 0644), 0);
        EXPECT_EQ(::truncate(victim.c_str(), 10), 0);
      }
      return st;
    }
  } env(Env::Default());
  auto snap = Snapshot::OpenLive(f.root, &env);
  ASSERT_TRUE(snap);
  env.victim = file;
  auto r = snap->ReadFile("a");
  ASSERT_FALSE(r) << "returned " << r->size() << " bytes";
  EXPECT_EQ(r.error().code, Code::kCorruption) << r.error().ToString();
  EXPECT_NE(r.error().ToString().find("shorter than its size"), std::string::npos)
      << r.error().ToString();
}
TEST(SnapshotTest, SurvivesLiveLinkSwapsBetweenReads) {
  // Many small publishes between reads of one snapshot: every read of the
  // old snapshot keeps returning its generation's bytes.
  testing::RepoFixture f;
  f.Publish({{"x", "gen-1"}, {"y", "gen-1"}});
  auto snap = f.repo->OpenSnapshot();
  ASSERT_TRUE(snap);
  for (int i = 2; i <= 6; ++i) {
    f.Publish({{"x", "gen-" + std::to_string(i)}, {"y", "gen-" + std::to_string(i)}});
    EXPECT_EQ(*snap->ReadFile("x"), "gen-1");
    EXPECT_EQ(*snap->ReadFile("y"), "gen-1");
  }
}

// A generation holding stored links (published with --symlinks keep): one
// to a file beside it, one up a level, one to a file and one to a directory
// outside the generation, both holding "SECRET".
class StoredLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeTree(f_.src, {{"a", "alpha"}, {"d/b", "bee"}});
    testing::MakeTree(outside_, {{"secret", "SECRET"}, {"dir/x", "SECRET"}});
    testing::stdfs::create_symlink("a", f_.src + "/in");
    testing::stdfs::create_symlink("../a", f_.src + "/d/up");
    testing::stdfs::create_symlink(outside_ + "/secret", f_.src + "/out");
    testing::stdfs::create_symlink(outside_ + "/dir", f_.src + "/outdir");
    auto g = f_.repo->Publish(f_.src, PublishOptions{.symlinks = SymlinkPolicy::kKeepAll});
    ASSERT_TRUE(g) << g.error().ToString();
    ASSERT_EQ(g->number, 1u);
    // The live copies are real links: reading through them would work.
    ASSERT_EQ(testing::ReadFile(f_.live() + "/out"), "SECRET");
    ASSERT_EQ(testing::ReadFile(f_.live() + "/outdir/x"), "SECRET");
  }

  // Every way to read `path`: the live snapshot, a snapshot of generation
  // 1, the store; their error when all three fail alike.
  Error ReadFails(const std::string& path) {
    auto live = Snapshot::OpenLive(f_.root);
    auto pinned = Snapshot::OpenGeneration(f_.root, 1);
    EXPECT_TRUE(live && pinned);
    if (!live || !pinned) return Error{};
    std::vector<Result<std::string>> reads = {live->ReadFile(path), pinned->ReadFile(path),
                                              f_.repo->ReadFile(1, path)};
    for (const auto& r : reads) {
      EXPECT_FALSE(r) << path << " was read: '" << *r << "'";
      if (r) return Error{};
    }
    auto fd = live->OpenFile(path);
    EXPECT_FALSE(fd) << path << " was opened";
    if (fd) return Error{};
    EXPECT_EQ(fd.error().code, reads[0].error().code) << path << ": OpenFile as ReadFile";
    EXPECT_EQ(reads[1].error().ToString(), reads[0].error().ToString()) << path;
    EXPECT_EQ(reads[2].error().code, reads[0].error().code)
        << path << ": the store and the snapshot agree\n"
        << reads[2].error().ToString() << "\n"
        << reads[0].error().ToString();
    return reads[0].error();
  }

  testing::RepoFixture f_;
  std::string outside_ = f_.tmp / "outside";
};

TEST_F(StoredLinkTest, ALinkIsRefusedNamingItsTargetBySnapshotAndStoreAlike) {
  for (const auto& [path, target] : std::vector<std::pair<std::string, std::string>>{
           {"in", "a"},
           {"d/up", "../a"},
           {"out", outside_ + "/secret"},
           {"outdir", outside_ + "/dir"},
       }) {
    Error e = ReadFails(path);
    EXPECT_EQ(e.code, Code::kInvalidArgument) << path << ": " << e.ToString();
    EXPECT_EQ(e.ToString(), "is a symbolic link (to '" + target + "'), not a file: " + path);
    auto stored = f_.repo->ReadFile(1, path);
    ASSERT_FALSE(stored);
    EXPECT_EQ(stored.error().ToString(), e.ToString()) << "the same words from the store";
  }
}

TEST_F(StoredLinkTest, ReadLinkIsTheExplicitWayToATarget) {
  EXPECT_EQ(*f_.repo->ReadLink(1, "in"), "a");
  EXPECT_EQ(*f_.repo->ReadLink(1, "d/up"), "../a");
  EXPECT_EQ(*f_.repo->ReadLink(1, "out"), outside_ + "/secret");
  auto file = f_.repo->ReadLink(1, "a");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, Code::kInvalidArgument);
  EXPECT_EQ(file.error().ToString(), "is not a symbolic link: a");
  auto absent = f_.repo->ReadLink(1, "nope");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code, Code::kNotFound);
}

TEST_F(StoredLinkTest, ALinkIsNeverFollowedOnTheWayToAFile) {
  // outdir/x is /outside/dir/x through the link: the generation has no
  // directory outdir, so no such file, and no byte from outside.
  for (const std::string path : {"outdir/x", "in/x", "a/x"}) {
    Error e = ReadFails(path);
    EXPECT_EQ(e.code, Code::kNotFound) << path << ": " << e.ToString();
    EXPECT_EQ(e.ToString().find("SECRET"), std::string::npos);
  }
}

TEST_F(StoredLinkTest, FilesBesideTheLinksReadAsBefore) {
  auto snap = Snapshot::OpenLive(f_.root);
  ASSERT_TRUE(snap);
  EXPECT_EQ(*snap->ReadFile("a"), "alpha");
  EXPECT_EQ(*snap->ReadFile("d/b"), "bee");
  EXPECT_EQ(*f_.repo->ReadFile(1, "d/b"), "bee");
  auto fd = snap->OpenFile("d/b");
  ASSERT_TRUE(fd) << fd.error().ToString();
  char buf[8] = {};
  EXPECT_EQ(::read(fd->get(), buf, sizeof buf), 3);
  EXPECT_EQ(std::string(buf), "bee");
}

}  // namespace
}  // namespace txdir
