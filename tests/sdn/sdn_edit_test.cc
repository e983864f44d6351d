// The edit guarantee, on every real file of the Simple tooling
// (../shared/fixtures/simple-sdn, skipped when absent) and on one small file
// per construct (tests/sdn/fixtures): an untouched document writes back byte
// for byte, and an edit changes only the edited records' lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "sdn_test_util.h"
#include "txdir/record_merge.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

namespace fs = std::filesystem;
using testutil::ChangedLines;
using testutil::FilesUnder;
using testutil::Lines;
using testutil::ReadAll;
using testutil::ZlibSealOf;

const fs::path kShared = fs::path(TXDIR_SHARED_DIR) / "fixtures" / "simple-sdn";
const fs::path kOwn = fs::path(TXDIR_SDN_FIXTURES);

// A table to edit: one with a row and a column besides its key.
struct Target {
  size_t table = 0;
  size_t row = 0;
  size_t column = 0;
};
std::optional<Target> EditTarget(const Document& doc) {
  for (size_t t = 0; t < doc.tables.size(); ++t) {
    const Table& table = doc.tables[t];
    if (table.rows.empty() || table.columns.size() < 2) continue;
    size_t column = table.KeyIndex() == table.columns.size() - 1 ? 0 : table.columns.size() - 1;
    return Target{t, table.rows.size() / 2, column};
  }
  return std::nullopt;
}

// The table of a merge test: two records or more with unique keys, and a
// column besides the key.
std::optional<size_t> MergeTable(const Document& doc) {
  for (size_t t = 0; t < doc.tables.size(); ++t) {
    const Table& table = doc.tables[t];
    if (table.rows.size() < 2 || table.columns.size() < 2) continue;
    std::set<std::string> keys;
    for (const auto& r : table.rows) keys.insert(r[table.KeyIndex()]);
    if (keys.size() == table.rows.size()) return t;
  }
  return std::nullopt;
}

class SdnFile : public testing::TestWithParam<fs::path> {
 protected:
  void SetUp() override {
    text_ = ReadAll(GetParam());
    auto doc = Parse(text_);
    ASSERT_TRUE(doc.has_value()) << GetParam() << ": " << doc.error().message;
    doc_ = std::move(*doc);
  }
  std::string text_;
  Document doc_;
};

// Each suite runs on the files that have what its tests edit, chosen when
// the suites are instantiated (below), so that no test skips for the shape
// of a file.
class SdnEdit : public SdnFile {};        // every file
class SdnFieldEdit : public SdnFile {};   // a record with a field besides its key
class SdnSealedEdit : public SdnFile {};  // the same, in a sealed file
class SdnMergeEdit : public SdnFile {};   // a MergeTable

TEST_P(SdnEdit, ParseThenWriteIsByteIdentical) { EXPECT_EQ(Write(doc_), text_); }

TEST_P(SdnFieldEdit, SetAFieldThenSetItBackIsByteIdentical) {
  auto target = EditTarget(doc_);
  ASSERT_TRUE(target);
  std::string& cell = doc_.tables[target->table].rows[target->row][target->column];
  const std::string original = cell;
  cell = "edited, with \"quotes\"";
  auto edited = Parse(Write(doc_));
  ASSERT_TRUE(edited.has_value()) << edited.error().message;
  EXPECT_EQ(edited->tables[target->table].rows[target->row][target->column], cell);
  edited->tables[target->table].rows[target->row][target->column] = original;
  EXPECT_EQ(Write(*edited), text_);
}

TEST_P(SdnFieldEdit, SettingOneFieldChangesOnlyThatRecordsLine) {
  auto target = EditTarget(doc_);
  ASSERT_TRUE(target);
  auto& row = doc_.tables[target->table].rows[target->row];
  row[target->column] = "done";
  std::string out = Write(doc_);
  auto [removed, added] = ChangedLines(IsSealed(text_) ? text_.substr(text_.find('\n')) : text_,
                                       IsSealed(out) ? out.substr(out.find('\n')) : out);
  ASSERT_EQ(removed.size(), 1u);
  ASSERT_EQ(added.size(), 1u);
  const std::string& key = row[doc_.tables[target->table].KeyIndex()];
  EXPECT_NE(removed[0].find(key), std::string::npos) << removed[0];
  EXPECT_NE(added[0].find("done"), std::string::npos) << added[0];
}

TEST_P(SdnEdit, InsertThenDeleteIsByteIdentical) {
  for (size_t t = 0; t < doc_.tables.size(); ++t) {
    Table& table = doc_.tables[t];
    std::vector<std::string> row(table.columns.size(), "new value");
    row[table.KeyIndex()] = "zz_new_key";
    table.rows.push_back(row);
    auto inserted = Parse(Write(doc_));
    ASSERT_TRUE(inserted.has_value()) << inserted.error().message;
    EXPECT_EQ(inserted->tables[t].rows.back(), row);
    Table& back = inserted->tables[t];
    back.rows.erase(back.rows.begin() + back.FindRow("zz_new_key"));
    EXPECT_EQ(Write(*inserted), text_) << "table " << table.name;
    table.rows.pop_back();
  }
}

