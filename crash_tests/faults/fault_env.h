// An Env that fails one chosen call of the mutating and syncing set, the
// way a failing disk would: EIO, ENOSPC, EDQUOT, EROFS, or a short write
// (half the bytes written, then ENOSPC, as a full disk does).
#pragma once

#include <string>

#include "txdir/env.h"

namespace txdir::crash {

enum class FaultKind { kEio, kEnospc, kEdquot, kErofs, kShortWrite };

const char* FaultKindName(FaultKind kind);

class FaultEnv : public EnvWrapper {
 public:
  FaultEnv() : EnvWrapper(Env::Default()) {}

  // Fails the n-th counted call (1-based) with `kind`; n = 0 never fails.
  // kShortWrite counts only Write calls; the other kinds count every call
  // of the set: OpenAt for writing or creating, Write, Fsync, Fdatasync,
  // Syncfs, Ftruncate, Fchmod, MkdirAt, RenameAt, LinkAt, SymlinkAt,
  // UnlinkAt, FchmodAt.
  void Arm(FaultKind kind, long n) {
    kind_ = kind;
    target_n_ = n;
    count_ = 0;
    fired_ = false;
  }
  long count() const { return count_; }
  bool fired() const { return fired_; }
  // The call that was failed and the path it named (for fd calls, the path
  // the kernel has for the fd).
  const std::string& failed_call() const { return failed_call_; }
  const std::string& failed_path() const { return failed_path_; }

  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override;
  Status Write(int fd, const void* buf, size_t n) override;
  Status Fsync(int fd) override;
  Status Fdatasync(int fd) override;
  Status Syncfs(int fd) override;
  Status Ftruncate(int fd, off_t len) override;
  Status Fchmod(int fd, mode_t mode) override;
  Status MkdirAt(int dir, const std::string& path, mode_t mode) override;
  Status RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) override;
  Status LinkAt(int fd1, const std::string& a, int fd2, const std::string& b) override;
  Status SymlinkAt(const std::string& target, int dir, const std::string& path) override;
  Status UnlinkAt(int dir, const std::string& path, int flags) override;
  Status FchmodAt(int dir, const std::string& path, mode_t mode) override;

 private:
  // Counts the call; true when it is the one to fail (records which).
  bool Hit(bool is_write, const char* call, const std::string& path);
  int Errno() const;

  FaultKind kind_ = FaultKind::kEio;
  long target_n_ = 0;
  long count_ = 0;
  bool fired_ = false;
  std::string failed_call_, failed_path_;
};

// The path the kernel has for `fd`, as the POSIX Env reports it.
std::string FdPath(int fd);

}  // namespace txdir::crash
