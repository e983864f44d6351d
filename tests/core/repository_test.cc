// Repository: init, adoption of an existing live directory, publish,
// hard-linked unchanged files, read-only generations, a valid git store.
#include "txdir/repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_util.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using testing::ReadFile;
using testing::ReadTree;
using testing::RepoFixture;
using testing::TempDir;

TEST(RepositoryInitTest, CreatesLayoutWithNothingPublished) {
  TempDir tmp;
  auto repo = Repository::Init(tmp / "r");
  ASSERT_TRUE(repo) << repo.error().ToString();
  for (const char* p : {"store.git", "gens", "tmp", "lock", "config.json"})
    EXPECT_TRUE(stdfs::exists(tmp / ("r/.txdir/" + std::string(p)))) << p;
  EXPECT_EQ((*repo)->live_path(), tmp / "r/current");
  auto s = (*repo)->Status();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->live);
  EXPECT_FALSE(s->committed);
  EXPECT_TRUE(s->consistent);
  auto log = (*repo)->Log();
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->empty());
  // Nothing but the metadata folder: no temporary init folder left behind.
  std::vector<std::string> names;
  for (const auto& e : stdfs::directory_iterator(tmp / "r")) names.push_back(e.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{".txdir"});
}

TEST(RepositoryInitTest, InitTwiceIsExists) {
  TempDir tmp;
  ASSERT_TRUE(Repository::Init(tmp / "r"));
  auto again = Repository::Init(tmp / "r");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kExists);
  EXPECT_NE(again.error().ToString().find(tmp / "r"), std::string::npos);
}

TEST(RepositoryInitTest, OpenOfNonRepositoryIsNotFound) {
  TempDir tmp;
  auto r = Repository::Open(tmp.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().ToString().find(tmp.path()), std::string::npos);
}

TEST(RepositoryInitTest, LivePathInsideMetadataIsRefused) {
  TempDir tmp;
  auto r = Repository::Init(tmp / "r", InitOptions{.live_path = tmp / "r/.txdir/x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(stdfs::exists(tmp / "r/.txdir"));
}

TEST(RepositoryInitTest, ExistingLiveDirectoryIsAdoptedAsGenerationOne) {
  TempDir tmp;
  const std::map<std::string, std::string> files = {{"a.sdn", "alpha"}, {"deep/b.sdn", "beta"}};
  std::string live = tmp / "doc/dashboard/tables";
  testing::MakeTree(live, files);
  auto repo = Repository::Init(tmp / "r", InitOptions{.live_path = live});
  ASSERT_TRUE(repo) << repo.error().ToString();
  EXPECT_TRUE(stdfs::is_symlink(live)) << "the directory is replaced by the live link";
  EXPECT_EQ(ReadTree(live), files);
  auto s = (*repo)->Status();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->live, std::optional<uint64_t>(1));
  EXPECT_EQ(s->committed, std::optional<uint64_t>(1));
  auto g1 = (*repo)->Generation(1);
  ASSERT_TRUE(g1);
  EXPECT_EQ(*(*repo)->ReadFile(1, "deep/b.sdn"), "beta");
  // Nothing of the original directory is left in the metadata folder.
  EXPECT_FALSE(stdfs::exists(tmp / "r/.txdir/adopted-original"));
  // And it keeps working: the next publish is generation 2 at the same path.
  testing::MakeTree(tmp / "src", {{"a.sdn", "alpha2"}});
  auto g2 = (*repo)->Publish(tmp / "src");
  ASSERT_TRUE(g2) << g2.error().ToString();
  EXPECT_EQ(g2->number, 2u);
  EXPECT_EQ(ReadTree(live), (std::map<std::string, std::string>{{"a.sdn", "alpha2"}}));
}

TEST(RepositoryPublishTest, GenerationsAreNumberedAndLiveViewHoldsExactlyTheFiles) {
  RepoFixture f;
  const std::map<std::string, std::string> v1 = {{"a", "1"}, {"dir/b", "2"}, {"dir/sub/c", "3"}};
  const std::map<std::string, std::string> v2 = {{"a", "1"}, {"dir/b", "changed"}, {"new", "n"}};
  EXPECT_EQ(f.Publish(v1, "first"), 1u);
  EXPECT_EQ(ReadTree(f.live()), v1);
  EXPECT_EQ(f.Publish(v2, "second"), 2u);
  EXPECT_EQ(ReadTree(f.live()), v2) << "removed files are gone, nothing of txdir's own is there";
  EXPECT_TRUE(stdfs::is_symlink(f.live()));
  EXPECT_EQ(stdfs::canonical(f.live()), stdfs::canonical(f.gen_dir(2)));
  auto g = f.repo->Generation(2);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, "publish");
  EXPECT_EQ(g->message, "second");
  EXPECT_EQ(g->pid, ::getpid());
  EXPECT_FALSE(g->host.empty());
  EXPECT_FALSE(g->author.empty());
  EXPECT_GT(g->time_ms, 0);
  auto s = f.repo->Status();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->consistent);
  EXPECT_TRUE(stdfs::is_empty(f.root + "/.txdir/tmp")) << "no staging left behind";
}

