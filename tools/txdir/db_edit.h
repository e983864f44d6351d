// The record editor behind `txdir db`: the library's record edits
// (record_edit.h) under the names the command and `db --batch` use, with the
// file each change is for.
#pragma once

#include <string>
#include <vector>

#include "txdir/error.h"
#include "txdir/record_edit.h"
#include "txdir/sdn.h"

namespace txdir::cli {

using DbFields = RecordFields;
using DbChange = RecordEditResult;
using DbKeyIndex = RecordKeyIndex;

// One change to one table of one SDN file.
struct DbOp {
  std::string file, table;
  std::string op;           // "set", "insert" or "delete"
  std::string id;           // set, delete: the record's key
  DbFields fields;          // set, insert: FIELD -> VALUE, in the caller's order
  bool versioning = false;  // bump `version` and `last_modified` of the record

  RecordEdit Edit() const { return RecordEdit{table, op, id, fields, versioning}; }
};

// LoadRecordDocument: the seal checked, errors starting with the file name.
inline Result<sdn::Document> LoadDbDocument(const std::string& file, const std::string& bytes) {
  return LoadRecordDocument(file, bytes);
}

// "FIELD=VALUE" arguments as pairs. Errors: kInvalidArgument naming the
// argument without '=' or with an empty FIELD.
Result<DbFields> ParseAssignments(const std::vector<std::string>& args);

// ApplyRecordEdit of `op` to `doc`, the document of op.file.
inline Result<DbChange> ApplyDbOp(const DbOp& op, sdn::Document& doc, DbKeyIndex* index = nullptr) {
  return ApplyRecordEdit(op.file, op.Edit(), doc, index);
}

}  // namespace txdir::cli
