// Internals of retention (gc.cc, prune.cc), verification (fsck.cc) and the
// pre-publish hook (hook.cc). Not installed.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "txdir/retention.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

// gc under a writer lock the caller holds (CollectGarbage, automatic gc
// after a write).
Result<GcReport> CollectGarbageLocked(Repository::Impl& r, const WriterLock& lock,
                                      const GcOptions& options);

// Automatic gc after a successful write (config gc.auto): directories only,
// with the configured policy. Never fails the write: errors are logged as
// warnings.
void AutoGcAfterWrite(Repository::Impl& r, const WriterLock& lock, GenerationInfo* info);

// Drops every generation not in `retain` from the store and repacks
// (docs/commit_protocol.md, "GC"). Requires the writer lock. Fills the
// history_* and store_bytes_* fields of `report`; `progress` as
// GcOptions::progress.
Status PruneHistoryLocked(Repository::Impl& r, const WriterLock& lock,
                          const std::set<uint64_t>& retain, bool dry_run,
                          const ProgressFn& progress, GcReport* report);

// Recovery's part for an interrupted repack: removes temp pack files, pack
// lock files, and a .pack without its .idx (or the reverse) in
// objects/pack. Requires the writer lock.
Status RecoverPackDir(Env* env, const std::string& git_dir, RecoveryReport* report);

// Total size (allocated bytes) of everything under `path`.
uint64_t TreeBytes(Env* env, const std::string& path);

// Runs hooks.pre_publish on the staged (materialized, uncommitted) gens/<gen>.
// InvalidArgument with the hook's output when it exits non-zero.
Status RunPrePublishHook(Repository::Impl& r, uint64_t gen);

}  // namespace txdir::internal
