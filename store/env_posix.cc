// The POSIX Env: the one place txdir calls the operating system's file API.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "txdir/env.h"

namespace txdir {

void Fd::reset() {
  if (fd_ >= 0) {
    // close(2) must not be retried on EINTR on Linux: the fd is gone either way.
    ::close(fd_);
    fd_ = -1;
  }
}

namespace {

template <typename F>
auto RetryEintr(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

class PosixEnv final : public Env {
 public:
  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override {
    int fd = RetryEintr([&] { return ::openat(dir, path.c_str(), flags | O_CLOEXEC, mode); });
    if (fd < 0) return ErrnoError("cannot open", path, errno);
    return Fd(fd);
  }

  Result<size_t> Read(int fd, void* buf, size_t n) override {
    ssize_t r = RetryEintr([&] { return ::read(fd, buf, n); });
    if (r < 0) return ErrnoError("read failed", FdPath(fd), errno);
    return static_cast<size_t>(r);
  }

  Result<size_t> PRead(int fd, void* buf, size_t n, off_t off) override {
    ssize_t r = RetryEintr([&] { return ::pread(fd, buf, n, off); });
    if (r < 0) return ErrnoError("read failed", FdPath(fd), errno);
    return static_cast<size_t>(r);
  }

  Status Write(int fd, const void* buf, size_t n) override {
    const char* p = static_cast<const char*>(buf);
    while (n > 0) {
      ssize_t r = RetryEintr([&] { return ::write(fd, p, n); });
      if (r < 0) return ErrnoError("write failed", FdPath(fd), errno);
      if (r == 0) return MakeError(Code::kIo, "write made no progress", FdPath(fd));
      p += r;
      n -= static_cast<size_t>(r);
    }
    return Ok();
  }

  Status Fsync(int fd) override {
    if (RetryEintr([&] { return ::fsync(fd); }) < 0)
      return ErrnoError("fsync failed", FdPath(fd), errno);
    return Ok();
  }

  Status Fdatasync(int fd) override {
    if (RetryEintr([&] { return ::fdatasync(fd); }) < 0)
      return ErrnoError("fdatasync failed", FdPath(fd), errno);
    return Ok();
  }

  Status Syncfs(int fd) override {
    if (RetryEintr([&] { return ::syncfs(fd); }) < 0)
      return ErrnoError("syncfs failed", FdPath(fd), errno);
    return Ok();
  }

  Status Ftruncate(int fd, off_t len) override {
    if (RetryEintr([&] { return ::ftruncate(fd, len); }) < 0)
      return ErrnoError("truncate failed", FdPath(fd), errno);
    return Ok();
  }

  Status Fchmod(int fd, mode_t mode) override {
    if (RetryEintr([&] { return ::fchmod(fd, mode); }) < 0)
      return ErrnoError("chmod failed", FdPath(fd), errno);
    return Ok();
  }

  Result<struct stat> Fstat(int fd) override {
    struct stat st;
    if (RetryEintr([&] { return ::fstat(fd, &st); }) < 0)
      return ErrnoError("stat failed", FdPath(fd), errno);
    return st;
  }

  Result<struct stat> StatAt(int dir, const std::string& path, bool follow) override {
    struct stat st;
    int flags = follow ? 0 : AT_SYMLINK_NOFOLLOW;
    if (path.empty()) flags |= AT_EMPTY_PATH;
    if (RetryEintr([&] { return ::fstatat(dir, path.c_str(), &st, flags); }) < 0)
      return ErrnoError("cannot stat", path, errno);
    return st;
  }

  Status MkdirAt(int dir, const std::string& path, mode_t mode) override {
    if (RetryEintr([&] { return ::mkdirat(dir, path.c_str(), mode); }) < 0)
      return ErrnoError("cannot create directory", path, errno);
    return Ok();
  }

  Status RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    if (RetryEintr([&] { return ::renameat(fd1, a.c_str(), fd2, b.c_str()); }) < 0)
      return ErrnoError("cannot rename " + a + " to", b, errno);
    return Ok();
  }

  Status LinkAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    if (RetryEintr([&] { return ::linkat(fd1, a.c_str(), fd2, b.c_str(), 0); }) < 0)
      return ErrnoError("cannot link " + a + " to", b, errno);
    return Ok();
  }

  Status ExchangeAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    if (RetryEintr([&] { return ::renameat2(fd1, a.c_str(), fd2, b.c_str(), RENAME_EXCHANGE); }) <
        0)
      return ErrnoError("cannot exchange " + a + " with", b, errno);
    return Ok();
  }

