// Pruning history: dropping generations from the store and reclaiming their
// space. libgit2 has no gc and cannot delete objects, so this is ours:
// rewrite the retained history, move the head to it (the commit point),
// repack what is reachable into one pack, delete the rest.
// docs/commit_protocol.md ("GC") gives each crash window.
#include <fcntl.h>
#include <git2.h>

#include <algorithm>
#include <thread>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/retention_internal.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

template <typename T, void (*F)(T*)>
struct GitDeleter {
  void operator()(T* p) const { F(p); }
};
using CommitPtr = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using PackPtr = std::unique_ptr<git_packbuilder, GitDeleter<git_packbuilder, git_packbuilder_free>>;
using WalkPtr = std::unique_ptr<git_revwalk, GitDeleter<git_revwalk, git_revwalk_free>>;

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool EndsWith(const std::string& s, const std::string& x) {
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

// The same commit with another first parent: tree, author, committer (with
// their times), encoding, message and any further parents (a pull's merge)
// byte for byte. Deterministic, so a gc interrupted before its commit point
// rewrites to the same ids next time.
Result<git_oid> RewriteCommit(git_repository* repo, const git_oid& id,
                              const std::optional<git_oid>& parent) {
  git_commit* raw = nullptr;
  if (int rc = git_commit_lookup(&raw, repo, &id); rc < 0)
    return store::GitError(rc, "commit not found " + store::OidHex(id));
  CommitPtr c(raw);
  git_tree* tree_raw = nullptr;
  if (int rc = git_commit_tree(&tree_raw, c.get()); rc < 0)
    return store::GitError(rc, "tree of commit " + store::OidHex(id) + " missing");
  TreePtr tree(tree_raw);
  std::vector<CommitPtr> owners;
  std::vector<const git_commit*> parents;
  auto add = [&](const git_oid& oid) -> Status {
    git_commit* p = nullptr;
    if (int rc = git_commit_lookup(&p, repo, &oid); rc < 0)
      return store::GitError(rc, "parent commit missing " + store::OidHex(oid));
    owners.emplace_back(p);
    parents.push_back(p);
    return Ok();
  };
  if (parent) TXDIR_CHECK(add(*parent));
  for (unsigned i = 1, n = git_commit_parentcount(c.get()); i < n; ++i)
    TXDIR_CHECK(add(*git_commit_parent_id(c.get(), i)));
  git_oid out;
  if (int rc = git_commit_create(
          &out, repo, nullptr, git_commit_author(c.get()), git_commit_committer(c.get()),
          git_commit_message_encoding(c.get()), git_commit_message_raw(c.get()), tree.get(),
          parents.size(), parents.data());
      rc < 0)
    return store::GitError(rc, "cannot write rewritten commit", Code::kIo);
  return out;
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

// Every object reachable from `head` into one new pack under objects/pack.
// libgit2's indexer fsyncs the pack, its index and the directory (its
// fsync option is on: store::EnsureLibgit2); the directory is fsynced again
// through the Env so the step is visible to the crash tests' recorder.
// libgit2's callbacks for a pack being built and written, as Progress.
// (Its "adding objects" stage counts walk steps, not objects: not shown.)
int PackBuildProgress(int stage, uint32_t current, uint32_t total, void* payload) {
  const auto& progress = *static_cast<const ProgressFn*>(payload);
  if (stage == GIT_PACKBUILDER_DELTAFICATION)
    progress(Progress{"compressing objects", current, total, 0});
  return 0;
}

int PackWriteProgress(const git_indexer_progress* stats, void* payload) {
  const auto& progress = *static_cast<const ProgressFn*>(payload);
  progress(Progress{"writing objects", stats->indexed_objects, stats->total_objects,
                    stats->received_bytes});
  return 0;
}

Result<std::string> WritePack(Repository::Impl& r, const git_oid& head,
                              const ProgressFn& progress) {
  git_repository* repo = r.store->repo();
  git_packbuilder* pb_raw = nullptr;
  if (int rc = git_packbuilder_new(&pb_raw, repo); rc < 0)
    return store::GitError(rc, "cannot start a pack", Code::kInternal);
  PackPtr pb(pb_raw);
  git_packbuilder_set_threads(pb.get(), 1);
  if (progress)
    git_packbuilder_set_callbacks(pb.get(), PackBuildProgress, const_cast<ProgressFn*>(&progress));
  git_revwalk* walk_raw = nullptr;
  if (int rc = git_revwalk_new(&walk_raw, repo); rc < 0)
    return store::GitError(rc, "cannot walk the history", Code::kInternal);
  WalkPtr walk(walk_raw);
  if (int rc = git_revwalk_push(walk.get(), &head); rc < 0)
    return store::GitError(rc, "cannot walk from the head");
  // Every other ref (a pull's remote-tracking refs) keeps what it reaches.
  git_reference_iterator* it = nullptr;
  if (int rc = git_reference_iterator_new(&it, repo); rc < 0)
    return store::GitError(rc, "cannot list refs");
  const char* ref_name = nullptr;
  int rc = 0;
  while ((rc = git_reference_next_name(&ref_name, it)) == 0) {
    if (std::string(ref_name) == store::kHeadRef) continue;
    if (git_revwalk_push_ref(walk.get(), ref_name) == 0) continue;
    git_oid target;  // not a commit: the object and whatever it references
    if (git_reference_name_to_id(&target, repo, ref_name) == 0 &&
        git_packbuilder_insert_recur(pb.get(), &target, nullptr) < 0) {
      git_reference_iterator_free(it);
      return store::GitError(-1, std::string("cannot pack the objects of ") + ref_name);
    }
  }
  git_reference_iterator_free(it);
  if (rc != GIT_ITEROVER) return store::GitError(rc, "cannot list refs");
  if (int rc = git_packbuilder_insert_walk(pb.get(), walk.get()); rc < 0)
    return store::GitError(rc, "cannot collect the reachable objects");
  const std::string pack_dir = r.layout.store + "/objects/pack";
  TXDIR_CHECK(fs::EnsureDir(r.env, Env::kCwd, pack_dir, 0755));
  if (int rc = git_packbuilder_write(pb.get(), pack_dir.c_str(), 0444,
                                     progress ? PackWriteProgress : nullptr,
                                     const_cast<ProgressFn*>(&progress));
      rc < 0)
    return store::GitError(rc, "cannot write the pack", Code::kIo);
  std::string name = std::string("pack-") + git_packbuilder_name(pb.get());
  TXDIR_CHECK(fs::FsyncPath(r.env, pack_dir));
  TXDIR_CHECK(fs::FsyncPath(r.env, r.layout.store + "/objects"));
  return name;
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

}  // namespace

Status PruneHistoryLocked(Repository::Impl& r, const WriterLock& /*lock*/,
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
  for (std::optional<git_oid> cur = head->commit; cur;
       cur = TXDIR_TRY(r.store->CommitParent(*cur))) {
    chain.emplace_back(*cur, TXDIR_TRY(r.store->ReadMeta(*cur)).number);
  }
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
    std::optional<git_oid> parent;
    uint64_t rewritten = 0;
    for (const git_oid& c : kept) {
      parent = TXDIR_TRY(RewriteCommit(r.store->repo(), c, parent));
      if (progress) progress(Progress{"rewriting history", ++rewritten, kept.size(), 0});
    }
    new_head = *parent;
    if (!batched) TXDIR_CHECK(r.store->SyncObjects());
    TXDIR_FAILPOINT("gc.prune.commits_written");
  }

  auto before = TXDIR_TRY(Survey(env, objects));
  if (report->history_pruned.empty() && before.loose == 0 && before.packs.size() <= 1)
    return Ok();  // already one pack of exactly the history

  // 2. One pack of everything reachable from the new head, durable.
  const std::string pack = TXDIR_TRY(WritePack(r, new_head, progress));
  TXDIR_FAILPOINT("gc.prune.pack_written");

  // 3. THE COMMIT POINT: the head ref moves to the rewritten history
  // (compare-and-swap against the head read above).
  if (!store::OidEqual(new_head, head->commit)) {
    std::function<Status()> barrier;
    if (batched) barrier = [&r]() -> Status { return SyncBarrier(r); };
    TXDIR_CHECK(r.store->SetHead(new_head, head->commit, barrier));
    TXDIR_FAILPOINT("gc.prune.head_updated");
  }

  // 4. Everything else is unreachable or duplicated in the new pack: old
  // packs (index first, so no reader finds an index without its pack), then
  // every loose object.
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
