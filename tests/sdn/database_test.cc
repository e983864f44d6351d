// Database<T>: keyed operations, versioning, and what a save keeps.
#include "txdir/database.h"

#include <gtest/gtest.h>

#include "txdir/simple_records.h"

namespace txdir {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kTodos =
    "todos |id, keyword, area, priority, description, file, line, issue, blocked, status, valid|\n"
    "    0, TODO, parser, P2, \"Add generics\", src/a.spl, 492, \"\", \"\", open, false\n"
    "    3, FIXME, gpu, P1, \"Fix, then ship\", ./src/b.rs, 9, \"#12\", \"0,1\", blocked, true\n";

template <class T>
Database<T> MustLoad(std::string_view text, DatabaseOptions options = {}) {
  auto db = Database<T>::Load(text, std::move(options));
  EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().message);
  return db ? std::move(*db) : *Database<T>::Load("");
}

// A clock that starts at 2026-01-02T03:04:05Z and steps a minute per call.
DatabaseOptions Versioned() {
  DatabaseOptions options;
  options.versioning = true;
  auto t = std::make_shared<std::chrono::system_clock::time_point>(
      std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + 3h + 4min + 5s);
  options.clock = [t] {
    auto now = *t;
    *t += 1min;
    return now;
  };
  return options;
}

TEST(Database, LoadsTypedRecords) {
  auto db = MustLoad<Todo>(kTodos);
  ASSERT_EQ(db.size(), 2u);
  Todo t = *db.Get("3");
  EXPECT_EQ(t.keyword, "FIXME");
  EXPECT_EQ(t.description, "Fix, then ship");
  EXPECT_EQ(t.file, "./src/b.rs");  // kept as written, as Simple's database library reads it
  EXPECT_EQ(t.line, 9);
  EXPECT_EQ(t.issue, "#12");
  EXPECT_EQ(t.blocked, "0,1");
  EXPECT_TRUE(t.valid);
  EXPECT_FALSE(db.Get("0")->valid);
  EXPECT_EQ(db.Get("7").error().code, Code::kNotFound);
}

TEST(Database, InsertAssignsMaxPlusOne) {
  auto db = MustLoad<Todo>(kTodos);
  EXPECT_EQ(db.NextId(), "4");
  Todo t;
  t.description = "new";
  EXPECT_EQ(*db.Insert(t), "4");
  EXPECT_EQ(db.Get("4")->description, "new");
  t.id = "3";
  EXPECT_EQ(db.Insert(t).error().code, Code::kExists);
  auto empty = MustLoad<Todo>("");
  EXPECT_EQ(*empty.Insert(Todo{}), "0");  // the first id is 0
}

TEST(Database, NextIdSkipsNonNumericIds) {
  auto db = MustLoad<Feature>("features |id, name|\n    \"1.2\", a\n    \"100\", b\n    x, c\n");
  EXPECT_EQ(db.NextId(), "101");
}

TEST(Database, UpdateAndDelete) {
  auto db = MustLoad<Todo>(kTodos);
  Todo t = *db.Get("0");
  t.status = "done";
  ASSERT_TRUE(db.Update(t).has_value());
  EXPECT_EQ(db.Get("0")->status, "done");
  t.id = "99";
  EXPECT_EQ(db.Update(t).error().code, Code::kNotFound);
  ASSERT_TRUE(db.Delete("0").has_value());
  EXPECT_EQ(db.Delete("0").error().code, Code::kNotFound);
  ASSERT_EQ(db.All().size(), 1u);
  EXPECT_EQ(db.All()[0].id, "3");
  EXPECT_TRUE(db.Get("3").has_value());  // the index survives the erase
}

TEST(Database, SaveWithoutChangeLoadsToTheSameRecords) {
  auto db = MustLoad<Todo>(kTodos);
  std::string saved = *db.Save();
  auto again = MustLoad<Todo>(saved);
  EXPECT_EQ(again.All(), db.All());
  EXPECT_EQ(*again.Save(), saved);
  EXPECT_EQ(saved, kTodos);                             // an untouched file is kept byte for byte
  EXPECT_EQ(saved.find("version"), std::string::npos);  // versioning off: no new columns
}

// Only the changed record's cell and the inserted record are new bytes; the
// inserted one takes its neighbour's quoting.
TEST(Database, SaveKeepsOtherTablesAndUnknownColumnsInOrder) {
  constexpr std::string_view kText =
      "strings |id, value|\n"
      "    s1, hello\n"
      "features |id, extra_a, name, status, extra_b|\n"
      "    1, a1, \"One\", planned, b1\n"
      "    2, a2, \"Two\", complete, b2\n"
      "tail |k|\n"
      "    z\n";
  auto db = MustLoad<Feature>(kText);
  Feature f = *db.Get("2");
  f.status = "failed";
  ASSERT_TRUE(db.Update(f).has_value());
  Feature g;
  g.name = "Three";
  ASSERT_TRUE(db.Insert(g).has_value());
  EXPECT_EQ(*db.Save(),
            "strings |id, value|\n"
            "    s1, hello\n"
            "features |id, extra_a, name, status, extra_b|\n"
            "    1, a1, \"One\", planned, b1\n"
            "    2, a2, \"Two\", failed, b2\n"
            "    3, , \"Three\", planned, \n"
            "tail |k|\n"
            "    z\n");
}

