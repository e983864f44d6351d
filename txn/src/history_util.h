// Internals shared by history.cc and diff.cc (not installed): libgit2 handle
// owners and the tree-to-tree comparison both build on.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <vector>

#include "txdir/history.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* p) const { Free(p); }
};
using GitTree = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using GitDiff = std::unique_ptr<git_diff, GitDeleter<git_diff, git_diff_free>>;
using GitPatch = std::unique_ptr<git_patch, GitDeleter<git_patch, git_patch_free>>;
using GitOdb = std::unique_ptr<git_odb, GitDeleter<git_odb, git_odb_free>>;

// "dir/", "dir" and "" -> "dir", "dir", "" (the form PathSelected takes).
std::string NormalizeSelector(const std::string& path);
// True when `path` is `selector` or lies under it; always for "".
bool PathSelected(const std::string& path, const std::string& selector);

// The tree of generation `gen`.
Result<GitTree> GenerationTree(Repository::Impl& r, uint64_t gen);
Result<GitTree> LookupTree(Repository::Impl& r, const git_oid& tree);

// The git diff between two trees (either may be null: the empty tree), with
// type changes reported as one delta.
Result<GitDiff> DiffTrees(Repository::Impl& r, git_tree* from, git_tree* to);

// The deltas of `diff` under `selector` as FileChanges, with sizes.
Result<std::vector<FileChange>> ChangesOf(Repository::Impl& r, git_diff* diff,
                                          const std::string& selector);

}  // namespace txdir::internal
