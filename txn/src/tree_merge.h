// The three-way merge of two file sets against a common base, per
// strategy (strategy.h): the engine of Transaction::Commit (ours = the
// transaction's staged changes, theirs = the head published since its base)
// and of a diverged `pull --strategy` (ours = the local head's changes since
// the merge base, theirs = the remote head). Internal; not installed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/git_store.h"
#include "txdir/merge_driver.h"
#include "txdir/record_edit.h"
#include "txdir/record_merge.h"
#include "txdir/strategy.h"
#include "txn/src/merge_drivers.h"

namespace txdir::internal {

using FileMap = std::map<std::string, store::TreeFile>;

// One path as "ours" left it: nullopt file means removed. time_ms is when
// ours wrote it (kLastModifiedWins compares it with theirs_time_ms).
// Non-empty `edits`: record edits still to apply at commit (file unused);
// Transaction::Commit turns them into a file before MergeTrees sees them.
struct OurChange {
  std::optional<store::TreeFile> file;
  int64_t time_ms = 0;
  std::vector<RecordEdit> edits;
};

struct TreeMerge {
  FileMap files;                                 // the merged file set
  std::vector<std::string> merged;               // changed on both sides, resolved
  std::vector<std::string> theirs_kept;          // changed on both sides, theirs won
  std::vector<Renumbered> renumbered;            // records renumbered by a driver
  std::vector<std::string> conflicts;            // paths the strategy could not resolve
  std::vector<RecordConflict> record_conflicts;  // records a driver could not resolve
  bool conflicted() const { return !conflicts.empty() || !record_conflicts.empty(); }
};

// What the merges of one group commit share (CommitAsHolder): each merge's
// output is the next one's "theirs", and most transactions of a group began
// from the same base. Without it every merge wrote its output to the store
// and the next read it back and parsed it again, and parsed the base again.
// With it a merged file is kept in memory (its text, under the blob id it
// will have) and written once, if the group's final file set still has it;
// and each merge driver's Cache lives as long as it, so the SDN table
// driver parses a blob once per group.
class MergeCache {
 public:
  // The bytes of `blob`: a merged text not yet written, or from the store.
  Result<std::string> Read(const store::GitStore& store, const git_oid& blob);
  // Keeps `text` under its blob id, unwritten.
  Result<git_oid> Put(std::string text);
  // Writes every kept text and document that `files` refers to, giving each
  // document's file its real blob id; the rest are dropped.
  Status Flush(store::GitStore& store, std::map<std::string, store::TreeFile>* files);
  // `driver`'s Cache (MergeDriver::NewCache, made at the first call).
  MergeDriver::Cache* DriverCache(const MergeDriver& driver);

  // Record edits (Transaction::EditRecords) of one group edit the same
  // tables one after another. The document each edit leaves is kept,
  // unrendered, under a provisional blob id (random, never written; Flush
  // renders the ones the final file set holds), so the next edit of that
  // file neither reads, parses, renders nor hashes it. A kept document's
  // rows are its file's; its layout source is the text first parsed, which
  // Write renders every edit since into.
  // The document of `blob` (the file `path`, named in errors), shared with
  // the cache: parsed (seal checked) unless kept.
  Result<std::shared_ptr<const sdn::Document>> ReadDocument(const store::GitStore& store,
                                                            const std::string& path,
                                                            const git_oid& blob);
  // The document of `blob` to edit, taken out of the cache when `own` and
  // nothing else holds it (the caller then gives it back with Restore, or
  // under a new id with PutDocument), else a copy.
  Result<std::shared_ptr<sdn::Document>> TakeDocument(const store::GitStore& store,
                                                      const std::string& path, const git_oid& blob,
                                                      bool own);
  // Keeps `doc` under `blob` again (an edit that failed and left it as it was).
  void Restore(const git_oid& blob, std::shared_ptr<sdn::Document> doc);
  // Keeps `doc` under a new provisional blob id, which it returns.
  git_oid PutDocument(std::shared_ptr<sdn::Document> doc);

  // The files of `commit`, listed once per group: the queued transactions
  // of a group began from one of a few generations. nullptr when the store
  // has no such commit. Errors: ListTree's.
  Result<const FileMap*> CommitFiles(const store::GitStore& store, const git_oid& commit);
  // Whether a record edit applies to the newer version of its table
  // directly needs, of the version it began from, only the records it
  // edits. WantRecord names one that a transaction of the group will ask
  // BaseRecords for, so that one scan of that version answers them all.
  void WantRecord(const git_oid& blob, const std::string& table, const std::string& key);
  // The first table called `table` of `blob` (the file `path`, named in
  // errors) with its columns and, as rows, the records asked for (`key`
  // and those wanted before the scan) that it has; nullptr when it has no
  // such table. Read as LoadRecordDocument reads: seal checked, Parse's
  // errors; the rest of the table is not kept.
  Result<const sdn::Table*> BaseRecords(const store::GitStore& store, const std::string& path,
                                        const git_oid& blob, const std::string& table,
                                        const std::string& key);

 private:
  std::map<std::string, std::string> pending_;                         // blob id (hex) -> text
  std::map<std::string, std::shared_ptr<sdn::Document>> docs_;         // blob id (hex) -> document
  std::map<std::string, std::shared_ptr<sdn::Document>> provisional_;  // the same, unrendered
  std::set<std::string> made_;  // every provisional id PutDocument gave
  std::map<const MergeDriver*, std::unique_ptr<MergeDriver::Cache>> driver_caches_;
  std::map<std::string, FileMap> commit_files_;  // commit id (hex) -> its files
  std::map<std::string, std::string> read_;      // blob id (hex) -> text read from the store
  struct Records {
    std::set<std::string, std::less<>> keys;  // wanted, and (once scanned) asked for
    bool scanned = false;
    std::optional<sdn::Table> table;  // the scan's answer
  };
  std::map<std::pair<std::string, std::string>, Records> records_;  // (blob id, table)
};

// Applies `ours` (changes relative to `base`) on top of `theirs`. A path
// ours changed and theirs left as in base takes ours; a path changed on
// both sides to different content is resolved by `strategy` (see
// transaction.h), through the first of `drivers` that handles it
// (merge_driver.h). Merged blobs are written to `store` before it
// returns, or with `cache` kept there for the caller's MergeCache::Flush.
// Errors: a driver's (InvalidArgument for an SDN side that does not parse
// under a merging strategy), Io, Corruption. Conflicts are reported in the
// result, not as an error: the caller words the message.
Result<TreeMerge> MergeTrees(store::GitStore& store, const MergeDrivers& drivers, Strategy strategy,
                             const FileMap& base, const std::map<std::string, OurChange>& ours,
                             const FileMap& theirs, int64_t theirs_time_ms,
                             MergeCache* cache = nullptr);

// Every file of `tree`, by path.
Result<FileMap> TreeMap(const store::GitStore& store, const git_oid& tree);

bool SameFile(const std::optional<store::TreeFile>& a, const std::optional<store::TreeFile>& b);

}  // namespace txdir::internal
