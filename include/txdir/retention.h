// Retention: removing old generations without ever breaking a reader, and
// the repository's settings (`txdir gc`, `txdir config`).
//
//   txdir::GcOptions o;
//   o.keep = 3;                                   // the newest 3 generations
//   o.keep_within = std::chrono::hours(24 * 7);   // and everything from the last week
//   auto report = txdir::CollectGarbage(*repo, o);
//
// The policy: a generation is KEPT when it is among the newest `keep`
// generations OR younger than `keep_within` (both rules keep; neither
// removes what the other keeps). The live generation is always kept. A
// generation a reader has pinned (a Snapshot, `txdir run`, anything holding
// flock(LOCK_SH) on its directory) is never removed: it is skipped and
// reported, and a later gc removes it once the reader has left.
//
// Unset options come from the repository's config (gc.keep, gc.keep_within),
// else keep = 10 and no age rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "txdir/error.h"
#include "txdir/progress.h"
#include "txdir/repository.h"

namespace txdir {

struct GcOptions {
  std::optional<uint64_t> keep;  // >= 1
  std::optional<std::chrono::milliseconds> keep_within;
  // Report what would be removed; change nothing (takes the writer lock
  // only to see a stable state).
  bool dry_run = false;
  // Also drop generations outside the policy from the store and reclaim
  // their space (docs/commit_protocol.md, "GC"): the retained history is
  // rewritten (same trees, metadata and generation numbers; new commit
  // ids), the head ref moved to it (the commit point), the reachable
  // objects repacked into one pack, and unreachable objects and old packs
  // deleted. Pruned generations then give NotFound everywhere.
  bool prune_history = false;
  // Stages "removing generations" (directories removed of those to
  // remove), and with prune_history "rewriting history" (generations),
  // "counting objects", "compressing objects" and "writing objects" (the
  // new pack, with its bytes).
  ProgressFn progress;
};

struct GcReport {
  uint64_t keep = 0;  // the policy applied
  std::optional<int64_t> keep_within_ms;
  std::optional<uint64_t> live;   // never removed
  std::vector<uint64_t> removed;  // directories removed (dry run: would be)
  std::vector<uint64_t> kept;     // materialized directories kept
  std::vector<uint64_t> pinned;   // outside the policy but pinned by a reader: skipped
  uint64_t bytes_freed = 0;       // by the removed directories (dry run: would be)
  // --prune-history only.
  std::vector<uint64_t> history_pruned;  // generations dropped from the store (dry run: would be)
  uint64_t history_kept = 0;             // generations left in the store
  uint64_t store_bytes_before = 0;       // size of store.git/objects
  uint64_t store_bytes_after = 0;
  bool dry_run = false;
};

// Requires nothing; takes the writer lock (and runs recovery) for its whole
// duration. Errors: InvalidArgument (keep 0), Locked, Io, Corruption.
// Pinned generations are not an error. Crash-safe at every step.
//
// A transaction (or `txdir exec`) that wrote objects before a
// prune_history run and commits after it fails with Conflict, publishing
// nothing (its objects were unreachable when the prune ran); run it again
// (RunTransaction and `exec --retry` do).
// Store readers (`txdir log`, `show`) running during a prune may fail once
// (NotFound, or Corruption for a tree or file whose objects went away under
// them) and succeed when retried.
Result<GcReport> CollectGarbage(Repository& repo, const GcOptions& options);

// --- settings (`txdir config`): lock_timeout_ms, sync, gc.keep,
// gc.keep_within, gc.auto, hooks.pre_publish, live_path (read-only).

// Every key with its effective value; unset keys without a default have
// nullopt.
Result<std::vector<std::pair<std::string, std::optional<std::string>>>> ListConfig(
    const std::string& root);
// Every key the repository's config knows, in ListConfig's order.
const std::vector<std::string>& ConfigKeys();
// InvalidArgument for an unknown key; nullopt when unset.
Result<std::optional<std::string>> GetConfig(const std::string& root, const std::string& key);
// Validates and writes config.json atomically under the writer lock.
// nullopt unsets the key. InvalidArgument with a clear message for a bad
// key or value. Takes effect for repositories opened afterwards.
Status SetConfig(const std::string& root, const std::string& key,
                 const std::optional<std::string>& value);

// "7d", "12h", "30m", "45s", "2w", "1d12h", "500ms".
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace txdir
