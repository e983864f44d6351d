// GenerationWalk (store/history_walk.h): the generations from a commit back
// along first parents, newest first; a caller can stop anywhere; a commit
// that cannot be read is an error of the read that needs it, after which
// the walk stays where it was; and a walk reads only what it is asked for.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <vector>

#include "store/git_store.h"
#include "store/history_walk.h"
#include "store_fixture.h"
#include "test_util.h"

namespace txdir::testing {
namespace {

using store::GenerationWalk;
using store::GitStore;

class GenerationWalkTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    auto tree = store_->WriteTree({});
    ASSERT_TRUE(tree) << tree.error().ToString();
    tree_ = *tree;
  }

  // A commit of generation `number` (0 writes trailers that do not parse).
  git_oid Commit(uint64_t number, const std::vector<git_oid>& parents) {
    store::GenMeta meta;
    meta.number = number;
    meta.time_ms = 1'700'000'000'000;
    auto c = store_->WriteCommit(tree_, parents, meta, "walker");
    EXPECT_TRUE(c) << c.error().ToString();
    return c ? *c : git_oid{};
  }

  // Generations 1..n, each the parent of the next; newest first.
  std::vector<git_oid> Chain(uint64_t n) {
    std::vector<git_oid> newest_first;
    for (uint64_t i = 1; i <= n; ++i) {
      std::vector<git_oid> parents;
      if (!newest_first.empty()) parents.push_back(newest_first.front());
      newest_first.insert(newest_first.begin(), Commit(i, parents));
    }
    return newest_first;
  }

  // Removes commit `oid`'s object file and reopens the store, so that no
  // cache of the old handle still holds it.
  void Remove(const git_oid& oid) {
    const std::string hex = store::OidHex(oid);
    ASSERT_TRUE(
        std::filesystem::remove(git_dir_ + "/objects/" + hex.substr(0, 2) + "/" + hex.substr(2)));
    store_.reset();
    auto s = GitStore::Open(Env::Default(), git_dir_);
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }

  git_oid tree_{};
};

TEST_F(GenerationWalkTest, WalksEveryGenerationNewestFirstToTheRoot) {
  const std::vector<git_oid> chain = Chain(4);
  GenerationWalk walk(*store_, chain.front());
  std::vector<uint64_t> numbers;
  for (size_t i = 0;; ++i) {
    auto more = walk.Next();
    ASSERT_TRUE(more) << more.error().ToString();
    if (!*more) break;
    ASSERT_LT(i, chain.size());
    EXPECT_TRUE(store::OidEqual(walk.commit(), chain[i]));
    auto meta = walk.Meta();
    ASSERT_TRUE(meta) << meta.error().ToString();
    numbers.push_back(meta->number);
    auto parent = walk.Parent();
    ASSERT_TRUE(parent) << parent.error().ToString();
    EXPECT_EQ(parent->has_value(), i + 1 < chain.size());
    if (*parent) {
      EXPECT_TRUE(store::OidEqual(**parent, chain[i + 1]));
    }
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{4, 3, 2, 1}));
  // The end stays the end.
  auto again = walk.Next();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(GenerationWalkTest, StartsAnywhereAndStopsWhereTheCallerStops) {
  const std::vector<git_oid> chain = Chain(5);
  GenerationWalk walk(*store_, chain[1]);  // generation 4
  std::vector<uint64_t> numbers;
  while (walk.Next().value_or(false)) {
    numbers.push_back(walk.Meta().value().number);
    if (numbers.back() == 3) break;
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{4, 3}));
  EXPECT_TRUE(store::OidEqual(walk.commit(), chain[2]));
}

TEST_F(GenerationWalkTest, AnEmptyHistoryHasNoGeneration) {
  GenerationWalk walk(*store_, std::nullopt);
  auto more = walk.Next();
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
}

TEST_F(GenerationWalkTest, FollowsTheFirstParentOfAMerge) {
  const git_oid base = Commit(1, {});
  const git_oid first = Commit(2, {base});
  const git_oid second = Commit(5, {base});
  const git_oid merge = Commit(3, {first, second});
  GenerationWalk walk(*store_, merge);
  std::vector<uint64_t> numbers;
  while (walk.Next().value()) numbers.push_back(walk.Meta().value().number);
  EXPECT_EQ(numbers, (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(GenerationWalkTest, AMissingParentIsAnErrorOfTheReadsThatNeedIt) {
  const std::vector<git_oid> chain = Chain(3);
  Remove(chain[1]);  // generation 2
  GenerationWalk walk(*store_, chain[0]);
  ASSERT_TRUE(walk.Next().value());
  EXPECT_EQ(walk.Meta().value().number, 3u);
  // Generation 3 names its parent; moving there reads nothing of it.
  ASSERT_TRUE(walk.Next().value());
  EXPECT_TRUE(store::OidEqual(walk.commit(), chain[1]));
  const std::string missing = "commit not found " + store::OidHex(chain[1]);
  auto meta = walk.Meta();
  ASSERT_FALSE(meta);
  EXPECT_EQ(meta.error().code, Code::kNotFound);
  EXPECT_EQ(meta.error().message.rfind(missing, 0), 0u) << meta.error().message;
  // Its parent cannot be read either; the walk stays on it, and so does a
  // second try.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto more = walk.Next();
    ASSERT_FALSE(more);
    EXPECT_EQ(more.error().code, Code::kNotFound);
    EXPECT_EQ(more.error().message.rfind(missing, 0), 0u) << more.error().message;
    EXPECT_TRUE(store::OidEqual(walk.commit(), chain[1]));
  }
}

TEST_F(GenerationWalkTest, AMissingFromCommitIsFoundByTheFirstRead) {
  const std::vector<git_oid> chain = Chain(2);
  Remove(chain[0]);
  GenerationWalk walk(*store_, chain[0]);
  ASSERT_TRUE(walk.Next().value());  // reads nothing
  EXPECT_TRUE(store::OidEqual(walk.commit(), chain[0]));
  auto parent = walk.Parent();
  ASSERT_FALSE(parent);
  EXPECT_EQ(parent.error().code, Code::kNotFound);
}

TEST_F(GenerationWalkTest, TrailersThatDoNotParseLeaveTheWalkGoing) {
  const git_oid root = Commit(1, {});
  const git_oid bad = Commit(0, {root});  // "Txdir-Generation: 0" is refused
  const git_oid head = Commit(3, {bad});
  GenerationWalk walk(*store_, head);
  ASSERT_TRUE(walk.Next().value());
  ASSERT_TRUE(walk.Next().value());
  auto meta = walk.Meta();
  ASSERT_FALSE(meta);
  EXPECT_EQ(meta.error().code, Code::kCorruption);
  EXPECT_NE(meta.error().message.find("(commit " + store::OidHex(bad) + ")"), std::string::npos)
      << meta.error().message;
  // A caller that reports the damage (fsck) can still go on past it.
  ASSERT_TRUE(walk.Next().value());
  EXPECT_TRUE(store::OidEqual(walk.commit(), root));
  EXPECT_EQ(walk.Meta().value().number, 1u);
}

TEST_F(GenerationWalkTest, ReadsNoMetadataItIsNotAskedFor) {
  const git_oid root = Commit(1, {});
  const git_oid bad = Commit(0, {root});
  const git_oid head = Commit(3, {bad});
  GenerationWalk walk(*store_, head);
  size_t walked = 0;
  for (;;) {
    auto more = walk.Next();
    ASSERT_TRUE(more) << more.error().ToString();
    if (!*more) break;
    ++walked;
  }
  EXPECT_EQ(walked, 3u);
}

}  // namespace
}  // namespace txdir::testing
