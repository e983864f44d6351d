// The raw libgit2 repository of a GitStore, for the modules of store/ that
// build on it (remote.cc, history_walk.cc, ...). Not installed: the layers
// above store/ never see a libgit2 handle.
#pragma once

#include <git2.h>

#include "store/git_store.h"

namespace txdir::store {

struct StoreAccess {
  static git_repository* Repo(const GitStore& store) { return store.repo_; }
};

}  // namespace txdir::store
