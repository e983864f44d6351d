// Template definitions for database.h. Include database.h, not this file.
#pragma once

#include <algorithm>

#include "txdir/database.h"

namespace txdir {

template <Record T>
bool Database<T>::IsKnown(std::string_view column) {
  if (column == kVersionColumn || column == kLastModifiedColumn) return true;
  for (const Field<T>& f : Traits::Fields())
    if (f.name == column) return true;
  return false;
}

template <Record T>
Result<Database<T>> Database<T>::Load(std::string_view bytes, Options options) {
  sdn::Document doc = TXDIR_TRY(sdn::Parse(bytes));
  return FromDocument(std::move(doc), std::move(options));
}

// doc is moved into db.doc_: clang-tidy 14 does not see a move into a member
// of a dependent type and takes it for a copy.
template <Record T>
// NOLINTNEXTLINE(performance-unnecessary-value-param)
Result<Database<T>> Database<T>::FromDocument(sdn::Document doc, Options options) {
  Database db(std::move(options));
  db.doc_ = std::move(doc);
  auto& tables = db.doc_.tables;
  auto it = std::find_if(tables.begin(), tables.end(),
                         [](const sdn::Table& t) { return t.name == Traits::kTable; });
  db.table_index_ = static_cast<size_t>(it - tables.begin());
  if (it == tables.end()) return db;
  if (it->ColumnIndex("id") < 0) {
    return MakeError(Code::kInvalidArgument,
                     "table '" + it->name + "' has no 'id' column, so its records have no key");
  }
  for (const auto& cells : it->rows) TXDIR_CHECK(db.AddLoadedRow(*it, cells));
  it->rows.clear();  // the records live in entries_ now
  return db;
}

template <Record T>
Status Database<T>::AddLoadedRow(const sdn::Table& table, const std::vector<std::string>& cells) {
  Row row;
  for (size_t i = 0; i < table.columns.size() && i < cells.size(); ++i)
    row[table.columns[i]] = cells[i];
  Entry entry;
  const std::string& id = row["id"];
  auto context = [&] { return "table '" + table.name + "', record '" + id + "': "; };
  if (Status s = RecordFromRow(row, entry.record); !s)
    return MakeError(Code::kInvalidArgument, context() + s.error().message);
  if (auto v = row.find(kVersionColumn); v != row.end()) {
    if (Status s = ParseIntCell(v->second, entry.record.version); !s)
      return MakeError(Code::kInvalidArgument, context() + "version: " + s.error().message);
  }
  if (auto lm = row.find(kLastModifiedColumn); lm != row.end())
    entry.record.last_modified = lm->second;
  for (auto& [column, value] : row)
    if (!IsKnown(column)) entry.extras[column] = value;
  entry.loaded = entry.record;
  index_[id] = entries_.size();  // a repeated id: the last one wins, as in Simple's library
  entry.cells = std::move(row);
  entries_.push_back(std::move(entry));
  return Ok();
}

template <Record T>
std::vector<std::string> Database<T>::OutputColumns() const {
  std::vector<std::string> columns;
  bool absent = table_index_ >= doc_.tables.size();
  if (!absent) columns = doc_.tables[table_index_].columns;
  auto has = [&](std::string_view c) {
    return std::find(columns.begin(), columns.end(), c) != columns.end();
  };
  const Row defaults = RecordToRow(T{});
  for (const Field<T>& f : Traits::Fields()) {
    if (has(f.name)) continue;
    // A field the file lacks is added only when leaving it out would lose a
    // value, so that loading and saving an old file keeps its schema.
    bool needed =
        absent || std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
          return RecordToRow(e.record).at(std::string(f.name)) != defaults.at(std::string(f.name));
        });
    if (needed) columns.emplace_back(f.name);
  }
  if (options_.versioning) {
    if (!has(kVersionColumn)) columns.emplace_back(kVersionColumn);
    if (!has(kLastModifiedColumn)) columns.emplace_back(kLastModifiedColumn);
  }
  return columns;
}

// A record's values with its bookkeeping columns (used by Database<T> only).
template <Record T>
Row RecordCells(const T& record) {
  Row row = RecordToRow(record);
  row[std::string(kVersionColumn)] = std::to_string(record.version);
  row[std::string(kLastModifiedColumn)] = record.last_modified;
  return row;
}

