// Template definitions for database.h. Include database.h, not this file.
#pragma once

#include <algorithm>
#include <type_traits>
#include <variant>

#include "txdir/database.h"

namespace txdir {

template <Record T>
typename Database<T>::Column Database<T>::ColumnOf(std::string_view name) const {
  Column c;
  c.version = name == kVersionColumn;
  c.modified = name == kLastModifiedColumn;
  const auto fields = Traits::Fields();
  for (size_t i = 0; i < fields.size() && !c.known(); ++i)
    if (fields[i].name == name) c.field = static_cast<int>(i);
  if (table_index_ < doc_.tables.size()) c.loaded = doc_.tables[table_index_].ColumnIndex(name);
  return c;
}

template <Record T>
std::string Database<T>::CellOf(const T& record, const Column& c) {
  if (c.version) return std::to_string(record.version);
  if (c.modified) return record.last_modified;
  return std::visit(
      [&](auto member) -> std::string {
        const auto& v = record.*member;
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>)
          return v;
        else if constexpr (std::is_same_v<V, bool>)
          return v ? "true" : "false";
        else
          return std::to_string(v);
      },
      Traits::Fields()[static_cast<size_t>(c.field)].member);
}

template <Record T>
bool Database<T>::SameFields(const T& a, const T& b) {
  for (const Field<T>& f : Traits::Fields()) {
    const bool same = std::visit([&](auto member) { return a.*member == b.*member; }, f.member);
    if (!same) return false;
  }
  return true;
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
  db.id_column_ = it->ColumnIndex("id");
  if (db.id_column_ < 0) {
    return MakeError(Code::kInvalidArgument,
                     "table '" + it->name + "' has no 'id' column, so its records have no key");
  }
  // Where each field lives is worked out once, not once per row.
  for (const Field<T>& f : Traits::Fields()) db.field_columns_.push_back(it->ColumnIndex(f.name));
  db.version_column_ = it->ColumnIndex(kVersionColumn);
  db.modified_column_ = it->ColumnIndex(kLastModifiedColumn);
  db.entries_.reserve(it->rows.size());
  db.index_.reserve(it->rows.size());
  for (auto& cells : it->rows) {
    TXDIR_CHECK(db.ReadRow(cells, nullptr));
    // A repeated id: the last one wins, as in Simple's library.
    db.index_.insert_or_assign(cells[static_cast<size_t>(db.id_column_)], db.entries_.size());
    db.entries_.push_back(Entry{std::move(cells), std::nullopt});
  }
  it->rows.clear();  // the records live in entries_ now
  return db;
}

template <Record T>
Status Database<T>::ReadRow(const std::vector<std::string>& cells, T* out) const {
  auto context = [&] {
    return "table '" + std::string(Traits::kTable) + "', record '" +
           cells[static_cast<size_t>(id_column_)] + "': ";
  };
  // Fields in Traits order, so the first bad cell named is the same
  // whichever way the row is read.
  const auto fields = Traits::Fields();
  for (size_t f = 0; f < fields.size(); ++f) {
    if (field_columns_[f] < 0) continue;
    const std::string& cell = cells[static_cast<size_t>(field_columns_[f])];
    Status s = std::visit(
        [&](auto member) -> Status {
          using V = std::decay_t<decltype(std::declval<T&>().*member)>;
          if constexpr (std::is_same_v<V, std::string>) {
            if (out) out->*member = cell;
            return Ok();
          } else if constexpr (std::is_same_v<V, bool>) {
            bool v = false;
            TXDIR_CHECK(ParseBoolCell(cell, out ? out->*member : v));
            return Ok();
          } else {
            int64_t v = 0;
            TXDIR_CHECK(ParseIntCell(cell, out ? out->*member : v));
            return Ok();
          }
        },
        fields[f].member);
    if (!s)
      return MakeError(Code::kInvalidArgument, context() + "field '" + std::string(fields[f].name) +
                                                   "': " + s.error().message);
  }
  if (version_column_ >= 0) {
    int64_t v = 0;
    if (Status s =
            ParseIntCell(cells[static_cast<size_t>(version_column_)], out ? out->version : v);
        !s)
      return MakeError(Code::kInvalidArgument, context() + "version: " + s.error().message);
  }
  if (modified_column_ >= 0 && out)
    out->last_modified = cells[static_cast<size_t>(modified_column_)];
  return Ok();
}

template <Record T>
T Database<T>::RecordOf(const Entry& e) const {
  if (e.record) return *e.record;
  T t;
  (void)ReadRow(e.cells, &t);  // checked by Load
  return t;
}

