// DiffTables / FormatRecordDiffs: record-level differences of SDN tables.
#include <gtest/gtest.h>

#include "txdir/history.h"

namespace txdir {
namespace {

std::string Format(const std::string& path, std::string_view a, std::string_view b) {
  FileRecordDiff f;
  f.path = path;
  f.tables = DiffTables(a, b, &f.parse_error);
  return FormatRecordDiffs({f});
}

TEST(DiffTablesTest, AddedRemovedAndChangedRecordsById) {
  const char* a =
      "todos |id, keyword, status, line|\n"
      "    1, TODO, open, 10\n"
      "    2, FIXME, open, 20\n"
      "    3, TODO, open, 30\n";
  const char* b =
      "todos |id, keyword, status, line|\n"
      "    1, TODO, open, 10\n"
      "    3, TODO, done, 31\n"
      "    4, TODO, open, 40\n";
  EXPECT_EQ(Format("todos.sdn", a, b),
            "== todos.sdn\n"
            "table todos: 1 added, 1 removed, 1 changed\n"
            "  removed 2\n"
            "  changed 3: status: \"open\" -> \"done\", line: \"30\" -> \"31\"\n"
            "  added 4\n");
}

TEST(DiffTablesTest, KeyIsTheFirstColumnWithoutAnId) {
  const char* a = "dashboard_cache |key, value|\n    a, 1\n    b, 2\n";
  const char* b = "dashboard_cache |key, value|\n    b, 3\n    a, 1\n";
  std::string err;
  auto t = DiffTables(a, b, &err);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].key, "key");
  ASSERT_EQ(t[0].records.size(), 1u);  // reordering is not a change
  EXPECT_EQ(t[0].records[0].id, "b");
  ASSERT_EQ(t[0].records[0].fields.size(), 1u);
  EXPECT_EQ(t[0].records[0].fields[0].field, "value");
  EXPECT_EQ(t[0].records[0].fields[0].old_value, "2");
  EXPECT_EQ(t[0].records[0].fields[0].new_value, "3");
}

TEST(DiffTablesTest, TablesAndColumnsAddedOrRemoved) {
  const char* a =
      "strings |id, value|\n"
      "features |id, name, status|\n"
      "    1, \"Lexer\", planned\n";
  const char* b =
      "features |id, name, status, version|\n"
      "    1, \"Lexer\", complete, 2\n"
      "tasks |id, name|\n"
      "    9, \"Build\"\n";
  EXPECT_EQ(Format("feature_db.sdn", a, b),
            "== feature_db.sdn\n"
            "table strings (removed table): 0 added, 0 removed, 0 changed\n"
            "table features: 0 added, 0 removed, 1 changed\n"
            "  columns added: version\n"
            "  changed 1: status: \"planned\" -> \"complete\"\n"
            "table tasks (new table): 1 added, 0 removed, 0 changed\n"
            "  added 9\n");
}

TEST(DiffTablesTest, DuplicateIdsMatchInOrderAndValuesAreEscaped) {
  const char* a = "t |id, v|\n    1, \"x\"\n    1, \"y\"\n";
  const char* b = "t |id, v|\n    1, \"x\"\n    1, \"a\\nb \\\"q\\\" \\\\\"\n    1, z\n";
  EXPECT_EQ(Format("t.sdn", a, b),
            "== t.sdn\n"
            "table t: 1 added, 0 removed, 1 changed\n"
            "  changed 1: v: \"y\" -> \"a\\\\nb \\\\\\\"q\\\\\\\" \\\\\\\\\"\n"
            "  added 1\n");
}

TEST(DiffTablesTest, UnquotedTextRowsAndParseErrors) {
  // The later Simple writer's unquoted multi-word text reads as written.
  const char* a = "tasks |id, name, status|\n    1, Cranelift Backend, planned\n";
  const char* b = "tasks |id, name, status|\n    1, Cranelift Backend, complete\n";
  EXPECT_EQ(Format("task_db.sdn", a, b),
            "== task_db.sdn\n"
            "table tasks: 0 added, 0 removed, 1 changed\n"
            "  changed 1: status: \"planned\" -> \"complete\"\n");
  // A row with more cells than its header has columns is not SDN.
  std::string out = Format("bad.sdn", a, "tasks |id, name|\n    1, a, b, c\n");
  EXPECT_EQ(out.rfind("== bad.sdn\ncannot compare records: new version: line ", 0), 0u) << out;
  // A formatting-only change is no record change.
  EXPECT_EQ(Format("f.sdn", "t |id|\n    1\n", "# comment\nt |id|\n        1\n"),
            "== f.sdn\nno record changes\n");
}

}  // namespace
}  // namespace txdir
