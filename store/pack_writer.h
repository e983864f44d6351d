// Writes many new objects as one git pack (objects/pack/pack-<sha>.pack and
// its version-2 .idx) instead of one loose file each.
//
// Why: on the file systems txdir targets, creating an inode is the dominant
// cost of a large publish (ext4 scans for a free inode, and without a
// journal it also skips recently deleted ones). A first publish of 100,000
// files made 100,000 loose objects beside the 100,000 files of the
// generation; as a pack they are two files. git does the same above
// receive.unpackLimit.
//
// How: each object is deflated into a body temp file as it arrives (bounded
// memory; only its id, offset and CRC are kept). Finish writes the pack
// (header with the now known count, the body, the SHA-1 trailer) and the
// index as temp files in the same directory, then renames the pack and then
// the index into objects/pack: git ignores a pack without its index, so the
// pack appears whole or not at all. Until Finish returns, nothing refers to
// these objects; a crash leaves temp files or an index-less pack, which
// recovery removes (RecoverPackDir).
#pragma once

#include <git2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "txdir/env.h"

namespace txdir::store {

class PackWriter {
 public:
  // A writer whose temp files go in the directory `tmp_dir` (an open fd,
  // same file system as the store). Nothing is created until the first Add.
  PackWriter(Env* env, int tmp_dir);
  ~PackWriter();  // removes whatever temp files are left
  PackWriter(const PackWriter&) = delete;
  PackWriter& operator=(const PackWriter&) = delete;

  // True when `oid` was added.
  bool Has(const git_oid& oid) const;
  size_t count() const { return entries_.size(); }

  // Adds one object (skipped if already added).
  Status Add(const git_oid& oid, git_object_t type, std::string_view data);

  // Writes the pack and its index into `pack_dir` (an open fd of
  // objects/pack), fsyncing both files first when `sync`. The directory
  // entries are the caller's to make durable. Returns the pack's base name
  // ("pack-<sha>"), or "" when nothing was added.
  Result<std::string> Finish(int pack_dir, bool sync);

 private:
  Status Flush();

  struct Entry {
    git_oid oid;
    uint32_t crc;
    uint64_t offset;  // in the final pack (after its 12-byte header)
  };
  struct OidHash {
    size_t operator()(const std::string& raw) const;
  };

  Env* env_;
  int tmp_dir_;
  std::string body_name_;  // temp file: the entries, without header
  Fd body_;
  std::string out_;  // deflated bytes not yet written to body_
  uint64_t offset_ = 12;
  std::vector<Entry> entries_;
  std::unordered_set<std::string, OidHash> seen_;  // raw 20-byte ids
  std::vector<std::string> temps_;                 // names to remove on failure
  bool finished_ = false;
};

}  // namespace txdir::store
