// The three-way merge of two file sets against a common base, per
// strategy (strategy.h): the engine of Transaction::Commit (ours = the
// transaction's staged changes, theirs = the head published since its base)
// and of a diverged `pull --strategy` (ours = the local head's changes since
// the merge base, theirs = the remote head). Internal; not installed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/git_store.h"
#include "txdir/record_merge.h"
#include "txdir/strategy.h"

namespace txdir::internal {

using FileMap = std::map<std::string, store::TreeFile>;

// One path as "ours" left it: nullopt file means removed. time_ms is when
// ours wrote it (kLastModifiedWins compares it with theirs_time_ms).
struct OurChange {
  std::optional<store::TreeFile> file;
  int64_t time_ms = 0;
};

struct TreeMerge {
  FileMap files;                                 // the merged file set
  std::vector<std::string> merged;               // changed on both sides, resolved
  std::vector<std::string> theirs_kept;          // changed on both sides, theirs won
  std::vector<Renumbered> renumbered;            // SDN records renumbered
  std::vector<std::string> conflicts;            // paths the strategy could not resolve
  std::vector<RecordConflict> record_conflicts;  // SDN records likewise
  bool conflicted() const { return !conflicts.empty() || !record_conflicts.empty(); }
};

// Applies `ours` (changes relative to `base`) on top of `theirs`. A path
// ours changed and theirs left as in base takes ours; a path changed on
// both sides to different content is resolved by `strategy` (see
// transaction.h). Writes merged SDN blobs to `store`.
// Errors: InvalidArgument (an SDN side that does not parse under a merging
// strategy), Io, Corruption. Conflicts are reported in the result, not as
// an error: the caller words the message.
Result<TreeMerge> MergeTrees(store::GitStore& store, Strategy strategy, const FileMap& base,
                             const std::map<std::string, OurChange>& ours, const FileMap& theirs,
                             int64_t theirs_time_ms);

// Every file of `tree`, by path.
Result<FileMap> TreeMap(const store::GitStore& store, const git_oid& tree);

bool SameFile(const std::optional<store::TreeFile>& a, const std::optional<store::TreeFile>& b);

}  // namespace txdir::internal
