// The canonical writer: exact output, quoting rules and Validate.
#include <gtest/gtest.h>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

TEST(SdnWrite, ABuiltDocumentsLayout) {
  Document doc;
  doc.tables.push_back(Table{"strings", {"id", "value"}, {}});
  doc.tables.push_back(
      Table{"todos", {"id", "file", "note", "issue"}, {{"0", "src/a.rs", "two words", ""}}});
  EXPECT_EQ(Write(doc),
            "strings |id, value|\n"
            "\n"
            "todos |id, file, note, issue|\n"
            "    0, src/a.rs, two words, \"\"\n");
}

TEST(SdnWrite, QuotesOnlyWhatWouldNotReadBack) {
  EXPECT_EQ(EncodeCell("open"), "open");
  EXPECT_EQ(EncodeCell("two words"), "two words");
  EXPECT_EQ(EncodeCell("12"), "12");  // number text is kept as written
  EXPECT_EQ(EncodeCell("nil"), "nil");
  EXPECT_EQ(EncodeCell("./x"), "./x");
  EXPECT_EQ(EncodeCell("a#b"), "a#b");
  EXPECT_EQ(EncodeCell("C:\\dir"), "C:\\dir");  // backslashes are not escapes
  EXPECT_EQ(EncodeCell(""), "\"\"");
  EXPECT_EQ(EncodeCell("a, b"), "\"a, b\"");
  EXPECT_EQ(EncodeCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(EncodeCell(" padded"), "\" padded\"");
  EXPECT_EQ(EncodeCell("#x"), "\"#x\"");
  EXPECT_EQ(EncodeCell("[a, b]"), "[a, b]");  // read back whole, as an array cell
  EXPECT_EQ(EncodeCell("[a, b"), "\"[a, b\"");
  EXPECT_EQ(EncodeCell("two\nlines"), "\"two\nlines\"");
}

TEST(SdnWrite, ValidateCatchesWhatWriteCannotExpress) {
  Document doc;
  doc.tables.push_back(Table{"t", {"a", "b"}, {{"1", "2"}}});
  EXPECT_TRUE(Validate(doc).has_value());

  Document bad = doc;
  bad.tables[0].rows[0].pop_back();
  EXPECT_EQ(Validate(bad).error().message, "table 't': row 0 has 1 cells, expected 2");
  bad = doc;
  bad.tables[0].columns = {"a", "a"};
  EXPECT_FALSE(Validate(bad).has_value());
  bad = doc;
  bad.tables[0].name = "two words";
  EXPECT_FALSE(Validate(bad).has_value());
  bad = doc;
  bad.tables[0].name = "\xEF\xBB\xBFt";  // would be read back as "t"
  EXPECT_FALSE(Validate(bad).has_value());
  bad = doc;
  bad.tables[0].columns.clear();
  bad.tables[0].rows.clear();
  EXPECT_FALSE(Validate(bad).has_value());
}

TEST(SdnWrite, EmptyDocumentIsEmptyText) {
  EXPECT_EQ(Write(Document{}), "");
  EXPECT_TRUE(Parse("")->tables.empty());
}

}  // namespace
}  // namespace txdir::sdn
