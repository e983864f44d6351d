// Whole-document merge and conflict descriptions; see record_merge.h.
#include <map>
#include <utility>

#include "txdir/record_merge.h"

namespace txdir {
namespace {

// The k-th table called `name`, or nullptr.
const sdn::Table* FindNth(const sdn::Document& doc, const std::string& name, int k) {
  for (const sdn::Table& t : doc.tables)
    if (t.name == name && k-- == 0) return &t;
  return nullptr;
}

// The rows-free stand-in for a side that has no such table: as if that side
// had deleted every record (or, for base, as if the table were new).
sdn::Table Emptied(const sdn::Table& like) { return sdn::Table{like.name, like.columns, {}}; }

void Append(DocumentMerge& out, TableMerge merged) {
  out.document.tables.push_back(std::move(merged.table));
  for (auto& c : merged.conflicts) out.conflicts.push_back(std::move(c));
  for (auto& r : merged.renumbered) out.renumbered.push_back(std::move(r));
}

// Merges the k-th table of this name; at least one of ours/theirs exists.
Status MergeOne(const sdn::Table* base, const sdn::Table* ours, const sdn::Table* theirs,
                const MergeOptions& options, DocumentMerge& out) {
  if (!base) {  // new on one side or both
    if (!ours || !theirs) {
      out.document.tables.push_back(ours ? *ours : *theirs);
      return Ok();
    }
    Append(out, TXDIR_TRY(MergeTable(Emptied(*ours), *ours, *theirs, options)));
    return Ok();
  }
  if (!ours || !theirs) {  // removed on one side
    const sdn::Table& kept = ours ? *ours : *theirs;
    if (kept == *base) return Ok();  // unchanged by the other side: the removal stands
    sdn::Table removed = Emptied(*base);
    Append(out, TXDIR_TRY(ours ? MergeTable(*base, *ours, removed, options)
                               : MergeTable(*base, removed, *theirs, options)));
    return Ok();
  }
  Append(out, TXDIR_TRY(MergeTable(*base, *ours, *theirs, options)));
  return Ok();
}

}  // namespace

Result<DocumentMerge> MergeDocument(const sdn::Document& base, const sdn::Document& ours,
                                    const sdn::Document& theirs, const MergeOptions& options) {
  if (ours == base || ours == theirs) return DocumentMerge{theirs, {}, {}};
  if (theirs == base) return DocumentMerge{ours, {}, {}};
  DocumentMerge out;
  // The published file's text: writing the merge changes only the records
  // that differ from it (ours's changes), every other byte stays as published.
  out.document.source = theirs.source;
  std::map<std::string, int> seen;  // name -> occurrences of it in theirs
  for (const sdn::Table& t : theirs.tables) {
    int k = seen[t.name]++;
    TXDIR_CHECK(MergeOne(FindNth(base, t.name, k), FindNth(ours, t.name, k), &t, options, out));
  }
  std::map<std::string, int> seen_ours;
  for (const sdn::Table& o : ours.tables) {
    int k = seen_ours[o.name]++;
    if (FindNth(theirs, o.name, k)) continue;  // merged above
    TXDIR_CHECK(MergeOne(FindNth(base, o.name, k), &o, nullptr, options, out));
  }
  return out;
}

const char* ConflictKindName(ConflictKind kind) {
  switch (kind) {
    case ConflictKind::kBothModified:
      return "both modified";
    case ConflictKind::kDeletedByOurs:
      return "deleted here, modified by the other writer";
    case ConflictKind::kDeletedByTheirs:
      return "modified here, deleted by the other writer";
    case ConflictKind::kBothInserted:
      return "both inserted";
  }
  return "unknown";
}

std::string DescribeConflicts(const std::vector<RecordConflict>& conflicts) {
  std::string out;
  for (const RecordConflict& c : conflicts) {
    if (!out.empty()) out += '\n';
    out += c.table + " " + c.id + ": " + ConflictKindName(c.kind);
    if (c.fields.empty()) continue;
    out += " (";
    for (size_t i = 0; i < c.fields.size(); ++i) out += (i ? ", " : "") + c.fields[i];
    out += ')';
  }
  return out;
}

}  // namespace txdir