TEST(Database, MissingFieldColumnIsAddedOnlyWhenNeeded) {
  // The dashboard's todos table has no `valid` column.
  constexpr std::string_view kText = "todos |id, description|\n    0, a\n";
  auto db = MustLoad<Todo>(kText);
  EXPECT_EQ(*db.Save(), kText);
  Todo t = *db.Get("0");
  t.valid = false;
  ASSERT_TRUE(db.Update(t).has_value());
  EXPECT_EQ(*db.Save(), "todos |id, description, valid|\n    0, a, false\n");
}

TEST(Database, NewTableIsAppendedWithAllColumns) {
  auto db = MustLoad<Task>("other |k|\n    v\n");
  Task t;
  t.name = "n";
  ASSERT_TRUE(db.Insert(t).has_value());
  EXPECT_EQ(*db.Save(),
            "other |k|\n    v\n\n"
            "tasks |id, category, name, description, priority, status, valid|\n"
            "    0, \"\", n, \"\", medium, planned, true\n");
}

TEST(Database, VersioningStampsEveryChange) {
  auto db = MustLoad<Todo>(kTodos, Versioned());
  EXPECT_EQ(db.Get("0")->version, 0);  // files without the columns still load
  Todo t = *db.Get("0");
  t.status = "done";
  ASSERT_TRUE(db.Update(t).has_value());
  EXPECT_EQ(db.Get("0")->version, 1);
  EXPECT_EQ(db.Get("0")->last_modified, "2026-01-02T03:04:05Z");
  t.area = "lexer";
  ASSERT_TRUE(db.Update(t).has_value());
  EXPECT_EQ(db.Get("0")->version, 2);
  EXPECT_EQ(db.Get("0")->last_modified, "2026-01-02T03:05:05Z");
  ASSERT_TRUE(db.Update(*db.Get("0")).has_value());  // no change, no bump
  EXPECT_EQ(db.Get("0")->version, 2);
  std::string id = *db.Insert(Todo{});
  EXPECT_EQ(db.Get(id)->version, 1);
  EXPECT_EQ(db.Get(id)->last_modified, "2026-01-02T03:06:05Z");

  std::string saved = *db.Save();
  EXPECT_NE(saved.find("status, valid, version, last_modified|"), std::string::npos);
  auto again = MustLoad<Todo>(saved);  // versioning off: the columns still load
  EXPECT_EQ(again.Get("0")->version, 2);
  EXPECT_EQ(again.Get("3")->version, 0);
  EXPECT_EQ(again.All(), db.All());
  // With versioning off, existing version columns are kept, not dropped.
  EXPECT_EQ(*again.Save(), saved);
}

TEST(Database, LoadErrors) {
  auto bad_int = Database<Todo>::Load("todos |id, line|\n    0, x\n");
  ASSERT_FALSE(bad_int.has_value());
  EXPECT_EQ(bad_int.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad_int.error().message,
            "table 'todos', record '0': field 'line': not an integer: 'x'");
  auto no_id = Database<Task>::Load("tasks |name|\n    a\n");
  EXPECT_EQ(no_id.error().code, Code::kInvalidArgument);
  auto syntax = Database<Task>::Load("tasks |id, name|\n    a, b, c\n");
  EXPECT_EQ(syntax.error().message,
            "line 2, column 5: row has 3 cells but table 'tasks' has 2 columns");
}

// As in the Simple tooling's database library: the last record with an id is
// the one Get sees; the earlier one stays in the file.
TEST(Database, ARepeatedIdIsTheLastRecord) {
  constexpr std::string_view kText = "tasks |id, name|\n    a, first\n    a, second\n";
  auto db = Database<Task>::Load(kText);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  EXPECT_EQ(db->Get("a")->name, "second");
  EXPECT_EQ(*db->Save(), kText);
}

TEST(Database, ReadsTheLaterWritersUnquotedText) {
  constexpr std::string_view kText = "tasks |id, name, status|\n    T1, Cranelift Backend, \n";
  auto db = Database<Task>::Load(kText);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  EXPECT_EQ(db->Get("T1")->name, "Cranelift Backend");
  EXPECT_EQ(db->Get("T1")->status, "");
  EXPECT_EQ(*db->Save(), kText);
}

}  // namespace
}  // namespace txdir
