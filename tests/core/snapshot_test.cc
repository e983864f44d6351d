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

// True when an exclusive flock on `dir` can be taken right now (by a new
// open file description, as gc would).
bool CanLockExclusive(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return ok;
}

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
  ASSERT_TRUE(CanLockExclusive(f.gen_dir(2)));
  {
    auto snap = Snapshot::OpenLive(f.root);
    ASSERT_TRUE(snap);
    EXPECT_FALSE(CanLockExclusive(f.gen_dir(2))) << "gc could delete a pinned generation";
    EXPECT_TRUE(CanLockExclusive(f.gen_dir(1))) << "only the snapshot's generation is pinned";
    Snapshot moved = std::move(*snap);
    EXPECT_FALSE(CanLockExclusive(f.gen_dir(2))) << "the pin moves with the Snapshot";
  }
  EXPECT_TRUE(CanLockExclusive(f.gen_dir(2))) << "pin released with the Snapshot";
}

TEST(SnapshotTest, OpenGenerationPinsAnOlderGeneration) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  f.Publish({{"a", "2"}});
  auto s1 = Snapshot::OpenGeneration(f.root, 1);
  ASSERT_TRUE(s1) << s1.error().ToString();
  EXPECT_EQ(*s1->ReadFile("a"), "1");
  EXPECT_FALSE(CanLockExclusive(f.gen_dir(1)));
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

}  // namespace
}  // namespace txdir
