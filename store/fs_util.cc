#include "store/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "store/failpoint.h"
#include "txdir/atomic_file.h"

namespace txdir::fs {

Status FsyncDir(Env* env, int dir_fd) {
  if (TXDIR_BROKEN("no-dir-fsync")) return Ok();
  return env->Fsync(dir_fd);
}

Status FsyncPath(Env* env, const std::string& dir_path) {
  Fd fd = TXDIR_TRY(OpenDir(env, Env::kCwd, dir_path));
  return FsyncDir(env, fd.get());
}

Result<Fd> OpenDir(Env* env, int dir, const std::string& path) {
  return env->OpenAt(dir, path, O_RDONLY | O_DIRECTORY);
}

Status EnsureDir(Env* env, int dir, const std::string& name, mode_t mode) {
  auto r = env->MkdirAt(dir, name, mode);
  if (!r && r.error().code == Code::kExists) {
    auto st = env->StatAt(dir, name, false);
    if (st && S_ISDIR(st->st_mode)) return Ok();
  }
  return r;
}

Status RemoveTree(Env* env, int dir, const std::string& name) {
  auto st = env->StatAt(dir, name, false);
  if (!st) return st.error().code == Code::kNotFound ? Ok() : Status(tl::unexpected(st.error()));
  if (!S_ISDIR(st->st_mode)) {
    auto r = env->UnlinkAt(dir, name, 0);
    if (!r && r.error().code == Code::kNotFound) return Ok();
    return r;
  }
  if ((st->st_mode & S_IWUSR) == 0 || (st->st_mode & S_IXUSR) == 0) {
    TXDIR_CHECK(env->FchmodAt(dir, name, (st->st_mode & 07777) | S_IRWXU));
  }
  {
    Fd sub = TXDIR_TRY(OpenDir(env, dir, name));
    auto entries = TXDIR_TRY(env->ListDir(sub.get()));
    for (const auto& e : entries) TXDIR_CHECK(RemoveTree(env, sub.get(), e.name));
  }
  auto r = env->UnlinkAt(dir, name, AT_REMOVEDIR);
  if (!r && r.error().code == Code::kNotFound) return Ok();
  return r;
}

Result<bool> RemoveTreeUnlessPinned(Env* env, int dir, const std::string& name) {
  auto sub = OpenDir(env, dir, name);
  if (!sub) {
    if (sub.error().code == Code::kNotFound) return true;
    return tl::unexpected(sub.error());
  }
  // Held while removing, so no reader can pin it half-way through.
  auto locked = env->Flock(sub->get(), LockMode::kExclusive, /*wait=*/false);
  if (!locked) {
    if (locked.error().code == Code::kLocked) return false;
    return tl::unexpected(locked.error());
  }
  TXDIR_CHECK(RemoveTree(env, dir, name));
  return true;
}

Status WriteNewFile(Env* env, int dir, const std::string& name, std::string_view data, mode_t mode,
                    bool sync) {
  Fd fd = TXDIR_TRY(env->OpenAt(dir, name, O_WRONLY | O_CREAT | O_EXCL, mode));
  TXDIR_CHECK(env->Write(fd.get(), data.data(), data.size()));
  if (sync && !TXDIR_BROKEN("no-file-fsync")) TXDIR_CHECK(env->Fsync(fd.get()));
  return Ok();
}

std::string UniqueName(const std::string& prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  // PREFIX<pid>-<12 hex digits>
  uint64_t r = rng();
  std::string hex(12, '0');
  for (size_t i = hex.size(); i-- > 0; r >>= 4) hex[i] = "0123456789abcdef"[r & 0xF];
  return prefix + std::to_string(::getpid()) + "-" + hex;
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string Dirname(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::absolute(path, ec);
  if (ec) return path;
  auto s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace txdir::fs

namespace txdir {

Status AtomicWriteFileAt(Env* env, int dir, const std::string& name, std::string_view data,
                         mode_t mode) {
  if (name.empty() || name.find('/') != std::string::npos)
    return MakeError(Code::kInvalidArgument, "file name must be a single path component", name);
  // Keep the mode of the file being replaced.
  bool replacing = false;
  if (auto st = env->StatAt(dir, name, true); st) {
    mode = st->st_mode & 07777;
    replacing = true;
  }
  const std::string tmp = fs::UniqueName("." + name + ".tmp-");
  Status s = [&]() -> Status {
    if (TXDIR_BROKEN("in-place-rewrite")) {
      // Deliberately unsafe variant for the power-loss self-test: truncate
      // and rewrite the file in place.
      Fd fd = TXDIR_TRY(env->OpenAt(dir, name, O_WRONLY | O_CREAT | O_TRUNC, mode));
      TXDIR_CHECK(env->Write(fd.get(), data.data(), data.size()));
      return env->Fsync(fd.get());
    }
    {
      Fd fd = TXDIR_TRY(env->OpenAt(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
      // open(2) filters the mode through the umask; a replaced file keeps its
      // exact mode, so set it before the fsync makes it durable.
      if (replacing) TXDIR_CHECK(env->Fchmod(fd.get(), mode));
      TXDIR_CHECK(env->Write(fd.get(), data.data(), data.size()));
      if (!TXDIR_BROKEN("no-file-fsync")) TXDIR_CHECK(env->Fsync(fd.get()));
    }
    TXDIR_FAILPOINT("atomic_write.before_rename");
    TXDIR_CHECK(env->RenameAt(dir, tmp, dir, name));
    return fs::FsyncDir(env, dir);
  }();
  if (!s) (void)env->UnlinkAt(dir, tmp, 0);
  return s;
}

Status AtomicWriteFile(const std::string& path, std::string_view data,
                       const AtomicWriteOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::string abs = fs::AbsolutePath(path);
  Fd dir = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, fs::Dirname(abs)));
  return AtomicWriteFileAt(env, dir.get(), fs::Basename(abs), data, options.mode);
}

}  // namespace txdir
