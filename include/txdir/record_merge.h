// Record-level three-way merge of SDN tables: the Merge strategy's engine for
// SDN files, and the per-record rules of the other strategies.
//
// Inputs are the table at the transaction's base generation (`base`), the
// transaction's own version (`ours`) and the version published since the base
// (`theirs`). Records are matched by a key column (MergeOptions::key_column).
// Works on any sdn::Table, not only the Todo/Feature/Task tables.
//
// Rules, per record:
//   - changed on one side only (insert, update or delete): that change is kept.
//   - changed on both sides to the same content: kept once.
//   - updated on both sides (content differs):
//       kMerge: fields changed by only one side are combined; if some field
//         was changed by both sides to different values, a kBothModified
//         conflict listing those fields.
//       kError: a kBothModified conflict listing every field either side
//         changed.
//       kLastWriteWins: ours. kLastModifiedWins: the side whose
//         last_modified is newer (ties: ours).
//   - deleted on one side, updated on the other: a kDeletedByOurs /
//     kDeletedByTheirs conflict for kMerge and kError; kLastWriteWins and
//     kLastModifiedWins keep ours (a deletion carries no time stamp, and ours
//     is the later writer).
//   - inserted on both sides under the same numeric id with different
//     content: both kept, under every strategy; theirs keeps the id (it is
//     already published) and ours is renumbered to the next free id (max + 1
//     over base, ours and theirs). Reported in `renumbered`; references to
//     the old id in other cells are not rewritten. Same non-numeric id: a
//     kBothInserted conflict (kMerge, kError) or resolved as for updates.
// `version` and `last_modified` are bookkeeping, not content: they never
// cause a conflict. A record combined from both sides gets version
// max(ours, theirs) + 1 and the later last_modified.
//
// A conflicted record appears in the merged table as ours, so the table is
// always complete; a caller that honours the strategy must check `conflicts`
// (a non-empty list means the commit fails with Code::kConflict).
//
// Columns: ours's columns, then those only theirs has. A side that lacks a
// column is taken not to have changed it. Rows: theirs's order (the published
// file), then records only ours has, then ours's renumbered records.
#pragma once

#include <string>
#include <vector>

#include "txdir/error.h"
#include "txdir/sdn.h"
#include "txdir/strategy.h"

namespace txdir {

enum class ConflictKind {
  kBothModified,     // both sides updated the record, overlapping
  kDeletedByOurs,    // ours deleted it, theirs updated it
  kDeletedByTheirs,  // theirs deleted it, ours updated it
  kBothInserted,     // both inserted the same non-numeric id, different content
};
const char* ConflictKindName(ConflictKind kind);

struct RecordConflict {
  std::string table;
  std::string id;
  std::vector<std::string> fields;  // in column order
  ConflictKind kind = ConflictKind::kBothModified;
  bool operator==(const RecordConflict&) const = default;
};

struct Renumbered {
  std::string table;
  std::string old_id;
  std::string new_id;
  bool operator==(const Renumbered&) const = default;
};

struct MergeOptions {
  Strategy strategy = Strategy::kMerge;
  // The column that identifies a record. Empty: "id" when the table has one,
  // else its first column (file_cache's `path`, dashboard_cache's `key`).
  std::string key_column;
};

struct TableMerge {
  sdn::Table table;
  std::vector<RecordConflict> conflicts;
  std::vector<Renumbered> renumbered;
};

struct DocumentMerge {
  sdn::Document document;
  std::vector<RecordConflict> conflicts;
  std::vector<Renumbered> renumbered;
};

// Merges one table; the result is named as ours.
// Errors: kInvalidArgument when a table with rows lacks the key column or
// holds a key twice.
Result<TableMerge> MergeTable(const sdn::Table& base, const sdn::Table& ours,
                              const sdn::Table& theirs, const MergeOptions& options = {});

// Merges every table, matching tables by name (the k-th table of a name with
// the k-th of that name). A table on one side only, not in base, is kept. A
// table one side removed is dropped if the other left it unchanged, otherwise
// merged as if the removing side had deleted all its records. Tables appear
// in theirs's order, then those only ours has.
// Errors: as MergeTable.
Result<DocumentMerge> MergeDocument(const sdn::Document& base, const sdn::Document& ours,
                                    const sdn::Document& theirs, const MergeOptions& options = {});

// One line per conflict, e.g. "todos 5: both modified (status, area)", for a
// kConflict error message.
std::string DescribeConflicts(const std::vector<RecordConflict>& conflicts);

}  // namespace txdir
