// LiveReader: a long-lived reader that keeps the pin of the generation it
// last saw, so that a snapshot of the same generation costs one readlink.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>

#include "test_util.h"
#include "txdir/retention.h"
#include "txdir/snapshot.h"

namespace txdir {
namespace {

// Counts the calls a reader makes through the Env.
class CountingEnv : public EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override {
    ++calls;
    return EnvWrapper::OpenAt(dir, path, flags, mode);
  }
  Result<struct stat> Fstat(int fd) override {
    ++calls;
    return EnvWrapper::Fstat(fd);
  }
  Result<struct stat> StatAt(int dir, const std::string& path, bool follow) override {
    ++calls;
    return EnvWrapper::StatAt(dir, path, follow);
  }
  Result<std::string> ReadlinkAt(int dir, const std::string& path) override {
    ++calls;
    ++readlinks;
    return EnvWrapper::ReadlinkAt(dir, path);
  }
  Status Flock(int fd, LockMode mode, bool wait) override {
    ++calls;
    return EnvWrapper::Flock(fd, mode, wait);
  }
  std::atomic<int> calls{0}, readlinks{0};
};

TEST(LiveReaderTest, FollowsTheLiveLinkAndEachSnapshotStaysWhole) {
  testing::RepoFixture f;
  f.Publish({{"a", "a1"}, {"b", "b1"}});
  auto reader = LiveReader::Open(f.root);
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto s1 = reader->OpenSnapshot();
  ASSERT_TRUE(s1) << s1.error().ToString();
  EXPECT_EQ(s1->generation(), 1u);
  EXPECT_EQ(s1->path(), f.gen_dir(1));
  f.Publish({{"a", "a2"}});
  auto s2 = reader->OpenSnapshot();
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->generation(), 2u);
  EXPECT_EQ(*s2->ReadFile("a"), "a2");
  EXPECT_FALSE(s2->ReadFile("b")) << "b left in generation 2";
  // The first snapshot is still generation 1, whole.
  EXPECT_EQ(*s1->ReadFile("a"), "a1");
  EXPECT_EQ(*s1->ReadFile("b"), "b1");
  auto again = reader->OpenSnapshot();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->generation(), 2u);
  EXPECT_EQ(again->dir_fd(), s2->dir_fd()) << "the same generation reuses the pinned directory";
}

TEST(LiveReaderTest, ASnapshotOfTheSameGenerationCostsOneReadlink) {
  testing::RepoFixture f;
  f.Publish({{"a", "a1"}});
  CountingEnv env;
  auto reader = LiveReader::Open(f.root, &env);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->OpenSnapshot());
  const int first = env.calls.load();
  EXPECT_GE(first, 4) << "the first snapshot resolves, opens, pins and checks";
  for (int i = 0; i < 5; ++i) {
    env.calls = 0;
    env.readlinks = 0;
    auto snap = reader->OpenSnapshot();
    ASSERT_TRUE(snap);
    EXPECT_EQ(env.calls.load(), 1);
    EXPECT_EQ(env.readlinks.load(), 1);
  }
  // A publish moves the link: the next snapshot opens and pins again.
  f.Publish({{"a", "a2"}});
  env.calls = 0;
  auto moved = reader->OpenSnapshot();
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->generation(), 2u);
  EXPECT_GE(env.calls.load(), 4);
  EXPECT_EQ(*moved->ReadFile("a"), "a2");
}

TEST(LiveReaderTest, KeepsOnlyTheLastGenerationItSawPinned) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  {
    auto reader = LiveReader::Open(f.root);
    ASSERT_TRUE(reader);
    EXPECT_TRUE(testing::CanLockExclusive(f.gen_dir(1))) << "opening the reader pins nothing";
    { ASSERT_TRUE(reader->OpenSnapshot()); }
    EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(1))) << "kept pinned for the next snapshot";
    f.Publish({{"a", "2"}});
    EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(1))) << "until the reader sees the link move";
    auto s2 = reader->OpenSnapshot();
    ASSERT_TRUE(s2);
    EXPECT_TRUE(testing::CanLockExclusive(f.gen_dir(1))) << "the old pin went with the move";
    EXPECT_FALSE(testing::CanLockExclusive(f.gen_dir(2)));
  }
  EXPECT_TRUE(testing::CanLockExclusive(f.gen_dir(2))) << "pin released with the reader";
}

TEST(LiveReaderTest, GcSkipsTheReadersGenerationUntilTheReaderMovesOn) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  auto reader = LiveReader::Open(f.root);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->OpenSnapshot());
  f.Publish({{"a", "2"}});
  f.Publish({{"a", "3"}});
  GcOptions keep1;
  keep1.keep = 1;
  auto gc = CollectGarbage(*f.repo, keep1);
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_EQ(gc->pinned, std::vector<uint64_t>{1});
  EXPECT_EQ(gc->removed, std::vector<uint64_t>{2});
  auto now = reader->OpenSnapshot();
  ASSERT_TRUE(now);
  EXPECT_EQ(now->generation(), 3u);
  EXPECT_EQ(*now->ReadFile("a"), "3");
  gc = CollectGarbage(*f.repo, keep1);
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_EQ(gc->removed, std::vector<uint64_t>{1});
  EXPECT_TRUE(gc->pinned.empty());
}

TEST(LiveReaderTest, NothingPublishedIsNotFoundUntilAPublish) {
  testing::RepoFixture f;
  auto reader = LiveReader::Open(f.root);
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto none = reader->OpenSnapshot();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound);
  f.Publish({{"a", "1"}});
  auto snap = reader->OpenSnapshot();
  ASSERT_TRUE(snap) << snap.error().ToString();
  EXPECT_EQ(*snap->ReadFile("a"), "1");
}

TEST(LiveReaderTest, NotARepositoryIsNotFound) {
  testing::TempDir tmp;
  auto reader = LiveReader::Open(tmp.path());
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, Code::kNotFound) << reader.error().ToString();
}

}  // namespace
}  // namespace txdir
