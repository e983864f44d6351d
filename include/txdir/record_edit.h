// Record edits: one set, insert or delete applied to a parsed SDN document.
// The `txdir db` command and Transaction::EditRecords both apply edits
// through ApplyRecordEdit, so they share one key rule and one set of
// messages. Pure in-memory code.
//
// The key of a table is its `id` column, else its first column
// (docs/sdn.md). A set changes the named cells of the record with that key
// and never the key itself; an insert adds a record after the last one (an
// `id` key left out gets the next free numeric id, max + 1); a delete
// removes the record. With `versioning`, a change also bumps the record's
// `version` and stamps its `last_modified` (the columns are added when the
// table lacks them).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "txdir/error.h"
#include "txdir/sdn.h"

namespace txdir {

// FIELD -> VALUE pairs, in the caller's order.
using RecordFields = std::vector<std::pair<std::string, std::string>>;

// One change to one table.
struct RecordEdit {
  std::string table;
  std::string op;           // "set", "insert" or "delete"
  std::string id;           // set, delete: the record's key (insert: ignored; the key is a field)
  RecordFields fields;      // set, insert
  bool versioning = false;  // bump `version` and stamp `last_modified`
  bool operator==(const RecordEdit&) const = default;
};

// What one edit did.
struct RecordEditResult {
  std::string table, id;  // id: for an insert, the key the record got
  std::string result;     // "updated", "no change", "inserted" or "deleted"
  bool changed = true;    // false: every value already held what was asked
  bool operator==(const RecordEditResult&) const = default;

  // "todos record 42 updated", "todos record 42: no change", ...
  std::string Message() const;
};

// Finds records by key in the tables of one document, for many edits of
// it: without it each edit scans every row, so n edits of a table of n rows
// would cost n^2. Answers exactly as the scan does (with repeated keys, the
// last row). Tables are known by name; after a delete a table's index is
// rebuilt when next used.
class RecordKeyIndex {
 public:
  int Find(const sdn::Table& t, const std::string& key);
  std::string NextId(const sdn::Table& t);
  void Inserted(const sdn::Table& t);  // its last row is new
  void Forget(const std::string& table);

 private:
  struct Entry {
    bool built = false;
    std::unordered_map<std::string, size_t> rows;
    std::string next_id;  // empty: not computed yet
  };
  Entry& Built(const sdn::Table& t);
  std::map<std::string, Entry> tables_;
};

// Parses the SDN text `bytes` of `file`, refusing a file whose seal does not
// match its body: the Simple tooling loads such a database as nil, so an
// edit must not bless it. Errors (kInvalidArgument, kCorruption) start with
// the file name.
Result<sdn::Document> LoadRecordDocument(const std::string& file, std::string_view bytes);

// Checks what can be checked of `edit` without a document: a known op, a
// valid table name, a key for set and delete, fields for a set.
// Errors: kInvalidArgument.
Status CheckRecordEdit(const RecordEdit& edit);

// Applies `edit` to `doc`, the document of `file` (named in messages). An
// insert into a table the document lacks creates it, keyed by `id`. On
// error `doc` is left as it was, so a caller may go on applying further
// edits to it. `index`, when given, must have seen every change made to
// `doc` since it was created.
// Errors: kNotFound (no such table or record), kExists (insert of a key
// that is there), kInvalidArgument (unknown or invalid field, setting the
// key, an insert without a key where the key is not `id`, an unknown op).
Result<RecordEditResult> ApplyRecordEdit(const std::string& file, const RecordEdit& edit,
                                         sdn::Document& doc, RecordKeyIndex* index = nullptr);

}  // namespace txdir
