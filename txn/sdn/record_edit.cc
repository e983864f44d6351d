// Record edits (record_edit.h): the editor behind `txdir db` and
// Transaction::EditRecords.
#include "txdir/record_edit.h"

#include <chrono>
#include <cstdlib>

#include "txdir/records.h"

namespace txdir {

namespace {

int ColumnOrAdd(sdn::Table& t, const std::string& col) {
  int i = t.ColumnIndex(col);
  if (i >= 0) return i;
  t.columns.push_back(col);
  for (auto& r : t.rows) r.emplace_back();
  return static_cast<int>(t.columns.size()) - 1;
}

void Touch(sdn::Table& t, size_t row) {
  int v = ColumnOrAdd(t, std::string(kVersionColumn));
  int m = ColumnOrAdd(t, std::string(kLastModifiedColumn));
  auto& cells = t.rows[row];
  long long cur = std::atoll(cells[static_cast<size_t>(v)].c_str());
  cells[static_cast<size_t>(v)] = std::to_string(cur + 1);
  cells[static_cast<size_t>(m)] = FormatUtc(std::chrono::system_clock::now());
}

std::string ColumnList(const sdn::Table& t) {
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + col;
  return cols;
}

// The row keyed `key` and the next free id, through the index when there is
// one.
int FindRow(const sdn::Table& t, const std::string& key, RecordKeyIndex* index) {
  return index != nullptr ? index->Find(t, key) : t.FindRow(key);
}

std::string NextId(const sdn::Table& t, RecordKeyIndex* index) {
  if (index != nullptr) return index->NextId(t);
  const size_t key = t.KeyIndex();
  std::vector<std::string> ids;
  ids.reserve(t.rows.size());
  for (const auto& r : t.rows) ids.push_back(r[key]);
  return NextNumericId(ids);
}

// a < b for digit strings, leading zeros ignored.
bool NumericLess(std::string_view a, std::string_view b) {
  a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
  b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

Error NoField(const sdn::Table& t, const std::string& field) {
  return Error{Code::kInvalidArgument,
               "no field '" + field + "' in " + t.name + " (fields: " + ColumnList(t) + ")"};
}

// Every field is checked before any cell changes, so a refused set leaves the
// record as it was (a batch goes on editing the same document).
Result<RecordEditResult> SetFields(const RecordEdit& op, sdn::Table& t, RecordKeyIndex* index) {
  if (op.fields.empty())
    return MakeError(Code::kInvalidArgument, "set takes an ID and FIELD=VALUE pairs");
  int i = FindRow(t, op.id, index);
  if (i < 0) return MakeError(Code::kNotFound, "no record " + op.id + " in " + op.table);
  const std::string& key = t.columns[t.KeyIndex()];
  for (const auto& [field, value] : op.fields) {
    if (field == key) return MakeError(Code::kInvalidArgument, "the key of a record cannot be set");
    if (t.ColumnIndex(field) < 0) return tl::unexpected(NoField(t, field));
  }
  bool changed = false;
  for (const auto& [field, value] : op.fields) {
    std::string& cell = t.rows[static_cast<size_t>(i)][static_cast<size_t>(t.ColumnIndex(field))];
    changed = changed || cell != value;
    cell = value;
  }
  if (!changed) return RecordEditResult{op.table, op.id, "no change", false};
  if (op.versioning) Touch(t, static_cast<size_t>(i));
  return RecordEditResult{op.table, op.id, "updated", true};
}

// Insert keyed by the table's key column (`id`, else the first column); only
// an `id` key is numbered automatically. Columns an empty table gains from
// the fields are taken back when the insert is refused.
Result<RecordEditResult> InsertRecord(const RecordEdit& op, sdn::Table& t, RecordKeyIndex* index) {
  const size_t columns_before = t.columns.size();
  auto refuse = [&](Error e) -> Result<RecordEditResult> {
    t.columns.resize(columns_before);  // only an empty table gains columns
    return tl::unexpected(std::move(e));
  };
  for (const auto& [f, v] : op.fields) {
    if (t.ColumnIndex(f) >= 0) continue;
    if (!t.rows.empty()) return refuse(NoField(t, f));
    if (!sdn::IsValidName(f))
      return refuse(Error{Code::kInvalidArgument, "'" + f + "' is not a valid field name"});
    t.columns.push_back(f);
  }
  const size_t key = t.KeyIndex();
  const std::string& key_name = t.columns[key];
  std::string id;
  for (const auto& [f, v] : op.fields)
    if (f == key_name) id = v;
  if (id.empty() && key_name != "id")
    return refuse(Error{Code::kInvalidArgument, "insert into " + op.table + " needs " + key_name +
                                                    "=VALUE (its key column)"});
  if (id.empty()) {
    id = NextId(t, index);
  } else if (FindRow(t, id, index) >= 0) {
    return refuse(Error{Code::kExists, "record " + id + " already exists in " + op.table});
  }
  std::vector<std::string> row(t.columns.size());
  row[key] = id;
  for (const auto& [f, v] : op.fields) row[static_cast<size_t>(t.ColumnIndex(f))] = v;
  t.rows.push_back(std::move(row));
  if (index != nullptr) index->Inserted(t);
  if (op.versioning) Touch(t, t.rows.size() - 1);
  return RecordEditResult{op.table, id, "inserted", true};
}

Result<RecordEditResult> DeleteRecord(const RecordEdit& op, sdn::Table& t, RecordKeyIndex* index) {
  int i = FindRow(t, op.id, index);
  if (i < 0) return MakeError(Code::kNotFound, "no record " + op.id + " in " + op.table);
  t.rows.erase(t.rows.begin() + i);
  if (index != nullptr) index->Forget(t.name);  // the rows after it moved
  return RecordEditResult{op.table, op.id, "deleted", true};
}

}  // namespace

std::string RecordEditResult::Message() const {
  if (!changed) return table + " record " + id + ": no change";
  return table + " record " + id + " " + result;
}

Result<sdn::Document> LoadRecordDocument(const std::string& file, std::string_view bytes) {
  auto named = [&](Error e) {
    e.message = file + ": " + e.message;
    return tl::unexpected(std::move(e));
  };
  if (Status seal = sdn::VerifySeal(bytes); !seal) return named(seal.error());
  auto doc = sdn::Parse(bytes);
  if (!doc) return named(doc.error());
  return doc;
}

RecordKeyIndex::Entry& RecordKeyIndex::Built(const sdn::Table& t) {
  Entry& e = tables_[t.name];
  if (e.built) return e;
  const size_t key = t.KeyIndex();
  e.rows.reserve(t.rows.size());
  for (size_t r = 0; r < t.rows.size(); ++r) e.rows[t.rows[r][key]] = r;  // the last one wins
  e.built = true;
  return e;
}

int RecordKeyIndex::Find(const sdn::Table& t, const std::string& key) {
  const Entry& e = Built(t);
  auto it = e.rows.find(key);
  return it == e.rows.end() ? -1 : static_cast<int>(it->second);
}

std::string RecordKeyIndex::NextId(const sdn::Table& t) {
  Entry& e = Built(t);
  if (e.next_id.empty()) e.next_id = txdir::NextId(t, nullptr);
  return e.next_id;
}

void RecordKeyIndex::Inserted(const sdn::Table& t) {
  Entry& e = Built(t);
  const std::string& id = t.rows.back()[t.KeyIndex()];
  e.rows[id] = t.rows.size() - 1;
  // The next id stays max + 1: raise it past a numeric id at or above it.
  if (!e.next_id.empty() && IsNumericId(id) && !NumericLess(id, e.next_id))
    e.next_id = NextNumericId(std::vector<std::string>{id});
}

void RecordKeyIndex::Forget(const std::string& table) { tables_.erase(table); }

Status CheckRecordEdit(const RecordEdit& edit) {
  if (edit.op != "set" && edit.op != "insert" && edit.op != "delete")
    return MakeError(Code::kInvalidArgument,
                     "unknown record edit '" + edit.op + "' (set, insert, delete)");
  if (!sdn::IsValidName(edit.table))
    return MakeError(Code::kInvalidArgument, "'" + edit.table + "' is not a valid table name");
  if (edit.op != "insert" && edit.id.empty())
    return MakeError(Code::kInvalidArgument, edit.op + " needs the key of a record");
  if (edit.op == "set" && edit.fields.empty())
    return MakeError(Code::kInvalidArgument, "set takes an ID and FIELD=VALUE pairs");
  return Ok();
}

Result<RecordEditResult> ApplyRecordEdit(const std::string& file, const RecordEdit& op,
                                         sdn::Document& doc, RecordKeyIndex* index) {
  if (op.op != "set" && op.op != "insert" && op.op != "delete")
    return MakeError(Code::kInvalidArgument,
                     "unknown record edit '" + op.op + "' (set, insert, delete)");
  sdn::Table* t = doc.Find(op.table);
  if (t != nullptr) {
    if (op.op == "delete") return DeleteRecord(op, *t, index);
    return op.op == "set" ? SetFields(op, *t, index) : InsertRecord(op, *t, index);
  }
  if (op.op != "insert")
    return MakeError(Code::kNotFound, "no table '" + op.table + "' in " + file);
  if (!sdn::IsValidName(op.table))
    return MakeError(Code::kInvalidArgument, "'" + op.table + "' is not a valid table name");
  doc.tables.push_back(sdn::Table{op.table, {"id"}, {}});
  if (index != nullptr) index->Forget(op.table);
  auto done = InsertRecord(op, doc.tables.back(), index);
  if (!done) {
    doc.tables.pop_back();  // a refused insert creates no table
    if (index != nullptr) index->Forget(op.table);
  }
  return done;
}

}  // namespace txdir
