// The I/O seam. Every file-system call txdir makes goes through an Env, so
// tests can count calls, fail the Nth one, or record the operations to
// replay them under a power-loss model (crash_tests/). libgit2 writes
// objects through an ODB backend that also uses the Env (store/odb_backend).
//
// Calls are directory-fd relative (*at); pass kCwd with an absolute path.
// Every call retries EINTR, opens with O_CLOEXEC and reports failures as
// Error values carrying errno and the path.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "txdir/error.h"

namespace txdir {

class Env;

// An owned file descriptor; closes on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset();

 private:
  int fd_ = -1;
};

struct DirEntry {
  std::string name;
  unsigned char type;  // DT_REG, DT_DIR, DT_LNK, ... (DT_UNKNOWN: stat it)
};

enum class LockMode { kShared, kExclusive };

class Env {
 public:
  static constexpr int kCwd = -100;  // AT_FDCWD

  virtual ~Env() = default;

  // The process-wide POSIX environment. Never null; never freed.
  static Env* Default();

  virtual Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode = 0) = 0;
  // Reads up to n bytes; 0 at end of file.
  virtual Result<size_t> Read(int fd, void* buf, size_t n) = 0;
  virtual Result<size_t> PRead(int fd, void* buf, size_t n, off_t off) = 0;
  // Writes all n bytes (loops over short writes) or fails.
  virtual Status Write(int fd, const void* buf, size_t n) = 0;
  virtual Status Fsync(int fd) = 0;
  virtual Status Fdatasync(int fd) = 0;
  virtual Status Syncfs(int fd) = 0;
  virtual Status Ftruncate(int fd, off_t len) = 0;
  virtual Status Fchmod(int fd, mode_t mode) = 0;
  virtual Result<struct stat> Fstat(int fd) = 0;
  virtual Result<struct stat> StatAt(int dir, const std::string& path, bool follow) = 0;
  virtual Status MkdirAt(int dir, const std::string& path, mode_t mode) = 0;
  virtual Status RenameAt(int from_dir, const std::string& from, int to_dir,
                          const std::string& to) = 0;
  virtual Status LinkAt(int from_dir, const std::string& from, int to_dir,
                        const std::string& to) = 0;
  // Atomically swaps two existing names (renameat2 RENAME_EXCHANGE): used
  // to replace a directory by a symlink with no instant where neither
  // exists.
  virtual Status ExchangeAt(int dir1, const std::string& a, int dir2, const std::string& b) = 0;
  virtual Status SymlinkAt(const std::string& target, int dir, const std::string& path) = 0;
  // flags: 0 or AT_REMOVEDIR.
  virtual Status UnlinkAt(int dir, const std::string& path, int flags) = 0;
  virtual Result<std::string> ReadlinkAt(int dir, const std::string& path) = 0;
  virtual Status FchmodAt(int dir, const std::string& path, mode_t mode) = 0;
  // Entries of the directory open at fd, without "." and "..".
  virtual Result<std::vector<DirEntry>> ListDir(int fd) = 0;
  // flock(2) on fd. wait=false returns kLocked at once when held elsewhere.
  virtual Status Flock(int fd, LockMode mode, bool wait) = 0;
  virtual Status Unlock(int fd) = 0;
  virtual Status Close(int fd) = 0;

  // An id of this boot of the machine: the same for every process until
  // the kernel restarts, new after every restart, and so after every power
  // loss (Linux: /proc/sys/kernel/random/boot_id). The writer lock records
  // it, so that a process can tell whether a power loss may have come since
  // the last writer finished. An error (no /proc) only costs the shortcut it
  // allows. The default reads the file through OpenAt and Read; tests
  // override it to simulate a restart.
  virtual Result<std::string> BootId();

  // Convenience built from the calls above (so faults in them apply).
  Result<std::string> ReadFileAt(int dir, const std::string& path);
  Result<std::string> ReadAll(int fd);
};

// An Env that forwards every call to another; subclass it to observe or
// inject faults in a subset of calls.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override {
    return target_->OpenAt(dir, path, flags, mode);
  }
  Result<size_t> Read(int fd, void* buf, size_t n) override { return target_->Read(fd, buf, n); }
  Result<size_t> PRead(int fd, void* buf, size_t n, off_t off) override {
    return target_->PRead(fd, buf, n, off);
  }
  Status Write(int fd, const void* buf, size_t n) override { return target_->Write(fd, buf, n); }
  Status Fsync(int fd) override { return target_->Fsync(fd); }
  Status Fdatasync(int fd) override { return target_->Fdatasync(fd); }
  Status Syncfs(int fd) override { return target_->Syncfs(fd); }
  Status Ftruncate(int fd, off_t len) override { return target_->Ftruncate(fd, len); }
  Status Fchmod(int fd, mode_t mode) override { return target_->Fchmod(fd, mode); }
  Result<struct stat> Fstat(int fd) override { return target_->Fstat(fd); }
  Result<struct stat> StatAt(int dir, const std::string& path, bool follow) override {
    return target_->StatAt(dir, path, follow);
  }
  Status MkdirAt(int dir, const std::string& path, mode_t mode) override {
    return target_->MkdirAt(dir, path, mode);
  }
  Status RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    return target_->RenameAt(fd1, a, fd2, b);
  }
  Status LinkAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    return target_->LinkAt(fd1, a, fd2, b);
  }
  Status ExchangeAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    return target_->ExchangeAt(fd1, a, fd2, b);
  }
  Status SymlinkAt(const std::string& target, int dir, const std::string& path) override {
    return target_->SymlinkAt(target, dir, path);
  }
  Status UnlinkAt(int dir, const std::string& path, int flags) override {
    return target_->UnlinkAt(dir, path, flags);
  }
  Result<std::string> ReadlinkAt(int dir, const std::string& path) override {
    return target_->ReadlinkAt(dir, path);
  }
  Status FchmodAt(int dir, const std::string& path, mode_t mode) override {
    return target_->FchmodAt(dir, path, mode);
  }
  Result<std::vector<DirEntry>> ListDir(int fd) override { return target_->ListDir(fd); }
  Status Flock(int fd, LockMode mode, bool wait) override { return target_->Flock(fd, mode, wait); }
  Status Unlock(int fd) override { return target_->Unlock(fd); }
  Status Close(int fd) override { return target_->Close(fd); }
  Result<std::string> BootId() override { return target_->BootId(); }

 private:
  Env* target_;
};

}  // namespace txdir