TEST_P(SdnSealedEdit, AnEditRecomputesTheSealAsZlibDoes) {
  ASSERT_TRUE(IsSealed(text_));
  EXPECT_TRUE(VerifySeal(text_).has_value());
  auto target = EditTarget(doc_);
  ASSERT_TRUE(target.has_value());
  doc_.tables[target->table].rows[target->row][target->column] = "resealed";
  std::string out = Write(doc_);
  EXPECT_EQ(out.substr(0, out.find('\n')), ZlibSealOf(out));
  EXPECT_TRUE(VerifySeal(out).has_value());
}

TEST_P(SdnMergeEdit, AConcurrentMergeChangesOnlyTheTwoRecordsLines) {
  const std::optional<size_t> merge_table = MergeTable(doc_);
  ASSERT_TRUE(merge_table);
  const size_t t = *merge_table;
  const Table& table = doc_.tables[t];
  const size_t key = table.KeyIndex();
  const size_t column = key == 0 ? 1 : 0;
  Document ours = doc_, theirs = doc_;
  ours.tables[t].rows.front()[column] = "ours";
  theirs.tables[t].rows.back()[column] = "theirs";
  auto ours_parsed = Parse(Write(ours));
  auto theirs_parsed = Parse(Write(theirs));
  ASSERT_TRUE(ours_parsed && theirs_parsed);
  auto merged = MergeDocument(doc_, *ours_parsed, *theirs_parsed);
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  ASSERT_TRUE(merged->conflicts.empty());
  std::string out = Write(merged->document);
  auto lines_before = Lines(text_), lines_after = Lines(out);
  ASSERT_EQ(lines_before.size(), lines_after.size());
  size_t differing = 0;
  for (size_t i = IsSealed(text_) ? 1 : 0; i < lines_before.size(); ++i)
    differing += lines_before[i] != lines_after[i];
  EXPECT_EQ(differing, table.rows.size() == 1 ? 1u : 2u);
  EXPECT_NE(out.find("ours"), std::string::npos);
  EXPECT_NE(out.find("theirs"), std::string::npos);
}

std::vector<fs::path> AllFixtures() {
  std::vector<fs::path> all = FilesUnder(kOwn);
  for (const auto& p : FilesUnder(kShared)) all.push_back(p);
  return all;
}

std::string FixtureName(const testing::TestParamInfo<fs::path>& info) {
  std::string name = (info.param.parent_path().filename() / info.param.stem()).string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name + "_" + std::to_string(info.index);
}

// The fixtures whose parsed document satisfies `has`.
template <typename Has>
std::vector<fs::path> FixturesWith(Has has) {
  std::vector<fs::path> out;
  for (const auto& p : AllFixtures()) {
    const std::string text = ReadAll(p);
    auto doc = Parse(text);
    if (doc && has(*doc, text)) out.push_back(p);
  }
  return out;
}
std::vector<fs::path> FieldEditFixtures() {
  return FixturesWith(
      [](const Document& d, const std::string&) { return EditTarget(d).has_value(); });
}
std::vector<fs::path> SealedEditFixtures() {
  return FixturesWith([](const Document& d, const std::string& text) {
    return IsSealed(text) && EditTarget(d).has_value();
  });
}
std::vector<fs::path> MergeEditFixtures() {
  return FixturesWith(
      [](const Document& d, const std::string&) { return MergeTable(d).has_value(); });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SdnEdit, testing::ValuesIn(AllFixtures()), FixtureName);
INSTANTIATE_TEST_SUITE_P(Fixtures, SdnFieldEdit, testing::ValuesIn(FieldEditFixtures()),
                         FixtureName);
INSTANTIATE_TEST_SUITE_P(Fixtures, SdnSealedEdit, testing::ValuesIn(SealedEditFixtures()),
                         FixtureName);
INSTANTIATE_TEST_SUITE_P(Fixtures, SdnMergeEdit, testing::ValuesIn(MergeEditFixtures()),
                         FixtureName);

// The shapes the suites above need are all among our own fixtures, so no
// suite can lose its files unnoticed (the shared ones add the real files).
TEST(SdnEditFixtures, EveryEditedShapeHasOwnFixtures) {
  auto own = [](const std::vector<fs::path>& v) {
    return std::count_if(v.begin(), v.end(),
                         [](const fs::path& p) { return p.string().rfind(kOwn.string(), 0) == 0; });
  };
  EXPECT_GT(own(AllFixtures()), 0);
  EXPECT_GT(own(FieldEditFixtures()), 0);
  EXPECT_GT(own(SealedEditFixtures()), 0);
  EXPECT_GT(own(MergeEditFixtures()), 0);
}

// When ../shared is absent the list above has only our own files; say so.
TEST(SdnEditShared, SharedFixturesArePresent) {
  if (!fs::is_directory(kShared))
    GTEST_SKIP() << "fixtures not found at " << kShared
                 << " (they live beside the repository in ../shared, never inside it)";
  EXPECT_FALSE(FilesUnder(kShared).empty());
}

}  // namespace
}  // namespace txdir::sdn
