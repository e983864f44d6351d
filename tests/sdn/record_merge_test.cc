// Record-level three-way merge: one rule of record_merge.h per test.
#include "txdir/record_merge.h"

#include <gtest/gtest.h>

namespace txdir {
namespace {

using Rows = std::vector<std::vector<std::string>>;

sdn::Table T(std::string_view text) {
  auto doc = sdn::Parse(text);
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  return doc && !doc->tables.empty() ? doc->tables[0] : sdn::Table{};
}

TableMerge Merge(const sdn::Table& b, const sdn::Table& o, const sdn::Table& t,
                 Strategy strategy = Strategy::kMerge) {
  MergeOptions options;
  options.strategy = strategy;
  auto merged = MergeTable(b, o, t, options);
  EXPECT_TRUE(merged.has_value()) << (merged ? "" : merged.error().message);
  return merged ? *merged : TableMerge{};
}

const sdn::Table kBase =
    T("todos |id, status, area|\n"
      "    1, open, parser\n"
      "    2, open, gpu\n"
      "    3, open, doc\n");

TEST(RecordMerge, ChangesToDifferentRecordsMerge) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, done, parser\n    2, open, gpu\n"
        "    3, open, doc\n    4, open, new\n");
  sdn::Table theirs = T("todos |id, status, area|\n    1, open, parser\n    2, stale, gpu\n");
  TableMerge m = Merge(kBase, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows,
            (Rows{{"1", "done", "parser"}, {"2", "stale", "gpu"}, {"4", "open", "new"}}));
}

TEST(RecordMerge, SameRecordDifferentFieldsMergeFieldByField) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, done, parser\n    2, open, gpu\n"
        "    3, open, doc\n");
  sdn::Table theirs =
      T("todos |id, status, area|\n    1, open, lexer\n    2, open, gpu\n"
        "    3, open, doc\n");
  TableMerge m = Merge(kBase, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows.at(0), (std::vector<std::string>{"1", "done", "lexer"}));
}

TEST(RecordMerge, SameFieldIsAConflictShownAsOurs) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, done, x\n    2, open, gpu\n    3, open, doc\n");
  sdn::Table theirs =
      T("todos |id, status, area|\n    1, stale, x\n    2, open, gpu\n    3, open, doc\n");
  TableMerge m = Merge(kBase, ours, theirs);
  ASSERT_EQ(m.conflicts.size(), 1u);
  // `area` was changed to the same value on both sides: not in dispute.
  EXPECT_EQ(m.conflicts[0],
            (RecordConflict{"todos", "1", {"status"}, ConflictKind::kBothModified}));
  EXPECT_EQ(m.table.rows.at(0), (std::vector<std::string>{"1", "done", "x"}));
  EXPECT_EQ(DescribeConflicts(m.conflicts), "todos 1: both modified (status)");
}

TEST(RecordMerge, ErrorStrategyFlagsEveryRecordChangedOnBothSides) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, done, parser\n    2, open, gpu\n"
        "    3, stale, doc\n");
  sdn::Table theirs =
      T("todos |id, status, area|\n    1, open, lexer\n    2, open, gpu\n"
        "    3, stale, doc\n");
  TableMerge m = Merge(kBase, ours, theirs, Strategy::kError);
  // Record 3 got the same change on both sides: nothing to resolve.
  ASSERT_EQ(m.conflicts.size(), 1u);
  EXPECT_EQ(m.conflicts[0],
            (RecordConflict{"todos", "1", {"status", "area"}, ConflictKind::kBothModified}));
}

TEST(RecordMerge, BothInsertedTheSameNumericIdKeepBothOursRenumbered) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, open, parser\n    2, open, gpu\n"
        "    3, open, doc\n    4, open, mine\n    5, open, mine2\n");
  sdn::Table theirs =
      T("todos |id, status, area|\n    1, open, parser\n    2, open, gpu\n"
        "    3, open, doc\n    4, open, theirs\n");
  for (Strategy s : {Strategy::kMerge, Strategy::kError, Strategy::kLastWriteWins}) {
    TableMerge m = Merge(kBase, ours, theirs, s);
    EXPECT_TRUE(m.conflicts.empty());
    EXPECT_EQ(m.table.rows, (Rows{{"1", "open", "parser"},
                                  {"2", "open", "gpu"},
                                  {"3", "open", "doc"},
                                  {"4", "open", "theirs"},
                                  {"5", "open", "mine2"},
                                  {"6", "open", "mine"}}));
    EXPECT_EQ(m.renumbered, (std::vector<Renumbered>{{"todos", "4", "6"}}));
  }
}

