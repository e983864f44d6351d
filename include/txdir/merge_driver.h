// Merge drivers: how a commit merges a file that both sides changed.
//
// Transaction::Commit (transaction.h) and a diverged Pull with a strategy
// (replication.h) merge three file sets: the base, ours and theirs. A path
// that both sides changed to different content, and neither removed, is
// offered under kMerge and kLastModifiedWins to the repository's merge
// drivers in order; the first whose Handles(path) is true merges it. With
// no driver for the path, kMerge reports it as a conflict and
// kLastModifiedWins keeps the later write (transaction.h). kError and
// kLastWriteWins never consult a driver.
//
// The order: the drivers added with AddMergeDriver, in the order added,
// then the built-in SDN table driver, which handles "*.sdn"
// (sdn::IsTablesPath) with the record-level merge of record_merge.h. A
// driver added for some *.sdn paths therefore takes them over.
//
//   class CounterDriver : public txdir::MergeDriver {  // "*.counter": one integer
//     bool Handles(const std::string& path) const override {
//       return path.ends_with(".counter");
//     }
//     txdir::Result<txdir::MergeOutput> Merge(const txdir::MergeInput& in,
//                                             Cache*) const override { ... }
//   };
//   txdir::AddMergeDriver(*repo, std::make_shared<CounterDriver>());
//
// Drivers belong to one Repository handle, not to the repository on disk:
// a commit that queues behind another writer is merged by that writer
// (group commit, transaction.h), with that writer's drivers. Every process
// that commits to a repository with a strategy that merges must add the
// same drivers, or a file changed on both sides may be merged in one
// commit and a conflict in another. The txdir command has the built-in
// driver only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"
#include "txdir/record_merge.h"
#include "txdir/repository.h"
#include "txdir/strategy.h"

namespace txdir {

// One version of the file being merged. Its bytes are read only if asked
// for: a driver that kept what it made of these bytes (see
// MergeDriver::Cache) need not read them again.
class MergeSide {
 public:
  // `read` yields the bytes; it is called once, at the first bytes().
  MergeSide(std::string id, std::function<Result<std::string>()> read);

  // Names the content: two sides with equal ids hold equal bytes, in this
  // merge and in every other merge of the same commit (it is the git blob
  // id, hex). The key for what a driver keeps in its Cache.
  const std::string& id() const { return id_; }

  // The file's bytes, valid while this side lives. Errors: Io, Corruption
  // (the store could not read them).
  Result<std::string_view> bytes() const;

 private:
  std::string id_;
  std::function<Result<std::string>()> read_;
  mutable std::optional<Result<std::string>> bytes_;
};

// A path changed on both sides, as a driver receives it.
struct MergeInput {
  std::string path;                      // relative, '/'-separated
  Strategy strategy = Strategy::kMerge;  // kMerge or kLastModifiedWins
  std::optional<MergeSide> base;         // nullopt: both sides added the file
  // The committing transaction's version (a pull: the local head's).
  MergeSide ours;
  // The version published since the base (a pull: the remote head's).
  MergeSide theirs;
};

// What a driver made of a MergeInput. Either the file merged (`bytes`,
// with `renumbered`), or a conflict: `conflict` for the file as a whole,
// or `record_conflicts` for parts of it. A conflict fails the commit with
// Code::kConflict and the message lists it (as a path changed on both
// sides, or as `path:table id: kind (fields)`); `bytes` is then ignored.
struct MergeOutput {
  std::string bytes;  // the merged file; it keeps ours's mode
  bool conflict = false;
  // `table` names the part of the file (an SDN table); the caller prefixes
  // the path ("todo_db.sdn:todos").
  std::vector<RecordConflict> record_conflicts;
  // Reported as they are in CommitResult::renumbered (PullResult likewise).
  std::vector<Renumbered> renumbered;
  bool conflicted() const { return conflict || !record_conflicts.empty(); }
};

// Merges the files it handles. Stateless apart from its Cache; Handles,
// NewCache and Merge are called by whichever thread uses the Repository it
// was added to, so a driver added to Repository handles used on several
// threads must allow concurrent calls.
class MergeDriver {
 public:
  // What a driver keeps across the merges of one commit (a Commit, with
  // the transactions its group commit takes in, or a Pull's resolving
  // generation): a group commit merges many transactions in one, most from
  // the same base, each merge's output being the next one's theirs (the
  // SDN table driver keeps every parsed side by MergeSide::id, so each
  // blob is parsed once per group). Made by NewCache at the commit's first
  // merge by this driver, destroyed when the commit ends; used by one
  // thread.
  class Cache {
   public:
    virtual ~Cache() = default;
  };

  virtual ~MergeDriver() = default;

  // Whether this driver merges the file at `path` (decided by the path
  // alone; it is asked before any bytes are read).
  virtual bool Handles(const std::string& path) const = 0;

  // A new, empty Cache; nullptr (the default) when the driver keeps none.
  virtual std::unique_ptr<Cache> NewCache() const { return nullptr; }

  // Three-way merge of `input` under input.strategy. `cache` is what
  // NewCache returned for this commit (nullptr if it returned nullptr).
  // An error ends the commit with it, publishing nothing: kInvalidArgument
  // naming input.path for a side the driver cannot read as its format
  // (not a conflict: retrying will not help).
  virtual Result<MergeOutput> Merge(const MergeInput& input, Cache* cache) const = 0;
};

// Adds `driver` to `repo`'s handle, after the drivers added before it and
// ahead of the built-in SDN table driver; from the next merge on, every
// Commit of a transaction begun on `repo`, and Pull, consult it. For the
// life of the handle: there is no removal. InvalidArgument when `driver`
// is null. Thread safety: as Repository (not during another call on it).
Status AddMergeDriver(Repository& repo, std::shared_ptr<const MergeDriver> driver);

}  // namespace txdir
