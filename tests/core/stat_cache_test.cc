// The stat cache of publish-from-directory (.txdir/statcache): unchanged
// files are not read again, racy files are, a damaged cache is ignored, and
// what is published never depends on the cache.
#include "txn/src/stat_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>

#include "test_util.h"

namespace txdir {
namespace {

using testing::ReadFile;
using testing::RepoFixture;
using testing::WriteFile;

// Counts opens of source files (named data-*) for reading.
class CountingEnv : public EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override {
    const std::string leaf = path.substr(path.rfind('/') + 1);
    if (leaf.rfind("data-", 0) == 0 && (flags & (O_CREAT | O_DIRECTORY)) == 0) {
      ++reads;
      read_names.push_back(leaf);
    }
    return EnvWrapper::OpenAt(dir, path, flags, mode);
  }
  void Reset() {
    reads = 0;
    read_names.clear();
  }
  int reads = 0;
  std::vector<std::string> read_names;
};

int64_t Ns(const struct timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

// Waits until the file-system clock (the mtime of a new file in `dir`) is
// past every mtime and ctime under `tree`, so its files are no longer racy.
// A condition, not a timing assumption: it ends as soon as the clock ticks.
void WaitUntilNotRacy(const std::string& dir, const std::string& tree) {
  int64_t newest = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tree)) {
    struct stat st {};
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
    newest = std::max({newest, Ns(st.st_mtim), Ns(st.st_ctim)});
  }
  const std::string probe = dir + "/clock-probe";
  for (int i = 0; i < 100000; ++i) {
    WriteFile(probe, "x");
    struct stat st {};
    ASSERT_EQ(::stat(probe.c_str(), &st), 0);
    ::unlink(probe.c_str());
    if (Ns(st.st_mtim) > newest) return;
    ::usleep(1000);
  }
  FAIL() << "the file-system clock did not move";
}

struct CacheFixture : RepoFixture {
  CountingEnv env;
  std::unique_ptr<Repository> counted;

  CacheFixture() {
    auto r = Repository::Open(root, OpenOptions{.env = &env});
    if (!r) {
      ADD_FAILURE() << r.error().ToString();
      return;
    }
    counted = std::move(*r);
  }
  GenerationInfo PublishCounted() {
    env.Reset();
    auto g = counted->Publish(src, PublishOptions{});
    EXPECT_TRUE(g.has_value()) << (g ? "" : g.error().ToString());
    return g ? *g : GenerationInfo{};
  }
  std::string cache_path() const { return root + "/.txdir/statcache"; }
};

const std::map<std::string, std::string> kFiles = {{"data-a", "alpha"},
                                                   {"data-b", "bravo"},
                                                   {"sub/data-c", "charlie"},
                                                   {"sub/deeper/data-d", "delta"}};

TEST(StatCacheTest, UnchangedFilesAreNotRead) {
  CacheFixture f;
  testing::MakeTree(f.src, kFiles);
  WaitUntilNotRacy(f.tmp.path(), f.src);
  f.PublishCounted();
  EXPECT_EQ(f.env.reads, 4);  // no cache yet: every file
  EXPECT_TRUE(std::filesystem::exists(f.cache_path()));

  f.PublishCounted();
  EXPECT_EQ(f.env.reads, 0) << "unchanged files were read again";

  WriteFile(f.src + "/sub/data-c", "CHARLIE!");
  WaitUntilNotRacy(f.tmp.path(), f.src);
  f.PublishCounted();
  EXPECT_EQ(f.env.read_names, std::vector<std::string>{"data-c"});
  EXPECT_EQ(ReadFile(f.live() + "/sub/data-c"), "CHARLIE!");
  EXPECT_EQ(ReadFile(f.live() + "/data-a"), "alpha");

  f.PublishCounted();
  EXPECT_EQ(f.env.reads, 0);
}

TEST(StatCacheTest, RacyFileIsReadAgainUntilItAges) {
  CacheFixture f;
  testing::MakeTree(f.src, kFiles);
  WaitUntilNotRacy(f.tmp.path(), f.src);
  // A modification time in the future is never older than the scan.
  struct timespec times[2] = {{0, UTIME_OMIT}, {::time(nullptr) + 3600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (f.src + "/data-b").c_str(), times, 0), 0);
  f.PublishCounted();
  f.PublishCounted();
  EXPECT_EQ(f.env.read_names, std::vector<std::string>{"data-b"});
}

