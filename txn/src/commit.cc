// The tail every write operation shares, and reading generations back.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/host_info.h"
#include "txn/src/repo_impl.h"
#include "txn/src/retention_internal.h"
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
  auto head = TXDIR_TRY(r.store->Head());
  std::optional<git_oid> cur = head;
  while (cur) {
    auto meta = TXDIR_TRY(r.store->ReadMeta(*cur));
    if (meta.number == number) return *cur;
    // Numbers decrease strictly along the chain: stop early.
    if (meta.number < number) break;
    cur = TXDIR_TRY(r.store->CommitParent(*cur));
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

Result<GenerationInfo> DescribeCommit(Repository::Impl& r, const git_oid& commit) {
  auto meta = TXDIR_TRY(r.store->ReadMeta(commit));
  GenerationInfo g = Describe(meta, commit, TXDIR_TRY(r.store->CommitTree(commit)),
                              TXDIR_TRY(r.store->CommitAuthor(commit)));
  if (auto parent = TXDIR_TRY(r.store->CommitParent(commit)))
    g.parent = TXDIR_TRY(r.store->ReadMeta(*parent)).number;
  else
    g.history_pruned = meta.number > 1;
  return g;
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
    spdlog::warn("generation {} is committed; reading its description back failed: {}", meta.number,
                 described.error().ToString());
    info = Describe(meta, commit, tree, author);
  }
  if (live_error) {
    info.live_pending = true;
    info.live_error = live_error->ToString();
    spdlog::warn("generation {} is committed but the live link could not be moved yet: {}",
                 meta.number, info.live_error);
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

Result<GenerationInfo> CommitGeneration(Repository::Impl& r, const WriterLock& lock,
                                        CommitPlan plan) {
  auto head = TXDIR_TRY(ReadHead(r));
  const bool head_matches = head.has_value() == plan.expected_head.has_value() &&
                            (!head || store::OidEqual(head->commit, *plan.expected_head));
  if (!head_matches)
    return MakeError(Code::kConflict, "another writer published since this operation began");

  store::GenMeta& meta = plan.meta;
  meta.number = head ? head->meta.number + 1 : 1;
  meta.host = HostName();
  meta.pid = ::getpid();
  meta.time_ms = store::NowMs();
  if (plan.author.empty()) plan.author = DefaultAuthor();

  // 1. The commit object; then every object of this generation is durable.
  git_oid commit = TXDIR_TRY(r.store->WriteCommit(
      plan.tree, head ? std::optional<git_oid>(head->commit) : std::nullopt, meta, plan.author));
  TXDIR_FAILPOINT("commit.objects_written");
  // In batched mode (config sync = "syncfs") nothing is fsynced here: one
  // syncfs before the commit point makes the objects, the generation's
  // directory and the ref's new content durable together.
  const bool batched = BatchedSync(r);
  // Deliberately broken variant for the power-loss self-test: no barrier.
  if (!batched && !TXDIR_BROKEN("no-objects-sync")) TXDIR_CHECK(r.store->SyncObjects());
  TXDIR_FAILPOINT("commit.objects_synced");

  const std::optional<git_oid> expected =
      head ? std::optional<git_oid>(head->commit) : std::nullopt;
  // Deliberately broken variant for the power-loss self-test: the commit
  // point before the generation directory exists.
  std::function<Status()> barrier;
  if (batched) {
    barrier = [&r]() -> Status {
      if (TXDIR_BROKEN("no-syncfs-barrier")) return Ok();  // (self-test variant)
      return SyncBarrier(r);
    };
  }
  const bool ref_first = TXDIR_BROKEN("ref-before-materialize");
  if (ref_first) TXDIR_CHECK(r.store->SetHead(commit, expected, barrier));

  // 2. The generation's directory, complete and durable, not yet live.
  auto files = TXDIR_TRY(r.store->ListTree(plan.tree));
  TXDIR_CHECK(Materialize(r, meta.number, files, plan.donors, /*sync=*/!batched));
  TXDIR_FAILPOINT("commit.materialized");

  // The pre-publish hook validates the staged generation; a rejection
  // publishes nothing (the directory is an orphan above the head until
  // removed here, or by recovery if we die first).
  if (!r.config.pre_publish_hook.empty() && meta.kind != "adopt") {
    if (auto s = RunPrePublishHook(r, meta.number); !s) {
      if (auto gens = internal::OpenMetaDir(r.env, r.layout, "gens")) {
        (void)fs::RemoveTree(r.env, gens->get(), std::to_string(meta.number));
        (void)fs::FsyncDir(r.env, gens->get());
      }
      return tl::unexpected(s.error());
    }
    TXDIR_FAILPOINT("commit.hook_passed");
  }

  // Deliberately broken variant for the power-loss self-test: live first.
  const bool swapped = TXDIR_BROKEN("swap-before-commit") && plan.swap_live;
  if (swapped) TXDIR_CHECK(SwapLive(r.env, r.layout, meta.number));

  // 3. THE COMMIT POINT: the head ref moves, compare-and-swap.
  if (!ref_first) {
    if (auto set = r.store->SetHead(commit, expected, barrier); !set) {
      if (!HeadIs(r, commit)) return tl::unexpected(set.error());
      // The ref was renamed (every reader and writer now sees the new
      // head) but making it durable failed: the commit point has passed,
      // so this is no failure. The link stays behind for recovery, which
      // the taint makes the next writer run.
      lock.Taint();
      return Committed(r, commit, plan.tree, meta, plan.author, set.error());
    }
  }
  TXDIR_FAILPOINT("commit.head_updated");

  // 4. The live link follows. A crash before this completes leaves the
  // link one generation behind; recovery moves it forward.
  // The generation is committed and durable whatever happens now, so a
  // failure to move the link is not a failure of the operation: report
  // success with live_pending and leave the link to recovery.
  std::optional<Error> live_error;
  if (plan.swap_live && !swapped) {
    if (auto s = SwapLive(r.env, r.layout, meta.number); !s) live_error = s.error();
  }
  TXDIR_FAILPOINT("commit.live_swapped");
  GenerationInfo info = Committed(r, commit, plan.tree, meta, plan.author, live_error);
  const bool live_pending = info.live_pending;
  // Automatic gc (config gc.auto), still under the writer lock; it never
  // fails the write.
  if (r.config.gc_auto && plan.swap_live && !live_pending) AutoGcAfterWrite(r, lock, &info);
  // A link still behind must be moved by the next writer's recovery.
  if (live_pending) lock.Taint();
  return info;
}

Result<GenerationInfo> AdoptCommit(Repository::Impl& r, const WriterLock& lock,
                                   const git_oid& commit, const std::optional<git_oid>& expected,
                                   const std::vector<uint64_t>& donors) {
  auto head = TXDIR_TRY(ReadHead(r));
  const bool head_matches = head.has_value() == expected.has_value() &&
                            (!head || store::OidEqual(head->commit, *expected));
  if (!head_matches)
    return MakeError(Code::kConflict, "another writer published since this operation began");
  const store::GenMeta meta = TXDIR_TRY(r.store->ReadMeta(commit));
  if (head && meta.number <= head->meta.number)
    return MakeError(Code::kCorruption, "commit " + store::OidHex(commit) + " has generation " +
                                            std::to_string(meta.number) +
                                            ", not above the head's " +
                                            std::to_string(head->meta.number));
  const git_oid tree = TXDIR_TRY(r.store->CommitTree(commit));

  // 1. Objects: fetched packs were fsynced by libgit2 as it wrote them
  // (GIT_OPT_ENABLE_FSYNC_GITDIR); objects written by us (a merge commit)
  // become durable here, or at the barrier in batched mode.
  const bool batched = BatchedSync(r);
  if (!batched) TXDIR_CHECK(r.store->SyncObjects());
  TXDIR_FAILPOINT("adopt.objects_synced");

  // 2. The generation's directory, complete and durable, not yet live.
  auto files = TXDIR_TRY(r.store->ListTree(tree));
  TXDIR_CHECK(Materialize(r, meta.number, files, donors, /*sync=*/!batched));
  TXDIR_FAILPOINT("adopt.materialized");

  // 3. THE COMMIT POINT: the head ref moves, compare-and-swap.
  std::function<Status()> barrier;
  if (batched) barrier = [&r]() -> Status { return SyncBarrier(r); };
  if (auto set = r.store->SetHead(commit, expected, barrier); !set) {
    if (!HeadIs(r, commit)) return tl::unexpected(set.error());
    lock.Taint();  // as in CommitGeneration: committed, not yet durable
    return Committed(r, commit, tree, meta, "", set.error());
  }
  TXDIR_FAILPOINT("adopt.head_updated");

  // 4. The live link follows; as in CommitGeneration, a failure here leaves
  // a committed generation with live_pending for recovery.
  std::optional<Error> live_error;
  if (auto s = SwapLive(r.env, r.layout, meta.number); !s) live_error = s.error();
  TXDIR_FAILPOINT("adopt.live_swapped");
  return Committed(r, commit, tree, meta, "", live_error);
}

Result<WriterLock> LockForWrite(Repository::Impl& r) { return LockForWrite(r, r.lock_timeout); }

Result<WriterLock> LockForWrite(Repository::Impl& r, std::chrono::milliseconds timeout) {
  // Every write starts here: only a repository this user owns or opted in
  // to (docs/security.md) is written to.
  TXDIR_CHECK(CheckWriteTrust(r.env, r.layout, "write to"));
  auto lock = TXDIR_TRY(WriterLock::Acquire(r.env, r.layout.lock, timeout));
  // Recovery reads every folder a crash can leave something in (about 70
  // system calls): only when the previous holder did not finish, and on
  // this handle's first lock (see writer_lock.h for why that is enough).
  if (!r.recovered.load() || lock.previous_unclean()) {
    TXDIR_CHECK(RecoverLocked(r, lock));
    r.recovered.store(true);
  }
  return lock;
}

}  // namespace txdir::internal
