// Pruning history: dropping generations from the store and reclaiming their
// space. libgit2 has no gc and cannot delete objects, so this is ours:
// rewrite the retained history, move the head to it (the commit point),
// repack what is reachable into one pack, delete the rest. The two libgit2
// steps (rewriting a commit, building the pack) are store/history_rewrite.h;
// the commit point is the one every write shares (commit.cc,
// CommitRewrittenHistory); the order of the steps and the deletions are
// here. docs/commit_protocol.md ("GC") gives each crash window.
#include <fcntl.h>

#include <algorithm>
#include <thread>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_rewrite.h"
#include "store/history_walk.h"
#include "txn/src/retention_internal.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& x) {
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

struct StoreState {
  std::vector<std::string> packs;  // "pack-<hex>" with both .pack and .idx
  size_t loose = 0;
};

Result<StoreState> Survey(Env* env, const std::string& objects) {
  StoreState s;
  Fd dir = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, objects));
  for (const auto& e : TXDIR_TRY(env->ListDir(dir.get()))) {
    if (e.name.size() != 2 || !std::isxdigit(static_cast<unsigned char>(e.name[0]))) continue;
    auto sub = fs::OpenDir(env, dir.get(), e.name);
    if (sub) s.loose += TXDIR_TRY(env->ListDir(sub->get())).size();
  }
  if (auto pack = fs::OpenDir(env, dir.get(), "pack")) {
    for (const auto& e : TXDIR_TRY(env->ListDir(pack->get()))) {
      if (StartsWith(e.name, "pack-") && EndsWith(e.name, ".idx"))
        s.packs.push_back(e.name.substr(0, e.name.size() - 4));
    }
  }
  std::sort(s.packs.begin(), s.packs.end());
  return s;
}

// Waits (up to the lock timeout) for exclusive use of tmp/: transactions
// hold it shared while they write objects (transaction.cc), so holding it
// keeps new loose objects from appearing between the pack and the deletion
// of loose objects.
Result<Fd> HoldObjectWriters(Repository::Impl& r) {
  Fd tmp = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "tmp"));
  auto deadline = std::chrono::steady_clock::now() + r.lock_timeout;
  for (;;) {
    auto s = r.env->Flock(tmp.get(), LockMode::kExclusive, /*wait=*/false);
    if (s) return tmp;
    if (s.error().code != Code::kLocked) return tl::unexpected(s.error());
    if (std::chrono::steady_clock::now() >= deadline)
      return MakeError(Code::kLocked,
                       "transactions kept writing objects for longer than the lock timeout; "
                       "nothing was pruned",
                       r.layout.tmp);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Step 4 of a prune: everything but the new pack `pack` is unreachable or
// duplicated in it. Old packs go first (index first, so no reader finds an
// index without its pack), then every loose object.
Status DeleteSuperseded(Env* env, const std::string& objects, const StoreState& before,
                        const std::string& pack) {
  {
    Fd pack_dir = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, objects + "/pack"));
    for (const auto& old : before.packs) {
      if (old == pack) continue;
      for (const char* ext : {".idx", ".pack", ".rev", ".bitmap", ".promisor"}) {
        auto s = env->UnlinkAt(pack_dir.get(), old + ext, 0);
        if (!s && s.error().code != Code::kNotFound) return s;
      }
      TXDIR_FAILPOINT("gc.prune.pack_deleted");
    }
    TXDIR_CHECK(fs::FsyncDir(env, pack_dir.get()));
  }
  {
    Fd dir = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, objects));
    bool first = true;
    for (const auto& e : TXDIR_TRY(env->ListDir(dir.get()))) {
      if (e.name.size() != 2 || !std::isxdigit(static_cast<unsigned char>(e.name[0]))) continue;
      TXDIR_CHECK(fs::RemoveTree(env, dir.get(), e.name));
      // Once, not per fan-out directory: their number varies from run to
      // run, and the crash tests number failpoints.
      if (first) TXDIR_FAILPOINT("gc.prune.loose_deleting");
      first = false;
    }
    TXDIR_CHECK(fs::FsyncDir(env, dir.get()));
    TXDIR_FAILPOINT("gc.prune.loose_deleted");
  }
  return Ok();
}

// The kept generations (oldest first) as a new history: each commit
// rewritten with the previous kept one as its parent, the oldest a root.
// Returns the new head.
Result<git_oid> RewriteKept(Repository::Impl& r, const std::vector<git_oid>& kept,
                            const ProgressFn& progress) {
  std::optional<git_oid> parent;
  uint64_t rewritten = 0;
  for (const git_oid& c : kept) {
    parent = TXDIR_TRY(store::RewriteCommit(*r.store, c, parent));
    if (progress) progress(Progress{"rewriting history", ++rewritten, kept.size(), 0});
  }
  return *parent;
}

}  // namespace

