#include "crash_tests/powerloss/recording_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

namespace txdir::powerloss {

namespace {

FileId IdOf(const struct stat& st) { return {st.st_dev, st.st_ino}; }

FileId StatId(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return {};
  return IdOf(st);
}

FileId FdId(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return {};
  return IdOf(st);
}

std::string Parent(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

const char* KindName(OpKind k) {
  switch (k) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kWrite:
      return "write";
    case OpKind::kTruncate:
      return "truncate";
    case OpKind::kFsync:
      return "fsync";
    case OpKind::kSyncfs:
      return "syncfs";
    case OpKind::kMkdir:
      return "mkdir";
    case OpKind::kRename:
      return "rename";
    case OpKind::kExchange:
      return "exchange";
    case OpKind::kLink:
      return "link";
    case OpKind::kSymlink:
      return "symlink";
    case OpKind::kUnlink:
      return "unlink";
    case OpKind::kRmdir:
      return "rmdir";
    case OpKind::kChmod:
      return "chmod";
  }
  return "?";
}

}  // namespace

bool Op::IsEntryOp() const {
  switch (kind) {
    case OpKind::kCreate:
    case OpKind::kMkdir:
    case OpKind::kRename:
    case OpKind::kExchange:
    case OpKind::kLink:
    case OpKind::kSymlink:
    case OpKind::kUnlink:
    case OpKind::kRmdir:
      return true;
    default:
      return false;
  }
}

std::string Op::Describe() const {
  std::string s = std::string(KindName(kind)) + " " + path;
  if (!path2.empty()) s += " -> " + path2;
  if (kind == OpKind::kSymlink) s += " => " + data;
  if (kind == OpKind::kWrite)
    s += " @" + std::to_string(offset) + " +" + std::to_string(data.size());
  if (kind == OpKind::kTruncate) s += " to " + std::to_string(offset);
  if (kind == OpKind::kCreate || kind == OpKind::kMkdir || kind == OpKind::kChmod) {
    char m[16];
    std::snprintf(m, sizeof m, " %04o", static_cast<unsigned>(mode));
    s += m;
  }
  return s;
}

std::string FdPath(int fd) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "<fd " + std::to_string(fd) + ">";
  return std::string(buf, static_cast<size_t>(n));
}

std::string ResolveAt(int dir, const std::string& path) {
  std::filesystem::path p(path);
  if (!p.is_absolute()) {
    std::string base = dir == Env::kCwd ? std::filesystem::current_path().string() : FdPath(dir);
    p = std::filesystem::path(base) / p;
  }
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::vector<Op> RecordingEnv::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(ops_, {});
}

void RecordingEnv::set_recording(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  recording_ = on;
}

void RecordingEnv::Record(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  if (recording_) ops_.push_back(std::move(op));
}

Result<Fd> RecordingEnv::OpenAt(int dir, const std::string& path, int flags, mode_t mode) {
  const std::string abs = ResolveAt(dir, path);
  struct stat before;
  const bool existed = ::lstat(abs.c_str(), &before) == 0;
  auto fd = EnvWrapper::OpenAt(dir, path, flags, mode);
  if (!fd) return fd;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return fd;
  if (!existed && (flags & O_CREAT)) {
    Op op{OpKind::kCreate, abs};
    op.mode = st.st_mode & 07777;
    op.inode = IdOf(st);
    op.dir = StatId(Parent(abs));
    Record(std::move(op));
  } else if (existed && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY) {
    Op op{OpKind::kTruncate, abs};
    op.offset = 0;
    op.inode = IdOf(st);
    Record(std::move(op));
  }
  return fd;
}

Status RecordingEnv::Write(int fd, const void* buf, size_t n) {
  // The real offset, whatever reads or seeks happened on this fd before.
  off_t off = ::lseek(fd, 0, SEEK_CUR);
  if (::fcntl(fd, F_GETFL) & O_APPEND) {
    struct stat st;
    if (::fstat(fd, &st) == 0) off = st.st_size;
  }
  auto s = EnvWrapper::Write(fd, buf, n);
  if (!s) return s;
  Op op{OpKind::kWrite, FdPath(fd)};
  op.offset = off;
  op.data.assign(static_cast<const char*>(buf), n);
  op.inode = FdId(fd);
  Record(std::move(op));
  return s;
}

