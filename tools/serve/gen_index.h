// What `txdir serve` knows about a repository's generations: an index from
// generation number to commit and tree, filled by walking the store's
// history from the head and extended when the head moves, plus a small
// cache of tree listings. Generations are immutable, so nothing cached
// about one ever goes stale; a rewritten history (gc --prune-history) is
// noticed when a known number turns up with another commit, and the index
// is rebuilt.
//
// Thread safety: none; the server calls it under its mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "txdir/repository.h"
#include "txdir/sdn.h"
#include "txdir/store_reader.h"

namespace txdir::serve {

struct GenEntry {
  GenerationInfo info;            // with its commit and tree ids, and its parent if retained
  std::optional<size_t> changed;  // files changed from the parent (computed lazily)
};

// One generation's tree, flattened.
struct TreeIndex {
  std::map<std::string, StoredFile> files;  // path -> file (incl. links)
  std::set<std::string> dirs;               // every directory path; "" is the root
  // Immediate children of directory `dir`: (name, is_directory), sorted.
  std::vector<std::pair<std::string, bool>> Children(const std::string& dir) const;
};

// A file added, changed (content or mode) or removed between two trees.
struct TreeChange {
  std::string path;
  ChangeKind kind;
};

// What changed from `before` (null: no files) to `after`, sorted by path:
// one walk over both sorted file maps.
std::vector<TreeChange> DiffTreeIndexes(const TreeIndex* before, const TreeIndex& after);

class GenIndex {
 public:
  explicit GenIndex(Repository* repo) : repo_(repo) {}
  ~GenIndex();

  // Catches up with the store's head: new generations are added, and a
  // rewritten history (gc --prune-history) replaces the index, so a pruned
  // generation is no longer found. The server calls it once per request.
  Status Refresh();
  // A copy of generation `number`'s entry (copies: a later call may rebuild
  // the index); NotFound when the store does not hold it.
  Result<GenEntry> Find(uint64_t number);
  // Every retained generation, newest first.
  Result<std::vector<GenEntry>> All();
  // The tree of `e`, from the cache.
  Result<std::shared_ptr<const TreeIndex>> Tree(const GenEntry& e);
  // Files added, removed or changed from the parent generation (all files
  // for the first one).
  Result<size_t> ChangedCount(uint64_t number);
  // The generation the live link shows; nullopt before the first publish.
  Result<std::optional<uint64_t>> Live();
  // The retained generations just before and after `number` (by number).
  std::optional<uint64_t> Previous(uint64_t number) const;
  std::optional<uint64_t> Next(uint64_t number) const;

  // The file at `path` in generation `e` (nullopt: not there, or a
  // directory). Cached by tree id and path, so a trend over many
  // generations costs one tree lookup per generation once.
  Result<std::optional<StoredFile>> FileAt(const GenEntry& e, const std::string& path);
  // FileAt for every entry of `entries`, in their order; the lookups not
  // cached yet run in parallel (ParallelRead).
  Result<std::vector<std::optional<StoredFile>>> FilesAt(const std::vector<GenEntry>& entries,
                                                         const std::string& path);
  // A blob parsed as SDN, cached by blob id; a blob that is not SDN gives
  // its parse error (InvalidArgument), also cached.
  Result<std::shared_ptr<const sdn::Document>> Document(const std::string& blob);
  // A blob's bytes (not cached: the pages that read one send it on).
  Result<std::string> ReadBlob(const std::string& blob);

  // Runs work(reader, i) for every i in [0, n) on up to 8 threads (never
  // more than the machine's cores), each with a StoreReader of its own
  // (a reader serves one thread at a time): for the pages that read
  // a version of a file from every generation, where inflating and parsing
  // them one after another would dominate. `work` may touch only its own
  // slot i of what it fills and no cache of the index. Returns the first
  // error of any call (the rest still run to completion or their own
  // error); the worker readers are kept for the next call.
  Status ParallelRead(size_t n, const std::function<Status(StoreReader&, size_t)>& work);

 private:
  Repository* repo_;
  std::map<uint64_t, GenEntry> entries_;
  std::set<std::string> known_commits_;
  std::optional<std::string> head_;
  std::map<std::string, std::shared_ptr<const TreeIndex>> trees_;  // by tree id
  std::map<std::string, std::optional<StoredFile>> files_;         // by tree id + '\0' + path
  // by blob id: the document, or why it is not SDN
  std::map<std::string, Result<std::shared_ptr<const sdn::Document>>> docs_;
  std::unique_ptr<StoreReader> reader_;                // the server thread's, opened on first use
  std::vector<std::unique_ptr<StoreReader>> workers_;  // ParallelRead's
  Result<StoreReader*> Reader();
  // The key of files_ for `path` in `tree`.
  static std::string FileKey(const std::string& tree, const std::string& path);
  void RememberFile(std::string key, const std::optional<StoredFile>& found);
};

}  // namespace txdir::serve
