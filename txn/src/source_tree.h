// Reading a source directory tree into the store as blobs: the input side
// of `publish --from SRC`.
#pragma once

#include <string>
#include <vector>

#include "store/git_store.h"
#include "txdir/repository.h"

namespace txdir::internal {

// Walks `source` and writes every file as a blob. Refuses (InvalidArgument,
// naming the path) device files, fifos and sockets; invalid names (see
// path_check.h); symlinks that leave the source unless policy is kKeepAll;
// a source that contains `meta_dir`. A file that changes while it is read
// is retried, then refused. Empty directories are not kept (git trees
// cannot hold them).
Result<std::vector<store::TreeFile>> ScanSource(Env* env, store::GitStore* store,
                                                const std::string& source, SymlinkPolicy policy,
                                                const std::string& meta_dir);

}  // namespace txdir::internal
