// The two libgit2 steps of pruning history (txn/src/prune.cc;
// docs/commit_protocol.md, "GC", steps 7 and 8): rewriting a kept commit
// onto another first parent, and packing everything the new history and
// the other refs reach into one pack. libgit2 has no gc; the steps around
// these (the commit point, deleting old packs and loose objects, recovery)
// are the caller's.
//
// Thread safety: as GitStore, one thread at a time per store; the caller
// holds the repository's writer lock (and, for RepackReachable, keeps new
// objects from being written meanwhile).
#pragma once

#include <optional>
#include <string>

#include "store/git_store.h"
#include "txdir/error.h"
#include "txdir/progress.h"

namespace txdir::store {

// Writes the commit `commit` again with `first_parent` as its first parent
// (nullopt: no first parent, the commit becomes a root; its further
// parents, a pull's merge, are kept) and returns the new commit's id.
// Tree, author, committer (with their times and offsets), message encoding
// and raw message (so the generation trailers) are copied byte for byte,
// so the result is deterministic: rewriting the same commit onto the same
// parent always gives the same id (an interrupted gc, run again, rewrites
// to the same commits).
// The new commit is written like every object: durable after
// SyncObjects() (or the caller's barrier).
// Errors (codes as GitError maps libgit2's): the commit, its tree or a
// parent not found ("commit not found <id>", "tree of commit <id>
// missing", "parent commit missing <id>"; kNotFound, or kCorruption when
// unreadable); the write failing (kIo, "cannot write rewritten commit").
Result<git_oid> RewriteCommit(GitStore& store, const git_oid& commit,
                              const std::optional<git_oid>& first_parent);

// Writes every object reachable from the commit `head` and from every ref
// of the store other than refs/heads/main (a pull's remote-tracking refs;
// a ref to something other than a commit keeps that object and all it
// references) into one new pack, objects/pack/pack-<hex>.{pack,idx}, and
// returns its base name "pack-<hex>". When it returns Ok the pack is
// durable: libgit2's indexer fsyncs both files and objects/pack/ (its fsync
// option is on, EnsureLibgit2), and objects/pack/ and objects/ are fsynced
// once more through the store's Env, so the crash tests' recorder sees the
// step. Creates objects/pack/ when missing. Nothing refers to the pack
// yet; a crash before it is complete leaves temp files that recovery
// removes (txn's RecoverPackDir).
// `progress` (may be empty) is called on this thread with the stages
// "compressing objects" (objects, known total) and "writing objects"
// (objects and bytes); libgit2's "adding objects" stage counts walk steps,
// not objects, and is not reported.
// Errors (codes as GitError maps libgit2's): kInternal when no pack or
// walk can be started; the head not walkable, the refs not listable or a
// reachable object missing (kCorruption, or kNotFound); the pack or a
// directory not writable (kIo).
Result<std::string> RepackReachable(GitStore& store, const git_oid& head,
                                    const ProgressFn& progress);

}  // namespace txdir::store