TEST(RepositoryPublishTest, UnchangedFilesAreHardLinksToThePreviousGeneration) {
  RepoFixture f;
  f.Publish({{"same", "unchanged bytes"}, {"diff", "v1"}, {"d/same2", "also unchanged"}});
  f.Publish({{"same", "unchanged bytes"}, {"diff", "v2"}, {"d/same2", "also unchanged"}});
  EXPECT_EQ(testing::Inode(f.gen_dir(1) + "/same"), testing::Inode(f.gen_dir(2) + "/same"));
  EXPECT_EQ(testing::Inode(f.gen_dir(1) + "/d/same2"), testing::Inode(f.gen_dir(2) + "/d/same2"));
  EXPECT_NE(testing::Inode(f.gen_dir(1) + "/diff"), testing::Inode(f.gen_dir(2) + "/diff"));
  EXPECT_EQ(ReadFile(f.gen_dir(1) + "/diff"), "v1") << "old generation untouched";
}

// Many files moved to new paths: past the first few misses of the
// same-path walk, the blob lookup over the donor links them anyway.
TEST(RepositoryPublishTest, MovedFilesAreHardLinksWhenManyMove) {
  RepoFixture f;
  std::map<std::string, std::string> before, after;
  for (int i = 0; i < 200; ++i) {
    before["old/f" + std::to_string(i)] = "content " + std::to_string(i);
    after["new/f" + std::to_string(i)] = "content " + std::to_string(i);
  }
  f.Publish(before);
  f.Publish(after);
  int linked = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string n = "/f" + std::to_string(i);
    EXPECT_EQ(ReadFile(f.gen_dir(2) + "/new" + n), "content " + std::to_string(i));
    if (testing::Inode(f.gen_dir(1) + "/old" + n) == testing::Inode(f.gen_dir(2) + "/new" + n))
      ++linked;
  }
  // The first 64 misses are copied; every later one is linked.
  EXPECT_EQ(linked, 200 - 64);
}

TEST(RepositoryPublishTest, GenerationsAreReadOnlyAndKeepTheExecBit) {
  RepoFixture f;
  testing::MakeTree(f.src, {{"plain", "p"}, {"tool.sh", "#!/bin/sh\n"}, {"d/x", "x"}});
  ASSERT_EQ(::chmod((f.src + "/tool.sh").c_str(), 0755), 0);
  auto g = f.repo->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  const std::string dir = f.gen_dir(1);
  EXPECT_EQ(testing::Mode(dir + "/plain") & 07777, 0444u);
  EXPECT_EQ(testing::Mode(dir + "/tool.sh") & 07777, 0555u);
  EXPECT_EQ(testing::Mode(dir + "/d/x") & 07777, 0444u);
  EXPECT_EQ(testing::Mode(dir + "/d") & 07777, 0555u);
  EXPECT_EQ(testing::Mode(dir) & 07777, 0555u);
  auto files = f.repo->ListFiles(1);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 3u);
  for (const auto& fi : *files) EXPECT_EQ(fi.mode, fi.path == "tool.sh" ? 0100755u : 0100644u);
}

TEST(RepositoryPublishTest, EmptySourceIsRefusedUnlessAllowed) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  testing::MakeTree(f.src, {});
  auto refused = f.repo->Publish(f.src);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
  EXPECT_EQ(ReadTree(f.live()).size(), 1u) << "nothing published";
  auto g = f.repo->Publish(f.src, {.allow_empty = true});
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_TRUE(ReadTree(f.live()).empty());
}

TEST(RepositoryPublishTest, ReadFileAndListFilesReadTheStore) {
  RepoFixture f;
  f.Publish({{"a", "first"}, {"d/b", "bee"}});
  f.Publish({{"a", "second"}});
  EXPECT_EQ(*f.repo->ReadFile(1, "a"), "first");
  EXPECT_EQ(*f.repo->ReadFile(2, "a"), "second");
  EXPECT_EQ(*f.repo->ReadFile(1, "d/b"), "bee");
  auto missing = f.repo->ReadFile(2, "d/b");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  auto bad = f.repo->ReadFile(1, "../a");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  auto nogen = f.repo->ReadFile(9, "a");
  ASSERT_FALSE(nogen);
  EXPECT_EQ(nogen.error().code, Code::kNotFound);
  auto files = f.repo->ListFiles(1);
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "a");
  EXPECT_EQ((*files)[0].size, 5u);
  EXPECT_EQ((*files)[1].path, "d/b");
}

TEST(RepositoryStoreTest, StoreIsAValidGitRepository) {
  RepoFixture f;
  f.Publish({{"a", "1"}, {"d/b", "2"}}, "first");
  f.Publish({{"a", "1"}, {"d/b", "3"}}, "second");
  const std::string git = "git --git-dir='" + f.root + "/.txdir/store.git' ";
  std::string out;
  EXPECT_EQ(testing::RunShell(git + "fsck --full --strict", &out), 0) << out;
  ASSERT_EQ(testing::RunShell(git + "log --format=%B main", &out), 0) << out;
  EXPECT_NE(out.find("second\n\nTxdir-Generation: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("first\n\nTxdir-Generation: 1"), std::string::npos) << out;
  ASSERT_EQ(testing::RunShell(git + "show main:d/b", &out), 0) << out;
  EXPECT_EQ(out, "3");
  ASSERT_EQ(testing::RunShell(git + "rev-list --count main", &out), 0) << out;
  EXPECT_EQ(out, "2\n");
}

}  // namespace
}  // namespace txdir
