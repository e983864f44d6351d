// Verification (`txdir fsck`): is the store whole, does every materialized
// generation hold exactly its files, does the live link show the head?
//
// Checks, read-only:
//  - store: refs/heads/main names a commit; every commit reachable from it
//    parses, has Txdir trailers that parse, generation numbers strictly
//    decrease along the chain; every tree and blob they reference exists
//    and hashes to its id; every other ref resolves to an object;
//  - generations: every gens/<N> holds exactly generation N's files with
//    their recorded hashes and modes (Repository::VerifyGeneration). A file
//    whose bytes no longer match is a published file edited in place; the
//    report names every generation sharing its inode (hard links share the
//    damage);
//  - the live link points at the head's generation;
//  - every `.sdn` file of the head generation that starts with a
//    `#sdn-crc32:` seal matches it (sdn::VerifySeal);
//  - .txdir/tmp holds no leftover of a writer that did not finish (a stage
//    or temp file no live process holds a flock on; not judged while
//    another process holds the writer lock).
//
// With repair: under the writer lock (which runs recovery: the live link is
// moved to the head), each damaged generation is materialized anew from the
// store, with fresh copies that share nothing, and swapped in with one
// renameat2(RENAME_EXCHANGE) — readers see the damaged or the repaired
// directory, never a missing one. Store damage cannot be repaired.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "txdir/error.h"
#include "txdir/progress.h"
#include "txdir/repository.h"

namespace txdir {

struct FsckOptions {
  bool repair = false;
  // Stages "checking objects" (objects hashed so far, along the history
  // from the head; total not known) and "checking generations" (generation
  // directories compared with their trees). With repair the check runs
  // twice (before and after repairing), and reports both times.
  ProgressFn progress;
};

struct FsckProblem {
  std::string area;  // "store", "generation", "live", "sdn", "tmp"
  std::optional<uint64_t> generation;
  std::string path;  // file inside the generation, or a store path
  std::string problem;
  // For an edited-in-place file: every "N/path" that shares its inode.
  std::vector<std::string> shared_with;
};

struct FsckReport {
  uint64_t commits_checked = 0;
  uint64_t objects_checked = 0;
  std::vector<uint64_t> generations_checked;
  std::optional<uint64_t> head;
  std::optional<uint64_t> live;
  std::vector<FsckProblem> problems;  // after repair: what is still wrong
  std::vector<std::string> repaired;  // one line per repair made
  std::vector<std::string> notes;     // harmless findings (e.g. a pinned pruned generation)
  bool clean() const { return problems.empty(); }
};

// Errors only when the check itself cannot run (no repository, lock
// timeout with repair); damage is reported in FsckReport::problems.
Result<FsckReport> Fsck(Repository& repo, const FsckOptions& options = {});

}  // namespace txdir
