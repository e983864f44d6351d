// The commit path every write operation shares (publish, rollback,
// transaction commit, exec, pull, and gc --prune-history's head move), with
// its one commit point, MoveHead; and reading generations back.
#include <unistd.h>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "store/logging.h"
#include "txn/src/host_info.h"
#include "txn/src/repo_impl.h"
#include "txn/src/retention_internal.h"
#include "txn/src/single_flush.h"
#include "txn/src/trust.h"

namespace txdir::internal {

Result<std::optional<Head>> ReadHead(Repository::Impl& r) {
  auto head = TXDIR_TRY(r.store->Head());
  if (!head) return std::optional<Head>();
  Head h;
  h.commit = *head;
  h.tree = TXDIR_TRY(r.store->CommitTree(*head));
  h.meta = TXDIR_TRY(r.store->ReadMeta(*head));
  return std::optional<Head>(h);
}

Result<git_oid> FindGeneration(Repository::Impl& r, uint64_t number) {
  store::GenerationWalk walk(*r.store, TXDIR_TRY(r.store->Head()));
  while (TXDIR_TRY(walk.Next())) {
    const store::GenMeta meta = TXDIR_TRY(walk.Meta());
    if (meta.number == number) return walk.commit();
    // Numbers decrease strictly along the chain: stop early.
    if (meta.number < number) break;
  }
  return MakeError(Code::kNotFound, "no generation " + std::to_string(number));
}

namespace {

// A generation's description from its metadata and ids.
GenerationInfo Describe(const store::GenMeta& meta, const git_oid& commit, const git_oid& tree,
                        std::string author) {
  GenerationInfo g;
  g.number = meta.number;
  g.kind = meta.kind;
  g.restores = meta.restores;
  g.message = meta.message;
  g.host = meta.host;
  g.pid = meta.pid;
  g.time_ms = meta.time_ms;
  g.author = std::move(author);
  g.commit = store::OidHex(commit);
  g.tree = store::OidHex(tree);
  return g;
}

}  // namespace

Result<GenerationInfo> DescribeCommit(const store::GitStore& st, const git_oid& commit) {
  auto meta = TXDIR_TRY(st.ReadMeta(commit));
  GenerationInfo g =
      Describe(meta, commit, TXDIR_TRY(st.CommitTree(commit)), TXDIR_TRY(st.CommitAuthor(commit)));
  if (auto parent = TXDIR_TRY(st.CommitParent(commit)))
    g.parent = TXDIR_TRY(st.ReadMeta(*parent)).number;
  else
    g.history_pruned = meta.number > 1;
  return g;
}

Result<GenerationInfo> DescribeCommit(Repository::Impl& r, const git_oid& commit) {
  return DescribeCommit(*r.store, commit);
}

namespace {

// What a write reports once its commit point has passed. Nothing after the
// commit point may turn it into a failure (the caller would publish again),
// so a description that cannot be read back from the store is built from
// what the writer already knows.
GenerationInfo Committed(Repository::Impl& r, const git_oid& commit, const git_oid& tree,
                         const store::GenMeta& meta, const std::string& author,
                         const std::optional<Error>& live_error) {
  GenerationInfo info;
  if (auto described = DescribeCommit(r, commit)) {
    info = std::move(*described);
  } else {
    store::LogWarning(
        "generation ", meta.number,
        " is committed; reading its description back failed: ", described.error().ToString());
    info = Describe(meta, commit, tree, author);
  }
  if (live_error) {
    info.live_pending = true;
    info.live_error = live_error->ToString();
    store::LogWarning("generation ", meta.number,
                      " is committed but the live link could not be moved yet: ", info.live_error);
  }
  return info;
}

// True when the store's head is `commit` (read back after a failed SetHead:
// it fails either before its rename, nothing changed, or after it).
bool HeadIs(Repository::Impl& r, const git_oid& commit) {
  auto head = r.store->Head();
  return head && *head && store::OidEqual(**head, commit);
}

}  // namespace

namespace {

// The order of the commit protocol's steps as this process runs them:
// always the documented one (docs/commit_protocol.md), except in the power-
// loss suite's self-test, which sets TXDIR_BROKEN to deliberately broken
// variants and must see each one caught. Read once per commit, here, so the
// protocol below has no test branches of its own beyond these flags.
struct ProtocolOrder {
  bool sync_objects = true;  // fsync mode: objects durable before the rest
  bool barrier = true;       // syncfs mode: one barrier before the commit point
  bool ref_first = false;    // the commit point before the generation's directory
  bool live_first = false;   // the live link before the commit point
  bool final_flush = true;   // syncfs mode: one flush after the ref and link renames
};

ProtocolOrder OrderUnderTest() {
  ProtocolOrder o;
  o.sync_objects = !TXDIR_BROKEN("no-objects-sync");
  o.barrier = !TXDIR_BROKEN("no-syncfs-barrier");
  o.ref_first = TXDIR_BROKEN("ref-before-materialize");
  o.live_first = TXDIR_BROKEN("swap-before-commit");
  o.final_flush = !TXDIR_BROKEN("no-final-syncfs");
  return o;
}

// The error of a flush that failed after the head's rename: every reader
// and writer sees the new head, whether it survives a power loss is not
// known.
Error OutcomeUnknown(Error e) {
  e.message =
      "commit outcome unknown (the head ref was renamed but could not be made durable; "
      "`txdir status` shows what is committed): " +
      e.message;
  return e;
}

// Syncfs mode's flush after the commit point: one syncfs makes the head
// ref's rename and the live link's durable together (SetHead and SwapLive
// leave them to it). A power loss before it returns may keep either rename
// and lose the other; recovery completes a head move whose link already
// moved (RecoverLocked, step 2) and moves a link that lags the head. A
// failure taints the lock, so the next writer recovers.
std::optional<Error> FlushAfterCommitPoint(Repository::Impl& r, const WriterLock& lock,
                                           const ProtocolOrder& order) {
  if (!BatchedSync(r) || !order.final_flush) return std::nullopt;
  if (auto s = SyncBarrier(r); !s) {
    lock.Taint();
    return OutcomeUnknown(s.error());
  }
  return std::nullopt;
}

// What makes the head ref's new content durable with everything before it:
// in batched mode (config sync = "syncfs" or "single-flush") one syncfs, run
// by SetHead between writing the new ref and renaming it into place; in
// fsync mode nothing extra (SetHead fsyncs the ref and its directory).
std::function<Status()> BarrierFor(Repository::Impl& r, const ProtocolOrder& order) {
  if (!BatchedSync(r)) return {};
  return [&r, barrier = order.barrier]() -> Status { return barrier ? SyncBarrier(r) : Ok(); };
}

// The barrier of a generation acknowledged after one flush. Its ack record
// is written before it, so once the barrier has started, a power loss
// before the next flush may leave that record, main.lock and every object
// whole, and recovery would then complete the commit: a failed barrier
// leaves the outcome unknown, not "nothing published". It taints the lock,
// so the next writer recovers.
std::function<Status()> SingleFlushBarrier(std::function<Status()> barrier, const WriterLock& lock,
                                           uint64_t number) {
  return [barrier = std::move(barrier), &lock, number]() -> Status {
    auto s = barrier();
    if (s) return s;
    lock.Taint();
    Error e = s.error();
    e.message = "commit outcome unknown (the flush before the commit point failed; generation " +
                std::to_string(number) +
                " is not live, but a power loss before the next flush may still commit it; "
                "`txdir status` shows what is committed): " +
                e.message;
    return tl::unexpected(e);
  };
}

// THE COMMIT POINT of every write: the head ref moves from `expected` to
// `commit`, compare-and-swap. A failure before the rename changed nothing
// and is returned. A failure after it (the ref was renamed, so every reader
// and writer now sees the new head, but its durability is not known) means
// the commit point has passed: it is returned as the value, for the caller
// to report, and taints the lock so that the next writer runs recovery.
Result<std::optional<Error>> MoveHead(Repository::Impl& r, const WriterLock& lock,
                                      const git_oid& commit, const std::optional<git_oid>& expected,
                                      const std::function<Status()>& barrier) {
  auto set = r.store->SetHead(commit, expected, barrier);
  if (set) return std::optional<Error>();
  if (!HeadIs(r, commit)) return tl::unexpected(set.error());
  lock.Taint();
  return std::optional<Error>(set.error());
}

// What differs between a new generation and an adopted commit; the rest of
// the tail is one.
struct Tail {
  git_oid commit;
  git_oid tree;
  store::GenMeta meta;
  std::string author;
  std::optional<git_oid> expected;  // the head the commit was made against
  std::vector<uint64_t> donors;
  bool swap_live = true;
  bool run_hook = true;  // the pre-publish hook (never for an adopted commit)
  bool auto_gc = true;   // gc.auto after the write
  // Failpoint names of the four steps ("commit.*" or "adopt.*"): the crash
  // suites name them.
  const char* objects_synced;
  const char* materialized;
  const char* head_updated;
  const char* live_swapped;
};

// The generation's objects durable, its directory materialized (and
// checked by the hook), THE COMMIT POINT (head ref CAS), the live link
// moved; then gc.auto. Requires the writer lock and the head at
// `t.expected` (checked by the caller, again by the CAS).
Result<GenerationInfo> CommitTail(Repository::Impl& r, const WriterLock& lock, const Tail& t) {
  const ProtocolOrder order = OrderUnderTest();
  // In batched mode (config sync = "syncfs") nothing is fsynced here: one
  // syncfs before the commit point makes the objects, the generation's
  // directory and the ref's new content durable together. In fsync mode
  // objects are fsynced as written (a fetch's packs by libgit2), and their
  // directories here.
  const bool batched = BatchedSync(r);
  if (!batched && order.sync_objects) TXDIR_CHECK(r.store->SyncObjects());
  TXDIR_FAILPOINT(t.objects_synced);

  // The generation's files (this also brings its trees into libgit2's
  // cache for the count below).
  auto files = TXDIR_TRY(r.store->ListTree(t.tree));
  // Single-flush mode, and a small generation one step above the head: it
  // is acknowledged after the barrier alone, its ack record written now so
  // that the barrier makes it durable (single_flush.h).
  const bool single_flush = TXDIR_TRY(SingleFlushEligible(r, t.commit, t.tree, t.expected));
  std::function<Status()> barrier = BarrierFor(r, order);
  if (single_flush) {
    TXDIR_CHECK(WriteAckRecord(r, t.meta.number, t.commit));
    barrier = SingleFlushBarrier(std::move(barrier), lock, t.meta.number);
  }
  if (order.ref_first) TXDIR_CHECK(r.store->SetHead(t.commit, t.expected, barrier));

  // The generation's directory, complete and durable, not yet live.
  TXDIR_CHECK(Materialize(r, t.meta.number, files, t.donors, /*sync=*/!batched));
  TXDIR_FAILPOINT(t.materialized);

  // The pre-publish hook validates the staged generation; a rejection
  // publishes nothing (the directory is an orphan above the head until
  // removed here, or by recovery if we die first).
  if (t.run_hook && !r.config.pre_publish_hook.empty()) {
    if (auto s = RunPrePublishHook(r, t.meta.number); !s) {
      if (auto gens = internal::OpenMetaDir(r.env, r.layout, "gens")) {
        (void)fs::RemoveTree(r.env, gens->get(), std::to_string(t.meta.number));
        (void)fs::FsyncDir(r.env, gens->get());
      }
      return tl::unexpected(s.error());
    }
    TXDIR_FAILPOINT("commit.hook_passed");
  }

  const bool swapped = order.live_first && t.swap_live;
  if (swapped) TXDIR_CHECK(SwapLive(r.env, r.layout, t.meta.number));

  // THE COMMIT POINT: the head ref moves, compare-and-swap.
  if (!order.ref_first) {
    if (auto not_durable = TXDIR_TRY(MoveHead(r, lock, t.commit, t.expected, barrier))) {
      // Every reader and writer sees the new head, so this is no failure;
      // the link stays behind for the recovery the taint makes the next
      // writer run.
      return Committed(r, t.commit, t.tree, t.meta, t.author, not_durable);
    }
  }
  TXDIR_FAILPOINT(t.head_updated);

  // The live link follows. The generation is committed and durable
  // whatever happens now, so a failure to move the link is not a failure
  // of the operation: success with live_pending, the link left to the next
  // writer's recovery (a crash here leaves it one generation behind, which
  // recovery moves forward too).
  std::optional<Error> live_error;
  if (t.swap_live && !swapped) {
    if (auto s = SwapLive(r.env, r.layout, t.meta.number, /*sync=*/!batched); !s)
      live_error = s.error();
  }
  TXDIR_FAILPOINT(t.live_swapped);
  // Single-flush mode leaves both renames to the next flush (any later
  // write's barrier), and to recovery after a power loss before it.
  if (!single_flush) {
    if (auto not_durable = FlushAfterCommitPoint(r, lock, order))
      return Committed(r, t.commit, t.tree, t.meta, t.author, not_durable);
  }
  GenerationInfo info = Committed(r, t.commit, t.tree, t.meta, t.author, live_error);
  if (info.live_pending) {
    lock.Taint();
    return info;
  }
  // Automatic gc (config gc.auto), still under the writer lock; it never
  // fails the write.
  if (t.auto_gc && r.config.gc_auto && t.swap_live) AutoGcAfterWrite(r, lock, &info);
  return info;
}

// Conflict unless the head is `expected` (nullopt: no head yet).
Result<std::optional<Head>> HeadAt(Repository::Impl& r, const std::optional<git_oid>& expected) {
  auto head = TXDIR_TRY(ReadHead(r));
  const bool matches = head.has_value() == expected.has_value() &&
                       (!head || store::OidEqual(head->commit, *expected));
  if (!matches)
    return MakeError(Code::kConflict, "another writer published since this operation began");
  return head;
}

}  // namespace

Result<GenerationInfo> CommitGeneration(Repository::Impl& r, const WriterLock& lock,
                                        CommitPlan plan) {
  auto head = TXDIR_TRY(HeadAt(r, plan.expected_head));
  Tail t{.objects_synced = "commit.objects_synced",
         .materialized = "commit.materialized",
         .head_updated = "commit.head_updated",
         .live_swapped = "commit.live_swapped"};
  t.meta = std::move(plan.meta);
  t.meta.number = head ? head->meta.number + 1 : 1;
  t.meta.host = HostName();
  t.meta.pid = ::getpid();
  t.meta.time_ms = store::NowMs();
  t.author = plan.author.empty() ? DefaultAuthor() : std::move(plan.author);
  t.tree = plan.tree;
  t.expected = plan.expected_head;
  t.donors = std::move(plan.donors);
  t.swap_live = plan.swap_live;
  t.run_hook = t.meta.kind != "adopt";
  t.commit = TXDIR_TRY(r.store->WriteCommit(
      t.tree, head ? std::optional<git_oid>(head->commit) : std::nullopt, t.meta, t.author));
  TXDIR_FAILPOINT("commit.objects_written");
  return CommitTail(r, lock, t);
}

Result<GenerationInfo> AdoptCommit(Repository::Impl& r, const WriterLock& lock,
                                   const git_oid& commit, const std::optional<git_oid>& expected,
                                   const std::vector<uint64_t>& donors) {
  auto head = TXDIR_TRY(HeadAt(r, expected));
  Tail t{.objects_synced = "adopt.objects_synced",
         .materialized = "adopt.materialized",
         .head_updated = "adopt.head_updated",
         .live_swapped = "adopt.live_swapped"};
  t.commit = commit;
  t.meta = TXDIR_TRY(r.store->ReadMeta(commit));
  if (head && t.meta.number <= head->meta.number)
    return MakeError(Code::kCorruption, "commit " + store::OidHex(commit) + " has generation " +
                                            std::to_string(t.meta.number) +
                                            ", not above the head's " +
                                            std::to_string(head->meta.number));
  t.tree = TXDIR_TRY(r.store->CommitTree(commit));
  t.expected = expected;
  t.donors = donors;
  // A pulled generation is someone else's publish: their hook ran there.
  t.run_hook = false;
  t.auto_gc = false;
  return CommitTail(r, lock, t);
}

Status CommitRewrittenHistory(Repository::Impl& r, const WriterLock& lock, const git_oid& rewritten,
                              const git_oid& expected) {
  const ProtocolOrder order = OrderUnderTest();
  auto not_durable = TXDIR_TRY(MoveHead(r, lock, rewritten, expected, BarrierFor(r, order)));
  if (!not_durable) not_durable = FlushAfterCommitPoint(r, lock, order);
  // The old objects must outlive a head that may not be durable: after a
  // power loss the old head could come back. Returning the error stops gc
  // before it deletes them; the space is reclaimed by the next gc.
  if (not_durable) return tl::unexpected(*not_durable);
  return Ok();
}

Result<WriterLock> LockForWrite(Repository::Impl& r) { return LockForWrite(r, r.lock_timeout); }

Result<WriterLock> LockForWrite(Repository::Impl& r, std::chrono::milliseconds timeout,
                                bool describe_holder) {
  // Every write starts here: only a repository this user owns or opted in
  // to (docs/security.md) is written to.
  TXDIR_CHECK(CheckWriteTrust(r.env, r.layout, "write to"));
  auto lock = TXDIR_TRY(WriterLock::Acquire(r.env, r.layout.lock, timeout, describe_holder));
  // Recovery reads every folder a crash can leave something in (about 70
  // system calls): only when the previous holder did not finish, and on
  // this handle's first lock unless the previous holder finished in this
  // boot of the machine (see writer_lock.h for why that is enough).
  if (lock.previous_unclean() || (!r.recovered.load() && !lock.finished_this_boot())) {
    TXDIR_CHECK(RecoverLocked(r, lock));
    r.recovered.store(true);
  }
  return lock;
}

}  // namespace txdir::internal
