#include "crash_tests/faults/fault_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace txdir::crash {

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kEio:
      return "EIO";
    case FaultKind::kEnospc:
      return "ENOSPC";
    case FaultKind::kEdquot:
      return "EDQUOT";
    case FaultKind::kErofs:
      return "EROFS";
    case FaultKind::kShortWrite:
      return "short-write";
  }
  return "?";
}

std::string FdPath(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[4096];
  ssize_t r = ::readlink(link, buf, sizeof buf - 1);
  if (r < 0) return "fd " + std::to_string(fd);
  return std::string(buf, static_cast<size_t>(r));
}

bool FaultEnv::Hit(bool is_write, const char* call, const std::string& path) {
  if (kind_ == FaultKind::kShortWrite && !is_write) return false;
  ++count_;
  if (fired_ || target_n_ == 0 || count_ != target_n_) return false;
  fired_ = true;
  failed_call_ = call;
  failed_path_ = path;
  return true;
}

int FaultEnv::Errno() const {
  switch (kind_) {
    case FaultKind::kEio:
      return EIO;
    case FaultKind::kEnospc:
    case FaultKind::kShortWrite:
      return ENOSPC;
    case FaultKind::kEdquot:
      return EDQUOT;
    case FaultKind::kErofs:
      return EROFS;
  }
  return EIO;
}

Result<Fd> FaultEnv::OpenAt(int dir, const std::string& path, int flags, mode_t mode) {
  if ((flags & (O_CREAT | O_WRONLY | O_RDWR | O_TRUNC)) != 0 && Hit(false, "open", path))
    return ErrnoError("cannot open", path, Errno());
  return EnvWrapper::OpenAt(dir, path, flags, mode);
}

Status FaultEnv::Write(int fd, const void* buf, size_t n) {
  if (Hit(true, "write", FdPath(fd))) {
    if (kind_ == FaultKind::kShortWrite) {
      // Part of the data reaches the file, then the disk is full.
      TXDIR_CHECK(EnvWrapper::Write(fd, buf, n / 2));
    }
    return ErrnoError("write failed", FdPath(fd), Errno());
  }
  return EnvWrapper::Write(fd, buf, n);
}

Status FaultEnv::Fsync(int fd) {
  if (Hit(false, "fsync", FdPath(fd))) return ErrnoError("fsync failed", FdPath(fd), Errno());
  return EnvWrapper::Fsync(fd);
}

Status FaultEnv::Fdatasync(int fd) {
  if (Hit(false, "fdatasync", FdPath(fd)))
    return ErrnoError("fdatasync failed", FdPath(fd), Errno());
  return EnvWrapper::Fdatasync(fd);
}

Status FaultEnv::Syncfs(int fd) {
  if (Hit(false, "syncfs", FdPath(fd))) return ErrnoError("syncfs failed", FdPath(fd), Errno());
  return EnvWrapper::Syncfs(fd);
}

Status FaultEnv::Ftruncate(int fd, off_t len) {
  if (Hit(false, "ftruncate", FdPath(fd)))
    return ErrnoError("truncate failed", FdPath(fd), Errno());
  return EnvWrapper::Ftruncate(fd, len);
}

Status FaultEnv::Fchmod(int fd, mode_t mode) {
  if (Hit(false, "fchmod", FdPath(fd))) return ErrnoError("chmod failed", FdPath(fd), Errno());
  return EnvWrapper::Fchmod(fd, mode);
}

Status FaultEnv::MkdirAt(int dir, const std::string& path, mode_t mode) {
  if (Hit(false, "mkdir", path)) return ErrnoError("cannot create directory", path, Errno());
  return EnvWrapper::MkdirAt(dir, path, mode);
}

Status FaultEnv::RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) {
  if (Hit(false, "rename", b)) return ErrnoError("cannot rename " + a + " to", b, Errno());
  return EnvWrapper::RenameAt(fd1, a, fd2, b);
}

Status FaultEnv::LinkAt(int fd1, const std::string& a, int fd2, const std::string& b) {
  if (Hit(false, "link", b)) return ErrnoError("cannot link " + a + " to", b, Errno());
  return EnvWrapper::LinkAt(fd1, a, fd2, b);
}

Status FaultEnv::SymlinkAt(const std::string& target, int dir, const std::string& path) {
  if (Hit(false, "symlink", path)) return ErrnoError("cannot create symlink", path, Errno());
  return EnvWrapper::SymlinkAt(target, dir, path);
}

Status FaultEnv::UnlinkAt(int dir, const std::string& path, int flags) {
  if (Hit(false, "unlink", path)) return ErrnoError("cannot remove", path, Errno());
  return EnvWrapper::UnlinkAt(dir, path, flags);
}

Status FaultEnv::FchmodAt(int dir, const std::string& path, mode_t mode) {
  if (Hit(false, "chmod", path)) return ErrnoError("cannot chmod", path, Errno());
  return EnvWrapper::FchmodAt(dir, path, mode);
}

}  // namespace txdir::crash
