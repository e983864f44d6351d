#include "txn/src/source_tree.h"

#include <fcntl.h>

#include <filesystem>

#include "store/fs_util.h"
#include "txn/src/path_check.h"

namespace txdir::internal {

namespace {

struct Scanner {
  Env* env;
  store::GitStore* store;
  SymlinkPolicy policy;
  struct stat meta_st;
  bool have_meta;
  ScanCache* cache;
  std::vector<store::TreeFile> out;

  Status Dir(int dir_fd, const std::string& rel, size_t depth) {
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
        TXDIR_CHECK(Dir(sub.get(), path, depth + 1));
      } else if (S_ISREG(st.st_mode)) {
        TXDIR_CHECK(CheckRelativePath(path));
        TXDIR_CHECK(File(dir_fd, e.name, path, st));
      } else if (S_ISLNK(st.st_mode)) {
        TXDIR_CHECK(CheckRelativePath(path));
        TXDIR_CHECK(Link(dir_fd, e.name, path));
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

  Status File(int dir_fd, const std::string& name, const std::string& path,
              const struct stat& lst) {
    if (cache && cache->old) {
      if (const git_oid* oid = cache->old->Lookup(path, lst)) {
        const bool present = cache->old_blobs_present || TXDIR_TRY(store->HasObject(*oid));
        if (present) {
          out.push_back(store::TreeFile{path, *oid, (lst.st_mode & 0111) ? 0100755u : 0100644u});
          if (cache->fresh) cache->fresh->Record(path, lst, *oid);
          ++cache->hits;
          return Ok();
        }
      }
    }
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
        blob = store->WriteBlob(data);
      } else {
        // Streamed: a file of any size costs one piece of memory. A length
        // that differs from the stat's is a file being written: retry.
        blob = store->WriteBlobStream(
            static_cast<uint64_t>(before.st_size),
            [&](char* buf, size_t n) { return env->Read(fd.get(), buf, n); });
        if (!blob && blob.error().code == Code::kInvalidArgument) continue;
      }
      if (!blob) return tl::unexpected(blob.error());
      struct stat after = TXDIR_TRY(env->Fstat(fd.get()));
      // A changed file leaves a blob of what was read: unreferenced, gc's.
      if (before.st_size != after.st_size || before.st_mtim.tv_sec != after.st_mtim.tv_sec ||
          before.st_mtim.tv_nsec != after.st_mtim.tv_nsec)
        continue;
      const git_oid oid = *blob;
      uint32_t mode = (after.st_mode & 0111) ? 0100755 : 0100644;
      out.push_back(store::TreeFile{path, oid, mode});
      if (cache) {
        ++cache->reads;
        // lstat identity: the cache is looked up with lstat next time.
        if (cache->fresh && after.st_ino == lst.st_ino && after.st_dev == lst.st_dev)
          cache->fresh->Record(path, after, oid);
      }
      return Ok();
    }
    return MakeError(Code::kInvalidArgument, "file kept changing while it was being published",
                     Printable(path));
  }

  Status Link(int dir_fd, const std::string& name, const std::string& path) {
    std::string target = TXDIR_TRY(env->ReadlinkAt(dir_fd, name));
    if (policy != SymlinkPolicy::kKeepAll) {
      // Resolve lexically inside the source: the link's directory joined
      // with its target must not climb above the source root.
      std::filesystem::path base = std::filesystem::path(path).parent_path();
      auto joined = (base / target).lexically_normal().string();
      bool escapes =
          target.empty() || target.front() == '/' || joined == ".." || joined.rfind("../", 0) == 0;
      if (escapes)
        return MakeError(Code::kInvalidArgument,
                         "symlink points outside the source (" + Printable(target) +
                             "); pass --symlinks=keep to store it as a link",
                         Printable(path));
    }
    git_oid oid = TXDIR_TRY(store->WriteBlob(target));
    out.push_back(store::TreeFile{path, oid, 0120000});
    return Ok();
  }
};

}  // namespace

Result<std::vector<store::TreeFile>> ScanSource(Env* env, store::GitStore* store,
                                                const std::string& source, SymlinkPolicy policy,
                                                const std::string& meta_dir, ScanCache* cache) {
  auto dir = env->OpenAt(Env::kCwd, source, O_RDONLY | O_DIRECTORY);
  if (!dir) {
    Error e = dir.error();
    e.code = e.code == Code::kNotFound ? Code::kNotFound : e.code;
    e.message = "cannot open source directory";
    return tl::unexpected(e);
  }
  Scanner s{env, store, policy, {}, false, cache, {}};
  if (auto st = env->StatAt(Env::kCwd, meta_dir, true); st) {
    s.meta_st = *st;
    s.have_meta = true;
    auto src_st = TXDIR_TRY(env->Fstat(dir->get()));
    if (src_st.st_dev == st->st_dev && src_st.st_ino == st->st_ino)
      return MakeError(Code::kInvalidArgument, "source is the repository's metadata folder",
                       source);
  }
  TXDIR_CHECK(s.Dir(dir->get(), "", 0));
  return std::move(s.out);
}

}  // namespace txdir::internal
