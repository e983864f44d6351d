// Database<T>: one table of records of type T (Todo, Feature, Task, or any
// type with RecordTraits), keyed by id, loaded from and saved to SDN bytes.
//
// A Database is an in-memory value: Load parses bytes, the calls below edit
// memory, Save renders bytes. Reading and writing the file, and making a
// load-modify-save cycle safe against other writers, is the caller's job
// (a txdir Transaction). Not thread-safe; copyable.
//
// What a save keeps: the file's bytes, except those of the records that
// changed (sdn::Write's edit guarantee). Every other table, comment and
// record stays as written, and in a changed record every cell whose field did
// not change keeps its spelling (an empty integer cell stays empty). Columns T
// does not know keep each record's values (inserted records get ""); inserted
// records go after the last one. A field of T that the file lacks is added as
// a column only when some record holds a non-default value for it, so a
// load-then-save does not change a file's schema. When the file has no table
// for T, Save appends one with all of T's columns. Records are keyed by `id`;
// with a repeated id the last record is the one Get, Update and Delete see,
// as in the Simple tooling's database library.
//
// Versioning (Options::versioning): Insert sets version 1, an Update that
// changes a field sets version = stored + 1; both set last_modified to the
// clock's time (ISO-8601 UTC). Save then writes `version` and
// `last_modified` columns, adding them if the file had none. Files without
// them load with version 0 and last_modified "". With versioning off the two
// fields are stored as given, and saved only if the file already had them.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "txdir/error.h"
#include "txdir/records.h"
#include "txdir/sdn.h"

namespace txdir {

struct DatabaseOptions {
  bool versioning = false;  // maintain version / last_modified on every change
  // The time stamped into last_modified; null means the system clock. Tests
  // inject a fixed or stepping clock here.
  std::function<std::chrono::system_clock::time_point()> clock;
};

template <Record T>
class Database {
 public:
  using Options = DatabaseOptions;
  using Traits = RecordTraits<T>;

  // Parses `bytes` (an SDN file; empty bytes are an empty database).
  // Errors: kInvalidArgument when the text is not SDN (with line and column),
  // when T's table has no `id` column, or when a cell does not convert to its
  // field's type.
  static Result<Database> Load(std::string_view bytes, Options options = {});
  // As Load, from an already parsed document.
  static Result<Database> FromDocument(sdn::Document doc, Options options = {});

  // The file's bytes (see the comment at the top).
  // Errors: kInternal if the document to write breaks sdn::Validate (a bug).
  Result<std::string> Save() const;
  // The document Save writes.
  sdn::Document ToDocument() const;

  // Errors: kNotFound.
  Result<T> Get(std::string_view id) const;
  bool Contains(std::string_view id) const { return index_.count(id) > 0; }

  // Adds `record`. An empty id is replaced by NextId(). Returns the id used.
  // Errors: kExists when a record with that id is already there.
  Result<std::string> Insert(T record);
  // Replaces the record with record.id. An update that changes no field is a
  // no-op (no version bump). Errors: kNotFound.
  Status Update(const T& record);
  // Errors: kNotFound.
  Status Delete(std::string_view id);

  // Every record, in file order.
  std::vector<T> All() const;
  // max + 1 over the numeric ids, "0" for none (ids like "1.2" are skipped).
  std::string NextId() const;
  size_t size() const { return entries_.size(); }
  const Options& options() const { return options_; }

 private:
  // Lets index_ be searched by string_view without building a string.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  struct Entry {
    // The loaded row's cells, by the file's column (empty for inserted
    // records). They hold the values of the columns T does not know too.
    std::vector<std::string> cells;
    // The record once updated or inserted. Unset while it is as loaded: its
    // value is then read from `cells` when asked for (Load checked that they
    // convert), so a load of many records where few are touched builds few.
    std::optional<T> record;
  };
  // What a column of the file or of the output holds.
  struct Column {
    int field = -1;         // index into Traits::Fields(), or -1
    bool version = false;   // the versioning columns
    bool modified = false;  //
    int loaded = -1;        // its index among the file's columns, or -1
    bool known() const { return field >= 0 || version || modified; }
  };

  explicit Database(Options options) : options_(std::move(options)) {}
  Column ColumnOf(std::string_view name) const;
  // Reads a loaded row into `out`; with `out` null only checks that its
  // cells convert. Errors name the record and the field.
  Status ReadRow(const std::vector<std::string>& cells, T* out) const;
  T RecordOf(const Entry& e) const;
  const std::string& IdOf(const Entry& e) const;
  std::vector<std::string> OutputColumns() const;
  std::vector<std::string> OutputCells(const Entry& e, const std::vector<Column>& columns) const;
  // The text of what `c` (a known column) holds in `record`.
  static std::string CellOf(const T& record, const Column& c);
  static bool SameFields(const T& a, const T& b);
  void Reindex();
  std::string Now() const {
    return FormatUtc(options_.clock ? options_.clock() : std::chrono::system_clock::now());
  }

  Options options_;
  sdn::Document doc_;       // the whole file; T's table has its rows cleared
  size_t table_index_ = 0;  // T's table in doc_.tables; == size() when absent
  // The file's columns of T's fields (by Traits::Fields() index), of the
  // versioning columns and of the key; -1 when the file has none.
  std::vector<int> field_columns_;
  int version_column_ = -1, modified_column_ = -1, id_column_ = -1;
  std::vector<Entry> entries_;
  // id -> entries_ index (the last record with that id).
  std::unordered_map<std::string, size_t, IdHash, std::equal_to<>> index_;
};

}  // namespace txdir

#include "txdir/database_impl.h"  // IWYU pragma: export
