#include "store/fs_util.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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
  // Never through a link: a directory swapped for a link after the stat
  // above fails the open (ELOOP) instead of having its target emptied; and
  // the mode is changed through the fd, as fchmodat would follow the link.
  auto sub = env->OpenAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!sub && sub.error().sys_errno == EACCES) {
    // Not even readable (only txdir's own read-only folders are expected
    // here, and those are readable): make it so by name. A link swapped in
    // now could have its target's mode changed, never its files removed:
    // the open below refuses the link.
    TXDIR_CHECK(env->FchmodAt(dir, name, (st->st_mode & 07777) | S_IRWXU));
    sub = env->OpenAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  }
  if (!sub) return tl::unexpected(sub.error());
  if ((st->st_mode & S_IWUSR) == 0 || (st->st_mode & S_IXUSR) == 0) {
    TXDIR_CHECK(env->Fchmod(sub->get(), (st->st_mode & 07777) | S_IRWXU));
  }
  {
    auto entries = TXDIR_TRY(env->ListDir(sub->get()));
    for (const auto& e : entries) TXDIR_CHECK(RemoveTree(env, sub->get(), e.name));
  }
  sub->reset();
  auto r = env->UnlinkAt(dir, name, AT_REMOVEDIR);
  if (!r && r.error().code == Code::kNotFound) return Ok();
  return r;
}

Result<bool> RemoveTreeUnlessPinned(Env* env, int dir, const std::string& name) {
  auto sub = env->OpenAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!sub) {
    // A link or a file under the name (ELOOP, or ENOTDIR with O_DIRECTORY):
    // not a directory anyone can pin. RemoveTree removes the name itself,
    // never what a link points at.
    if (sub.error().sys_errno == ELOOP || sub.error().sys_errno == ENOTDIR) {
      TXDIR_CHECK(RemoveTree(env, dir, name));
      return true;
    }
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

namespace {

// From getrandom(2): a std::random_device would execute CPUID first, which
// a virtual machine traps (0.6 % of a `txdir db ... set` process).
uint64_t Seed() {
  uint64_t seed = 0;
  if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof seed))
    return seed;
  // No entropy yet (early boot): the names it makes need only differ.
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return static_cast<uint64_t>(now) ^ (static_cast<uint64_t>(::getpid()) << 32);
}

}  // namespace

uint64_t RandomU64() {
  static thread_local std::mt19937_64 rng{Seed()};
  return rng();
}

std::string UniqueName(const std::string& prefix) {
  // PREFIX<pid>-<12 hex digits>
  uint64_t r = RandomU64();
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
