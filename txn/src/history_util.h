// Internals shared by history.cc and diff.cc (not installed): the
// tree-to-tree comparison both build on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/tree_diff.h"
#include "txdir/history.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

// "dir/", "dir" and "" -> "dir", "dir", "" (the form PathSelected takes).
std::string NormalizeSelector(const std::string& path);
// True when `path` is `selector` or lies under it; always for "".
bool PathSelected(const std::string& path, const std::string& selector);

// The tree of generation `gen`; nullopt for generation 0 (what precedes
// the first generation: no files).
Result<std::optional<git_oid>> GenerationTree(Repository::Impl& r, uint64_t gen);

// The changes of `diff` under `selector` as FileChanges, with sizes.
Result<std::vector<FileChange>> ChangesOf(Repository::Impl& r, const store::TreeDiff& diff,
                                          const std::string& selector);

}  // namespace txdir::internal
