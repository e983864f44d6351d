// The SDN reader against the grammar of docs/sdn.md, one rule per test.
#include <gtest/gtest.h>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

using Rows = std::vector<std::vector<std::string>>;

Document MustParse(std::string_view text, ParseOptions options = {}) {
  auto doc = Parse(text, options);
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  return doc ? *doc : Document{};
}

// The message of the parse error for `text`, or "" when it parsed.
std::string ParseError(std::string_view text, ParseOptions options = {}) {
  auto doc = Parse(text, options);
  if (doc) return "";
  EXPECT_EQ(doc.error().code, Code::kInvalidArgument);
  return doc.error().message;
}

// The single cell of a one-column, one-row file "t |v|\n    <cell>\n".
std::string Cell(std::string_view cell, ParseOptions options = {}) {
  Document doc = MustParse("t |v|\n    " + std::string(cell) + "\n", options);
  if (doc.tables.size() != 1 || doc.tables[0].rows.size() != 1) return "<no row>";
  return doc.tables[0].rows[0][0];
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

TEST(SdnParse, CommentsWhereATokenCouldStart) {
  Document doc = MustParse(
      "# leading comment\n"
      "t |a, b|  # after header\n"
      "    # indented comment line\n"
      "    x, \"y\" # trailing comment\n"
      "    doc/x.md#anchor, 1\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"x", "y"}, {"doc/x.md#anchor", "1"}}));
}

TEST(SdnParse, QuotedStringEscapes) {
  EXPECT_EQ(Cell(R"("a\nb\tc\rd\\e\"f")"), "a\nb\tc\rd\\e\"f");
  // Any other escape stays as the two characters (the todo writer never
  // escaped backslashes).
  EXPECT_EQ(Cell(R"("C:\dir\x")"), "C:\\dir\\x");
  EXPECT_EQ(Cell(R"("")"), "");
  EXPECT_EQ(Cell(R"("a, b")"), "a, b");
  EXPECT_EQ(Cell("\"caf\xC3\xA9 \xE2\x80\x94 ok\""), "caf\xC3\xA9 \xE2\x80\x94 ok");
}

TEST(SdnParse, RawNewlineInsideQuotes) {
  Document doc = MustParse("t |a, b|\n    \"line one\nline two\", 2\n    x, 3\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"line one\nline two", "2"}, {"x", "3"}}));
}

TEST(SdnParse, NumbersNormalizeToDecimalText) {
  EXPECT_EQ(Cell("1_000_000"), "1000000");
  EXPECT_EQ(Cell("007"), "7");
  EXPECT_EQ(Cell("-0"), "0");
  EXPECT_EQ(Cell("-42"), "-42");
  EXPECT_EQ(Cell("1.50"), "1.5");
  EXPECT_EQ(Cell("2.0"), "2");
  EXPECT_EQ(Cell("1e3"), "1000");
  EXPECT_EQ(Cell("2.5E-1"), "0.25");
  EXPECT_EQ(Cell("1_0.2_5"), "10.25");
  EXPECT_EQ(Cell("1e999"), "inf");
  EXPECT_EQ(Cell("-1e-999"), "-0");
  EXPECT_EQ(Cell("123456789012345678901234567890"), "123456789012345678901234567890");
}

TEST(SdnParse, KeywordsAndEmptySlots) {
  Document doc = MustParse("t |a, b, c, d, e|\n    true, false, null, nil, \n    , , x, ,\n");
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"true", "false", "", "", ""}, {"", "", "x", "", ""}}));
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

TEST(SdnParse, DotSlashIsDroppedLikeTheReferenceLexer) {
  EXPECT_EQ(Cell("./src/x.rs"), "src/x.rs");
  ParseOptions keep;
  keep.keep_dot_slash = true;
  EXPECT_EQ(Cell("./src/x.rs", keep), "./src/x.rs");
  EXPECT_EQ(Cell("\"./quoted\""), "./quoted");  // only bare words lose it
}

