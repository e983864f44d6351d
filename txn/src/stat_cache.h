// The stat cache of `publish --from SRC` (.txdir/statcache): per source path
// the file's stat identity and the blob id it had, so a publish that finds a
// file's stat unchanged reuses the blob id without reading the file. Like
// git's index it is an optimization only: a missing, corrupt, truncated or
// old-format cache is ignored (logged at debug) and rebuilt by the next
// publish; nothing in it is part of a generation or of the commit point.
//
// What a hit trusts, and why (the racy-timestamp rule):
//   An entry matches when size, mtime (ns), ctime (ns), inode, device and
//   st_mode are all equal to the lstat of the file now. A file changed after
//   it was hashed gets a new ctime, unless the change falls in the same
//   file-system clock tick as an earlier modification (ext4's clock moves in
//   jiffies, ~4 ms; some file systems in whole seconds). So an entry is only
//   *recorded* when the file's mtime and ctime are strictly older than the
//   scan's start time S, read from the file-system clock itself: the mtime
//   of .txdir/lock, which taking the writer lock has just written
//   (WriterLock::Stat), before the first file is read.
//   Any change made after S gives the file a ctime >= S, so a recorded
//   entry cannot match a file changed after it was hashed. When the source
//   is on another device than .txdir/tmp (whose clock granularity we do not
//   know) S is first rounded down to a whole second and 2 s are taken off
//   (covers 1 s and FAT's 2 s granularity). Files younger than S are simply
//   read and hashed again on every publish until they age.
//
// A cached blob id is used only if the blob is in the store: when the cache
// was written for the current head commit its blobs are that commit's (kept
// by gc); otherwise each hit is checked with HasObject.
#pragma once

#include <sys/stat.h>

#include <string>
#include <unordered_map>

#include "store/git_store.h"
#include "txdir/env.h"

namespace txdir::internal {

inline constexpr const char* kStatCacheName = "statcache";  // in .txdir/

class StatCache {
 public:
  struct Entry {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint64_t ino = 0;
    uint64_t dev = 0;
    uint32_t mode = 0;  // st_mode
    git_oid oid{};
  };

  // Reads `name` in directory `dir_path`. Never fails: anything wrong gives
  // an empty cache (logged at debug).
  static StatCache Load(Env* env, const std::string& dir_path, const std::string& name);

  // The blob id for `path` if its cached stat equals `st`, else nullptr.
  const git_oid* Lookup(const std::string& path, const struct stat& st) const;

  // Head commit and source-root identity the cache was written for.
  const std::string& head() const { return head_; }
  uint64_t source_dev() const { return source_dev_; }
  uint64_t source_ino() const { return source_ino_; }
  size_t size() const { return entries_.size(); }

  // For building a new cache: S (see above) and the source root identity.
  void Reset(const std::string& head, const struct stat& source_root, int64_t scan_start_ns);
  // Records `path` unless its stat is racy with respect to S.
  void Record(const std::string& path, const struct stat& st, const git_oid& oid);
  // The trust limit: entries with mtime or ctime >= this are not recorded.
  int64_t limit_ns() const { return limit_ns_; }

  // Writes the cache over `dir`/`name`, in place (no new file). Not
  // fsynced: losing or tearing it in a crash only makes the next publish
  // read every file (the checksum rejects a torn file).
  Status Save(Env* env, const std::string& dir, const std::string& name) const;

  void set_head(const std::string& head) { head_ = head; }

 private:
  std::string head_;
  uint64_t source_dev_ = 0;
  uint64_t source_ino_ = 0;
  int64_t limit_ns_ = 0;
  std::unordered_map<std::string, Entry> entries_;
};

inline int64_t StatNs(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

}  // namespace txdir::internal