TEST(RecordMerge, BothInsertedTheSameNonNumericIdIsAConflict) {
  sdn::Table base = T("features |id, name|\n    \"1.1\", a\n");
  sdn::Table ours = T("features |id, name|\n    \"1.1\", a\n    \"1.2\", mine\n");
  sdn::Table theirs = T("features |id, name|\n    \"1.1\", a\n    \"1.2\", theirs\n");
  TableMerge m = Merge(base, ours, theirs);
  ASSERT_EQ(m.conflicts.size(), 1u);
  EXPECT_EQ(m.conflicts[0],
            (RecordConflict{"features", "1.2", {"name"}, ConflictKind::kBothInserted}));
  EXPECT_TRUE(Merge(base, ours, theirs, Strategy::kLastWriteWins).conflicts.empty());
}

TEST(RecordMerge, DeleteAgainstUpdateIsAConflictForMergeAndError) {
  sdn::Table deleted = T("todos |id, status, area|\n    1, open, parser\n    2, open, gpu\n");
  sdn::Table updated =
      T("todos |id, status, area|\n    1, open, parser\n    2, open, gpu\n"
        "    3, done, doc\n");
  for (Strategy s : {Strategy::kMerge, Strategy::kError}) {
    TableMerge m = Merge(kBase, deleted, updated, s);
    EXPECT_EQ(
        m.conflicts,
        (std::vector<RecordConflict>{{"todos", "3", {"status"}, ConflictKind::kDeletedByOurs}}));
    EXPECT_EQ(m.table.rows.size(), 2u);  // shown as ours: deleted
    m = Merge(kBase, updated, deleted, s);
    EXPECT_EQ(
        m.conflicts,
        (std::vector<RecordConflict>{{"todos", "3", {"status"}, ConflictKind::kDeletedByTheirs}}));
    EXPECT_EQ(m.table.rows.size(), 3u);  // shown as ours: updated
  }
  // The other strategies keep ours, without a conflict.
  for (Strategy s : {Strategy::kLastWriteWins, Strategy::kLastModifiedWins}) {
    EXPECT_TRUE(Merge(kBase, deleted, updated, s).conflicts.empty());
    EXPECT_EQ(Merge(kBase, deleted, updated, s).table.rows.size(), 2u);
    EXPECT_EQ(Merge(kBase, updated, deleted, s).table.rows.size(), 3u);
  }
}

TEST(RecordMerge, DeleteAgainstUnchangedDeletes) {
  sdn::Table deleted = T("todos |id, status, area|\n    1, open, parser\n    3, open, doc\n");
  sdn::Table other =
      T("todos |id, status, area|\n    1, done, parser\n    2, open, gpu\n"
        "    3, open, doc\n");
  TableMerge m = Merge(kBase, deleted, other, Strategy::kError);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows, (Rows{{"1", "done", "parser"}, {"3", "open", "doc"}}));
}

TEST(RecordMerge, LastWriteWinsTakesOursPerConflictingRecord) {
  sdn::Table ours =
      T("todos |id, status, area|\n    1, done, parser\n    2, open, gpu\n"
        "    3, open, doc\n");
  sdn::Table theirs =
      T("todos |id, status, area|\n    1, stale, lexer\n    2, open, x\n"
        "    3, open, doc\n");
  TableMerge m = Merge(kBase, ours, theirs, Strategy::kLastWriteWins);
  EXPECT_TRUE(m.conflicts.empty());
  // Record 1 is ours whole (theirs's `area` change is dropped); record 2,
  // changed by theirs only, keeps theirs's change.
  EXPECT_EQ(m.table.rows,
            (Rows{{"1", "done", "parser"}, {"2", "open", "x"}, {"3", "open", "doc"}}));
}

TEST(RecordMerge, LastModifiedWinsPerRecordTiesToOurs) {
  sdn::Table base =
      T("t |id, v, last_modified|\n"
        "    1, a, \"2026-01-01T00:00:00Z\"\n    2, a, \"2026-01-01T00:00:00Z\"\n"
        "    3, a, \"2026-01-01T00:00:00Z\"\n");
  sdn::Table ours =
      T("t |id, v, last_modified|\n"
        "    1, ours, \"2026-01-02T00:00:00Z\"\n    2, ours, \"2026-01-02T00:00:00.5Z\"\n"
        "    3, ours, \"2026-01-02T00:00:00Z\"\n");
  sdn::Table theirs =
      T("t |id, v, last_modified|\n"
        "    1, theirs, \"2026-01-02T00:00:01Z\"\n    2, theirs, \"2026-01-02T00:00:00Z\"\n"
        "    3, theirs, \"2026-01-02T00:00:00Z\"\n");
  TableMerge m = Merge(base, ours, theirs, Strategy::kLastModifiedWins);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows.at(0).at(1), "theirs");  // newer by a second
  EXPECT_EQ(m.table.rows.at(1).at(1), "ours");    // newer by half a second
  EXPECT_EQ(m.table.rows.at(2).at(1), "ours");    // tie
}

