// ScanRows reads what Parse reads: the same tables, the same rows in the
// same order with the same values, and the same errors, on the grammar's
// corner cases, the project's fixtures and the Simple tooling's real files.
// FindRecord, built on it, answers as Parse + Document::Find +
// Table::FindRow.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Scans `text` and checks the result against Parse's; true when it parsed.
bool ExpectScanMatchesParse(std::string_view text) {
  auto parsed = Parse(text);
  std::vector<Table> seen;  // the scanned tables, rows filled from the visitor
  auto scanned = ScanRows(text, [&](size_t ti, const Table& t, const RowCells& row) {
    while (seen.size() <= ti) seen.emplace_back();
    seen[ti].name = t.name;
    seen[ti].columns = t.columns;
    EXPECT_EQ(row.size(), t.columns.size());
    std::vector<std::string> values;
    for (size_t c = 0; c < row.size(); ++c) {
      values.push_back(row.Value(c));
      // Is compares without building the value: it agrees with Value.
      EXPECT_TRUE(row.Is(c, values.back())) << values.back();
      EXPECT_FALSE(row.Is(c, values.back() + "\"")) << values.back();
      if (!values.back().empty()) EXPECT_FALSE(row.Is(c, values.back().substr(1))) << values.back();
    }
    seen[ti].rows.push_back(std::move(values));
  });
  EXPECT_EQ(scanned.has_value(), parsed.has_value())
      << (parsed ? scanned.error().message : parsed.error().message);
  if (scanned.has_value() != parsed.has_value()) return parsed.has_value();
  if (!parsed) {
    EXPECT_EQ(scanned.error().message, parsed.error().message);
    EXPECT_EQ(scanned.error().code, Code::kInvalidArgument);
    return false;
  }
  EXPECT_EQ(scanned->source, nullptr);
  EXPECT_EQ(scanned->tables.size(), parsed->tables.size());
  if (scanned->tables.size() != parsed->tables.size()) return true;
  seen.resize(parsed->tables.size());
  for (size_t t = 0; t < parsed->tables.size(); ++t) {
    SCOPED_TRACE(parsed->tables[t].name);
    EXPECT_EQ(scanned->tables[t].name, parsed->tables[t].name);
    EXPECT_EQ(scanned->tables[t].columns, parsed->tables[t].columns);
    EXPECT_TRUE(scanned->tables[t].rows.empty());
    EXPECT_EQ(seen[t].rows, parsed->tables[t].rows);
  }
  return true;
}

TEST(SdnScan, HandsEveryRowToTheVisitorInFileOrderWithItsTableIndex) {
  std::vector<std::pair<size_t, std::string>> got;
  auto doc = ScanRows("a |id, v|\n    1, x\n    2, \"y, z\"\nb |k|\n    7\na |id, v|\n    3, w\n",
                      [&](size_t ti, const Table& t, const RowCells& row) {
                        got.emplace_back(
                            ti, t.name + ":" + row.Value(0) + "=" + row.Value(row.size() - 1));
                      });
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(got, (std::vector<std::pair<size_t, std::string>>{
                     {0, "a:1=x"}, {0, "a:2=y, z"}, {1, "b:7=7"}, {2, "a:3=w"}}));
  ASSERT_EQ(doc->tables.size(), 3u);
  EXPECT_TRUE(doc->tables[0].rows.empty());
}

TEST(SdnScan, ReadsTheGrammarsCornerCasesAsParseDoes) {
  int refused = 0;
  for (const char* text : {
           "", "# only a comment\n",
           "todos |id, keyword, area|\n    0, TODO, parser\n    1, FIXME, \"two words\"\n",
           "t |a, b|\r\n\t1, \"x\"\"y\"\r\n\t2, \"multi\nline\"\r\n",
           "point |x, y| 10, 20\nnext |k|\n    v\n",
           "pairs: table{i64, text}\n    1, one\n    2, two\n",
           "t |a, b|\n1, unindented\n    2, {\"k\": [1, 2]}\n",
           "config:\n    key: value\nt |a|\n    [1, 2, 3]\n", "\xEF\xBB\xBFt |a|\n    bom\n",
           "t |a, b|\n    5\" screen, x\n",
           "t |a, b|\n    1, 2, 3\n",       // too many cells
           "t |a, a|\n",                    // duplicate column
           "cfg {\n  x 1\nt |a|\n    1\n",  // unclosed brace before a table
           "    1, 2\n",                    // a row outside a table
           "pairs: table{i64\n    1\n",     // unclosed types
       }) {
    SCOPED_TRACE(text);
    refused += ExpectScanMatchesParse(text) ? 0 : 1;
  }
  EXPECT_EQ(refused, 5);  // the last five: each error compared with Parse's
}

TEST(SdnScan, ReadsEveryFixtureAsParseDoes) {
  int files = 0;
  for (const fs::path& dir :
       {fs::path(TXDIR_SDN_FIXTURES), fs::path(TXDIR_SHARED_DIR) / "fixtures" / "simple-sdn"}) {
    if (!fs::is_directory(dir)) continue;  // the shared folder lives beside the checkout
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".sdn") continue;
      ++files;
      SCOPED_TRACE(entry.path().string());
      EXPECT_TRUE(ExpectScanMatchesParse(ReadFile(entry.path())));
    }
  }
  EXPECT_GE(files, 20);  // the project's own fixtures alone are 20
}

