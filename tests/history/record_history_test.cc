// Record history (`log --record`) and blame: one SDN record followed
// through the generations, in the library and through the built binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/history/history_test_util.h"
#include "txdir/history.h"
#include "txdir/retention.h"

namespace txdir::testing {
namespace {

using nlohmann::json;

// todos of five generations:
//   1: 1 open P2, 2 open P3           (+ notes.txt)
//   2: notes.txt changed only          (the table's blob is unchanged)
//   3: 1 done P2, 2 open P3, 3 open P1 (1's status changed, 3 added)
//   4: 1 done P1, 3 open P1            (1's priority changed, 2 removed)
//   5: a rollback to 3                 (2 back, 1's priority back to P2)
class RecordHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Pub(T({"1, open, P2", "2, open, P3"}), "one"), 1u);
    ASSERT_EQ(Pub(T({"1, open, P2", "2, open, P3"}), "two", "changed"), 2u);
    ASSERT_EQ(Pub(T({"1, done, P2", "2, open, P3", "3, open, P1"}), "three"), 3u);
    ASSERT_EQ(Pub(T({"1, done, P1", "3, open, P1"}), "four"), 4u);
    auto rb = f_.repo->Rollback(3);
    ASSERT_TRUE(rb) << rb.error().ToString();
  }
  static std::string T(std::initializer_list<const char*> rows) {
    std::string s = "todos |id, status, priority|\n";
    for (const char* r : rows) s += std::string("    ") + r + "\n";
    return s;
  }
  uint64_t Pub(const std::string& table, const std::string& msg,
               const std::string& notes = "notes") {
    return f_.Publish({{"db/todo.sdn", table}, {"notes.txt", notes}}, msg);
  }
  RepoFixture f_;
};

TEST_F(RecordHistoryTest, ListsEachAddChangeAndRemovalNewestFirstWithTheFields) {
  auto h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "1");
  ASSERT_TRUE(h) << h.error().ToString();
  ASSERT_EQ(h->size(), 4u);
  EXPECT_EQ((*h)[0].info.number, 5u);
  EXPECT_EQ((*h)[0].kind, RecordChangeKind::kChanged);
  ASSERT_EQ((*h)[0].fields.size(), 1u);
  EXPECT_EQ((*h)[0].fields[0].field, "priority");
  EXPECT_EQ((*h)[0].fields[0].old_value, "P1");
  EXPECT_EQ((*h)[0].fields[0].new_value, "P2");
  EXPECT_EQ((*h)[1].info.number, 4u);
  EXPECT_EQ((*h)[2].info.number, 3u);
  ASSERT_EQ((*h)[2].fields.size(), 1u);
  EXPECT_EQ((*h)[2].fields[0].field, "status");
  EXPECT_EQ((*h)[2].fields[0].new_value, "done");
  EXPECT_EQ((*h)[3].info.number, 1u) << "generation 2 did not touch the table";
  EXPECT_EQ((*h)[3].kind, RecordChangeKind::kAdded);
  EXPECT_EQ((*h)[3].fields.size(), 3u);

  h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "2");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].kind, RecordChangeKind::kAdded) << "back with the rollback";
  EXPECT_EQ((*h)[0].info.number, 5u);
  EXPECT_EQ((*h)[1].kind, RecordChangeKind::kRemoved);
  EXPECT_EQ((*h)[1].info.number, 4u);
  EXPECT_EQ((*h)[1].fields[1].old_value, "open");
  EXPECT_EQ((*h)[2].info.number, 1u);

  h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "1", /*limit=*/2);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 2u);
  h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "99");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->empty());
}

TEST_F(RecordHistoryTest, ReadsAVersionOfTheFileOnlyWhereItsBlobChanged) {
  // A version that is not SDN in a generation the record's walk passes
  // without reading (its blob equals its neighbours') cannot be reported;
  // one it has to read is named with its generation.
  ASSERT_EQ(Pub("|not sdn", "broken"), 6u);
  ASSERT_EQ(Pub(T({"1, done, P3"}), "seven"), 7u);
  auto h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "1", /*limit=*/1);
  ASSERT_FALSE(h) << "generation 6 is read to compare with 7";
  EXPECT_NE(h.error().message.find("not valid SDN in generation 6"), std::string::npos)
      << h.error().ToString();
}

TEST_F(RecordHistoryTest, BlameNamesTheLastChangeOfEachRecordAndField) {
  auto b = Blame(*f_.repo, 5, "db/todo.sdn", "todos", std::nullopt, /*fields=*/false);
  ASSERT_TRUE(b) << b.error().ToString();
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0].id, "1");
  EXPECT_EQ((*b)[0].info.number, 5u) << "priority set back by the rollback";
  EXPECT_EQ((*b)[1].id, "2");
  EXPECT_EQ((*b)[1].info.number, 5u) << "re-added by the rollback";
  EXPECT_EQ((*b)[2].id, "3");
  EXPECT_EQ((*b)[2].info.number, 3u);

  b = Blame(*f_.repo, 5, "db/todo.sdn", "todos", std::string("1"), /*fields=*/true);
  ASSERT_TRUE(b) << b.error().ToString();
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0].field, "id");
  EXPECT_EQ((*b)[0].info.number, 1u);
  EXPECT_EQ((*b)[1].field, "status");
  EXPECT_EQ((*b)[1].value, "done");
  EXPECT_EQ((*b)[1].info.number, 3u);
  EXPECT_EQ((*b)[2].field, "priority");
  EXPECT_EQ((*b)[2].value, "P2");
  EXPECT_EQ((*b)[2].info.number, 5u);

  // As of generation 2: nothing changed since 1.
  b = Blame(*f_.repo, 2, "db/todo.sdn", "todos", std::nullopt, false);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].info.number, 1u);
  EXPECT_EQ((*b)[1].info.number, 1u);
}