TEST(SdnParse, HeaderSpacingVariants) {
  Document doc = MustParse("t|a,b , c|\nu   | x |\n");
  EXPECT_EQ(doc.tables[0].columns, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(doc.tables[1].columns, (std::vector<std::string>{"x"}));
}

TEST(SdnParse, ErrorsGiveLineAndColumn) {
  EXPECT_EQ(ParseError("t |a, b|\n    1, 2\n    3 4\n"),
            "line 3, column 7: expected ',' or end of row, found '4'");
  EXPECT_EQ(ParseError("t |a, b|\n    1\n"),
            "line 2, column 5: row has 1 cells but table 't' has 2 columns");
  EXPECT_EQ(ParseError("t |a|\n    \"open\n"),
            "line 2, column 5: unterminated string (no closing '\"')");
  EXPECT_EQ(ParseError("    1, 2\n"),
            "line 1, column 5: row outside a table (no header line above it)");
  EXPECT_EQ(ParseError("t |a, a|\n"), "line 1, column 7: duplicate column 'a'");
  EXPECT_EQ(ParseError("t a, b|\n"), "line 1, column 3: expected '|' after table name, found 'a'");
  EXPECT_EQ(ParseError("t |a, b\n"),
            "line 1, column 8: expected ',' or '|' in table header, found end of line");
  EXPECT_EQ(ParseError("t |a|\n    2026-02-10\n"),
            "line 2, column 5: malformed number (quote text that starts with a digit)");
  EXPECT_EQ(ParseError("t |a|\n    @x\n"), "line 2, column 5: expected a value, found '@'");
  // Columns count characters, not bytes.
  EXPECT_EQ(ParseError("t |a, b|\n    \"\xC3\xA9\xC3\xA9\" x\n"),
            "line 2, column 10: expected ',' or end of row, found 'x'");
}

TEST(SdnParse, StrictRejectsTheLaterWritersUnquotedText) {
  std::string text = "features |id, name, note|\n    1, Cranelift Backend, \n";
  EXPECT_NE(ParseError(text), "");
  ParseOptions lenient;
  lenient.lenient = true;
  Document doc = MustParse(text, lenient);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "Cranelift Backend", ""}}));
}

TEST(SdnParse, LenientDecodesTokensAndKeepsOtherTextVerbatim) {
  ParseOptions lenient;
  lenient.lenient = true;
  Document doc = MustParse(
      "t |a, b, c, d|\n"
      "    1_000, \"quoted\", two  words, ./p\n"
      "    2026-02-10, null, Issue #5 (open), x\n",
      lenient);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1000", "quoted", "two  words", "p"},
                                      {"2026-02-10", "", "Issue #5 (open)", "x"}}));
}

TEST(SdnParse, LenientStillFailsWhenTheCommaSplitDoesNotFit) {
  ParseOptions lenient;
  lenient.lenient = true;
  // Too many pieces: the strict error is reported.
  EXPECT_EQ(ParseError("t |a, b|\n    x y, z, w\n", lenient),
            "line 2, column 7: expected ',' or end of row, found 'y'");
  // A piece with a stray quote cannot be trusted.
  EXPECT_NE(ParseError("t |a, b|\n    say \"hi\", z\n", lenient), "");
}

TEST(SdnParse, LenientAcceptsTheColonHeaderTheGenericWriterEmitted) {
  EXPECT_NE(ParseError("t:|a, b|\n        1, 2\n"), "");
  ParseOptions lenient;
  lenient.lenient = true;
  Document doc = MustParse("t:|a, b|\n        1, 2\n", lenient);
  EXPECT_EQ(doc.tables[0].rows, (Rows{{"1", "2"}}));
}

TEST(SdnParse, ByteOrderMarkIsSkipped) {
  EXPECT_EQ(MustParse("\xEF\xBB\xBFt |a|\n").tables[0].name, "t");
}

// Found by fuzz.sdn_parse: with a second mark the first table's name began
// with U+FEFF, which the writer put at the start of the file, where the next
// read skipped it as a byte-order mark. Such a name is now refused.
TEST(SdnParse, NameCannotStartWithAByteOrderMark) {
  EXPECT_EQ(ParseError("\xEF\xBB\xBF\xEF\xBB\xBFt |a|\n"),
            "line 1, column 2: expected a table name, found a byte-order mark (U+FEFF)");
  EXPECT_EQ(ParseError("t |\xEF\xBB\xBF|\n"),
            "line 1, column 4: expected a column name, found a byte-order mark (U+FEFF)");
  // Inside a name the bytes are ordinary letters (any byte >= 0x80 is).
  EXPECT_EQ(MustParse("t\xEF\xBB\xBF |a|\n").tables[0].name, "t\xEF\xBB\xBF");
}

}  // namespace
}  // namespace txdir::sdn
