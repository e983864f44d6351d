// Recovery: bring the repository back to "head committed, live link on the
// head, no leftovers" after any interruption. Safe to run at any time under
// the writer lock, and idempotent. docs/commit_protocol.md lists which
// crash window each step repairs.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <optional>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "txn/src/group_commit.h"
#include "txn/src/replication_internal.h"
#include "txn/src/repo_impl.h"
#include "txn/src/retention_internal.h"
#include "txn/src/single_flush.h"
#include "txn/src/source_tree.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Removes git lock files under `dir` (recursively). A *.lock file can only
// be stale: every txdir writer holds the writer lock, which we hold now.
Status RemoveGitLocks(Env* env, int dir, const std::string& rel, RecoveryReport* report) {
  auto entries = TXDIR_TRY(env->ListDir(dir));
  for (const auto& e : entries) {
    std::string path = rel.empty() ? e.name : rel + "/" + e.name;
    auto st = env->StatAt(dir, e.name, false);
    if (!st) continue;
    if (S_ISDIR(st->st_mode)) {
      if (e.name == "objects") continue;  // handled separately, and large
      Fd sub = TXDIR_TRY(env->OpenAt(dir, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      TXDIR_CHECK(RemoveGitLocks(env, sub.get(), path, report));
    } else if (EndsWith(e.name, ".lock")) {
      TXDIR_CHECK(env->UnlinkAt(dir, e.name, 0));
      report->actions.push_back("removed stale git lock " + path);
    }
  }
  return Ok();
}

// Removes half-written loose objects (tmp_obj_*) left by a crash.
Status RemoveObjectTemps(Env* env, int git_dir, RecoveryReport* report) {
  Fd dir = TXDIR_TRY(env->OpenAt(git_dir, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  for (const auto& fan : TXDIR_TRY(env->ListDir(dir.get()))) {
    if (fan.name.size() != 2) continue;
    auto sub = env->OpenAt(dir.get(), fan.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!sub) continue;
    for (const auto& e : TXDIR_TRY(env->ListDir(sub->get()))) {
      if (e.name.rfind("tmp_obj_", 0) != 0) continue;
      TXDIR_CHECK(env->UnlinkAt(sub->get(), e.name, 0));
      report->actions.push_back("removed temporary object objects/" + fan.name + "/" + e.name);
    }
  }
  return Ok();
}

// Init's adoption of an existing directory at the live path, up to its
// commit point: its files become generation 1 (kind "adopt"). Step 5 below
// finishes the rest (move the directory aside, create the link).
Status CommitAdoption(Repository::Impl& r, const WriterLock& lock) {
  auto files = TXDIR_TRY(
      ScanSource(r.env, r.store.get(), r.layout.live, SymlinkPolicy::kInsideOnly, r.layout.meta));
  CommitPlan plan;
  plan.tree = TXDIR_TRY(r.store->WriteTree(files));
  plan.meta.kind = "adopt";
  plan.meta.message = "adopted existing directory " + r.layout.live;
  plan.swap_live = false;
  TXDIR_CHECK(CommitGeneration(r, lock, std::move(plan)));
  return Ok();
}

}  // namespace

Result<RecoveryReport> RecoverLocked(Repository::Impl& r, const WriterLock& lock) {
  return RecoverLocked(r, lock, /*thorough=*/false);
}

namespace {

// The steps of recovery, in order (docs/commit_protocol.md, "Recovery").
// Each reads what it needs, removes only what no committed state refers to
// or moves the live link towards the head, and records what it did. Every
// removal goes through directory fds opened without following a link
// (OpenMetaDir), so a link planted at .txdir, tmp or gens cannot lead a
// removal outside the repository, even after Open checked them.

// 1. Staging directories and temp files in tmp/, temp config files, and
// half-built metadata folders of an init that died before its rename.
Status RemoveStagingLeftovers(Env* env, const Layout& l, RecoveryReport& report) {
  {
    Fd tmp = TXDIR_TRY(OpenMetaDir(env, l, "tmp"));
    // Three kinds of entries are created without the writer lock: object
    // temp files of transactions (tmp_obj_*), exec stages (exec-*) and
    // group-commit requests on their way to queue/ (queue-*).
    // Their creators hold a shared flock on tmp/ from before the name
    // appears until it is safe (an object renamed into place, a stage
    // holding its own flock), so while we hold the exclusive one none of
    // them is half-made. If we cannot get it, we leave both kinds alone.
    auto tmp_idle = env->Flock(tmp.get(), LockMode::kExclusive, /*wait=*/false);
    if (!tmp_idle && tmp_idle.error().code != Code::kLocked)
      return tl::unexpected(tmp_idle.error());
    auto entries = TXDIR_TRY(env->ListDir(tmp.get()));
    bool removed = false;
    for (const auto& e : entries) {
      const bool unlocked_creator = e.name.rfind("tmp_obj_", 0) == 0 ||
                                    e.name.rfind("exec-", 0) == 0 || e.name.rfind("queue-", 0) == 0;
      if (unlocked_creator && !tmp_idle) continue;
      // A directory a live process holds (an exec stage while its program
      // runs, a damaged copy a reader is pinned in) carries that process's
      // flock. We remove only what we hold locked ourselves, for the whole
      // removal, so its owner cannot take it back half-way.
      std::optional<Fd> held;
      if (e.type == DT_DIR || e.type == DT_UNKNOWN) {
        if (auto fd = env->OpenAt(tmp.get(), e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW); fd) {
          auto lock = env->Flock(fd->get(), LockMode::kExclusive, /*wait=*/false);
          if (!lock && lock.error().code == Code::kLocked) continue;
          held = std::move(*fd);
        }
      }
      TXDIR_CHECK(fs::RemoveTree(env, tmp.get(), e.name));
      report.actions.push_back("removed staging leftover tmp/" + e.name);
      removed = true;
    }
    if (removed) TXDIR_CHECK(fs::FsyncDir(env, tmp.get()));
  }
  Fd meta = TXDIR_TRY(OpenMetaDir(env, l, ""));
  for (const auto& e : TXDIR_TRY(env->ListDir(meta.get()))) {
    if (e.name.rfind(".config.json.tmp-", 0) == 0) {
      TXDIR_CHECK(env->UnlinkAt(meta.get(), e.name, 0));
      report.actions.push_back("removed temp file " + e.name);
    }
  }
  Fd root = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.root));
  for (const auto& e : TXDIR_TRY(env->ListDir(root.get()))) {
    if (e.name.rfind(".txdir.init-", 0) != 0) continue;
    TXDIR_CHECK(fs::RemoveTree(env, root.get(), e.name));
    report.actions.push_back("removed half-built metadata folder " + e.name);
  }
  return Ok();
}

// 2a. A head move whose rename a power loss undid. Completed, not undone,
// in two cases; any other lock file is stale, and step 2 removes it.
//  - The live link's rename survived: syncfs mode makes both durable with
//    one flush after both (commit.cc, FlushAfterCommitPoint). The ref's
//    lock file still names the new head (the barrier before the rename made
//    it, and everything the commit refers to, durable), and readers may
//    already have seen its generation through the link. Only when the link
//    shows that commit's generation and the commit descends from the head.
//  - The commit was published in single-flush mode and is whole, so it may
//    have been acknowledged (single_flush.h). Its gens/N may be partial (the
//    barrier may not have completed, and no reader can have seen it: the
//    link moves only after the barrier), so it is renamed away, and step 6
//    materializes it again from the store.
Status CompleteHeadMove(Repository::Impl& r, RecoveryReport& report) {
  auto pending = TXDIR_TRY(r.store->PendingHead());
  if (!pending) return Ok();
  auto meta = r.store->ReadMeta(*pending);
  if (!meta) return Ok();  // not a commit of ours, or not whole: stale
  auto live = ReadLiveGeneration(r.env, r.layout);
  if (!live || !*live || **live != meta->number) {
    if (!TXDIR_TRY(AckedAfterOneFlush(r, *pending, meta->number))) return Ok();
    const std::string gen = std::to_string(meta->number);
    Fd gens = TXDIR_TRY(OpenMetaDir(r.env, r.layout, "gens"));
    if (r.env->StatAt(gens.get(), gen, false)) {
      // Renamed away (one atomic rename, durable with the fsync of gens/)
      // before the head moves, not removed: a removal's unlinks inside are
      // not durable until each directory is synced, and a power loss could
      // leave a partial gens/N under a head that names it. Step 3 removes
      // the trash.
      TXDIR_CHECK(
          r.env->RenameAt(gens.get(), gen, gens.get(), fs::UniqueName(".trash-" + gen + "-")));
      TXDIR_CHECK(fs::FsyncDir(r.env, gens.get()));
    }
    TXDIR_CHECK(r.store->CompletePendingHead());
    report.actions.push_back("completed the commit of generation " + gen +
                             ", published in single-flush mode (its ack record and objects "
                             "are whole)");
    return Ok();
  }
  if (auto head = TXDIR_TRY(r.store->Head())) {
    if (store::OidEqual(*head, *pending)) return Ok();
    auto descends = store::IsDescendantOf(*r.store, *pending, *head);
    if (!descends || !*descends) return Ok();
  }
  TXDIR_CHECK(r.store->CompletePendingHead());
  report.actions.push_back("completed the move of the head to generation " +
                           std::to_string(meta->number) + ", which the live link already showed");
  return Ok();
}

// 2. Stale git lock files, half-written objects and pack temp files.
Status RemoveStoreLeftovers(Env* env, const Layout& l, bool thorough, RecoveryReport& report) {
  Fd git = TXDIR_TRY(OpenMetaDir(env, l, "store.git"));
  TXDIR_CHECK(RemoveGitLocks(env, git.get(), "", &report));
  // txdir writes object temp files in tmp/ (step 1); only an explicit
  // recover also scans the fan-out directories, for temp files of other
  // writers (libgit2, older versions), keeping every write O(changes).
  if (thorough) TXDIR_CHECK(RemoveObjectTemps(env, git.get(), &report));
  // An interrupted repack (gc --prune-history) leaves pack temp files.
  TXDIR_CHECK(RecoverPackDir(env, l.store, &report));
  return Ok();
}

// 3. Generation directories beyond the committed head (their publish died
// before the commit point), and retired or collected ones no reader pins.
Status RemoveUncommittedGenerations(Env* env, const Layout& l, uint64_t committed,
                                    RecoveryReport& report) {
  Fd gens = TXDIR_TRY(OpenMetaDir(env, l, "gens"));
  bool removed = false;
  for (const auto& e : TXDIR_TRY(env->ListDir(gens.get()))) {
    auto n = ParseGenName(e.name);
    if (n && *n <= committed) continue;
    if (!n && e.name.rfind(".trash-", 0) != 0) continue;  // not ours: leave it
    if (!n) {
      // A retired or collected generation: a reader pinned inside before
      // it was renamed keeps it until the reader is done.
      if (!TXDIR_TRY(fs::RemoveTreeUnlessPinned(env, gens.get(), e.name))) {
        report.actions.push_back("kept gens/" + e.name + ": a reader still has it pinned");
        continue;
      }
      report.actions.push_back("removed gens/" + e.name);
      removed = true;
      continue;
    }
    TXDIR_CHECK(fs::RemoveTree(env, gens.get(), e.name));
    report.actions.push_back("removed uncommitted generation directory gens/" + e.name);
    removed = true;
  }
  if (removed) TXDIR_CHECK(fs::FsyncDir(env, gens.get()));
  return Ok();
}

// 4. Leftover temporary live links beside the live path — or, after an
// adoption's exchange, the adopted directory under that temporary name
// (its files are generation 1).
Status RemoveTempLiveLinks(Env* env, const Layout& l, RecoveryReport& report) {
  Fd live_dir = TXDIR_TRY(OpenLiveDir(env, l));
  const std::string prefix = "." + fs::Basename(l.live) + ".txdir-tmp-";
  for (const auto& e : TXDIR_TRY(env->ListDir(live_dir.get()))) {
    if (e.name.rfind(prefix, 0) != 0) continue;
    TXDIR_CHECK(fs::RemoveTree(env, live_dir.get(), e.name));
    report.actions.push_back("removed temporary live link " + e.name);
  }
  return Ok();
}

// 5. An interrupted adoption (init with an existing live directory):
// committed now if it died before its commit point, the directory replaced
// by the live link if after. Updates `head`.
Status FinishAdoption(Repository::Impl& r, const WriterLock& lock, std::optional<Head>& head,
                      RecoveryReport& report) {
  Env* env = r.env;
  const Layout& l = r.layout;
  if (!head) {
    // Nothing committed yet and the live path is a directory: only an init
    // adopting it that died before its commit point leaves this, and
    // nothing else can repair it (publish refuses to replace a directory,
    // init refuses an existing repository). Commit the adoption now.
    auto st = env->StatAt(Env::kCwd, l.live, false);
    if (st && S_ISDIR(st->st_mode)) {
      TXDIR_CHECK(CommitAdoption(r, lock));
      head = TXDIR_TRY(ReadHead(r));
      report.actions.push_back("committed the interrupted adoption of " + l.live +
                               " as generation " + std::to_string(head ? head->meta.number : 0));
    }
  }
  if (head && head->meta.kind == "adopt") {
    auto st = env->StatAt(Env::kCwd, l.live, false);
    if (st && S_ISDIR(st->st_mode)) {
      // One atomic exchange: the live path goes from the directory straight
      // to the link, so readers never find it missing.
      TXDIR_CHECK(ReplaceDirectoryWithLive(env, l, head->meta.number));
      report.actions.push_back("replaced the adopted directory " + l.live + " by the live link");
    }
  }
  return Ok();
}

// 6. The live link must show the committed head: seal gens/<head> if a
// writer died before its chmod, re-materialize it if missing, swap the link.
Status BringLiveToHead(Repository::Impl& r, const std::optional<Head>& head,
                       RecoveryReport& report) {
  Env* env = r.env;
  const Layout& l = r.layout;
  if (!head) return Ok();
  const uint64_t committed = head->meta.number;
  {
    auto live = ReadLiveGeneration(env, l);
    if (!live && live.error().code != Code::kCorruption) return tl::unexpected(live.error());
    const std::optional<uint64_t> live_gen = live.value_or(std::nullopt);
    auto placed = env->StatAt(Env::kCwd, l.GenDir(committed), false);
    if (placed && S_ISDIR(placed->st_mode) && (placed->st_mode & 0222) != 0) {
      // Named but not yet sealed: a writer died between the rename into
      // gens/ and the chmod (Materialize, fsck's repair).
      Fd gens = TXDIR_TRY(OpenMetaDir(env, l, "gens"));
      TXDIR_CHECK(SealPlaced(env, gens.get(), committed, /*sync=*/true));
      report.actions.push_back("made generation " + std::to_string(committed) + " read-only");
    }
    if (live_gen != committed) {
      if (!placed) {
        auto files = TXDIR_TRY(r.store->ListTree(head->tree));
        std::vector<uint64_t> donors;
        if (live_gen) donors.push_back(*live_gen);
        // Batched mode: the barrier goes between staging and naming (see
        // Materialize); a named gens/<head> is trusted as complete.
        std::function<Status()> barrier;
        if (BatchedSync(r)) barrier = [&r] { return SyncBarrier(r); };
        TXDIR_CHECK(Materialize(r, committed, files, donors, /*sync=*/!BatchedSync(r), barrier));
        report.actions.push_back("re-materialized generation " + std::to_string(committed));
      }
      TXDIR_FAILPOINT("recover.before_swap");
      TXDIR_CHECK(SwapLive(env, l, committed));
      report.actions.push_back("moved live link from " +
                               (live_gen ? "generation " + std::to_string(*live_gen)
                                         : std::string(live ? "nothing" : "a damaged link")) +
                               " to generation " + std::to_string(committed));
    }
    report.live = committed;
  }
  return Ok();
}

}  // namespace

Result<RecoveryReport> RecoverLocked(Repository::Impl& r, const WriterLock& lock, bool thorough) {
  RecoveryReport report;
  TXDIR_FAILPOINT("recover.begin");
  TXDIR_CHECK(RemoveStagingLeftovers(r.env, r.layout, report));
  TXDIR_FAILPOINT("recover.tmp_cleaned");
  TXDIR_CHECK(CompleteHeadMove(r, report));
  TXDIR_CHECK(RemoveStoreLeftovers(r.env, r.layout, thorough, report));
  auto head = TXDIR_TRY(ReadHead(r));
  TXDIR_CHECK(RemoveUncommittedGenerations(r.env, r.layout, head ? head->meta.number : 0, report));
  TXDIR_FAILPOINT("recover.orphans_removed");
  TXDIR_CHECK(RemoveTempLiveLinks(r.env, r.layout, report));
  TXDIR_CHECK(FinishAdoption(r, lock, head, report));
  TXDIR_CHECK(BringLiveToHead(r, head, report));
  // 7. A pull that resolved a divergence and died after its commit point:
  // the replaced local generations' directories must not answer to numbers
  // the head's chain gives to other commits (replication_pull.cc).
  TXDIR_CHECK(RetireReplacedGenerations(r, &report));
  // 8. Group commit: a holder that died with queued transactions claimed.
  // The head says whether their generation was committed: answered if so,
  // queued again if not (group_commit.h).
  TXDIR_CHECK(RecoverQueue(r, &report.actions));
  TXDIR_FAILPOINT("recover.done");
  return report;
}

}  // namespace txdir::internal