template <Record T>
std::vector<std::string> Database<T>::OutputCells(const Entry& e,
                                                  const std::vector<std::string>& columns,
                                                  const std::vector<bool>& known) const {
  std::vector<std::string> cells;
  cells.reserve(columns.size());
  // A record as loaded is written back with the file's cell texts; without
  // building its values, which for a table of many records where one
  // changed is most of the cost of a save. A column the loaded row lacks
  // (added for another record) needs the value: the general path below.
  if (e.loaded && *e.loaded == e.record) {
    bool complete = true;
    for (size_t i = 0; i < columns.size() && complete; ++i) {
      if (!known[i]) {
        auto extra = e.extras.find(columns[i]);
        cells.push_back(extra != e.extras.end() ? extra->second : std::string());
      } else if (auto cell = e.cells.find(columns[i]); cell != e.cells.end()) {
        cells.push_back(cell->second);
      } else {
        complete = false;
      }
    }
    if (complete) return cells;
    cells.clear();
  }
  const Row now = RecordCells(e.record);
  const Row before = e.loaded ? RecordCells(*e.loaded) : Row();
  for (const std::string& column : columns) {
    auto known = now.find(column);
    auto old_cell = e.cells.find(column);
    if (known != now.end()) {
      // Unchanged since loading: the file's text ("" for an empty integer
      // cell, not "0"), so an untouched record is written back as it was.
      auto old_value = before.find(column);
      bool unchanged = old_value != before.end() && old_value->second == known->second;
      cells.push_back(unchanged && old_cell != e.cells.end() ? old_cell->second : known->second);
      continue;
    }
    auto extra = e.extras.find(column);
    cells.push_back(extra != e.extras.end() ? extra->second : std::string());
  }
  return cells;
}

template <Record T>
sdn::Document Database<T>::ToDocument() const {
  sdn::Document doc = doc_;
  sdn::Table table;
  table.name = std::string(Traits::kTable);
  table.columns = OutputColumns();
  std::vector<bool> known;
  known.reserve(table.columns.size());
  for (const std::string& c : table.columns) known.push_back(IsKnown(c));
  table.rows.reserve(entries_.size());
  for (const Entry& e : entries_) table.rows.push_back(OutputCells(e, table.columns, known));
  if (table_index_ < doc.tables.size()) {
    doc.tables[table_index_] = std::move(table);
  } else {
    doc.tables.push_back(std::move(table));
  }
  return doc;
}

template <Record T>
Result<std::string> Database<T>::Save() const {
  sdn::Document doc = ToDocument();
  if (Status s = sdn::Validate(doc); !s)
    return MakeError(Code::kInternal, "database produced an invalid table: " + s.error().message);
  return sdn::Write(doc);
}

template <Record T>
Result<T> Database<T>::Get(std::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end())
    return MakeError(Code::kNotFound, "no record with id '" + std::string(id) + "'");
  return entries_[it->second].record;
}

template <Record T>
Result<std::string> Database<T>::Insert(T record) {
  if (record.id.empty()) record.id = NextId();
  if (Contains(record.id))
    return MakeError(Code::kExists, "a record with id '" + record.id + "' already exists");
  if (options_.versioning) {
    record.version = 1;
    record.last_modified = Now();
  }
  index_.emplace(record.id, entries_.size());
  entries_.push_back(Entry{record, {}, std::nullopt, {}});
  return record.id;
}

template <Record T>
Status Database<T>::Update(const T& record) {
  auto it = index_.find(record.id);
  if (it == index_.end())
    return MakeError(Code::kNotFound, "no record with id '" + record.id + "'");
  T& stored = entries_[it->second].record;
  if (!options_.versioning) {
    stored = record;
    return Ok();
  }
  if (RecordToRow(stored) == RecordToRow(record)) return Ok();  // nothing changed
  int64_t version = stored.version + 1;
  stored = record;
  stored.version = version;
  stored.last_modified = Now();
  return Ok();
}

template <Record T>
Status Database<T>::Delete(std::string_view id) {
  auto it = index_.find(id);
  if (it == index_.end())
    return MakeError(Code::kNotFound, "no record with id '" + std::string(id) + "'");
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  Reindex();
  return Ok();
}

template <Record T>
void Database<T>::Reindex() {
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].record.id] = i;  // last wins
}

template <Record T>
std::vector<T> Database<T>::All() const {
  std::vector<T> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.record);
  return out;
}

template <Record T>
std::string Database<T>::NextId() const {
  std::vector<std::string> ids;
  ids.reserve(entries_.size());
  for (const Entry& e : entries_) ids.push_back(e.record.id);
  return NextNumericId(ids);
}

}  // namespace txdir
