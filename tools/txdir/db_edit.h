// The record editor behind `txdir db`: one set, insert or delete applied to a
// parsed SDN document. The single-operation command and `db --batch` both go
// through ApplyDbOp, so they share one key rule and one set of messages.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "txdir/error.h"
#include "txdir/sdn.h"

namespace txdir::cli {

using DbFields = std::vector<std::pair<std::string, std::string>>;

// One change to one table of one SDN file.
struct DbOp {
  std::string file, table;
  std::string op;           // "set", "insert" or "delete"
  std::string id;           // set, delete: the record's key
  DbFields fields;          // set, insert: FIELD -> VALUE, in the caller's order
  bool versioning = false;  // bump `version` and `last_modified` of the record
};

// What one change did.
struct DbChange {
  std::string table, id;  // id: for insert, the key the record got
  std::string result;     // "updated", "no change", "inserted" or "deleted"
  bool changed = true;    // false: every value already held what was asked

  // "todos record 42 updated", "todos record 42: no change", ...
  std::string Message() const;
};

// Finds records by key in the tables of one document, for many operations
// on it: Table::FindRow and the next free id scan every row, so n operations
// on a table of n rows would cost n^2. Answers exactly as those do (with
// repeated keys the last row). Tables are known by name, as ApplyDbOp finds
// them; after a delete a table's index is rebuilt when next used.
class DbKeyIndex {
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
// match its body: the Simple tooling loads such a database as nil, so an edit
// must not bless it. Errors (kInvalidArgument, kCorruption) start with the
// file name.
Result<sdn::Document> LoadDbDocument(const std::string& file, const std::string& bytes);

// "FIELD=VALUE" arguments as pairs. Errors: kInvalidArgument naming the
// argument without '=' or with an empty FIELD.
Result<DbFields> ParseAssignments(const std::vector<std::string>& args);

// Applies `op` to `doc` (an insert into a table the document lacks creates
// it, keyed by `id`). The key is the table's `id` column, else its first
// column (docs/sdn.md). On error `doc` is left as it was, so a caller may go
// on applying further operations to it.
// `index`, when given, must have seen every change made to `doc` since it
// was created; a batch passes one, a single change need not.
// Errors: kNotFound (no such table or record), kExists (insert of a key that
// is there), kInvalidArgument (unknown or invalid field, setting the key, an
// insert without a key where the key is not `id`, an unknown op).
Result<DbChange> ApplyDbOp(const DbOp& op, sdn::Document& doc, DbKeyIndex* index = nullptr);

}  // namespace txdir::cli
