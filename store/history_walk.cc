// Walks of the store's history. history_walk.h.
#include "store/history_walk.h"

#include <git2.h>

#include "store/git_handles.h"
#include "store/git_store_access.h"

namespace txdir::store {

// The generation walk reads through GitStore's own calls, so its reads and
// errors are exactly a hand-written loop's.
GenerationWalk::GenerationWalk(const GitStore& store, const std::optional<git_oid>& from)
    : store_(&store), from_(from) {}

Result<bool> GenerationWalk::Next() {
  std::optional<git_oid> next;
  if (!started_)
    next = from_;
  else if (commit_)
    next = TXDIR_TRY(Parent());  // on error: still on the current generation
  started_ = true;
  commit_ = next;
  meta_.reset();
  parent_.reset();
  return commit_.has_value();
}

Result<GenMeta> GenerationWalk::Meta() {
  if (!meta_) meta_.emplace(TXDIR_TRY(store_->ReadMeta(*commit_)));
  return *meta_;
}

Result<std::optional<git_oid>> GenerationWalk::Parent() {
  if (!parent_) parent_.emplace(TXDIR_TRY(store_->CommitParent(*commit_)));
  return *parent_;
}

Status ForEachCommitOnlyIn(const GitStore& store, const git_oid& from,
                           const std::optional<git_oid>& hide,
                           const std::function<Status(const git_oid&)>& visit) {
  git_revwalk* raw = nullptr;
  if (int rc = git_revwalk_new(&raw, StoreAccess::Repo(store)); rc < 0)
    return GitError(rc, "cannot walk history", Code::kInternal);
  RevwalkPtr walk(raw);
  if (int rc = git_revwalk_push(walk.get(), &from); rc < 0)
    return GitError(rc, "cannot walk from " + OidHex(from));
  if (hide) {
    if (int rc = git_revwalk_hide(walk.get(), &*hide); rc < 0)
      return GitError(rc, "cannot walk from " + OidHex(*hide));
  }
  git_oid oid;
  int rc = 0;
  while ((rc = git_revwalk_next(&oid, walk.get())) == 0) TXDIR_CHECK(visit(oid));
  if (rc != GIT_ITEROVER) return GitError(rc, "cannot walk history");
  return Ok();
}

Result<std::optional<git_oid>> MergeBase(const GitStore& store, const git_oid& a,
                                         const git_oid& b) {
  git_oid base;
  int rc = git_merge_base(&base, StoreAccess::Repo(store), &a, &b);
  if (rc == GIT_ENOTFOUND) return std::optional<git_oid>();
  if (rc < 0) return GitError(rc, "cannot find the merge base");
  return std::optional<git_oid>(base);
}

Result<bool> IsDescendantOf(const GitStore& store, const git_oid& commit, const git_oid& ancestor) {
  int rc = git_graph_descendant_of(StoreAccess::Repo(store), &commit, &ancestor);
  if (rc < 0)
    return GitError(rc,
                    "cannot tell whether " + OidHex(commit) + " descends from " + OidHex(ancestor));
  return rc == 1;
}

}  // namespace txdir::store
