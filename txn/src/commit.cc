// The tail every write operation shares, and reading generations back.
#include <unistd.h>

#include "store/failpoint.h"
#include "txn/src/host_info.h"
#include "txn/src/repo_impl.h"

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

Result<GenerationInfo> DescribeCommit(Repository::Impl& r, const git_oid& commit) {
  auto meta = TXDIR_TRY(r.store->ReadMeta(commit));
  GenerationInfo g;
  g.number = meta.number;
  g.kind = meta.kind;
  g.restores = meta.restores;
  g.message = meta.message;
  g.host = meta.host;
  g.pid = meta.pid;
  g.time_ms = meta.time_ms;
  g.author = TXDIR_TRY(r.store->CommitAuthor(commit));
  g.commit = store::OidHex(commit);
  g.tree = store::OidHex(TXDIR_TRY(r.store->CommitTree(commit)));
  return g;
}

Result<GenerationInfo> CommitGeneration(Repository::Impl& r, const WriterLock& /*lock*/,
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
  TXDIR_CHECK(r.store->SyncObjects());
  TXDIR_FAILPOINT("commit.objects_synced");

  // 2. The generation's directory, complete and durable, not yet live.
  auto files = TXDIR_TRY(r.store->ListTree(plan.tree));
  TXDIR_CHECK(Materialize(r, meta.number, files, plan.donors));
  TXDIR_FAILPOINT("commit.materialized");

  // 3. THE COMMIT POINT: the head ref moves, compare-and-swap.
  TXDIR_CHECK(r.store->SetHead(commit, head ? std::optional<git_oid>(head->commit) : std::nullopt));
  TXDIR_FAILPOINT("commit.head_updated");

  // 4. The live link follows. A crash before this completes leaves the
  // link one generation behind; recovery moves it forward.
  if (plan.swap_live) TXDIR_CHECK(SwapLive(r.env, r.layout, meta.number));
  TXDIR_FAILPOINT("commit.live_swapped");
  return DescribeCommit(r, commit);
}

Result<WriterLock> LockForWrite(Repository::Impl& r) {
  auto lock = TXDIR_TRY(WriterLock::Acquire(r.env, r.layout.lock, r.lock_timeout));
  TXDIR_CHECK(RecoverLocked(r, lock));
  return lock;
}

}  // namespace txdir::internal
