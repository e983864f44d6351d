// Property: Database<Todo> loads any todos table as sdn::Parse + RecordFromRow
// read it, and a save after random updates, inserts and deletes rewrites
// only what changed: an untouched record's line stays byte for byte, and in
// an updated record every cell whose field was not changed keeps its text.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "txdir/database.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

// Cell texts that load: spellings other programs use ("007", "" for an
// integer), and text that needs quoting.
std::string CellFor(const std::string& column, int pick) {
  if (column == "line" || column == "version") {
    static const char* const kInts[] = {"", "0", "7", "007", "-3", "42"};
    return kInts[pick % 6];
  }
  if (column == "valid") {
    static const char* const kBools[] = {"", "true", "false"};
    return kBools[pick % 3];
  }
  static const char* const kTexts[] = {"", "open", "a, b", "say \"hi\"", "P1", "x y", "#12"};
  return kTexts[pick % 7];
}

// The reference reading of one row: sdn::Parse's cells through the public
// RecordFromRow, as Database<T> read rows before it worked by column index.
Todo ReferenceRecord(const sdn::Table& t, const std::vector<std::string>& cells) {
  Row row;
  for (size_t i = 0; i < t.columns.size(); ++i) row[t.columns[i]] = cells[i];
  Todo todo;
  RC_ASSERT(RecordFromRow(row, todo).has_value());
  if (auto v = row.find(kVersionColumn); v != row.end())
    RC_ASSERT(ParseIntCell(v->second, todo.version).has_value());
  if (auto m = row.find(kLastModifiedColumn); m != row.end()) todo.last_modified = m->second;
  return todo;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

RC_GTEST_PROP(DatabaseProperty, ASaveRewritesOnlyWhatChanged, ()) {
  // The file's columns: id, a random subset of Todo's other fields, maybe
  // version, maybe columns Todo does not know; in a random order after id.
  std::vector<std::string> columns;
  for (const char* f : {"keyword", "area", "priority", "description", "file", "line", "issue",
                        "blocked", "status", "valid", "version", "x_note", "x_owner"})
    if (*rc::gen::arbitrary<bool>()) columns.emplace_back(f);
  if (!columns.empty()) {
    const auto turn = *rc::gen::inRange<size_t>(0, columns.size());
    std::rotate(columns.begin(), columns.begin() + static_cast<long>(turn), columns.end());
  }
  columns.insert(columns.begin(), "id");

  sdn::Document doc;
  doc.tables.push_back(sdn::Table{"todos", columns, {}});
  const size_t n = *rc::gen::inRange<size_t>(0, 12);
  for (size_t r = 0; r < n; ++r) {
    std::vector<std::string> row{std::to_string(r * 3)};
    for (size_t c = 1; c < columns.size(); ++c)
      row.push_back(CellFor(columns[c], *rc::gen::inRange(0, 42)));
    doc.tables[0].rows.push_back(row);
  }
  if (*rc::gen::arbitrary<bool>()) doc.tables.push_back(sdn::Table{"other", {"k"}, {{"v"}}});
  const std::string original = sdn::Write(doc);
  const sdn::Document parsed = *sdn::Parse(original);
  const sdn::Table& table = parsed.tables[0];

  auto db = Database<Todo>::Load(original);
  RC_ASSERT(db.has_value());
  // Loading reads what the reference reading reads, in file order.
  std::vector<Todo> expected;
  for (const auto& cells : table.rows) expected.push_back(ReferenceRecord(table, cells));
  RC_ASSERT(db->All() == expected);

  // Random edits, applied to the expected records too.
  std::set<std::string> touched;                        // updated, inserted or deleted
  std::set<std::string> deleted;                        // ids an insert may give out again
  std::map<std::string, std::set<std::string>> fields;  // id -> fields an update changed
  const size_t edits = *rc::gen::inRange<size_t>(0, 6);
  for (size_t e = 0; e < edits; ++e) {
    const int kind = *rc::gen::inRange(0, 3);
    if (kind == 0 && !expected.empty()) {  // update one or two fields
      const size_t i = *rc::gen::inRange<size_t>(0, expected.size());
      Todo t = expected[i];
      if (*rc::gen::arbitrary<bool>()) {
        t.status = "edited " + std::to_string(e);
        fields[t.id].insert("status");
      } else {
        t.line += 1;
        fields[t.id].insert("line");
      }
      RC_ASSERT(db->Update(t).has_value());
      expected[i] = t;
      touched.insert(t.id);
    } else if (kind == 1) {  // insert
      Todo t;
      t.description = "new, " + std::to_string(e);
      auto id = db->Insert(t);
      RC_ASSERT(id.has_value());
      t.id = *id;
      expected.push_back(t);
      touched.insert(t.id);
    } else if (kind == 2 && !expected.empty()) {  // delete
      const size_t i = *rc::gen::inRange<size_t>(0, expected.size());
      RC_ASSERT(db->Delete(expected[i].id).has_value());
      touched.insert(expected[i].id);
      deleted.insert(expected[i].id);
      expected.erase(expected.begin() + static_cast<long>(i));
    }
  }
  auto saved = db->Save();
  RC_ASSERT(saved.has_value());

  // The saved file loads to the expected records.
  auto again = Database<Todo>::Load(*saved);
  RC_ASSERT(again.has_value());
  RC_ASSERT(again->All() == expected);

  RC_LOG() << "original:\n" << original << "saved:\n" << *saved;
  const sdn::Document out = *sdn::Parse(*saved);
  const sdn::Table* saved_table = out.Find("todos");
  RC_ASSERT(saved_table != nullptr);

  // Every untouched record keeps each cell's text; while no column was added,
  // its whole line stays byte for byte, in the same order.
  const std::vector<std::string> before = Lines(original), after = Lines(*saved);
  auto at = after.begin();
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const std::string& id = table.rows[r][0];
    if (touched.count(id)) continue;
    const int to = saved_table->FindRow(id);
    RC_ASSERT(to >= 0);
    for (size_t c = 0; c < table.columns.size(); ++c)
      RC_ASSERT(saved_table->rows[static_cast<size_t>(to)][static_cast<size_t>(
                    saved_table->ColumnIndex(table.columns[c]))] == table.rows[r][c]);
    if (saved_table->columns != table.columns) continue;
    at = std::find(at, after.end(), before[r + 1]);  // line 0: the header
    RC_ASSERT(at != after.end());
  }

  // In an updated record, a cell whose field the update did not change keeps
  // its text (an "007" stays "007"); columns Todo does not know keep theirs.
  for (const auto& [id, changed] : fields) {
    if (deleted.count(id)) continue;  // the id may name an inserted record now
    const int from = table.FindRow(id), to = saved_table->FindRow(id);
    if (from < 0) continue;  // inserted in this run
    RC_ASSERT(to >= 0);
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (changed.count(table.columns[c])) continue;
      const int c2 = saved_table->ColumnIndex(table.columns[c]);
      RC_ASSERT(c2 >= 0);
      RC_ASSERT(saved_table->rows[static_cast<size_t>(to)][static_cast<size_t>(c2)] ==
                table.rows[static_cast<size_t>(from)][c]);
    }
  }
}

}  // namespace
}  // namespace txdir
