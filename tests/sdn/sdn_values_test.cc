// The value of a cell, as the Simple tooling's database library reads it
// (docs/sdn.md, "The value of a cell"), one construct per test.
#include <gtest/gtest.h>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

// The single cell of a one-column, one-row file "t |v|\n    <cell>\n".
std::string Cell(std::string_view cell) {
  auto doc = Parse("t |v|\n    " + std::string(cell) + "\n");
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  if (!doc || doc->tables.size() != 1 || doc->tables[0].rows.size() != 1) return "<no row>";
  return doc->tables[0].rows[0][0];
}

std::vector<std::string> Row(std::string_view header, std::string_view row) {
  auto doc = Parse(std::string(header) + "\n    " + std::string(row) + "\n");
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  return doc ? doc->tables.at(0).rows.at(0) : std::vector<std::string>{};
}

TEST(SdnValues, QuotedTextIsTheInsideWithDoubledQuotesUndoubled) {
  EXPECT_EQ(Cell(R"("a, b")"), "a, b");
  EXPECT_EQ(Cell(R"("")"), "");
  EXPECT_EQ(Cell(R"("say ""hi"", then go")"), "say \"hi\", then go");
  EXPECT_EQ(Cell("\"caf\xC3\xA9 \xE2\x80\x94 ok\""), "caf\xC3\xA9 \xE2\x80\x94 ok");
}

TEST(SdnValues, BackslashesAreNotDecoded) {
  EXPECT_EQ(Cell(R"("C:\dir\x")"), R"(C:\dir\x)");
  EXPECT_EQ(Cell(R"("a\nb")"), R"(a\nb)");
  EXPECT_EQ(Row("t |a, b|", R"("say \"hi\", ok", 2)"),
            (std::vector<std::string>{R"(say \"hi\", ok)", "2"}));
}

TEST(SdnValues, NumbersAndKeywordsAreKeptAsWritten) {
  EXPECT_EQ(Cell("85.50"), "85.50");
  EXPECT_EQ(Cell("007"), "007");
  EXPECT_EQ(Cell("1_000"), "1_000");
  EXPECT_EQ(Cell("1e3"), "1e3");
  EXPECT_EQ(Cell("nil"), "nil");
  EXPECT_EQ(Cell("null"), "null");
  EXPECT_EQ(Cell("true"), "true");
  EXPECT_EQ(Cell("./src/x.rs"), "./src/x.rs");
}

TEST(SdnValues, BareDatesIdsTimestampsAndPathsNextToQuotedCommas) {
  EXPECT_EQ(Row("b |id, date, path, title, at|",
                "2026-08-05_wm_x, 2026-09-06, /home/u/x.spl, \"crash, then hang\", "
                "2026-09-06T10:00:00Z"),
            (std::vector<std::string>{"2026-08-05_wm_x", "2026-09-06", "/home/u/x.spl",
                                      "crash, then hang", "2026-09-06T10:00:00Z"}));
}

TEST(SdnValues, UnquotedTextMayHoldSpacesAndQuotes) {
  EXPECT_EQ(Row("t |a, b, c|", "Cranelift Backend, 5\" screen, say \"hi\" twice"),
            (std::vector<std::string>{"Cranelift Backend", "5\" screen", "say \"hi\" twice"}));
}

TEST(SdnValues, DictAndArrayCellsAreTheirText) {
  EXPECT_EQ(Row("t |a, b, c|", "[x, y], {k: v, n: 2}, z"),
            (std::vector<std::string>{"[x, y]", "{k: v, n: 2}", "z"}));
}

TEST(SdnValues, EmptySlotsAreEmpty) {
  EXPECT_EQ(Row("t |a, b, c|", ", , x"), (std::vector<std::string>{"", "", "x"}));
}

TEST(SdnValues, TheKeyIsIdElseTheFirstColumnAndTheLastRepeatWins) {
  auto doc = Parse("t |name, id|\n    a, 1\n    b, 1\nc |key, value|\n    k, v\n");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->tables[0].KeyIndex(), 1u);
  EXPECT_EQ(doc->tables[0].FindRow("1"), 1);
  EXPECT_EQ(doc->tables[1].KeyIndex(), 0u);
  EXPECT_EQ(doc->tables[1].FindRow("k"), 0);
  EXPECT_EQ(doc->tables[1].FindRow("v"), -1);
}

}  // namespace
}  // namespace txdir::sdn
