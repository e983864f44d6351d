#include "store/history_rewrite.h"

#include <git2.h>

#include <vector>

#include "store/fs_util.h"
#include "store/git_handles.h"
#include "store/git_store_access.h"

namespace txdir::store {

Result<git_oid> RewriteCommit(GitStore& store, const git_oid& commit,
                              const std::optional<git_oid>& first_parent) {
  git_repository* repo = StoreAccess::Repo(store);
  git_commit* raw = nullptr;
  if (int rc = git_commit_lookup(&raw, repo, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr c(raw);
  git_tree* tree_raw = nullptr;
  if (int rc = git_commit_tree(&tree_raw, c.get()); rc < 0)
    return GitError(rc, "tree of commit " + OidHex(commit) + " missing");
  TreePtr tree(tree_raw);
  std::vector<CommitPtr> owners;
  std::vector<const git_commit*> parents;
  auto add = [&](const git_oid& oid) -> Status {
    git_commit* p = nullptr;
    if (int rc = git_commit_lookup(&p, repo, &oid); rc < 0)
      return GitError(rc, "parent commit missing " + OidHex(oid));
    owners.emplace_back(p);
    parents.push_back(p);
    return Ok();
  };
  if (first_parent) TXDIR_CHECK(add(*first_parent));
  for (unsigned i = 1, n = git_commit_parentcount(c.get()); i < n; ++i)
    TXDIR_CHECK(add(*git_commit_parent_id(c.get(), i)));
  // The signatures, encoding and raw message as read: git_commit_create
  // writes them back unchanged, which is what makes the rewrite
  // deterministic.
  git_oid out;
  if (int rc = git_commit_create(
          &out, repo, nullptr, git_commit_author(c.get()), git_commit_committer(c.get()),
          git_commit_message_encoding(c.get()), git_commit_message_raw(c.get()), tree.get(),
          parents.size(), parents.data());
      rc < 0)
    return GitError(rc, "cannot write rewritten commit", Code::kIo);
  return out;
}

namespace {

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

// Every ref but the head (a pull's remote-tracking refs) keeps what it
// reaches: a commit's history into the walk, any other object with
// everything it references straight into the pack. A ref that resolves to
// nothing keeps nothing.
Status AddOtherRefs(git_repository* repo, git_packbuilder* pb, git_revwalk* walk) {
  git_reference_iterator* it_raw = nullptr;
  if (int rc = git_reference_iterator_new(&it_raw, repo); rc < 0)
    return GitError(rc, "cannot list refs");
  RefIterPtr it(it_raw);
  const char* ref_name = nullptr;
  int rc = 0;
  while ((rc = git_reference_next_name(&ref_name, it.get())) == 0) {
    if (std::string(ref_name) == kHeadRef) continue;
    if (git_revwalk_push_ref(walk, ref_name) == 0) continue;
    git_oid target;  // not a commit: the object and whatever it references
    if (git_reference_name_to_id(&target, repo, ref_name) == 0 &&
        git_packbuilder_insert_recur(pb, &target, nullptr) < 0)
      return GitError(-1, std::string("cannot pack the objects of ") + ref_name);
  }
  if (rc != GIT_ITEROVER) return GitError(rc, "cannot list refs");
  return Ok();
}

}  // namespace

Result<std::string> RepackReachable(GitStore& store, const git_oid& head,
                                    const ProgressFn& progress) {
  git_repository* repo = StoreAccess::Repo(store);
  git_packbuilder* pb_raw = nullptr;
  if (int rc = git_packbuilder_new(&pb_raw, repo); rc < 0)
    return GitError(rc, "cannot start a pack", Code::kInternal);
  PackBuilderPtr pb(pb_raw);
  git_packbuilder_set_threads(pb.get(), 1);
  // libgit2 wants a mutable payload; the callbacks only read it.
  auto* payload = const_cast<ProgressFn*>(&progress);
  if (progress) git_packbuilder_set_callbacks(pb.get(), PackBuildProgress, payload);
  git_revwalk* walk_raw = nullptr;
  if (int rc = git_revwalk_new(&walk_raw, repo); rc < 0)
    return GitError(rc, "cannot walk the history", Code::kInternal);
  RevwalkPtr walk(walk_raw);
  if (int rc = git_revwalk_push(walk.get(), &head); rc < 0)
    return GitError(rc, "cannot walk from the head");
  TXDIR_CHECK(AddOtherRefs(repo, pb.get(), walk.get()));
  if (int rc = git_packbuilder_insert_walk(pb.get(), walk.get()); rc < 0)
    return GitError(rc, "cannot collect the reachable objects");
  Env* env = store.env();
  const std::string objects = store.dir() + "/objects";
  const std::string pack_dir = objects + "/pack";
  TXDIR_CHECK(fs::EnsureDir(env, Env::kCwd, pack_dir, 0755));
  if (int rc = git_packbuilder_write(pb.get(), pack_dir.c_str(), 0444,
                                     progress ? PackWriteProgress : nullptr, payload);
      rc < 0)
    return GitError(rc, "cannot write the pack", Code::kIo);
  std::string name = std::string("pack-") + git_packbuilder_name(pb.get());
  // libgit2's indexer fsynced the pack, its index and objects/pack/; again
  // through the Env, so the crash tests' recorder sees the step.
  TXDIR_CHECK(fs::FsyncPath(env, pack_dir));
  TXDIR_CHECK(fs::FsyncPath(env, objects));
  return name;
}

}  // namespace txdir::store
