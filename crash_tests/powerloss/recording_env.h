// An Env that records, in order, every file-system operation that changes
// state (what a power failure could lose), with absolute paths and the
// inodes the operations touch. The power-loss simulator (crash_sim.h)
// replays these logs under a weak persistence model.
//
// Thread safety: calls may come from several threads; the log is guarded
// by a mutex. Reads (open without O_CREAT/O_TRUNC, read, stat, readlink,
// listdir, flock) are forwarded and not recorded.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "txdir/env.h"

namespace txdir::powerloss {

enum class OpKind {
  kCreate,    // new file `path` with `mode` (O_CREAT of a missing file)
  kWrite,     // `data` at `offset` of `path`
  kTruncate,  // `path` to `offset` bytes (ftruncate, or O_TRUNC of an existing file)
  kFsync,     // fsync/fdatasync of file or directory `path` (inode `ino`)
  kSyncfs,    // everything is durable
  kMkdir,     // directory `path` with `mode`
  kRename,    // `path` -> `path2`
  kExchange,  // `path` <-> `path2` (renameat2 RENAME_EXCHANGE)
  kLink,      // new name `path2` for the file `path`
  kSymlink,   // symlink `path` -> `data`
  kUnlink,    // remove the name `path`
  kRmdir,     // remove the empty directory `path`
  kChmod,     // `path` to `mode`
};

// (st_dev, st_ino): what fsync makes durable is an inode, not a path.
using FileId = std::pair<dev_t, ino_t>;

struct Op {
  OpKind kind;
  std::string path;   // absolute; rename/link: the source
  std::string path2;  // rename/link: the destination
  std::string data;   // write: the bytes; symlink: the target
  off_t offset = 0;   // write: where; truncate: the new length
  mode_t mode = 0;    // create, mkdir, chmod: permission bits as created
  bool is_dir = false;
  FileId inode{};  // the file whose data or mode the op changes; fsync: what it syncs
  FileId dir{};    // entry ops: the directory holding `path`
  FileId dir2{};   // rename/link: the directory holding `path2`

  // Ops that change the file system (everything but fsync/syncfs).
  bool Mutates() const { return kind != OpKind::kFsync && kind != OpKind::kSyncfs; }
  // Ops that add or remove a directory entry.
  bool IsEntryOp() const;
  std::string Describe() const;
};

class RecordingEnv : public EnvWrapper {
 public:
  explicit RecordingEnv(Env* target) : EnvWrapper(target) {}

  // The ops recorded since the last Take(), and clears the log.
  std::vector<Op> Take();
  // Turns recording on or off (on by default).
  void set_recording(bool on);

  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override;
  Status Write(int fd, const void* buf, size_t n) override;
  Status Fsync(int fd) override;
  Status Fdatasync(int fd) override;
  Status Syncfs(int fd) override;
  Status Ftruncate(int fd, off_t len) override;
  Status Fchmod(int fd, mode_t mode) override;
  Status MkdirAt(int dir, const std::string& path, mode_t mode) override;
  Status RenameAt(int from_dir, const std::string& from, int to_dir,
                  const std::string& to) override;
  Status LinkAt(int from_dir, const std::string& from, int to_dir, const std::string& to) override;
  Status ExchangeAt(int dir1, const std::string& a, int dir2, const std::string& b) override;
  Status SymlinkAt(const std::string& target, int dir, const std::string& path) override;
  Status UnlinkAt(int dir, const std::string& path, int flags) override;
  Status FchmodAt(int dir, const std::string& path, mode_t mode) override;

 private:
  void Record(Op op);
  Status RecordSync(int fd);

  std::mutex mu_;
  bool recording_ = true;
  std::vector<Op> ops_;
};

// Absolute path of `path` relative to directory fd `dir` (Env::kCwd: the
// working directory), resolved through /proc/self/fd; lexically normalized.
std::string ResolveAt(int dir, const std::string& path);
// The absolute path an open fd refers to.
std::string FdPath(int fd);

}  // namespace txdir::powerloss
