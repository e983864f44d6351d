// store::AddedObjects lists what a tree reaches that its base tree does not
// at the same path, skipping unchanged subtrees and stopping past a cap;
// VerifyAddedObjects reads each one back and finds a damaged or missing
// one. Single-flush mode counts a publish by the first and recovery checks
// an interrupted one by the second (txn/src/single_flush.h).
#include "store/added_objects.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "store_fixture.h"
#include "test_util.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using store::AddedObject;
using store::OidHex;
using store::TreeFile;

class AddedObjectsTest : public testing::StoreTest {
 protected:
  git_oid Tree(const std::vector<std::pair<std::string, std::string>>& files) {
    std::vector<TreeFile> list;
    list.reserve(files.size());
    for (const auto& [path, content] : files)
      list.push_back(TreeFile{path, Write(content), store::kModeFile});
    auto t = store_->WriteTree(list);
    EXPECT_TRUE(t) << t.error().ToString();
    return t ? *t : git_oid{};
  }

  // The ids AddedObjects lists, as hex; fails the test on an error or cap.
  std::set<std::string> Added(const git_oid& tree, const std::optional<git_oid>& base,
                              size_t cap = 1000) {
    auto added = store::AddedObjects(*store_, tree, base, cap);
    EXPECT_TRUE(added) << added.error().ToString();
    std::set<std::string> out;
    if (!added || !*added) {
      ADD_FAILURE() << "over the cap";
      return out;
    }
    for (const AddedObject& o : **added) out.insert(OidHex(o.oid));
    return out;
  }

  std::string Hex(const std::string& content) { return OidHex(Write(content)); }
};

TEST_F(AddedObjectsTest, AFirstTreeAddsEveryTreeAndBlob) {
  const git_oid t = Tree({{"a", "A"}, {"d/b", "B"}, {"d/e/c", "C"}});
  // The root, d, d/e and three blobs.
  EXPECT_EQ(Added(t, std::nullopt).size(), 6u);
}

TEST_F(AddedObjectsTest, OnlyChangedFilesAndTheTreesAboveThemAreAdded) {
  const git_oid base = Tree({{"a", "A"}, {"d/b", "B"}, {"d/e/c", "C"}, {"x/y", "Y"}});
  const git_oid next = Tree({{"a", "A"}, {"d/b", "B"}, {"d/e/c", "C2"}, {"x/y", "Y"}});
  auto added = Added(next, base);
  // The new blob, d/e, d and the root; x and everything unchanged skipped.
  EXPECT_EQ(added.size(), 4u);
  EXPECT_TRUE(added.count(Hex("C2")));
  EXPECT_FALSE(added.count(Hex("C")));
  EXPECT_FALSE(added.count(Hex("Y")));
}

TEST_F(AddedObjectsTest, TheSameTreeAddsNothing) {
  const git_oid t = Tree({{"a", "A"}, {"d/b", "B"}});
  EXPECT_TRUE(Added(t, t).empty());
}

TEST_F(AddedObjectsTest, AFileThatBecomesADirectoryIsWalkedWhole) {
  const git_oid base = Tree({{"a", "A"}, {"d", "was a file"}});
  const git_oid next = Tree({{"a", "A"}, {"d/b", "B"}});
  auto added = Added(next, base);
  EXPECT_EQ(added.size(), 3u);  // root, d, B
  EXPECT_TRUE(added.count(Hex("B")));
}

TEST_F(AddedObjectsTest, PastTheCapTheAnswerIsNone) {
  std::vector<std::pair<std::string, std::string>> files;
  files.reserve(10);
  for (int i = 0; i < 10; ++i) files.emplace_back("f" + std::to_string(i), std::to_string(i));
  const git_oid t = Tree(files);
  auto at = store::AddedObjects(*store_, t, std::nullopt, 11);  // the root + 10 blobs
  ASSERT_TRUE(at) << at.error().ToString();
  EXPECT_TRUE(at->has_value());
  auto over = store::AddedObjects(*store_, t, std::nullopt, 10);
  ASSERT_TRUE(over) << over.error().ToString();
  EXPECT_FALSE(over->has_value());
}

TEST_F(AddedObjectsTest, VerifyFindsADamagedBlobAndAMissingTree) {
  const git_oid base = Tree({{"a", "A"}});
  const git_oid next = Tree({{"a", "A"}, {"d/b", "B"}});
  auto added = store::AddedObjects(*store_, next, base, 100);
  ASSERT_TRUE(added && *added);
  EXPECT_TRUE(store::VerifyAddedObjects(*store_, **added));

  // A blob whose file lost its bytes (a power loss before the flush).
  const std::string blob = LoosePath(Write("B"));
  ASSERT_EQ(::chmod(blob.c_str(), 0644), 0);
  testing::WriteFile(blob, "");
  auto damaged = store::VerifyAddedObjects(*store_, **added);
  ASSERT_FALSE(damaged);
  EXPECT_TRUE(damaged.error().code == Code::kCorruption || damaged.error().code == Code::kNotFound)
      << damaged.error().ToString();

  // A tree whose name was lost.
  for (const AddedObject& o : **added)
    if (o.is_tree && !store::OidEqual(o.oid, next)) stdfs::remove(LoosePath(o.oid));
  std::vector<AddedObject> trees;
  for (const AddedObject& o : **added)
    if (o.is_tree) trees.push_back(o);
  auto missing = store::VerifyAddedObjects(*store_, trees);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().code == Code::kCorruption || missing.error().code == Code::kNotFound)
      << missing.error().ToString();
}

}  // namespace
}  // namespace txdir
