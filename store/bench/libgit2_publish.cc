#include "store/bench/libgit2_publish.h"

#include <git2.h>

#include "store/git_handles.h"
#include "store/git_store.h"

namespace txdir::store::bench {

Libgit2Scope::Libgit2Scope() { git_libgit2_init(); }
Libgit2Scope::~Libgit2Scope() { git_libgit2_shutdown(); }

struct Libgit2Publisher::Impl {
  git_repository* repo = nullptr;
  SigPtr sig;
  git_oid parent{};
  bool have_parent = false;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  // In the order the benchmark always released them: the signature, the
  // repository, then the option (turned off even when Create failed after
  // turning it on).
  ~Impl() {
    sig.reset();
    git_repository_free(repo);
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
  }
};

Libgit2Publisher::Libgit2Publisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Libgit2Publisher::~Libgit2Publisher() = default;

Result<std::unique_ptr<Libgit2Publisher>> Libgit2Publisher::Create(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  if (int rc = git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1); rc < 0)
    return GitError(rc, "fsync option", Code::kInternal);
  if (int rc = git_repository_init(&impl->repo, dir.c_str(), /*is_bare=*/1); rc < 0)
    return GitError(rc, "git_repository_init", Code::kIo);
  git_signature* sig = nullptr;
  if (int rc = git_signature_now(&sig, "bench", "bench@example.invalid"); rc < 0)
    return GitError(rc, "signature", Code::kInternal);
  impl->sig.reset(sig);
  return std::unique_ptr<Libgit2Publisher>(new Libgit2Publisher(std::move(impl)));
}

Status Libgit2Publisher::Publish(const std::vector<BaselineFile>& files) {
  git_repository* repo = impl_->repo;
  git_treebuilder* tb_raw = nullptr;
  if (int rc = git_treebuilder_new(&tb_raw, repo, nullptr); rc < 0)
    return GitError(rc, "treebuilder", Code::kInternal);
  TreeBuilderPtr tb(tb_raw);
  for (const auto& f : files) {
    git_oid blob;
    if (int rc = git_blob_create_from_buffer(&blob, repo, f.content.data(), f.content.size());
        rc < 0)
      return GitError(rc, "blob", Code::kIo);
    if (int rc = git_treebuilder_insert(nullptr, tb.get(), f.name, &blob, GIT_FILEMODE_BLOB);
        rc < 0)
      return GitError(rc, "insert", Code::kInvalidArgument);
  }
  git_oid tree_id;
  if (int rc = git_treebuilder_write(&tree_id, tb.get()); rc < 0)
    return GitError(rc, "tree", Code::kIo);
  tb.reset();
  git_tree* tree_raw = nullptr;
  if (int rc = git_tree_lookup(&tree_raw, repo, &tree_id); rc < 0)
    return GitError(rc, "tree lookup");
  TreePtr tree(tree_raw);
  git_commit* parent_raw = nullptr;
  if (impl_->have_parent) {
    if (int rc = git_commit_lookup(&parent_raw, repo, &impl_->parent); rc < 0)
      return GitError(rc, "parent");
  }
  CommitPtr parent(parent_raw);
  const git_commit* parents[] = {parent.get()};
  git_oid commit_id;
  if (int rc = git_commit_create(&commit_id, repo, "HEAD", impl_->sig.get(), impl_->sig.get(),
                                 nullptr, "run", tree.get(), impl_->have_parent ? 1 : 0, parents);
      rc < 0)
    return GitError(rc, "commit", Code::kIo);
  impl_->parent = commit_id;
  impl_->have_parent = true;
  return Ok();
}

Result<std::string> Libgit2Publisher::ReadHeadFile(const std::string& name) const {
  git_object* obj = nullptr;
  const std::string spec = "HEAD:" + name;
  if (int rc = git_revparse_single(&obj, impl_->repo, spec.c_str()); rc < 0)
    return GitError(rc, "revparse");
  if (git_object_type(obj) != GIT_OBJECT_BLOB) {
    git_object_free(obj);
    return MakeError(Code::kInvalidArgument, spec + " is not a file");
  }
  const auto* b = reinterpret_cast<const git_blob*>(obj);
  std::string got(static_cast<const char*>(git_blob_rawcontent(b)), size_t(git_blob_rawsize(b)));
  git_object_free(obj);
  return got;
}

}  // namespace txdir::store::bench
