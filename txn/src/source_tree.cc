#include "txn/src/source_tree.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "store/fs_util.h"
#include "txn/src/path_check.h"

namespace txdir::internal {

namespace {

// Two passes. The first walks the whole tree and checks everything that
// can refuse it (names, depth, file types, links that leave the source)
// without writing anything; only then does the second read the files that
// need it and write their blobs. So a refused publish leaves no objects
// behind, and a bad name at the end of a large tree fails in the time of a
// directory walk, not after hashing everything before it.
struct Scanner {
  Env* env;
  store::GitStore* store;
  SymlinkPolicy policy;
  struct stat meta_st;
  bool have_meta;
  ScanCache* cache;
  bool hash_only;  // blob ids computed, nothing stored (a publish preview)
  const ScanProgress* progress = nullptr;
  std::vector<store::TreeFile> out;

  Result<git_oid> StoreBlob(std::string_view data) {
    if (!hash_only) return store->WriteBlob(data);
    size_t at = 0;
    return store::HashBlobStream(data.size(), [&](char* buf, size_t n) -> Result<size_t> {
      const size_t k = std::min(n, data.size() - at);
      std::memcpy(buf, data.data() + at, k);
      at += k;
      return k;
    });
  }

  // A directory of the source, as the first pass saw it: the second pass
  // reopens it by path and insists on the same identity, so a directory
  // swapped for a link between the passes cannot lead it outside.
  struct SeenDir {
    std::string rel;
    dev_t dev;
    ino_t ino;
  };
  std::vector<SeenDir> dirs;
  // Work for the second pass, in walk order: out[index] gets its blob.
  struct Pending {
    size_t index;
    size_t dir;        // into `dirs`
    std::string name;  // in that directory
    struct stat lst;   // regular files: the first pass's lstat
    std::string link_target;
    bool is_link;
  };
  std::vector<Pending> pending;

