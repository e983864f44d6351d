// Internals shared by the publication layer's files. Not installed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "store/git_store.h"
#include "txdir/repository.h"
#include "txn/src/config.h"
#include "txn/src/layout.h"
#include "txn/src/writer_lock.h"

namespace txdir {

class MergeDriver;

struct Repository::Impl {
  Env* env = nullptr;
  internal::Layout layout;
  internal::RepoConfig config;
  std::unique_ptr<store::GitStore> store;
  std::chrono::milliseconds lock_timeout{10000};
  // Set once this handle has run recovery under the writer lock. Until then
  // every LockForWrite recovers: after a power loss the lock's holder record
  // (writer_lock.h) may be gone with the rest of what was not synced.
  std::atomic<bool> recovered{false};
  // Added by AddMergeDriver, in order; merges consult them before the
  // built-in ones (merge_drivers.h).
  std::vector<std::shared_ptr<const MergeDriver>> merge_drivers;
};

namespace internal {

// The Impl of a Repository, for the library's own code (the public header
// has no accessor).
struct RepoAccess {
  static Repository::Impl& Of(const Repository& repo) { return *repo.impl_; }
};
inline Repository::Impl& ImplOf(const Repository& repo) { return RepoAccess::Of(repo); }

// The committed head: its commit and metadata. nullopt before the first
// generation.
struct Head {
  git_oid commit;
  git_oid tree;
  store::GenMeta meta;
};
Result<std::optional<Head>> ReadHead(Repository::Impl& r);

// The commit of generation `number`, found by walking back from the head.
Result<git_oid> FindGeneration(Repository::Impl& r, uint64_t number);
Result<GenerationInfo> DescribeCommit(Repository::Impl& r, const git_oid& commit);
Result<GenerationInfo> DescribeCommit(const store::GitStore& st, const git_oid& commit);

// The generation the live link points at. nullopt when there is no link.
// Corruption when it points anywhere but a generation directory of ours.
Result<std::optional<uint64_t>> ReadLiveGeneration(Env* env, const Layout& layout);

// Points the live link at gens/<gen>: a new symlink under a unique name,
// rename(2) over the live path, fsync of its directory. sync = false leaves
// the fsync to the caller (the commit tail's one flush in syncfs mode).
Status SwapLive(Env* env, const Layout& layout, uint64_t gen, bool sync = true);

// Replaces a real directory at the live path by the live link with one
// renameat2(RENAME_EXCHANGE), then removes the directory (init adopting an
// existing directory as generation 1).
Status ReplaceDirectoryWithLive(Env* env, const Layout& layout, uint64_t gen);

// Materializes `files` as the read-only directory gens/<gen>: staged in
// tmp/, every file and directory fsynced, then renamed into place. Files
// whose blob and mode match a file of a donor generation (materialized)
// are hard links to it instead of copies.
//
// With sync=false nothing is fsynced: the caller runs a barrier (syncfs)
// before anything refers to gens/<gen> (batched mode, config "syncfs").
// `before_rename`, when set, runs after the stage is complete and before
// it is named gens/<gen>, and the name is then fsynced: recovery in batched
// mode passes its barrier here, because a generation at or below the head
// must never have its name durable before its contents.
Status Materialize(Repository::Impl& r, uint64_t gen, const std::vector<store::TreeFile>& files,
                   const std::vector<uint64_t>& donors, bool sync,
                   const std::function<Status()>& before_rename = nullptr);

// Materialize's first half: the complete (and with sync, durable)
// directory of `gen` under tmp/; returns its name there. Everything in it is
// read-only except the top directory, which must stay writable while it
// moves to gens/ (a directory changing parent needs write permission on
// itself for its `..`). The caller puts it in place (fsck's repair swaps it
// in with RENAME_EXCHANGE) and then seals it with SealPlaced.
Result<std::string> StageGeneration(Repository::Impl& r, uint64_t gen,
                                    const std::vector<store::TreeFile>& files,
                                    const std::vector<uint64_t>& donors, bool sync);

// Makes gens/<gen>'s top directory read-only (0555), fsynced with sync.
Status SealPlaced(Env* env, int gens, uint64_t gen, bool sync);

// True when the repository batches durability into one syncfs barrier
// (config sync = "syncfs" or "single-flush").
bool BatchedSync(const Repository::Impl& r);
// True when a small generation is acknowledged after that barrier alone
// (config sync = "single-flush"; commit.cc, SingleFlushEligible).
bool SingleFlushSync(const Repository::Impl& r);
// The barrier: syncfs(2) on the repository's file system.
Status SyncBarrier(Repository::Impl& r);

// What a write operation wants published.
struct CommitPlan {
  git_oid tree;
  store::GenMeta meta;  // number, host, pid and time are filled in
  std::string author;
  std::vector<uint64_t> donors;  // generations to hard-link unchanged files from
  // The head the tree was computed against; Conflict if it moved.
  std::optional<git_oid> expected_head;
  // False only while adopting an existing directory as the live path.
  bool swap_live = true;
};

// The common tail of every write: commit object, materialize, THE COMMIT
// POINT (head ref CAS), live swap. Requires the writer lock.
Result<GenerationInfo> CommitGeneration(Repository::Impl& r, const WriterLock& lock,
                                        CommitPlan plan);

// The tail of CommitGeneration for a commit that already exists in the
// store with its own generation number in its trailers (a pull adopting the
// remote head, or the commit that resolves a diverged pull): make its
// objects durable, materialize gens/<its number>, THE COMMIT POINT (head
// ref CAS from `expected_head`), live swap. Requires the writer lock; the
// commit's number must be above the head's. Conflict if the head moved.
Result<GenerationInfo> AdoptCommit(Repository::Impl& r, const WriterLock& lock,
                                   const git_oid& commit,
                                   const std::optional<git_oid>& expected_head,
                                   const std::vector<uint64_t>& donors);

// gc --prune-history's commit point, on the commit path every write
// shares: the head moves from `expected` to `rewritten`, the same head
// generation on a rewritten (shorter) history whose objects are already
// durable. Nothing is materialized and the live link does not move.
// Conflict if the head moved. When the head ref was renamed but making it
// durable failed, the error is returned (the head has moved; the caller
// must not delete what the old history needs) and the lock is tainted.
Status CommitRewrittenHistory(Repository::Impl& r, const WriterLock& lock, const git_oid& rewritten,
                              const git_oid& expected);

// Recovery proper; requires the writer lock.
Result<RecoveryReport> RecoverLocked(Repository::Impl& r, const WriterLock& lock);
// thorough: also scan the object store for stray temp files (txdir recover).
Result<RecoveryReport> RecoverLocked(Repository::Impl& r, const WriterLock& lock, bool thorough);

// Takes the lock and recovers: the prologue of every write operation.
Result<WriterLock> LockForWrite(Repository::Impl& r);
// The same, waiting at most `timeout` instead of the repository's lock
// timeout (zero: one try).
Result<WriterLock> LockForWrite(Repository::Impl& r, std::chrono::milliseconds timeout,
                                bool describe_holder = true);

}  // namespace internal
}  // namespace txdir
