// Questions about the history of the store's commits that need a walk of
// it: which commits one head has that another lacks, where two histories
// meet, whether one contains another. Through libgit2's revwalk, merge-base
// and graph functions; commit ids are raw git_oid values.
//
// Thread safety: as GitStore, one thread at a time per store.
#pragma once

#include <functional>
#include <optional>

#include "store/git_store.h"
#include "txdir/error.h"

namespace txdir::store {

// Calls `visit` with every commit reachable from `from` (itself included)
// but not from `hide` (none hidden when nullopt), each once, in libgit2's
// default walk order (git rev-list's without options: newest commit time
// first). Stops at the first error `visit` returns and returns it.
// Errors: kInternal "cannot walk history" when no walk can be made;
// "cannot walk from ID" when `from` or `hide` cannot be read (kNotFound
// when absent); "cannot walk history" when a commit on the way cannot be.
Status ForEachCommitOnlyIn(const GitStore& store, const git_oid& from,
                           const std::optional<git_oid>& hide,
                           const std::function<Status(const git_oid&)>& visit);

// The best common ancestor of commits `a` and `b` (git merge-base); nullopt
// when their histories never meet.
// Errors: "cannot find the merge base" with libgit2's reason (a commit that
// cannot be read).
Result<std::optional<git_oid>> MergeBase(const GitStore& store, const git_oid& a, const git_oid& b);

// Whether `ancestor` is in the history of `commit`; false when both are the
// same commit.
// Errors: "cannot tell whether ID descends from ID" with libgit2's reason
// (a commit that is not in the store or cannot be read).
Result<bool> IsDescendantOf(const GitStore& store, const git_oid& commit, const git_oid& ancestor);

}  // namespace txdir::store
