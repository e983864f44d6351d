// The SDN reader against the grammar of docs/sdn.md, one rule per test.
#include <gtest/gtest.h>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Document MustParse(std::string_view text) {
  auto doc = Parse(text);
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  return doc ? *doc : Document{};
}

// The message of the parse error for `text`, or "" when it parsed.
std::string ParseError(std::string_view text) {
  auto doc = Parse(text);
  if (doc) return "";
  EXPECT_EQ(doc.error().code, Code::kInvalidArgument);
  return doc.error().message;
}

TEST(SdnParse, TablesHeadersAndRows) {
  Document doc = MustParse(
      "todos |id, keyword, area|\n"
      "    0, TODO, parser\n"
      "    1, FIXME, \"two words\"\n"
      "\n"
      "file_cache |path, hash|\n");
  ASSERT_EQ(doc.tables.size(), 2u);
  EXPECT_EQ(doc.tables[0].name, "todos");
  EXPECT_EQ(doc.tables[0].columns, (std::vector<std::string>{"id", "keyword", "area"}));
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"0", "TODO", "parser"}, {"1", "FIXME", "two words"}}));
  EXPECT_EQ(doc.tables[1].name, "file_cache");
  EXPECT_TRUE(doc.tables[1].rows.empty());
}

TEST(SdnParse, EmptyAndCommentOnlyTextHaveNoTables) {
  EXPECT_TRUE(MustParse("").tables.empty());
  EXPECT_TRUE(MustParse("# nothing here\n\n   \n").tables.empty());
}

TEST(SdnParse, CommentLinesAnywhereAndNoCommentsInsideRows) {
  Document doc = MustParse(
      "# leading comment\n"
      "t |a, b|  # after header\n"
      "    # indented comment line\n"
      "    x, y # not a comment: the database library reads the whole cell\n"
      "    doc/x.md#anchor, 1\n");
  EXPECT_EQ(doc.tables[0].rows,
            (Rows{{"x", "y # not a comment: the database library reads the whole cell"},
                  {"doc/x.md#anchor", "1"}}));
}

TEST(SdnParse, RawNewlineInsideQuotes) {
  Document doc = MustParse("t |a, b|\n    \"line one\nline two\", 2\n    x, 3\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"line one\nline two", "2"}, {"x", "3"}}));
}

TEST(SdnParse, TabIndentAndCrlf) {
  Document doc = MustParse("t |a, b|\r\n\t1, x\r\n        2, y\r\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "x"}, {"2", "y"}}));
}

TEST(SdnParse, BlankLinesInsideAndBetweenTables) {
  Document doc =
      MustParse("strings |id, value|\n\n\nfeatures |id, name|\n\n    1, a\n\n    2, b\n");
  ASSERT_EQ(doc.tables.size(), 2u);
  EXPECT_TRUE(doc.tables[0].rows.empty());
  EXPECT_EQ(doc.tables[1].rows, (Rows{{"1", "a"}, {"2", "b"}}));
}

TEST(SdnParse, HeaderSpacingVariantsAndTheColonHeader) {
  Document doc = MustParse("t|a,b , c|\nu   | x |\nv:|a, b|\n        1, 2\n");
  EXPECT_EQ(doc.tables[0].columns, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(doc.tables[1].columns, (std::vector<std::string>{"x"}));
  EXPECT_EQ(doc.tables[2].rows, (Rows{{"1", "2"}}));
}

TEST(SdnParse, KeyValueLinesAndBlocksAreKeptButAreNotTables) {
  Document doc = MustParse(
      "app:\n    name: svc\n    nested:\n        k: v\nfeatures = [auth, logging]\n"
      "point = {x: 1, y: 2}\nversion: 2.1.0\nt |a|\n    1\nafter: x\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1"}}));
}

TEST(SdnParse, InlineOneRowTables) {
  Document doc = MustParse("point |x, y| 10, 20\nperson |name, age| \"Alice B\", 30\n");
  ASSERT_EQ(doc.tables.size(), 2u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"10", "20"}}));
  EXPECT_EQ(doc.tables[1].rows, (Rows{{"Alice B", "30"}}));
}

TEST(SdnParse, TypedTablesHaveNumberedColumns) {
  Document doc =
      MustParse("m: table{i32, i32}\n    1, 2\n    3, 4\nshort: table{i32} = [(1), (2)]\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].name, "m");
  EXPECT_EQ(doc.tables[0].columns, (std::vector<std::string>{"_1", "_2"}));
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}, {"3", "4"}}));
}

