#include "txdir/snapshot.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include "store/fs_util.h"
#include "txn/src/config.h"
#include "txn/src/layout.h"
#include "txn/src/path_check.h"
#include "txn/src/trust.h"

namespace txdir {

namespace {

// Opens gens/<n> and pins it. Retries when gc is removing it at that moment
// (gc renames a generation away under an exclusive lock before deleting).
Result<Fd> OpenAndPin(Env* env, const internal::Layout& l, uint64_t n, bool* gone) {
  *gone = false;
  auto dir = fs::OpenDir(env, Env::kCwd, l.GenDir(n));
  if (!dir) {
    if (dir.error().code == Code::kNotFound) *gone = true;
    return tl::unexpected(dir.error());
  }
  auto locked = env->Flock(dir->get(), LockMode::kShared, /*wait=*/false);
  if (!locked) {
    if (locked.error().code == Code::kLocked) *gone = true;
    return tl::unexpected(locked.error());
  }
  // Pinned. Make sure it is still the directory under gens/<n>, not one gc
  // moved away between our open and our lock.
  auto a = TXDIR_TRY(env->Fstat(dir->get()));
  auto b = env->StatAt(Env::kCwd, l.GenDir(n), false);
  if (!b || a.st_ino != b->st_ino || a.st_dev != b->st_dev) {
    *gone = true;
    return MakeError(Code::kNotFound, "generation was removed while opening it", l.GenDir(n));
  }
  return std::move(*dir);
}

// The live path of each repository this process has read, with the
// identity of the config.json it came from. config.json is only ever
// replaced by rename (AtomicWriteFile), so an equal (device, inode, size,
// mtime, ctime) means the same content: one stat instead of open + read +
// parse on every open of a snapshot.
struct CachedConfig {
  struct stat id;
  std::string live;
};
std::mutex g_config_mu;
// Never destroyed: snapshots may be opened from static destructors of
// other translation units.
std::map<std::string, CachedConfig>& ConfigCache() {
  static auto* configs = new std::map<std::string, CachedConfig>;
  return *configs;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

Result<internal::Layout> ReaderLayout(Env* env, const std::string& root) {
  internal::Layout l = internal::Layout::For(root);
  auto id = env->StatAt(Env::kCwd, l.config, /*follow=*/true);
  if (id) {
    std::lock_guard<std::mutex> guard(g_config_mu);
    if (auto it = ConfigCache().find(l.config);
        it != ConfigCache().end() && SameFile(it->second.id, *id)) {
      l.live = it->second.live;
      return l;
    }
  }
  auto config = internal::LoadConfig(env, l.config);
  if (!config) {
    if (!env->StatAt(Env::kCwd, l.meta, true))
      return tl::unexpected(internal::NotARepository(env, l));
    return tl::unexpected(config.error());
  }
  l.live = config->live_path.front() == '/' ? config->live_path : l.root + "/" + config->live_path;
  // Remember it only if the file we stat-ed before reading is still the
  // one there (not replaced between the stat and the read).
  if (auto again = env->StatAt(Env::kCwd, l.config, true); id && again && SameFile(*id, *again)) {
    std::lock_guard<std::mutex> guard(g_config_mu);
    ConfigCache()[l.config] = CachedConfig{*id, l.live};
  }
  return l;
}

}  // namespace

namespace {

struct PinnedLive {
  Fd dir;
  uint64_t generation;
  std::string target;  // the live link's content
};

// Resolves the live link and opens and pins the generation it names,
// resolving again when gc took that generation meanwhile (the link moved
// on first).
Result<PinnedLive> PinLive(Env* env, const internal::Layout& l) {
  for (int attempt = 0;; ++attempt) {
    auto target = env->ReadlinkAt(Env::kCwd, l.live);
    if (!target) {
      if (target.error().code == Code::kNotFound)
        return MakeError(Code::kNotFound, "nothing has been published yet", l.live);
      return tl::unexpected(target.error());
    }
    auto n = internal::ParseGenName(fs::Basename(*target));
    if (!n)
      return MakeError(Code::kCorruption, "live link does not point at a generation: " + *target,
                       l.live);
    bool gone = false;
    auto dir = OpenAndPin(env, l, *n, &gone);
    if (dir) return PinnedLive{std::move(*dir), *n, std::move(*target)};
    if (!gone || attempt >= 100) return tl::unexpected(dir.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

Result<Snapshot> Snapshot::OpenLive(const std::string& root, Env* env) {
  if (env == nullptr) env = Env::Default();
  internal::Layout l = TXDIR_TRY(ReaderLayout(env, root));
  PinnedLive p = TXDIR_TRY(PinLive(env, l));
  return Snapshot(env, std::make_shared<const Fd>(std::move(p.dir)), p.generation,
                  l.GenDir(p.generation));
}

Result<Snapshot> Snapshot::OpenGeneration(const std::string& root, uint64_t number, Env* env) {
  if (env == nullptr) env = Env::Default();
  internal::Layout l = TXDIR_TRY(ReaderLayout(env, root));
  bool gone = false;
  auto dir = OpenAndPin(env, l, number, &gone);
  if (!dir) {
    if (gone)
      return MakeError(Code::kNotFound,
                       "generation " + std::to_string(number) + " is not materialized");
    return tl::unexpected(dir.error());
  }
  return Snapshot(env, std::make_shared<const Fd>(std::move(*dir)), number, l.GenDir(number));
}

Result<LiveReader> LiveReader::Open(const std::string& root, Env* env) {
  if (env == nullptr) env = Env::Default();
  internal::Layout l = TXDIR_TRY(ReaderLayout(env, root));
  return LiveReader(env, l.root, l.live);
}

Result<Snapshot> LiveReader::OpenSnapshot() {
  if (pin_) {
    // The pin held since the last snapshot keeps gc from renaming that
    // generation away, and a generation's directory never changes under
    // its name while it exists: the same link text is the same directory,
    // with nothing to check again.
    auto target = env_->ReadlinkAt(Env::kCwd, live_);
    if (target && *target == target_) return Snapshot(env_, pin_, generation_, path_);
  }
  internal::Layout l = internal::Layout::For(root_);
  l.live = live_;
  PinnedLive p = TXDIR_TRY(PinLive(env_, l));
  // The previous pin is released once no snapshot of it remains.
  pin_ = std::make_shared<const Fd>(std::move(p.dir));
  target_ = std::move(p.target);
  generation_ = p.generation;
  path_ = l.GenDir(p.generation);
  return Snapshot(env_, pin_, generation_, path_);
}

namespace {

// Opens the file at `path` (already checked) under the generation directory
// `root` without following any symbolic link: not the file itself, and not
// a directory on the way. A generation's links are leaves (stored link
// blobs), never directories of the generation, so following one can only
// lead somewhere else: a link stored with `--symlinks keep` may point at
// /etc. openat(2)'s O_NOFOLLOW guards the last component only, hence the
// walk, one directory at a time, each opened with O_NOFOLLOW too.
Result<Fd> OpenNoFollow(Env* env, int root, const std::string& path) {
  Fd parent;
  int dir = root;
  size_t start = 0;
  for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
    auto sub =
        env->OpenAt(dir, path.substr(start, slash - start), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!sub) {
      // A file or a link where the path needs a directory: the generation
      // has no such file (what the store says of the same path). ELOOP is a
      // link; name it as what it is in the generation, not a directory.
      const int err = sub.error().sys_errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP)
        return MakeError(Code::kNotFound, "cannot open", internal::Printable(path),
                         err == ELOOP ? ENOTDIR : err);
      Error e = sub.error();
      e.path = internal::Printable(path);
      return tl::unexpected(e);
    }
    parent = std::move(*sub);
    dir = parent.get();
  }
  const std::string name = path.substr(start);
  auto fd = env->OpenAt(dir, name, O_RDONLY | O_NOFOLLOW);
  if (fd) return fd;
  Error e = fd.error();
  e.path = internal::Printable(path);  // the whole path, not its last component
  if (e.sys_errno != ELOOP) return tl::unexpected(e);
  // The same refusal as Repository::ReadFile's for a stored link, naming
  // where it points so the reader can read that instead.
  auto target = env->ReadlinkAt(dir, name);
  if (!target) return tl::unexpected(e);
  return MakeError(Code::kInvalidArgument,
                   "is a symbolic link (to '" + internal::Printable(*target) + "'), not a file",
                   internal::Printable(path));
}

}  // namespace

Result<Fd> Snapshot::OpenFile(const std::string& path) const {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  Fd fd = TXDIR_TRY(OpenNoFollow(env_, dir_->get(), path));
  // open(2) succeeds on a directory; say "not a file" as the store does,
  // rather than failing later with an I/O error on read.
  struct stat st = TXDIR_TRY(env_->Fstat(fd.get()));
  if (S_ISDIR(st.st_mode))
    return MakeError(Code::kNotFound, "is a directory, not a file", internal::Printable(path));
  return fd;
}

Result<std::string> Snapshot::ReadFile(const std::string& path) const {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  Fd fd = TXDIR_TRY(OpenNoFollow(env_, dir_->get(), path));
  // A generation's files never change after publish (0444, and txdir only
  // ever creates new ones), so the size fstat reports is the content's: read
  // exactly that many bytes straight into the result. That is one fstat in
  // place of the read(2) that returns 0 at the end, and no copy through a
  // bounce buffer: cheaper than a plain read loop over the same file.
  struct stat st = TXDIR_TRY(env_->Fstat(fd.get()));
  if (S_ISDIR(st.st_mode))
    return MakeError(Code::kNotFound, "is a directory, not a file", internal::Printable(path));
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    size_t n = TXDIR_TRY(env_->Read(fd.get(), out.data() + got, out.size() - got));
    if (n == 0)
      return MakeError(Code::kCorruption,
                       "generation file is shorter than its size said (changed after publish)",
                       internal::Printable(path));
    got += n;
  }
  return out;
}

namespace {
Status ListInto(Env* env, int dir, const std::string& prefix, std::vector<std::string>* out) {
  for (const auto& e : TXDIR_TRY(env->ListDir(dir))) {
    auto st = TXDIR_TRY(env->StatAt(dir, e.name, false));
    std::string path = prefix + e.name;
    if (S_ISDIR(st.st_mode)) {
      Fd sub = TXDIR_TRY(fs::OpenDir(env, dir, e.name));
      TXDIR_CHECK(ListInto(env, sub.get(), path + "/", out));
    } else {
      out->push_back(path);
    }
  }
  return Ok();
}
}  // namespace

Result<std::vector<std::string>> Snapshot::ListFiles() const {
  std::vector<std::string> out;
  TXDIR_CHECK(ListInto(env_, dir_->get(), "", &out));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace txdir