template <Record T>
const std::string& Database<T>::IdOf(const Entry& e) const {
  return e.record ? e.record->id : e.cells[static_cast<size_t>(id_column_)];
}

template <Record T>
std::vector<std::string> Database<T>::OutputColumns() const {
  std::vector<std::string> columns;
  bool absent = table_index_ >= doc_.tables.size();
  if (!absent) columns = doc_.tables[table_index_].columns;
  auto has = [&](std::string_view c) {
    return std::find(columns.begin(), columns.end(), c) != columns.end();
  };
  const T defaults{};
  const auto fields = Traits::Fields();
  for (size_t f = 0; f < fields.size(); ++f) {
    if (has(fields[f].name)) continue;
    // A field the file lacks is added only when leaving it out would lose a
    // value, so that loading and saving an old file keeps its schema.
    Column c;
    c.field = static_cast<int>(f);
    const std::string blank = CellOf(defaults, c);
    // A record as loaded lacks the field: it holds the default.
    bool needed = absent || std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) {
                    return e.record && CellOf(*e.record, c) != blank;
                  });
    if (needed) columns.emplace_back(fields[f].name);
  }
  if (options_.versioning) {
    if (!has(kVersionColumn)) columns.emplace_back(kVersionColumn);
    if (!has(kLastModifiedColumn)) columns.emplace_back(kLastModifiedColumn);
  }
  return columns;
}

template <Record T>
std::vector<std::string> Database<T>::OutputCells(const Entry& e,
                                                  const std::vector<Column>& columns) const {
  std::vector<std::string> cells;
  cells.reserve(columns.size());
  const bool loaded = !e.cells.empty();
  // A record as loaded is written back with the file's cell texts, without
  // building its values: for a table of many records where one changed that
  // is most of the cost of a save. In a changed one, a field that still has
  // its loaded value keeps its text too ("" for an empty integer cell, not
  // "0").
  std::optional<T> before;  // a changed record as loaded
  if (loaded && e.record) (void)ReadRow(e.cells, &before.emplace());
  for (const Column& c : columns) {
    if (!c.known()) {
      // Columns T does not know come from the file: a loaded record keeps
      // its value, an inserted one gets "".
      cells.push_back(loaded && c.loaded >= 0 ? e.cells[static_cast<size_t>(c.loaded)]
                                              : std::string());
      continue;
    }
    if (loaded && c.loaded >= 0) {
      const std::string& file_text = e.cells[static_cast<size_t>(c.loaded)];
      if (!e.record) {
        cells.push_back(file_text);
        continue;
      }
      std::string now = CellOf(*e.record, c);
      cells.push_back(now == CellOf(*before, c) ? file_text : std::move(now));
      continue;
    }
    // Not in the file: the record's value; a record as loaded has the
    // field's default.
    cells.push_back(e.record ? CellOf(*e.record, c) : CellOf(T{}, c));
  }
  return cells;
}

template <Record T>
sdn::Document Database<T>::ToDocument() const {
  sdn::Document doc = doc_;
  sdn::Table table;
  table.name = std::string(Traits::kTable);
  table.columns = OutputColumns();
  std::vector<Column> columns;
  columns.reserve(table.columns.size());
  for (const std::string& name : table.columns) columns.push_back(ColumnOf(name));
  table.rows.reserve(entries_.size());
  for (const Entry& e : entries_) table.rows.push_back(OutputCells(e, columns));
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
  return RecordOf(entries_[it->second]);
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
  entries_.push_back(Entry{{}, record});
  return record.id;
}

template <Record T>
Status Database<T>::Update(const T& record) {
  auto it = index_.find(record.id);
  if (it == index_.end())
    return MakeError(Code::kNotFound, "no record with id '" + record.id + "'");
  Entry& e = entries_[it->second];
  if (!options_.versioning) {
    e.record = record;
    return Ok();
  }
  const T stored = RecordOf(e);
  if (SameFields(stored, record)) return Ok();  // nothing changed
  e.record = record;
  e.record->version = stored.version + 1;
  e.record->last_modified = Now();
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
  for (size_t i = 0; i < entries_.size(); ++i) index_[IdOf(entries_[i])] = i;  // last wins
}

template <Record T>
std::vector<T> Database<T>::All() const {
  std::vector<T> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(RecordOf(e));
  return out;
}

template <Record T>
std::string Database<T>::NextId() const {
  std::vector<std::string> ids;
  ids.reserve(entries_.size());
  for (const Entry& e : entries_) ids.push_back(IdOf(e));
  return NextNumericId(ids);
}

}  // namespace txdir
