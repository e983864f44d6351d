// Group commit: transactions that find the writer lock taken queue
// themselves, and the next lock holder commits all of them in one
// generation (docs/commit_protocol.md, "Group commit").
//
// A queued writer does not wait for a turn of its own: it writes a request
// (its base commit, the blobs it staged, its strategy, message and author;
// the blobs are already in the object store) to .txdir/queue/ and polls for
// its outcome. Whoever holds the lock next — a writer that got it, or a
// queued writer whose poll took it — claims every queued request, applies
// them after its own changes in queue order, each under its own strategy,
// publishes one generation and writes each request's outcome: the
// generation its change landed in, or its own error (a conflict under its
// strategy fails that request alone).
//
// Files in .txdir/queue/ (on_disk_format.md), none of them fsynced: only a
// live process waits for one, and a power loss ends every process.
//   <id>.req      a request, renamed in from tmp/ once complete. Its writer
//                 holds an exclusive flock on it for as long as it waits, so
//                 a request whose writer died (a free flock) is dropped, not
//                 applied: nobody would hear of it.
//   <id>.claimed  a request a lock holder took (rename: the writer cancels
//                 by unlinking <id>.req, so exactly one of the two wins).
//   <id>.done     the outcome, renamed in complete beside the claim; its
//                 writer reads it, then removes it and the claim. A claim's
//                 free flock tells recovery that nobody will.
// A generation that took queued requests lists their ids in Txdir-Queued
// trailers, written with the commit itself: recovery, finding <id>.claimed
// left by a holder that died, knows from the head whether it landed
// (outcome written) or not (queued again). So a request is applied once or
// not at all, never half and never twice.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "txdir/transaction.h"
#include "txn/src/repo_impl.h"
#include "txn/src/tree_merge.h"

namespace txdir::internal {

// One transaction to apply under the writer lock.
struct PendingTx {
  std::string id;  // its queue id; empty for the lock holder's own
  std::optional<git_oid> base_commit;
  uint64_t base_gen = 0;
  std::map<std::string, OurChange> changes;
  Strategy strategy = Strategy::kError;
  std::string message, author, kind;
  // A queued request: its writer reads the outcome from the request file
  // (WriteOutcome), whose request line is this long.
  bool answer_in_file = false;
  size_t request_bytes = 0;
};

// Most requests one generation takes in; the rest wait for the next.
inline constexpr size_t kMaxGroup = 256;

// A request in the queue, for as long as its writer waits.
class QueuedRequest {
 public:
  QueuedRequest(QueuedRequest&&) noexcept = default;
  ~QueuedRequest();
  const std::string& id() const { return id_; }
  int queue() const { return queue_.get(); }  // .txdir/queue, open for the polls

 private:
  friend Result<QueuedRequest> Enqueue(Repository::Impl& r, const PendingTx& tx);
  QueuedRequest(std::string id, Fd queue, Fd held)
      : id_(std::move(id)), queue_(std::move(queue)), held_(std::move(held)) {}
  std::string id_;
  Fd queue_;
  Fd held_;  // the request file, flocked exclusively: "its writer is alive"
};

// Writes `tx` as a request (tmp/ then renamed into queue/). The caller must
// have made the blobs of its changes durable already in fsync mode (in
// syncfs mode the holder's barrier covers them).
Result<QueuedRequest> Enqueue(Repository::Impl& r, const PendingTx& tx);

// Removes the request if no holder has claimed it. True: cancelled, it will
// never be applied; false: a holder has it, an outcome will follow.
Result<bool> Cancel(Repository::Impl& r, const QueuedRequest& q);

// The request's outcome, if written (and then removed): the commit result,
// or the request's own error.
Result<std::optional<Result<CommitResult>>> TakeOutcome(Repository::Impl& r,
                                                        const QueuedRequest& q);

// True while the request waits unclaimed.
Result<bool> StillQueued(Repository::Impl& r, const QueuedRequest& q);

// A claimed request: its transaction, or why it cannot be applied.
struct Claimed {
  std::string id;
  std::optional<PendingTx> tx;  // nullopt: unreadable, `error` says why
  Error error;
};

// Under the writer lock: claims up to `max` queued requests, oldest first,
// and `must` (the caller's own request, if it has one) whatever its place.
// Requests whose writer died are removed, not returned.
Result<std::vector<Claimed>> ClaimQueued(Repository::Impl& r, size_t max,
                                         const std::string& must = "");

// Removes the claim on the caller's own request (it learns its outcome
// directly).
Status RemoveClaim(Repository::Impl& r, const std::string& id);

// Under the writer lock: writes a claimed request's outcome; `tx` is the
// request as claimed (null: it could not be read). Appended to the claim,
// renamed to <id>.done, when the request asks for that; else a file of its
// own beside the claim. Its writer then removes what it read. For a writer
// that has died the claim is removed instead.
Status WriteOutcome(Repository::Impl& r, const std::string& id, const Result<CommitResult>& o,
                    const PendingTx* tx);

// Recovery's step for the queue (under the writer lock): a claim left by a
// holder that died is answered from the head (its generation names it) or
// queued again; requests, claims and outcomes of writers that died are
// removed. Leaves nothing for a second run to do.
Status RecoverQueue(Repository::Impl& r, std::vector<std::string>* actions);

}  // namespace txdir::internal
