// Real files of the Simple tooling (../shared/fixtures/simple-sdn): every one
// loads, and load-save-load gives the same tables and records.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "txdir/database.h"
#include "txdir/sdn.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(TXDIR_SHARED_DIR) / "fixtures" / "simple-sdn";

#define SKIP_WITHOUT_FIXTURES()                         \
  if (!fs::is_directory(kFixtures))                     \
  GTEST_SKIP() << "fixtures not found at " << kFixtures \
               << " (they live beside the repository in ../shared, never inside it)"

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

template <class T>
Database<T> LoadFixture(const std::string& relative) {
  auto db = Database<T>::Load(ReadFile(kFixtures / relative));
  EXPECT_TRUE(db.has_value()) << relative << ": " << (db ? "" : db.error().message);
  return db ? std::move(*db) : *Database<T>::Load("");
}

// Load, save, load: same records, and the second save is byte-identical.
template <class T>
void ExpectStableRoundTrip(const Database<T>& db) {
  std::string saved = *db.Save();
  auto again = Database<T>::Load(saved);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->All(), db.All());
  EXPECT_EQ(*again->Save(), saved);
}

TEST(Fixtures, EveryFileParsesAndRoundTrips) {
  SKIP_WITHOUT_FIXTURES();
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kFixtures)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sdn") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    auto doc = sdn::Parse(ReadFile(entry.path()));
    ASSERT_TRUE(doc.has_value()) << doc.error().message;
    EXPECT_FALSE(doc->tables.empty());
    auto again = sdn::Parse(sdn::Write(*doc));
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(*again, *doc);
  }
  EXPECT_GE(files, 9);
}

TEST(Fixtures, TodoDbWithDuplicateLookingRows) {
  SKIP_WITHOUT_FIXTURES();
  auto db = LoadFixture<Todo>("todo/todo_db.sdn");
  ASSERT_EQ(db.size(), 63u);
  // Rows 0 and 3 say the same thing; they are distinct records by id.
  Todo a = *db.Get("0"), b = *db.Get("3");
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.line, 492);
  EXPECT_NE(a.id, b.id);
  // `./tests/...` was written bare; the reference lexer drops the "./".
  EXPECT_EQ(db.Get("60")->file, "./tests/app/ui.web/live_smoke_test.spl");
  EXPECT_EQ(db.NextId(), "63");
  ExpectStableRoundTrip(db);
}

TEST(Fixtures, FeatureDbWithEmptyStringsTable) {
  SKIP_WITHOUT_FIXTURES();
  auto db = LoadFixture<Feature>("feature/feature_db.sdn");
  EXPECT_EQ(db.size(), 0u);
  std::string saved = *db.Save();
  auto doc = sdn::Parse(saved);
  ASSERT_TRUE(doc.has_value());
  ASSERT_EQ(doc->tables.size(), 2u);
  EXPECT_EQ(doc->tables[0].name, "strings");  // kept, in its place
  EXPECT_EQ(doc->tables[1].name, "features");
  EXPECT_EQ(doc->tables[1].columns.size(), 12u);
  ExpectStableRoundTrip(db);
}

TEST(Fixtures, CompactTaskDb) {
  SKIP_WITHOUT_FIXTURES();
  auto db = LoadFixture<Task>("task/task_db.sdn");
  ASSERT_EQ(db.size(), 1u);
  Task t = *db.Get("TRACK-001");
  EXPECT_EQ(t.name, "Refactor core tracking");
  EXPECT_EQ(t.description,
            "Normalize bug, feature, test, task, and todo tracking around SDN/text databases");
  EXPECT_EQ(t.priority, "high");
  EXPECT_TRUE(t.valid);
  ExpectStableRoundTrip(db);
}

TEST(Fixtures, DashboardTodosWithCommasInsideQuotes) {
  SKIP_WITHOUT_FIXTURES();
  auto db = LoadFixture<Todo>("dashboard/tables/todos.sdn");
  ASSERT_EQ(db.size(), 269u);
  EXPECT_EQ(db.Get("0")->description,
            "When SMF loader is available in Simple, load and execute directly");
  EXPECT_EQ(db.Get("13")->description,
            "Implement memory_bytes, cpu_seconds, max_fds, max_procs limits");
  // The dashboard's own columns survive a save, with their values.
  std::string saved = *db.Save();
  auto doc = sdn::Parse(saved);
  ASSERT_TRUE(doc.has_value());
  const sdn::Table& table = doc->tables.at(0);
  EXPECT_EQ(table.columns,
            (std::vector<std::string>{"id", "keyword", "area", "priority", "description", "file",
                                      "line", "issue", "blocked", "status", "age_days", "assigned",
                                      "last_updated"}));
  EXPECT_EQ(table.rows.at(0).at(12), "2026-02-10");
  ExpectStableRoundTrip(db);
}

}  // namespace
}  // namespace txdir