TEST(RecordMerge, BookkeepingColumnsNeverConflict) {
  sdn::Table base =
      T("t |id, a, b, version, last_modified|\n    1, x, y, 3, \"2026-01-01T00:00:00Z\"\n");
  sdn::Table ours =
      T("t |id, a, b, version, last_modified|\n    1, X, y, 4, \"2026-01-03T00:00:00Z\"\n");
  sdn::Table theirs =
      T("t |id, a, b, version, last_modified|\n    1, x, Y, 4, \"2026-01-02T00:00:00Z\"\n");
  TableMerge m = Merge(base, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows.at(0),
            (std::vector<std::string>{"1", "X", "Y", "5", "2026-01-03T00:00:00Z"}));
}

TEST(RecordMerge, ColumnsAreUnitedAndAMissingColumnIsUnchanged) {
  sdn::Table base = T("t |id, a|\n    1, x\n    2, y\n");
  sdn::Table ours = T("t |id, a|\n    1, X\n    2, y\n");
  sdn::Table theirs = T("t |id, a, note|\n    1, x, n1\n    2, y, n2\n    3, z, n3\n");
  TableMerge m = Merge(base, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.columns, (std::vector<std::string>{"id", "a", "note"}));
  EXPECT_EQ(m.table.rows, (Rows{{"1", "X", "n1"}, {"2", "y", "n2"}, {"3", "z", "n3"}}));
}

// Regression: a column both sides dropped made an untouched-by-theirs record
// look changed on both sides, so its version was bumped a second time.
TEST(RecordMerge, ColumnDroppedOnBothSidesIsNotAChange) {
  sdn::Table base = T("t |id, a, old, version|\n    1, x, o, 3\n    2, y, o, 3\n");
  sdn::Table ours = T("t |id, a, version|\n    1, X, 4\n    2, y, 3\n");
  sdn::Table theirs = T("t |id, a, version|\n    1, x, 3\n    2, Y, 4\n");
  TableMerge m = Merge(base, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows, (Rows{{"1", "X", "4"}, {"2", "Y", "4"}}));
}

TEST(RecordMerge, KeyColumnDefaultsToIdElseTheFirstColumn) {
  sdn::Table base = T("file_cache |path, hash|\n    a, h1\n    b, h2\n");
  sdn::Table ours = T("file_cache |path, hash|\n    a, h9\n    b, h2\n");
  sdn::Table theirs = T("file_cache |path, hash|\n    a, h1\n    b, h8\n    c, h3\n");
  TableMerge m = Merge(base, ours, theirs);
  EXPECT_TRUE(m.conflicts.empty());
  EXPECT_EQ(m.table.rows, (Rows{{"a", "h9"}, {"b", "h8"}, {"c", "h3"}}));
}

TEST(RecordMerge, RepeatedKeyIsAnError) {
  sdn::Table twice = T("t |id, a|\n    1, x\n    1, y\n");
  sdn::Table other = T("t |id, a|\n    2, x\n");
  auto m = MergeTable(other, twice, T("t |id, a|\n    3, x\n"));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, Code::kInvalidArgument);
  EXPECT_EQ(m.error().message, "table 't' (ours): key '1' appears twice");
}

TEST(RecordMerge, OneSideUnchangedReturnsTheOtherExactly) {
  sdn::Table theirs = T("todos |id, status, area|\n    3, open, doc\n    1, open, parser\n");
  TableMerge m = Merge(kBase, kBase, theirs);
  EXPECT_EQ(m.table, theirs);  // order and all
}

TEST(DocumentMerge, TablesMergedByNameOneSidedTablesKept) {
  auto doc = [](std::string_view text) { return *sdn::Parse(text); };
  sdn::Document base = doc("a |id, v|\n    1, x\ngone |id|\n    1\nkeep |id|\n    1\n");
  sdn::Document ours = doc("a |id, v|\n    1, ours\nkeep |id|\n    1\n    2\nmine |id|\n    1\n");
  sdn::Document theirs =
      doc("theirs_new |id|\n    9\na |id, v|\n    1, x\n    2, t\ngone |id|\n    1\n");
  auto m = MergeDocument(base, ours, theirs);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m->conflicts.empty());
  // `gone`: removed by ours, unchanged by theirs. `keep`: removed by theirs
  // but changed by ours, so merged as "theirs deleted every record":
  // ours's unchanged record 1 goes, its new record 2 stays. The result is
  // written into theirs's text: its bytes stay, only ours's changes are new,
  // and tables theirs lacks are appended.
  EXPECT_EQ(sdn::Write(m->document),
            "theirs_new |id|\n    9\n"
            "a |id, v|\n    1, ours\n    2, t\n\n"
            "keep |id|\n    2\n\n"
            "mine |id|\n    1\n");
}

TEST(Strategy, NamesRoundTrip) {
  for (Strategy s : {Strategy::kError, Strategy::kLastWriteWins, Strategy::kLastModifiedWins,
                     Strategy::kMerge}) {
    EXPECT_EQ(ParseStrategy(StrategyName(s)), s);
  }
  EXPECT_EQ(ParseStrategy("last_write_wins"), Strategy::kLastWriteWins);
  EXPECT_FALSE(ParseStrategy("newest").has_value());
}

}  // namespace
}  // namespace txdir
