#include "store/tree_diff.h"

#include "store/git_handles.h"
#include "store/git_store_access.h"

namespace txdir::store {

struct TreeDiff::State {
  DiffPtr diff;
  // changes_[i] is delta delta_index[i] of `diff` (deltas of other kinds,
  // which a tree-to-tree diff does not produce, are left out).
  std::vector<size_t> delta_index;
};

TreeDiff::TreeDiff(std::unique_ptr<State> state, std::vector<TreeChange> changes)
    : state_(std::move(state)), changes_(std::move(changes)) {}
TreeDiff::TreeDiff(TreeDiff&&) noexcept = default;
TreeDiff& TreeDiff::operator=(TreeDiff&&) noexcept = default;
TreeDiff::~TreeDiff() = default;

namespace {

Result<TreePtr> LookupTree(git_repository* repo, const std::optional<git_oid>& id) {
  if (!id) return TreePtr();
  git_tree* t = nullptr;
  if (int rc = git_tree_lookup(&t, repo, &*id); rc < 0)
    return NamedObjectError(rc, "cannot read tree " + OidHex(*id));
  return TreePtr(t);
}

}  // namespace

Result<TreeDiff> TreeDiff::Compare(const GitStore& store, const std::optional<git_oid>& from,
                                   const std::optional<git_oid>& to) {
  git_repository* repo = StoreAccess::Repo(store);
  TreePtr a = TXDIR_TRY(LookupTree(repo, from));
  TreePtr b = TXDIR_TRY(LookupTree(repo, to));
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE;  // a file that became a link: one delta
  git_diff* raw = nullptr;
  if (int rc = git_diff_tree_to_tree(&raw, repo, a.get(), b.get(), &opts); rc < 0)
    return GitError(rc, "cannot compare trees");
  auto state = std::make_unique<State>();
  state->diff.reset(raw);
  std::vector<TreeChange> changes;
  for (size_t i = 0, n = git_diff_num_deltas(raw); i < n; ++i) {
    const git_diff_delta* d = git_diff_get_delta(raw, i);
    TreeChange c;
    switch (d->status) {
      case GIT_DELTA_ADDED:
        c.kind = TreeChange::Kind::kAdded;
        break;
      case GIT_DELTA_DELETED:
        c.kind = TreeChange::Kind::kRemoved;
        break;
      case GIT_DELTA_MODIFIED:
      case GIT_DELTA_TYPECHANGE:
        c.kind = TreeChange::Kind::kModified;
        break;
      default:
        continue;  // unmodified, ignored, ...: not produced by a tree-to-tree diff
    }
    c.path = c.kind == TreeChange::Kind::kRemoved ? d->old_file.path : d->new_file.path;
    if (c.kind != TreeChange::Kind::kAdded) {
      c.old_mode = d->old_file.mode;
      c.old_blob = d->old_file.id;
    }
    if (c.kind != TreeChange::Kind::kRemoved) {
      c.new_mode = d->new_file.mode;
      c.new_blob = d->new_file.id;
    }
    changes.push_back(std::move(c));
    state->delta_index.push_back(i);
  }
  return TreeDiff(std::move(state), std::move(changes));
}

Result<FilePatch> TreeDiff::Patch(size_t i, bool text) const {
  git_patch* raw = nullptr;
  if (int rc = git_patch_from_diff(&raw, state_->diff.get(), state_->delta_index.at(i)); rc < 0)
    return GitError(rc, "cannot compute the diff");
  PatchPtr patch(raw);
  // The delta's flags and sizes are final once the patch has loaded both
  // sides.
  const git_diff_delta* d = git_patch_get_delta(raw);
  FilePatch p;
  p.binary = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
  p.old_size = d->old_file.size;
  p.new_size = d->new_file.size;
  if (p.binary) return p;
  size_t context = 0;
  if (int rc = git_patch_line_stats(&context, &p.lines_added, &p.lines_removed, raw); rc < 0)
    return GitError(rc, "cannot count the diff's lines");
  if (text) {
    GitBuf buf;
    if (int rc = git_patch_to_buf(&buf.buf, raw); rc < 0)
      return GitError(rc, "cannot format the diff");
    p.text.assign(buf.buf.ptr, buf.buf.size);
  }
  return p;
}

Status TreeDiff::CountChangedBytes(uint64_t* added, uint64_t* removed) const {
  struct Sums {
    uint64_t added = 0, removed = 0;
  } sums;
  auto binary = [](const git_diff_delta* d, const git_diff_binary*, void* payload) -> int {
    auto* s = static_cast<Sums*>(payload);
    s->removed += d->old_file.size;
    s->added += d->new_file.size;
    return 0;
  };
  auto line = [](const git_diff_delta*, const git_diff_hunk*, const git_diff_line* l,
                 void* payload) -> int {
    auto* s = static_cast<Sums*>(payload);
    if (l->origin == GIT_DIFF_LINE_ADDITION) s->added += l->content_len;
    if (l->origin == GIT_DIFF_LINE_DELETION) s->removed += l->content_len;
    return 0;
  };
  if (int rc = git_diff_foreach(state_->diff.get(), nullptr, binary, nullptr, line, &sums); rc < 0)
    return GitError(rc, "cannot compute the diff");
  *added += sums.added;
  *removed += sums.removed;
  return Ok();
}

}  // namespace txdir::store
