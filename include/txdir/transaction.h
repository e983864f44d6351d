// Transactions over a repository's file set, with optimistic concurrency.
//
//   auto tx = repo->Begin();                       // records the base generation
//   auto bytes = (*tx)->Read("todo_db.sdn");       // base + own writes
//   (*tx)->Write("todo_db.sdn", edited);
//   auto done = (*tx)->Commit({.message = "close #5", .strategy = Strategy::kMerge});
//
// Optimistic (default): nothing is locked until Commit, which takes the
// writer lock, and — if other generations were published since the base —
// merges: a path changed on one side only takes that side's version; a path
// changed on both sides (to different content) is resolved by the strategy:
//   kError            Conflict error listing the paths; nothing published.
//   kLastWriteWins    this transaction's version wins.
//   kLastModifiedWins a file a merge driver handles (merge_driver.h; built
//                     in: SDN tables, *.sdn, per record the newer
//                     last_modified wins) is merged by it; other files: the
//                     later write wins (this transaction's Write time
//                     against the publish time of the generation that
//                     changed the file).
//   kMerge            a file a merge driver handles is merged by it (SDN
//                     tables: record-level three-way merge, record_merge.h);
//                     other files: a Conflict, as kError.
// Commit then publishes one generation through the same commit protocol as
// Repository::Publish (docs/commit_protocol.md). A commit whose result equals
// the head publishes nothing (CommitResult::published = false).
//
// Group commit: a Commit that finds the writer lock taken queues itself,
// and the lock's next holder applies it after its own change, under this
// transaction's strategy, in the same generation (or this Commit takes the
// lock first and commits the queue itself). The result is the same as
// committing alone right after the transactions queued before it: the
// generation it reports may hold other writers' changes too, and a
// conflict fails this transaction alone. A writer that is killed while
// queued is either in a generation or not applied at all, never twice
// (docs/commit_protocol.md, "Group commit").
//
// Exclusive (BeginOptions::exclusive): Begin takes the writer lock (same
// timeout rules) and holds it until Commit or destruction, so Commit never
// conflicts. For callers that prefer to wait rather than retry.
//
// Thread safety: a Transaction is used by one thread, and its Repository
// must outlive it and not be used concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"
#include "txdir/record_edit.h"
#include "txdir/record_merge.h"
#include "txdir/repository.h"
#include "txdir/strategy.h"

namespace txdir {

struct BeginOptions {
  bool exclusive = false;
};

struct CommitOptions {
  std::string message;
  std::string author;
  Strategy strategy = Strategy::kError;
  std::string kind = "transaction";  // recorded as Txdir-Kind
};

struct CommitResult {
  bool published = false;                // false: nothing changed, no generation made
  GenerationInfo generation;             // the new generation (or the head if !published)
  std::vector<std::string> merged;       // paths changed on both sides and resolved
  std::vector<std::string> theirs_kept;  // paths where the other side's version won
  std::vector<Renumbered> renumbered;    // records renumbered by a merge driver
  // What each of EditRecords' edits did: by path, then in the order given.
  // Empty when a queued transaction's outcome came from recovery (the
  // writer that committed it died before answering): it is in `generation`,
  // but what each edit did is not known.
  std::vector<RecordEditResult> record_edits;
};

class Transaction {
 public:
  ~Transaction();

  // The generation this transaction started from; 0 before the first publish.
  uint64_t base_generation() const;

  // The file as this transaction sees it. NotFound if absent or removed.
  Result<std::string> Read(const std::string& path) const;
  Result<bool> Exists(const std::string& path) const;
  // Every path as this transaction sees it, sorted.
  Result<std::vector<std::string>> List() const;

  // Stages new content. InvalidArgument for an invalid path (path_check).
  Status Write(const std::string& path, std::string_view bytes, bool executable = false);
  Status Remove(const std::string& path);
  // Stages record edits of the SDN file at `path` (record_edit.h), applied
  // in order when the transaction commits. What they publish is what
  // Read, ApplyRecordEdit and Write here would have published, merged by
  // the strategy (a missing file is an empty document; an insert makes
  // it). When the edited records are as this transaction began, but the
  // file changed since (other records; transactions before it in the same
  // group commit), the edits are applied to the newer file directly, with
  // no merge of the whole file. An edit that cannot apply (no such record,
  // an unknown field) fails Commit with its own error; CommitResult::
  // record_edits says what each did. After a Write of `path` the edits
  // apply to the written content at once; a Write or Remove after them
  // replaces them. Read shows them applied.
  // Errors: InvalidArgument for an invalid path or edit (CheckRecordEdit).
  Status EditRecords(const std::string& path, std::vector<RecordEdit> edits);
  // Stages the complete contents of directory `dir` as the new file set:
  // files that differ from the base are written, files missing are removed.
  Status ReplaceAllFrom(const std::string& dir);

  // Publishes the staged changes (see the header comment). The transaction
  // is finished afterwards, whatever the outcome.
  // Errors: Conflict (lists the paths, or records for record merges),
  // Locked, Io, Corruption, InvalidArgument (e.g. an SDN file that does not
  // parse under kMerge), or a merge driver's error.
  Result<CommitResult> Commit(const CommitOptions& options = {});

  struct State;

 private:
  friend class Repository;
  explicit Transaction(std::unique_ptr<State> state);
  Result<std::string> WithEdits(const std::string& path,
                                const std::vector<RecordEdit>& edits) const;
  std::unique_ptr<State> state_;
};

// Runs `body` in a fresh transaction and commits it; on Conflict, starts
// over (a new Begin sees the newer head) up to `max_attempts` times. The
// body's own errors end the loop at once.
Result<CommitResult> RunTransaction(Repository& repo,
                                    const std::function<Status(Transaction&)>& body,
                                    const CommitOptions& options, int max_attempts = 10);

}  // namespace txdir