TEST(SdnParse, UnindentedRowsBelongToTheTableAbove) {
  Document doc = MustParse("dashboard_cache |key, value|\nbuild_time, 85.50\nnew, 1\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"build_time", "85.50"}, {"new", "1"}}));
}

TEST(SdnParse, MultiLineBracketValuesCloseAtAnyIndentation) {
  Document doc = MustParse(
      "diagnostics: [\n    {code: \"A\", note: \"a ] in quotes\"}\n    # a [ in a comment\n]\n"
      "tags = [x,\ny]\nt |a, b|\n    1, 2\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
}

TEST(SdnParse, ANamelessJsonValueIsKeptButIsNotATable) {
  Document doc = MustParse("{\n  \"schema\": \"x/1\",\n  \"n\": [1, 2]\n}\nt |a, b|\n    1, 2\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
  EXPECT_EQ(ParseError("{\n  \"a\": 1\n"),
            "line 1, column 1: unclosed '{' of a multi-line `key: [`, `key = {` or `name {` "
            "value");
}

TEST(SdnParse, BraceBlocksAreKeptButAreNotTables) {
  Document doc = MustParse(
      "cfg {\n    limit 70\n    inner {\n        \"src/\" 90\n    }\n    exclude [\n"
      "        \"test/**\"\n    ]\n}\nt |a, b|\n    1, 2\ncfg {\n  x 1\n}\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
}

TEST(SdnParse, AnUnindentedRowThatLooksLikeABraceBlockStaysARow) {
  Document doc = MustParse("t |a|\nx {y}\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"x {y}"}}));
}

TEST(SdnParse, SectionAndSeparatorLinesAreKeptButAreNotTables) {
  Document doc = MustParse(
      "[api]\nname = x\n[[module]]\npath = a/b\n---\nkind=table\nline=a | b\n---\n"
      "t |a, b|\n    1, 2\n[after]\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
}

TEST(SdnParse, ALoneNameOverAnIndentedBlockIsKeptButIsNotATable) {
  Document doc = MustParse("connection\n  port: 20000\n  host: localhost\nt |a, b|\n    1, 2\n");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
  // Without a block below, a lone word is still an error, not text.
  EXPECT_NE(ParseError("connection\nport: 1\n"), "");
  // In a one-column table, a lone word is a row (and so is the line below).
  EXPECT_EQ(MustParse("t |a|\nword\n  x: 1\n").tables[0].rows, (Rows{{"word"}, {"x: 1"}}));
}

TEST(SdnParse, AnUnclosedMultiLineValueIsAnError) {
  EXPECT_EQ(ParseError("k: [\n  1\n"),
            "line 1, column 4: unclosed '[' of a multi-line `key: [`, `key = {` or `name {` "
            "value");
  // A table header inside means the bracket was stray: say so, keep the table.
  EXPECT_EQ(ParseError("cfg {\n  x 1\nt |a|\n    1\n"),
            "line 1, column 5: unclosed '{' before the table header on line 3, column 1");
}

TEST(SdnParse, ErrorsGiveLineAndColumn) {
  EXPECT_EQ(ParseError("t |a, b|\n    1\n"),
            "line 2, column 5: row has 1 cells but table 't' has 2 columns");
  EXPECT_EQ(ParseError("t |a, b|\n    1, 2, 3\n"),
            "line 2, column 5: row has 3 cells but table 't' has 2 columns");
  EXPECT_EQ(ParseError("    1, 2\n"),
            "line 1, column 5: indented line outside a table or block (no header or `key:` "
            "above it)");
  EXPECT_EQ(ParseError("t |a, a|\n"), "line 1, column 7: duplicate column 'a'");
  EXPECT_EQ(ParseError("1x\n"),
            "line 1, column 1: expected a table header (`name |col, ...|`), a `key: value` line, "
            "a `name {` block, a `[section]` or `---` line or a comment, found '1'");
  EXPECT_EQ(ParseError("t |a, b\n"),
            "line 1, column 8: expected ',' or '|' in table header, found end of line");
  EXPECT_EQ(ParseError("m: table{i32\n    1\n"),
            "line 1, column 9: unclosed '{' in a typed table's column types");
  // Columns count characters, not bytes.
  EXPECT_EQ(ParseError("t |a, b|\n    \"\xC3\xA9\xC3\xA9\", x, y\n"),
            "line 2, column 5: row has 3 cells but table 't' has 2 columns");
}

TEST(SdnParse, ByteOrderMarkIsSkipped) {
  EXPECT_EQ(MustParse("\xEF\xBB\xBFt |a|\n").tables[0].name, "t");
}

// Found by fuzz.sdn_parse: with a second mark the first table's name began
// with U+FEFF, which a writer would put at the start of a file, where the
// next read skips it as a byte-order mark. Such a name is refused.
TEST(SdnParse, NameCannotStartWithAByteOrderMark) {
  EXPECT_EQ(ParseError("\xEF\xBB\xBF\xEF\xBB\xBFt |a|\n"),
            "line 1, column 2: expected a table header (`name |col, ...|`), a `key: value` "
            "line, a `name {` block, a `[section]` or `---` line or a comment, found a "
            "byte-order mark (U+FEFF)");
  EXPECT_EQ(ParseError("t |\xEF\xBB\xBF|\n"),
            "line 1, column 4: expected a column name, found a byte-order mark (U+FEFF)");
  // Inside a name the bytes are ordinary letters (any byte >= 0x80 is).
  EXPECT_EQ(MustParse("t\xEF\xBB\xBF |a|\n").tables[0].name, "t\xEF\xBB\xBF");
}

}  // namespace
}  // namespace txdir::sdn