  Status SymlinkAt(const std::string& target, int dir, const std::string& path) override {
    if (RetryEintr([&] { return ::symlinkat(target.c_str(), dir, path.c_str()); }) < 0)
      return ErrnoError("cannot create symlink", path, errno);
    return Ok();
  }

  Status UnlinkAt(int dir, const std::string& path, int flags) override {
    if (RetryEintr([&] { return ::unlinkat(dir, path.c_str(), flags); }) < 0)
      return ErrnoError("cannot remove", path, errno);
    return Ok();
  }

  Result<std::string> ReadlinkAt(int dir, const std::string& path) override {
    std::string buf(256, '\0');
    for (;;) {
      ssize_t r = ::readlinkat(dir, path.c_str(), buf.data(), buf.size());
      if (r < 0) return ErrnoError("cannot read link", path, errno);
      if (static_cast<size_t>(r) < buf.size()) {
        buf.resize(static_cast<size_t>(r));
        return buf;
      }
      buf.resize(buf.size() * 2);
    }
  }

  Status FchmodAt(int dir, const std::string& path, mode_t mode) override {
    if (RetryEintr([&] { return ::fchmodat(dir, path.c_str(), mode, 0); }) < 0)
      return ErrnoError("cannot chmod", path, errno);
    return Ok();
  }

  Result<std::vector<DirEntry>> ListDir(int fd) override {
    // fdopendir takes ownership of its fd, so hand it a duplicate.
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return ErrnoError("cannot list directory", FdPath(fd), errno);
    DIR* d = ::fdopendir(dup);
    if (d == nullptr) {
      int e = errno;
      ::close(dup);
      return ErrnoError("cannot list directory", FdPath(fd), e);
    }
    ::rewinddir(d);
    std::vector<DirEntry> out;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      out.push_back(DirEntry{e->d_name, e->d_type});
      errno = 0;
    }
    int e = errno;
    ::closedir(d);
    if (e != 0) return ErrnoError("cannot list directory", FdPath(fd), e);
    return out;
  }

  Status Flock(int fd, LockMode mode, bool wait) override {
    int op = (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
    if (RetryEintr([&] { return ::flock(fd, op); }) < 0) {
      // No path: a held lock is the expected answer of every poll, and
      // resolving the fd's path is a walk through /proc costing more than
      // the flock. Every caller that reports it names the lock itself.
      if (errno == EWOULDBLOCK)
        return MakeError(Code::kLocked, "lock is held by another process", "", errno);
      return ErrnoError("cannot lock", FdPath(fd), errno);
    }
    return Ok();
  }

  Status Unlock(int fd) override {
    if (RetryEintr([&] { return ::flock(fd, LOCK_UN); }) < 0)
      return ErrnoError("cannot unlock", FdPath(fd), errno);
    return Ok();
  }

  Status Close(int fd) override {
    if (::close(fd) < 0 && errno != EINTR) return ErrnoError("close failed", FdPath(fd), errno);
    return Ok();
  }

  // Read once per process: a boot's id cannot change while it runs.
  Result<std::string> BootId() override {
    static const Result<std::string> id = Env::BootId();
    return id;
  }

 private:
  // For error messages only: the path the kernel has for fd. Leaves errno
  // as it found it: callers write ErrnoError(msg, FdPath(fd), errno), and
  // the order in which those arguments are evaluated is unspecified.
  static std::string FdPath(int fd) {
    const int saved = errno;
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    char buf[4096];
    ssize_t r = ::readlink(link.c_str(), buf, sizeof buf - 1);
    errno = saved;
    if (r < 0) return "fd " + std::to_string(fd);
    return std::string(buf, static_cast<size_t>(r));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Result<std::string> Env::ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = TXDIR_TRY(Read(fd, buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Result<std::string> Env::BootId() {
  constexpr const char* kPath = "/proc/sys/kernel/random/boot_id";
  std::string id = TXDIR_TRY(ReadFileAt(kCwd, kPath));
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  // A UUID: 36 characters of hex digits and dashes. Anything else is not
  // trusted to be one.
  const bool uuid = id.size() == 36 && std::all_of(id.begin(), id.end(), [](char c) {
                      return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                    });
  if (!uuid) return MakeError(Code::kCorruption, "not a boot id", kPath);
  return id;
}

Result<std::string> Env::ReadFileAt(int dir, const std::string& path) {
  Fd fd = TXDIR_TRY(OpenAt(dir, path, O_RDONLY));
  return ReadAll(fd.get());
}

}  // namespace txdir
