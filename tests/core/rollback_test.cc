// Rollback: publishes an earlier generation's tree as a new generation.
#include <gtest/gtest.h>

#include "test_util.h"

namespace txdir {
namespace {

using testing::ReadTree;
using Files = std::map<std::string, std::string>;

class RollbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.repo);
    for (const Files& v : gens_) f_.Publish(v);
    ASSERT_EQ(f_.LiveGeneration(), 3u);
  }

  // The live view equals generation `g`'s published content, byte for byte.
  void ExpectLiveShows(size_t g) { EXPECT_EQ(ReadTree(f_.live()), gens_[g - 1]) << "gen " << g; }

  uint64_t RollbackOk(std::optional<uint64_t> target, uint64_t expect_restores) {
    auto g = f_.repo->Rollback(target);
    EXPECT_TRUE(g) << g.error().ToString();
    if (!g) return 0;
    EXPECT_EQ(g->kind, "rollback");
    EXPECT_EQ(g->restores, std::optional<uint64_t>(expect_restores));
    return g->number;
  }

  testing::RepoFixture f_;
  const std::vector<Files> gens_ = {
      {{"a", "one"}, {"bin", std::string("\0\x01\xff", 3)}},
      {{"a", "two"}, {"bin", std::string("\0\x01\xff", 3)}, {"d/new", "n2"}},
      {{"a", "three"}, {"d/new", "n3"}},
  };
};

TEST_F(RollbackTest, ContentEqualsTargetByteForByte) {
  EXPECT_EQ(RollbackOk(1, 1), 4u);
  ExpectLiveShows(1);
  EXPECT_EQ(f_.LiveGeneration(), 4u);
  auto listed = f_.repo->ListFiles(4);
  auto original = f_.repo->ListFiles(1);
  ASSERT_TRUE(listed && original);
  ASSERT_EQ(listed->size(), original->size());
  for (size_t i = 0; i < listed->size(); ++i) {
    EXPECT_EQ((*listed)[i].path, (*original)[i].path);
    EXPECT_EQ((*listed)[i].blob, (*original)[i].blob);
  }
  EXPECT_EQ(f_.repo->Generation(4)->tree, f_.repo->Generation(1)->tree);
}

TEST_F(RollbackTest, MaterializedTargetNeedsNoDataCopy) {
  RollbackOk(2, 2);
  for (const char* p : {"a", "bin", "d/new"})
    EXPECT_EQ(testing::Inode(f_.gen_dir(4) + "/" + p), testing::Inode(f_.gen_dir(2) + "/" + p))
        << p << " is a hard link to generation 2's file";
}

TEST_F(RollbackTest, RepeatedRollbackWalksBackAndCanBeUndone) {
  EXPECT_EQ(RollbackOk(std::nullopt, 2), 4u);  // 3 -> 2
  ExpectLiveShows(2);
  EXPECT_EQ(RollbackOk(std::nullopt, 1), 5u);  // 2 -> 1
  ExpectLiveShows(1);
  auto none = f_.repo->Rollback(std::nullopt);
  ASSERT_FALSE(none) << "nothing before generation 1";
  EXPECT_EQ(none.error().code, Code::kNotFound);
  EXPECT_NE(none.error().message.find("generation 1"), std::string::npos) << none.error().message;
  ExpectLiveShows(1);
  EXPECT_EQ(RollbackOk(3, 3), 6u);  // undo
  ExpectLiveShows(3);
  // After undoing, a step back goes from 3 to 2 again.
  EXPECT_EQ(RollbackOk(std::nullopt, 2), 7u);
  ExpectLiveShows(2);
}

TEST_F(RollbackTest, LogListsEveryGenerationIncludingRollbacks) {
  RollbackOk(std::nullopt, 2);
  RollbackOk(std::nullopt, 1);
  auto log = f_.repo->Log();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*log)[i].number, 5 - i) << "newest first";
  EXPECT_EQ((*log)[0].kind, "rollback");
  EXPECT_EQ((*log)[0].restores, std::optional<uint64_t>(1));
  EXPECT_EQ((*log)[0].message, "rollback to generation 1");
  EXPECT_EQ((*log)[1].kind, "rollback");
  EXPECT_EQ((*log)[1].restores, std::optional<uint64_t>(2));
  EXPECT_EQ((*log)[2].kind, "publish");
  EXPECT_FALSE((*log)[2].restores);
  auto limited = f_.repo->Log(2);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[1].number, 4u);
}

TEST_F(RollbackTest, UnknownGenerationIsNotFoundAndChangesNothing) {
  for (uint64_t g : {uint64_t{4}, uint64_t{99}, uint64_t{0}}) {
    auto r = f_.repo->Rollback(g);
    ASSERT_FALSE(r) << g;
    EXPECT_EQ(r.error().code, Code::kNotFound) << g;
    EXPECT_NE(r.error().message.find(std::to_string(g)), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(f_.LiveGeneration(), 3u);
  ExpectLiveShows(3);
}

TEST_F(RollbackTest, RollbackToTheLiveGenerationIsRefused) {
  auto r = f_.repo->Rollback(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(f_.LiveGeneration(), 3u);
}

TEST(RollbackEmptyTest, NothingToRollBackBeforeFirstPublish) {
  testing::RepoFixture f;
  auto r = f.repo->Rollback(std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  f.Publish({{"a", "1"}});
  auto r1 = f.repo->Rollback(std::nullopt);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().code, Code::kNotFound);
}

TEST(RollbackEmptyTest, RestoresAGenerationWhoseDirectoryIsGone) {
  testing::RepoFixture f;
  f.Publish({{"a", "1"}});
  f.Publish({{"a", "2"}});
  testing::ForceRemoveAll(f.gen_dir(1));
  auto r = f.repo->Rollback(1);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(ReadTree(f.live()), (Files{{"a", "1"}}));
}

}  // namespace
}  // namespace txdir
