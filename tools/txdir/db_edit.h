// The record editor behind `txdir db`: one set, insert or delete applied to a
// parsed SDN document. The single-operation command and `db --batch` both go
// through ApplyDbOp, so they share one key rule and one set of messages.
#pragma once

#include <string>
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
// Errors: kNotFound (no such table or record), kExists (insert of a key that
// is there), kInvalidArgument (unknown or invalid field, setting the key, an
// insert without a key where the key is not `id`, an unknown op).
Result<DbChange> ApplyDbOp(const DbOp& op, sdn::Document& doc);

}  // namespace txdir::cli