TEST_F(RecordHistoryTest, BlameOfWhatIsNotThereIsNotFoundNamingIt) {
  auto b = Blame(*f_.repo, 5, "db/todo.sdn", "todos", std::string("99"), false);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Code::kNotFound);
  EXPECT_NE(b.error().message.find("no record '99' in table 'todos'"), std::string::npos);
  b = Blame(*f_.repo, 5, "db/todo.sdn", "nope", std::nullopt, false);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("no table 'nope'"), std::string::npos);
  b = Blame(*f_.repo, 5, "db/other.sdn", "todos", std::nullopt, false);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("no such file"), std::string::npos);
  b = Blame(*f_.repo, 5, "../x.sdn", "todos", std::nullopt, false);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, Code::kInvalidArgument);
}

TEST_F(RecordHistoryTest, AfterPruningTheOldestKeptHoldsWhatIsOlder) {
  auto gc = CollectGarbage(*f_.repo, {.keep = 2, .prune_history = true});
  ASSERT_TRUE(gc) << gc.error().ToString();
  auto h = RecordHistory(*f_.repo, "db/todo.sdn", "todos", "3");
  ASSERT_TRUE(h) << h.error().ToString();
  ASSERT_EQ(h->size(), 1u) << "unchanged in 5; 3, which added it, is gone";
  EXPECT_EQ((*h)[0].info.number, 4u);
  EXPECT_EQ((*h)[0].kind, RecordChangeKind::kAdded);
  EXPECT_TRUE((*h)[0].info.history_pruned);
  auto b = Blame(*f_.repo, 5, "db/todo.sdn", "todos", std::string("3"), false);
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[0].info.number, 4u);
  EXPECT_TRUE((*b)[0].info.history_pruned);
}

// --- through the binary

class RecordHistoryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"t.sdn", "todos |id, status|\n    1, open\n    2, open\n"}}, "one").exit,
              0);
    ASSERT_EQ(RunCli({"db", f_.root, "t.sdn", "todos", "set", "1", "status=done"}).exit, 0);
  }
  CliFixture f_;
};

TEST_F(RecordHistoryCliTest, LogRecordShowsEachChangeWithFieldsAuthorAndMessage) {
  CliResult r = RunCli({"log", f_.root, "--record", "t.sdn", "todos", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r;
  EXPECT_EQ(lines[0].rfind("generation 2  20", 0), 0u) << r;
  EXPECT_TRUE(Has(lines[0], "db t.sdn: set")) << r;
  EXPECT_EQ(lines[1], "  changed status: \"open\" -> \"done\"") << r;
  EXPECT_EQ(lines[2].rfind("generation 1  ", 0), 0u) << r;
  EXPECT_TRUE(Has(lines[2], "  one")) << r;
  EXPECT_EQ(lines[3], "  added id: \"1\", status: \"open\"") << r;

  r = RunCli({"log", f_.root, "--record", "t.sdn", "todos", "1", "--json", "-n", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["generation"], 2);
  EXPECT_EQ(j[0]["change"], "changed");
  EXPECT_EQ(j[0]["fields"], json::parse(R"([{"field":"status","old":"open","new":"done"}])"));

  r = RunCli({"log", f_.root, "--record", "t.sdn", "todos"});
  EXPECT_EQ(r.exit, 2) << "FILE TABLE ID are three values: " << r;
}

TEST_F(RecordHistoryCliTest, BlameShowsTheGenerationPerRecordOrPerField) {
  CliResult r = RunCli({"blame", f_.root, "t.sdn", "todos"});
  ASSERT_EQ(r.exit, 0) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r;
  EXPECT_EQ(lines[0].rfind("2  20", 0), 0u) << r;
  EXPECT_EQ(lines[0].substr(lines[0].size() - 3), "  1") << r;
  EXPECT_EQ(lines[1].rfind("1  20", 0), 0u) << r;

  r = RunCli({"blame", f_.root, "t.sdn", "todos", "1", "--fields"});
  ASSERT_EQ(r.exit, 0) << r;
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r;
  EXPECT_TRUE(Has(lines[0], "  1  id: 1")) << r;
  EXPECT_EQ(lines[0].rfind("1  ", 0), 0u) << r;
  EXPECT_TRUE(Has(lines[1], "  1  status: done")) << r;
  EXPECT_EQ(lines[1].rfind("2  ", 0), 0u) << r;

  r = RunCli({"blame", f_.root, "t.sdn", "todos", "--gen", "live~1", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["generation"], 1);

  r = RunCli({"blame", f_.root, "t.sdn", "todos", "7"});
  EXPECT_EQ(r.exit, 3) << r;
  EXPECT_TRUE(Has(r.err, "no record '7' in table 'todos' in generation 2")) << r;
}

}  // namespace
}  // namespace txdir::testing
