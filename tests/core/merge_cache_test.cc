// MergeCache's reads of the version a queued transaction began from
// (txn/src/tree_merge.h): BaseRecords answers for the records named with
// WantRecord in one scan, scans again for a record nobody named, reads as
// LoadRecordDocument reads (seal, Parse's errors, named by the file), and
// CommitFiles lists a commit once and answers nullptr for one the store
// does not have.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/git_store.h"
#include "store_fixture.h"
#include "txdir/sdn.h"
#include "txn/src/tree_merge.h"

namespace txdir {
namespace {

using internal::MergeCache;

const char kTable[] =
    "todos |id, status|\n"
    "    1, open\n"
    "    2, open\n"
    "    3, done\n"
    "    2, done\n"  // a repeated key: the last row is the record
    "other |id|\n"
    "    1\n";

using MergeCacheTest = testing::StoreTest;

using Rows = std::vector<std::vector<std::string>>;

TEST_F(MergeCacheTest, BaseRecordsAnswersEveryWantedRecordAtOnce) {
  const git_oid blob = Write(kTable);
  MergeCache cache;
  cache.WantRecord(blob, "todos", "3");
  cache.WantRecord(blob, "todos", "2");
  auto t = cache.BaseRecords(*store_, "todo.sdn", blob, "todos", "2");
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_NE(*t, nullptr);
  EXPECT_EQ((*t)->columns, (std::vector<std::string>{"id", "status"}));
  EXPECT_EQ((*t)->rows, (Rows{{"2", "done"}, {"3", "done"}}));
  // Asked again: the same answer, the same table.
  auto again = cache.BaseRecords(*store_, "todo.sdn", blob, "todos", "3");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *t);
}

TEST_F(MergeCacheTest, BaseRecordsScansAgainForARecordNobodyWanted) {
  const git_oid blob = Write(kTable);
  MergeCache cache;
  cache.WantRecord(blob, "todos", "3");
  ASSERT_TRUE(cache.BaseRecords(*store_, "todo.sdn", blob, "todos", "3"));
  auto t = cache.BaseRecords(*store_, "todo.sdn", blob, "todos", "1");
  ASSERT_TRUE(t) << t.error().ToString();
  ASSERT_NE(*t, nullptr);
  EXPECT_EQ((*t)->rows, (Rows{{"1", "open"}, {"3", "done"}}));
  EXPECT_EQ((*t)->FindRow("9"), -1);
}

TEST_F(MergeCacheTest, BaseRecordsOfATableTheFileLacksIsNull) {
  const git_oid blob = Write(kTable);
  MergeCache cache;
  auto t = cache.BaseRecords(*store_, "todo.sdn", blob, "missing", "1");
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(*t, nullptr);
}

TEST_F(MergeCacheTest, BaseRecordsReadsAsLoadRecordDocumentReads) {
  MergeCache cache;
  // A seal that does not match the body.
  const git_oid bad_seal = Write("#sdn-crc32:1\n" + std::string(kTable));
  auto sealed = cache.BaseRecords(*store_, "todo.sdn", bad_seal, "todos", "1");
  ASSERT_FALSE(sealed);
  auto want = LoadRecordDocument("todo.sdn", "#sdn-crc32:1\n" + std::string(kTable));
  ASSERT_FALSE(want);
  EXPECT_EQ(sealed.error().code, want.error().code);
  EXPECT_EQ(sealed.error().message, want.error().message);
  // A good seal reads.
  const git_oid good = Write(sdn::Reseal("#sdn-crc32:0\n" + std::string(kTable)));
  auto ok = cache.BaseRecords(*store_, "todo.sdn", good, "todos", "1");
  ASSERT_TRUE(ok) << ok.error().ToString();
  ASSERT_NE(*ok, nullptr);
  EXPECT_EQ((*ok)->rows, (Rows{{"1", "open"}}));
  // A row with a cell too many: Parse's error, named by the file.
  const std::string broken = "todos |id, status|\n    1, open, extra\n";
  auto parsed = cache.BaseRecords(*store_, "todo.sdn", Write(broken), "todos", "1");
  ASSERT_FALSE(parsed);
  auto by_load = LoadRecordDocument("todo.sdn", broken);
  ASSERT_FALSE(by_load);
  EXPECT_EQ(parsed.error().message, by_load.error().message);
  EXPECT_EQ(parsed.error().code, Code::kInvalidArgument);
}

TEST_F(MergeCacheTest, CommitFilesListsACommitAndIsNullForOneTheStoreLacks) {
  const git_oid blob = Write(kTable);
  auto tree = store_->WriteTree({store::TreeFile{"todo.sdn", blob, 0100644u}});
  ASSERT_TRUE(tree) << tree.error().ToString();
  store::GenMeta meta;
  meta.number = 1;
  meta.time_ms = 1;
  auto commit = store_->WriteCommit(*tree, std::nullopt, meta, "test");
  ASSERT_TRUE(commit) << commit.error().ToString();
  MergeCache cache;
  auto files = cache.CommitFiles(*store_, *commit);
  ASSERT_TRUE(files) << files.error().ToString();
  ASSERT_NE(*files, nullptr);
  ASSERT_EQ((*files)->size(), 1u);
  EXPECT_TRUE(store::OidEqual((*files)->at("todo.sdn").oid, blob));
  git_oid absent{};
  absent.id[0] = 0x42;
  auto none = cache.CommitFiles(*store_, absent);
  ASSERT_TRUE(none) << none.error().ToString();
  EXPECT_EQ(*none, nullptr);
}

}  // namespace
}  // namespace txdir