// What FindRecords must answer: Parse, Find, and FindRow for each key, in
// key order; and FindRecord, for its one key.
Result<std::optional<Table>> ByParse(std::string_view text, std::string_view table,
                                     const std::set<std::string, std::less<>>& keys) {
  auto doc = TXDIR_TRY(Parse(text));
  const Table* t = doc.Find(table);
  if (t == nullptr) return std::optional<Table>();
  Table out{t->name, t->columns, {}};
  for (const std::string& key : keys)
    if (int r = t->FindRow(key); r >= 0) out.rows.push_back(t->rows[static_cast<size_t>(r)]);
  return std::optional<Table>(std::move(out));
}

// The same records, or the same error.
void ExpectSameAnswer(const Result<std::optional<Table>>& got,
                      const Result<std::optional<Table>>& want) {
  ASSERT_EQ(got.has_value(), want.has_value());
  if (!want) {
    EXPECT_EQ(got.error().message, want.error().message);
    return;
  }
  EXPECT_EQ(*got, *want);
}

void ExpectFindRecordMatchesParse(std::string_view text, std::string_view table,
                                  std::string_view key) {
  SCOPED_TRACE(std::string(table) + " / " + std::string(key));
  ExpectSameAnswer(FindRecord(text, table, key), ByParse(text, table, {std::string(key)}));
}

void ExpectFindRecordsMatchesParse(std::string_view text, std::string_view table,
                                   const std::set<std::string, std::less<>>& keys) {
  SCOPED_TRACE(std::string(table) + " / " + std::to_string(keys.size()) + " keys");
  ExpectSameAnswer(FindRecords(text, table, keys), ByParse(text, table, keys));
}

TEST(SdnFindRecord, AnswersAsParseFindAndFindRowOnTheCornerCases) {
  const std::string text =
      "a |k, id, v|\n    x, 1, one\n    y, 2, \"two, quoted\"\n    z, 1, one again\n"
      "nokey |name, v|\n    p, 1\n    q, 2\n"
      "empty |id|\n"
      "a |k, id, v|\n    w, 3, later table\n"
      "empty |id|\n    9\n";
  ExpectFindRecordMatchesParse(text, "a", "1");          // repeated key: the last row
  ExpectFindRecordMatchesParse(text, "a", "2");          // a quoted value
  ExpectFindRecordMatchesParse(text, "a", "3");          // only in the second table "a": not found
  ExpectFindRecordMatchesParse(text, "a", "x");          // `id` is the key, not the first column
  ExpectFindRecordMatchesParse(text, "nokey", "q");      // no `id`: the first column
  ExpectFindRecordMatchesParse(text, "empty", "9");      // the first "empty" has no rows
  ExpectFindRecordMatchesParse(text, "none", "1");       // no such table
  ExpectFindRecordMatchesParse("t |a, a|\n", "t", "1");  // refused, with Parse's error
  // Several keys in one scan: each its last row, in key order; absent ones left out.
  ExpectFindRecordsMatchesParse(text, "a", {"2", "1", "3", "x"});
  ExpectFindRecordsMatchesParse(text, "nokey", {"q", "p"});
  ExpectFindRecordsMatchesParse(text, "a", {});
  ExpectFindRecordsMatchesParse(text, "none", {"1", "2"});
  ExpectFindRecordsMatchesParse("t |a, a|\n", "t", {"1", "2"});

  auto found = FindRecord(text, "a", "1");
  ASSERT_TRUE(found && *found);
  ASSERT_EQ((*found)->rows.size(), 1u);
  EXPECT_EQ((*found)->rows[0], (std::vector<std::string>{"z", "1", "one again"}));
  auto none = FindRecord(text, "none", "1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(FindRecord("t |a, a|\n", "t", "1"));
}

TEST(SdnFindRecord, AnswersAsParseFindAndFindRowOnEveryFixture) {
  int files = 0, lookups = 0;
  for (const fs::path& dir :
       {fs::path(TXDIR_SDN_FIXTURES), fs::path(TXDIR_SHARED_DIR) / "fixtures" / "simple-sdn"}) {
    if (!fs::is_directory(dir)) continue;  // the shared folder lives beside the checkout
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".sdn") continue;
      SCOPED_TRACE(entry.path().string());
      const std::string text = ReadFile(entry.path());
      auto doc = Parse(text);
      if (!doc) continue;  // refused files: the corner cases cover errors
      ++files;
      for (const Table& t : doc->tables) {
        // At most about 20 keys of each table, spread over it, and one absent.
        const size_t step = std::max<size_t>(1, t.rows.size() / 20);
        const size_t k = t.KeyIndex();
        std::set<std::string, std::less<>> keys{"no such key \x01"};
        for (size_t r = 0; r < t.rows.size(); r += step) {
          if (k < t.rows[r].size()) {
            ExpectFindRecordMatchesParse(text, t.name, t.rows[r][k]);
            keys.insert(t.rows[r][k]);
          }
          ++lookups;
        }
        ExpectFindRecordMatchesParse(text, t.name, "no such key \x01");
        ExpectFindRecordsMatchesParse(text, t.name, keys);
      }
    }
  }
  EXPECT_GE(files, 20);
  EXPECT_GE(lookups, 80);
}

}  // namespace
}  // namespace txdir::sdn
