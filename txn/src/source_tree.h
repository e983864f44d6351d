// Reading a source directory tree into the store as blobs: the input side
// of `publish --from SRC`.
#pragma once

#include <string>
#include <vector>

#include "store/git_store.h"
#include "txdir/repository.h"
#include "txn/src/stat_cache.h"

namespace txdir::internal {

// Walks `source` and writes every file as a blob. Refuses (InvalidArgument,
// naming the path) device files, fifos and sockets; invalid names (see
// path_check.h); symlinks that leave the source unless policy is kKeepAll;
// a source that contains `meta_dir`. A file that changes while it is read
// is retried, then refused. Empty directories are not kept (git trees
// cannot hold them). `hash_only`: the blob ids are computed and nothing is
// written to the store (what a publish would store, previewed).
//
// With a stat cache (stat_cache.h): a regular file whose lstat matches its
// entry in `cache.old` is not opened; its cached blob id is used (checked
// with HasObject unless `cache.old_blobs_present`). Every regular file
// hashed or reused is recorded in `cache.fresh` (which the caller has
// Reset) subject to the racy-timestamp rule. `cache.reads` counts files
// opened and hashed, `cache.hits` files reused.
// Called after each file of the second pass: files done, files in the
// pass, bytes read so far.
using ScanProgress = std::function<void(uint64_t files, uint64_t total, uint64_t bytes)>;

struct ScanCache {
  const StatCache* old = nullptr;
  bool old_blobs_present = false;
  StatCache* fresh = nullptr;
  size_t reads = 0;
  size_t hits = 0;
};

Result<std::vector<store::TreeFile>> ScanSource(Env* env, store::GitStore* store,
                                                const std::string& source, SymlinkPolicy policy,
                                                const std::string& meta_dir,
                                                ScanCache* cache = nullptr, bool hash_only = false,
                                                const ScanProgress& progress = {});

}  // namespace txdir::internal
