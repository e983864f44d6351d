// Reading a repository's store by immutable id, for programs that index or
// serve its history (`txdir serve` is built on this alone).
//
//   auto reader = txdir::StoreReader::Open(*repo);
//   auto head = (*reader)->Head();                   // newest commit id
//   (*reader)->ForEachGeneration(**head, [&](const GenerationInfo& g) {
//     auto files = (*reader)->ListTree(g.tree);      // that generation's files
//     return true;                                   // false: stop
//   });
//
// A generation's commit and tree, and a file's contents, are named by their
// git object ids (40 hex digits, GenerationInfo::commit and ::tree,
// StoredFile::blob). An id always names the same bytes, so anything derived
// from one can be cached for good; only the head moves (publish, rollback)
// and a `gc --prune-history` deletes the objects of the generations it drops
// (a reader opened after it gets NotFound for their ids; one opened before
// may still answer from its cache, rightly, since an id never changes).
//
// Thread safety: a reader is used by one thread at a time. Open one reader
// per thread: each has store handles of its own, and readers of the same
// repository run in parallel with each other and with writers (nothing here
// takes the writer lock; a concurrent publish is simply not seen until the
// next Head()).
//
// Errors: an id that is not 40 hex digits, or of the wrong kind (a blob's
// where a tree's is expected), is InvalidArgument; an id the store does not
// hold is NotFound; an object that cannot be read whole (damage) is
// Corruption. Ids come from Head(), GenerationInfo, StoredFile or any other
// source (a URL): each is checked before use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "txdir/error.h"
#include "txdir/repository.h"

namespace txdir {

// One file of a stored tree (a generation's): a regular file, or a symbolic
// link whose blob holds its target.
struct StoredFile {
  std::string path;   // relative, '/'-separated
  std::string blob;   // object id (hex) of the contents
  uint32_t mode = 0;  // 0100644, 0100755 or 0120000 (a link)
};

class StoreReader {
 public:
  // A reader of `repo`'s store with handles of its own; `repo` may be
  // closed or used by another thread afterwards.
  static Result<std::unique_ptr<StoreReader>> Open(const Repository& repo);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  // The newest generation's commit id; nullopt before the first publish.
  Result<std::optional<std::string>> Head();

  // Calls fn with the generation of `commit`, then each before it along the
  // history (first parents), newest first, until fn returns false or the
  // history ends (generation 1, or the oldest a prune kept). Each
  // GenerationInfo is what Repository::Generation gives; the write-only
  // fields (live_pending, auto_gc_*) are unset. An error reading any of them
  // ends the walk with that error, after fn has seen the ones before it.
  Status ForEachGeneration(const std::string& commit,
                           const std::function<bool(const GenerationInfo&)>& fn);

  // Every file of tree `tree`, sorted by path; directories are not listed.
  Result<std::vector<StoredFile>> ListTree(const std::string& tree);
  // The file at `path` (relative, '/'-separated) in tree `tree`; nullopt
  // when there is none, or it is a directory.
  Result<std::optional<StoredFile>> FindFile(const std::string& tree, const std::string& path);
  // The bytes of blob `blob` (a file's contents, a link's target).
  Result<std::string> ReadBlob(const std::string& blob);

  // The generation the live link shows; nullopt before the first publish.
  // Corruption when the link points anywhere but one of the repository's
  // generation directories.
  Result<std::optional<uint64_t>> LiveGeneration();

 private:
  struct Impl;
  explicit StoreReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txdir
