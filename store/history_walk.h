// Walks of the history of the store's commits: the generations back from
// one commit along first parents (GenerationWalk), which commits one head
// has that another lacks, where two histories meet, whether one contains
// another (the last three through libgit2's revwalk, merge-base and graph
// functions). Commit ids are raw git_oid values.
//
// Thread safety: as GitStore, one thread at a time per store.
#pragma once

#include <functional>
#include <optional>

#include "store/git_store.h"
#include "txdir/error.h"

namespace txdir::store {

// The generations from one commit back to the oldest one kept, newest
// first, along first parents: the linear chain the head ref has grown
// (a pull's merge records the remote side as its first parent).
//
// A cursor: Next() moves onto the next generation, whose id, metadata and
// first parent are then asked for. It reads only what is asked for, each
// at most once per generation, and in the order asked, so a caller's reads
// and the errors they can meet stay those of a hand-written loop of
// GitStore::ReadMeta and GitStore::CommitParent:
//
//   GenerationWalk walk(store, head);
//   while (TXDIR_TRY(walk.Next())) {
//     GenMeta meta = TXDIR_TRY(walk.Meta());
//     if (meta.number == wanted) return walk.commit();
//   }
//
// The walk needs no lock: commits are immutable, so a head moved meanwhile
// leaves it on the history it started from (a prune that removed commits
// shows as read errors).
//
// Thread safety: one thread at a time, as the GitStore it reads, which must
// outlive it.
class GenerationWalk {
 public:
  // Positioned before `from`; nullopt (an unborn head): an empty history.
  // Reads nothing.
  GenerationWalk(const GitStore& store, const std::optional<git_oid>& from);

  // Moves onto the next generation and says whether there is one: `from`
  // first (reading nothing), then the first parent of the current one
  // (read now unless Parent() has read it). False after the root commit,
  // and from then on.
  // Errors: GitStore::CommitParent's for the current commit ("commit not
  // found ID" when it cannot be read). The walk then stays on the current
  // generation, and a later Next() reads again.
  Result<bool> Next();

  // The current generation's commit. Only after Next() returned true (or
  // an error, which leaves the current one in place).
  const git_oid& commit() const { return *commit_; }

  // The current generation's metadata, read on the first call and kept for
  // the next ones. Only on a generation, as commit().
  // Errors: GitStore::ReadMeta's (a missing commit; Corruption naming the
  // commit when its trailers do not parse); not kept, a later call reads
  // again.
  Result<GenMeta> Meta();

  // The current commit's first parent, nullopt for a root commit: the
  // generation Next() moves to. Read on the first call (by this or by
  // Next()) and kept. Only on a generation, as commit().
  // Errors: GitStore::CommitParent's; not kept.
  Result<std::optional<git_oid>> Parent();

 private:
  const GitStore* store_;
  std::optional<git_oid> from_;
  bool started_ = false;
  // The current generation; nullopt before the first Next() and at the end.
  std::optional<git_oid> commit_;
  // What has been read of the current generation.
  std::optional<GenMeta> meta_;
  std::optional<std::optional<git_oid>> parent_;
};

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