Status RecordingEnv::RecordSync(int fd) {
  struct stat st;
  Op op{OpKind::kFsync, FdPath(fd)};
  if (::fstat(fd, &st) == 0) {
    op.inode = IdOf(st);
    op.is_dir = S_ISDIR(st.st_mode);
  }
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::Fsync(int fd) {
  TXDIR_CHECK(EnvWrapper::Fsync(fd));
  return RecordSync(fd);
}

Status RecordingEnv::Fdatasync(int fd) {
  TXDIR_CHECK(EnvWrapper::Fdatasync(fd));
  return RecordSync(fd);
}

Status RecordingEnv::Syncfs(int fd) {
  TXDIR_CHECK(EnvWrapper::Syncfs(fd));
  Record(Op{OpKind::kSyncfs, FdPath(fd)});
  return Ok();
}

Status RecordingEnv::Ftruncate(int fd, off_t len) {
  TXDIR_CHECK(EnvWrapper::Ftruncate(fd, len));
  Op op{OpKind::kTruncate, FdPath(fd)};
  op.offset = len;
  op.inode = FdId(fd);
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::Fchmod(int fd, mode_t mode) {
  TXDIR_CHECK(EnvWrapper::Fchmod(fd, mode));
  Op op{OpKind::kChmod, FdPath(fd)};
  op.mode = mode & 07777;
  op.inode = FdId(fd);
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::MkdirAt(int dir, const std::string& path, mode_t mode) {
  TXDIR_CHECK(EnvWrapper::MkdirAt(dir, path, mode));
  const std::string abs = ResolveAt(dir, path);
  Op op{OpKind::kMkdir, abs};
  struct stat st;
  if (::lstat(abs.c_str(), &st) == 0) {
    op.mode = st.st_mode & 07777;
    op.inode = IdOf(st);
  }
  op.is_dir = true;
  op.dir = StatId(Parent(abs));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::RenameAt(int from_dir, const std::string& from, int to_dir,
                              const std::string& to) {
  const std::string a = ResolveAt(from_dir, from), b = ResolveAt(to_dir, to);
  TXDIR_CHECK(EnvWrapper::RenameAt(from_dir, from, to_dir, to));
  Op op{OpKind::kRename, a, b};
  struct stat st;
  if (::lstat(b.c_str(), &st) == 0) {
    op.inode = IdOf(st);
    op.is_dir = S_ISDIR(st.st_mode);
  }
  op.dir = StatId(Parent(a));
  op.dir2 = StatId(Parent(b));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::LinkAt(int from_dir, const std::string& from, int to_dir,
                            const std::string& to) {
  const std::string a = ResolveAt(from_dir, from), b = ResolveAt(to_dir, to);
  TXDIR_CHECK(EnvWrapper::LinkAt(from_dir, from, to_dir, to));
  Op op{OpKind::kLink, a, b};
  op.inode = StatId(b);
  op.dir = StatId(Parent(a));
  op.dir2 = StatId(Parent(b));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::ExchangeAt(int dir1, const std::string& a, int dir2, const std::string& b) {
  const std::string pa = ResolveAt(dir1, a), pb = ResolveAt(dir2, b);
  TXDIR_CHECK(EnvWrapper::ExchangeAt(dir1, a, dir2, b));
  Op op{OpKind::kExchange, pa, pb};
  op.dir = StatId(Parent(pa));
  op.dir2 = StatId(Parent(pb));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::SymlinkAt(const std::string& target, int dir, const std::string& path) {
  TXDIR_CHECK(EnvWrapper::SymlinkAt(target, dir, path));
  const std::string abs = ResolveAt(dir, path);
  Op op{OpKind::kSymlink, abs};
  op.data = target;
  op.inode = StatId(abs);
  op.dir = StatId(Parent(abs));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::UnlinkAt(int dir, const std::string& path, int flags) {
  const std::string abs = ResolveAt(dir, path);
  const FileId id = StatId(abs);
  TXDIR_CHECK(EnvWrapper::UnlinkAt(dir, path, flags));
  Op op{(flags & AT_REMOVEDIR) ? OpKind::kRmdir : OpKind::kUnlink, abs};
  op.is_dir = (flags & AT_REMOVEDIR) != 0;
  op.inode = id;
  op.dir = StatId(Parent(abs));
  Record(std::move(op));
  return Ok();
}

Status RecordingEnv::FchmodAt(int dir, const std::string& path, mode_t mode) {
  TXDIR_CHECK(EnvWrapper::FchmodAt(dir, path, mode));
  const std::string abs = ResolveAt(dir, path);
  Op op{OpKind::kChmod, abs};
  op.mode = mode & 07777;
  op.inode = StatId(abs);
  Record(std::move(op));
  return Ok();
}

}  // namespace txdir::powerloss