TEST(StatCacheTest, SameSizeSameMtimeRewriteIsDetected) {
  CacheFixture f;
  testing::MakeTree(f.src, kFiles);
  // Published at once: the files' times are in the racy window.
  f.PublishCounted();
  const std::string path = f.src + "/data-a";
  struct stat before {};
  ASSERT_EQ(::lstat(path.c_str(), &before), 0);
  WriteFile(path, "ALPHA");  // same size
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  struct stat after {};
  ASSERT_EQ(::lstat(path.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(Ns(after.st_mtim), Ns(before.st_mtim));
  ASSERT_EQ(after.st_ino, before.st_ino);
  f.PublishCounted();
  EXPECT_EQ(ReadFile(f.live() + "/data-a"), "ALPHA");
}

TEST(StatCacheTest, CorruptOrForeignCacheIsIgnoredAndRebuilt) {
  for (const std::string& junk : {std::string(), std::string("garbage"), std::string(4096, '\0'),
                                  std::string("TXDIRSC1") + std::string(200, 'x')}) {
    CacheFixture f;
    testing::MakeTree(f.src, kFiles);
    WaitUntilNotRacy(f.tmp.path(), f.src);
    f.PublishCounted();
    // A truncated copy of the real cache, then junk.
    std::string real = ReadFile(f.cache_path());
    WriteFile(f.cache_path(), real.substr(0, real.size() / 2));
    WriteFile(f.src + "/data-b", "BRAVO!");
    WaitUntilNotRacy(f.tmp.path(), f.src);
    f.PublishCounted();
    EXPECT_EQ(f.env.reads, 4) << "a truncated cache was trusted";
    EXPECT_EQ(ReadFile(f.live() + "/data-b"), "BRAVO!");
    WriteFile(f.cache_path(), junk);
    WriteFile(f.src + "/data-b", "BRAVO?");
    WaitUntilNotRacy(f.tmp.path(), f.src);
    f.PublishCounted();
    EXPECT_EQ(f.env.reads, 4) << "junk cache of " << junk.size() << " bytes was trusted";
    EXPECT_EQ(ReadFile(f.live() + "/data-b"), "BRAVO?");
    f.PublishCounted();
    EXPECT_EQ(f.env.reads, 0) << "the cache was not rebuilt";
  }
}

TEST(StatCacheTest, PublishedTreeIsTheSameWithAndWithoutTheCache) {
  CacheFixture f;
  testing::MakeTree(f.src, kFiles);
  ASSERT_EQ(::chmod((f.src + "/data-a").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("sub/data-c", (f.src + "/link").c_str()), 0);
  WaitUntilNotRacy(f.tmp.path(), f.src);
  f.PublishCounted();
  WriteFile(f.src + "/sub/deeper/data-d", "DELTA, longer");
  WaitUntilNotRacy(f.tmp.path(), f.src);
  GenerationInfo cached = f.PublishCounted();
  EXPECT_EQ(f.env.reads, 1);
  ASSERT_TRUE(std::filesystem::remove(f.cache_path()));
  GenerationInfo uncached = f.PublishCounted();
  EXPECT_EQ(f.env.reads, 4);
  EXPECT_EQ(cached.tree, uncached.tree);
  EXPECT_NE(cached.number, uncached.number);
  EXPECT_EQ(testing::Mode(f.live() + "/data-a") & 0111, 0111u);
}

TEST(StatCacheTest, ChangedModeIsNotACacheHit) {
  CacheFixture f;
  testing::MakeTree(f.src, kFiles);
  WaitUntilNotRacy(f.tmp.path(), f.src);
  GenerationInfo first = f.PublishCounted();
  ASSERT_EQ(::chmod((f.src + "/data-a").c_str(), 0755), 0);
  WaitUntilNotRacy(f.tmp.path(), f.src);
  GenerationInfo second = f.PublishCounted();
  EXPECT_NE(first.tree, second.tree);
  EXPECT_EQ(testing::Mode(f.live() + "/data-a") & 0111, 0111u);
}

}  // namespace
}  // namespace txdir