  Status Dir(int dir_fd, const std::string& rel, size_t depth, const struct stat& self) {
    const size_t dir_index = dirs.size();
    dirs.push_back(SeenDir{rel, self.st_dev, self.st_ino});
    if (depth > kMaxDepth)
      return MakeError(Code::kInvalidArgument,
                       "source tree deeper than " + std::to_string(kMaxDepth) + " levels",
                       Printable(rel));
    auto entries = TXDIR_TRY(env->ListDir(dir_fd));
    for (const auto& e : entries) {
      const std::string path = rel.empty() ? e.name : rel + "/" + e.name;
      TXDIR_CHECK(CheckName(e.name, path));
      struct stat st = TXDIR_TRY(env->StatAt(dir_fd, e.name, /*follow=*/false));
      if (S_ISDIR(st.st_mode)) {
        if (have_meta && st.st_dev == meta_st.st_dev && st.st_ino == meta_st.st_ino)
          return MakeError(Code::kInvalidArgument,
                           "source contains the repository's own metadata folder", path);
        Fd sub = TXDIR_TRY(env->OpenAt(dir_fd, e.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        TXDIR_CHECK(Dir(sub.get(), path, depth + 1, st));
      } else if (S_ISREG(st.st_mode)) {
        TXDIR_CHECK(CheckRelativePath(path));
        TXDIR_CHECK(SeeFile(dir_index, e.name, path, st));
      } else if (S_ISLNK(st.st_mode)) {
        TXDIR_CHECK(CheckRelativePath(path));
        TXDIR_CHECK(SeeLink(dir_fd, dir_index, e.name, path));
      } else {
        const char* kind = S_ISFIFO(st.st_mode)   ? "a fifo"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                                                  : "not a regular file";
        return MakeError(Code::kInvalidArgument,
                         std::string("cannot publish ") + kind +
                             " (only files, directories "
                             "and symlinks)",
                         Printable(path));
      }
    }
    return Ok();
  }

  // First pass: a stat-cache hit is final; anything else waits for Blobs().
  Status SeeFile(size_t dir_index, const std::string& name, const std::string& path,
                 const struct stat& lst) {
    const uint32_t mode = (lst.st_mode & 0111) ? 0100755u : 0100644u;
    if (cache && cache->old) {
      if (const git_oid* oid = cache->old->Lookup(path, lst)) {
        const bool present = cache->old_blobs_present || TXDIR_TRY(store->HasObject(*oid));
        if (present) {
          out.push_back(store::TreeFile{path, *oid, mode});
          if (cache->fresh) cache->fresh->Record(path, lst, *oid);
          ++cache->hits;
          return Ok();
        }
      }
    }
    pending.push_back(Pending{out.size(), dir_index, name, lst, {}, false});
    out.push_back(store::TreeFile{path, {}, mode});
    return Ok();
  }

  // Second pass: reads what the first pass left, one directory at a time.
  Status Blobs(int root_fd) {
    Fd dir_owner;
    int dir_fd = -1;
    size_t open_dir = SIZE_MAX;
    uint64_t done = 0, bytes = 0;
    for (const Pending& p : pending) {
      if (progress != nullptr && *progress) {
        (*progress)(done, pending.size(), bytes);
        ++done;
        bytes += p.is_link ? p.link_target.size() : static_cast<uint64_t>(p.lst.st_size);
      }
      store::TreeFile& f = out[p.index];
      if (p.is_link) {
        f.oid = TXDIR_TRY(StoreBlob(p.link_target));
        continue;
      }
      if (p.dir != open_dir) {
        const SeenDir& d = dirs[p.dir];
        if (d.rel.empty()) {
          dir_fd = root_fd;
        } else {
          dir_owner = TXDIR_TRY(env->OpenAt(root_fd, d.rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
          struct stat st = TXDIR_TRY(env->Fstat(dir_owner.get()));
          if (st.st_dev != d.dev || st.st_ino != d.ino)
            return MakeError(Code::kInvalidArgument,
                             "source directory was replaced while it was being published",
                             Printable(d.rel));
          dir_fd = dir_owner.get();
        }
        open_dir = p.dir;
      }
      f.oid = TXDIR_TRY(File(dir_fd, p.name, f.path, p.lst));
    }
    if (progress != nullptr && *progress) (*progress)(pending.size(), pending.size(), bytes);
    return Ok();
  }

  Result<git_oid> File(int dir_fd, const std::string& name, const std::string& path,
                       const struct stat& lst) {
    // A writer still changing the file would give us a torn copy: compare
    // the file's identity and times before and after reading, retry a few
    // times, then refuse.
    for (int attempt = 0; attempt < 3; ++attempt) {
      Fd fd = TXDIR_TRY(env->OpenAt(dir_fd, name, O_RDONLY | O_NOFOLLOW));
      struct stat before = TXDIR_TRY(env->Fstat(fd.get()));
      Result<git_oid> blob;
      if (static_cast<uint64_t>(before.st_size) <= store::kStreamPiece) {
        std::string data = TXDIR_TRY(env->ReadAll(fd.get()));
        if (static_cast<off_t>(data.size()) != before.st_size) continue;
        blob = StoreBlob(data);
      } else {
        // Streamed: a file of any size costs one piece of memory. A length
        // that differs from the stat's is a file being written: retry.
        auto read = [&](char* buf, size_t n) { return env->Read(fd.get(), buf, n); };
        blob = hash_only ? store::HashBlobStream(static_cast<uint64_t>(before.st_size), read)
                         : store->WriteBlobStream(static_cast<uint64_t>(before.st_size), read);
        if (!blob && blob.error().code == Code::kInvalidArgument) continue;
      }
      if (!blob) return tl::unexpected(blob.error());
      struct stat after = TXDIR_TRY(env->Fstat(fd.get()));
      // A changed file leaves a blob of what was read: unreferenced, gc's.
      if (before.st_size != after.st_size || before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
          before.st_mtim.tv_nsec != after.st_mtim.tv_nsec)
        continue;
      const git_oid oid = *blob;
      if (cache) {
        ++cache->reads;
        // lstat identity: the cache is looked up with lstat next time.
        if (cache->fresh && after.st_ino == lst.st_ino && after.st_dev == lst.st_dev)
          cache->fresh->Record(path, after, oid);
      }
      return oid;
    }
    return MakeError(Code::kInvalidArgument, "file kept changing while it was being published",
                     Printable(path));
  }

  Status SeeLink(int dir_fd, size_t dir_index, const std::string& name, const std::string& path) {
    std::string target = TXDIR_TRY(env->ReadlinkAt(dir_fd, name));
    if (policy != SymlinkPolicy::kKeepAll && LinkEscapes(path, target))
      return MakeError(Code::kInvalidArgument,
                       "symlink points outside the source (" + Printable(target) +
                           "); pass --symlinks=keep to store it as a link",
                       Printable(path));
    // The rest of the rule every tree from elsewhere (pull, clone) meets.
    TXDIR_CHECK(CheckLinkTarget(path, target, /*allow_outside=*/true));
    pending.push_back(Pending{out.size(), dir_index, name, {}, std::move(target), true});
    out.push_back(store::TreeFile{path, {}, 0120000});
    return Ok();
  }
};

}  // namespace

Result<std::vector<store::TreeFile>> ScanSource(Env* env, store::GitStore* store,
                                                const std::string& source, SymlinkPolicy policy,
                                                const std::string& meta_dir, ScanCache* cache,
                                                bool hash_only, const ScanProgress& progress) {
  auto dir = env->OpenAt(Env::kCwd, source, O_RDONLY | O_DIRECTORY);
  if (!dir) {
    Error e = dir.error();
    e.code = e.code == Code::kNotFound ? Code::kNotFound : e.code;
    e.message = "cannot open source directory";
    return tl::unexpected(e);
  }
  Scanner s{env, store, policy, {}, false, cache, hash_only, &progress, {}, {}, {}};
  const struct stat root_st = TXDIR_TRY(env->Fstat(dir->get()));
  if (auto st = env->StatAt(Env::kCwd, meta_dir, true); st) {
    s.meta_st = *st;
    s.have_meta = true;
    if (root_st.st_dev == st->st_dev && root_st.st_ino == st->st_ino)
      return MakeError(Code::kInvalidArgument, "source is the repository's metadata folder",
                       source);
  }
  TXDIR_CHECK(s.Dir(dir->get(), "", 0, root_st));
  TXDIR_CHECK(s.Blobs(dir->get()));
  return std::move(s.out);
}

}  // namespace txdir::internal