Status PruneHistoryLocked(Repository::Impl& r, const WriterLock& lock,
                          const std::set<uint64_t>& retain, bool dry_run,
                          const ProgressFn& progress, GcReport* report) {
  Env* env = r.env;
  const std::string objects = r.layout.store + "/objects";
  report->store_bytes_before = TreeBytes(env, objects);
  report->store_bytes_after = report->store_bytes_before;
  auto head = TXDIR_TRY(ReadHead(r));
  if (!head) return Ok();

  // The chain, newest first.
  std::vector<std::pair<git_oid, uint64_t>> chain;
  for (store::GenerationWalk walk(*r.store, head->commit); TXDIR_TRY(walk.Next());)
    chain.emplace_back(walk.commit(), TXDIR_TRY(walk.Meta()).number);
  std::vector<git_oid> kept;  // oldest first
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (retain.count(it->second) || it->second == head->meta.number)
      kept.push_back(it->first);
    else
      report->history_pruned.push_back(it->second);
  }
  report->history_kept = kept.size();
  if (dry_run) return Ok();

  Fd writers = TXDIR_TRY(HoldObjectWriters(r));
  const bool batched = BatchedSync(r);
  git_oid new_head = head->commit;
  if (!report->history_pruned.empty()) {
    // 1. The retained history, rewritten: same trees and metadata, the
    // oldest retained generation becomes the root.
    new_head = TXDIR_TRY(RewriteKept(r, kept, progress));
    if (!batched) TXDIR_CHECK(r.store->SyncObjects());
    TXDIR_FAILPOINT("gc.prune.commits_written");
  }

  auto before = TXDIR_TRY(Survey(env, objects));
  if (report->history_pruned.empty() && before.loose == 0 && before.packs.size() <= 1)
    return Ok();  // already one pack of exactly the history

  // 2. One pack of everything reachable from the new head (and the other
  // refs), durable.
  const std::string pack = TXDIR_TRY(store::RepackReachable(*r.store, new_head, progress));
  TXDIR_FAILPOINT("gc.prune.pack_written");

  // 3. THE COMMIT POINT: the head ref moves to the rewritten history
  // (compare-and-swap against the head read above).
  if (!store::OidEqual(new_head, head->commit)) {
    TXDIR_CHECK(CommitRewrittenHistory(r, lock, new_head, head->commit));
    TXDIR_FAILPOINT("gc.prune.head_updated");
  }

  // 4. Everything else is unreachable or duplicated in the new pack.
  TXDIR_CHECK(DeleteSuperseded(env, objects, before, pack));
  writers.reset();

  // libgit2 caches the list of packs; start afresh on the new layout.
  store::StoreOptions so;
  so.tmp_dir = r.layout.tmp;
  so.sync_each_object = !batched;
  r.store = TXDIR_TRY(store::GitStore::Open(env, r.layout.store, so));
  report->store_bytes_after = TreeBytes(env, objects);
  TXDIR_FAILPOINT("gc.prune.done");
  return Ok();
}

Status RecoverPackDir(Env* env, const std::string& git_dir, RecoveryReport* report) {
  auto dir = fs::OpenDir(env, Env::kCwd, git_dir + "/objects/pack");
  if (!dir) return dir.error().code == Code::kNotFound ? Ok() : Status(tl::unexpected(dir.error()));
  auto entries = TXDIR_TRY(env->ListDir(dir->get()));
  std::set<std::string> names;
  for (const auto& e : entries) names.insert(e.name);
  bool removed = false;
  for (const auto& name : names) {
    bool leftover = false;
    if (StartsWith(name, "pack_git2_") || StartsWith(name, "tmp_") || EndsWith(name, ".lock")) {
      leftover = true;  // a pack or index being written when a repack died
    } else if (StartsWith(name, "pack-")) {
      const std::string base = name.substr(0, name.rfind('.'));
      // A pack is usable only with both files: one without the other is
      // either half-written (before gc's commit point: nothing refers to
      // it) or half-deleted (after it: everything is in the new pack).
      leftover = !names.count(base + ".pack") || !names.count(base + ".idx");
    }
    if (!leftover) continue;
    TXDIR_CHECK(env->UnlinkAt(dir->get(), name, 0));
    report->actions.push_back("removed pack leftover objects/pack/" + name);
    removed = true;
  }
  if (removed) TXDIR_CHECK(fs::FsyncDir(env, dir->get()));
  return Ok();
}

}  // namespace txdir::internal
