#include "crash_tests/powerloss/crash_sim.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace txdir::powerloss {

namespace {

constexpr size_t kNever = static_cast<size_t>(-1);

// Does the fsync `f` make op `op` durable?
bool Covers(const Op& f, const Op& op) {
  switch (op.kind) {
    case OpKind::kWrite:
    case OpKind::kTruncate:
    case OpKind::kChmod:
      return f.inode == op.inode;
    case OpKind::kExchange:
      // Both names change; txdir exchanges within one directory.
      return f.inode == op.dir2 && f.inode == op.dir;
    case OpKind::kRename:
    case OpKind::kLink:
      // The new name lives in the destination directory. A rename's removal
      // of the source name is taken to become durable with it: see
      // docs/durability.md ("renames").
      return f.inode == op.dir2;
    case OpKind::kCreate:
    case OpKind::kMkdir:
    case OpKind::kSymlink:
    case OpKind::kUnlink:
    case OpKind::kRmdir:
      return f.inode == op.dir;
    case OpKind::kFsync:
    case OpKind::kSyncfs:
      return false;
  }
  return false;
}

// The names in the directory open at `fd` (not "." or ".."), with their
// types as readdir reports them (DT_UNKNOWN on file systems that do not),
// sorted by name. `fd` stays open and owned by the caller.
std::vector<std::pair<std::string, unsigned char>> SortedEntriesAt(int fd) {
  std::vector<std::pair<std::string, unsigned char>> out;
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return out;
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    out.emplace_back(e->d_name, e->d_type);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

tl::unexpected<Error> SysError(const char* what, const std::string& path) {
  return ErrnoError(what, path, errno);
}

bool ReadAll(int fd, std::string* out) {
  out->clear();
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  return n == 0;
}

bool ReadWhole(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  const bool ok = ReadAll(fd, out);
  ::close(fd);
  return ok;
}

// An fd closed when it goes out of scope.
struct DirFd {
  int fd = -1;
  explicit DirFd(int f) : fd(f) {}
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  ~DirFd() {
    if (fd >= 0) ::close(fd);
  }
};

int OpenDirAt(int parent, const char* name) {
  return ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

void RemoveContents(int fd);

// Removes the entry `name` (of readdir type `type`) of the directory open
// at `fd`, a directory with everything in it, made writable first.
void RemoveAt(int fd, const std::string& name, unsigned char type) {
  bool dir = type == DT_DIR;
  if (type == DT_UNKNOWN) {
    struct stat st;
    dir = ::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
  }
  if (dir) {
    // Opened before it is made writable (one call less for most), unless
    // its mode keeps even its owner out.
    int f = OpenDirAt(fd, name.c_str());
    if (f < 0 && ::fchmodat(fd, name.c_str(), 0700, 0) == 0) f = OpenDirAt(fd, name.c_str());
    DirFd sub(f);
    if (sub.fd >= 0) {
      ::fchmod(sub.fd, 0700);
      RemoveContents(sub.fd);
    }
  }
  ::unlinkat(fd, name.c_str(), dir ? AT_REMOVEDIR : 0);
}

// Removes everything in the directory open at `fd`.
void RemoveContents(int fd) {
  for (const auto& [name, type] : SortedEntriesAt(fd)) RemoveAt(fd, name, type);
}

// 64-bit FNV-1a.
uint64_t Fnv(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string ContentDigest(const std::string& data) {
  return std::to_string(data.size()) + ":" + std::to_string(Fnv(data));
}

// Appends the digest text of the directory open at `fd` (relative path
// `rel`). `ids`: the first name of each inode seen, so hard links show as
// such. `known`: content digests of inodes to take instead of reading them.
// `record`: where to remember the content digest of each file read.
void DigestDir(int fd, const std::string& rel, std::map<FileId, std::string>* ids,
               const std::map<FileId, std::string>* known, std::map<FileId, std::string>* record,
               std::string* out) {
  for (const auto& [name, type] : SortedEntriesAt(fd)) {
    (void)type;
    const std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    char head[64];
    std::snprintf(head, sizeof head, "%o ", static_cast<unsigned>(st.st_mode));
    *out += head + r;
    if (S_ISDIR(st.st_mode)) {
      *out += "/\n";
      DirFd sub(OpenDirAt(fd, name.c_str()));
      if (sub.fd >= 0) DigestDir(sub.fd, r, ids, known, record, out);
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlinkat(fd, name.c_str(), buf, sizeof buf);
      *out += " -> " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) + "\n";
      continue;
    }
    FileId id{st.st_dev, st.st_ino};
    if (auto it = ids->find(id); it != ids->end()) {
      *out += " = " + it->second + "\n";
      continue;
    }
    ids->emplace(id, r);
    if (known != nullptr) {
      if (auto it = known->find(id); it != known->end()) {
        *out += " " + it->second + "\n";
        continue;
      }
    }
    std::string data;
    const int in = ::openat(fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in >= 0) {
      ReadAll(in, &data);
      ::close(in);
    }
    std::string content = ContentDigest(data);
    *out += " " + content + "\n";
    if (record != nullptr) record->emplace(id, std::move(content));
  }
}

std::string DigestTree(const std::string& root, const std::map<FileId, std::string>* known,
                       std::map<FileId, std::string>* record) {
  std::map<FileId, std::string> ids;
  std::string text;
  DirFd fd(OpenDirAt(AT_FDCWD, root.c_str()));
  if (fd.fd >= 0) DigestDir(fd.fd, "", &ids, known, record, &text);
  return std::to_string(text.size()) + ":" + std::to_string(Fnv(text)) + ":" +
         std::to_string(Fnv(text, 0x84222325cbf29ce4ULL));
}

class Replayer {
 public:
  Replayer(std::string orig_root, std::string dst)
      : orig_(std::move(orig_root)), dst_(std::move(dst)) {}

  std::string Map(const std::string& p) const {
    if (p == orig_) return dst_;
    return dst_ + p.substr(orig_.size());
  }

  // Applies `op` (with `data` in place of a write's bytes). Ops made
  // impossible by a lost op fail and are skipped: that is the model.
  //
  // A recorded op ran with the permissions the writer had at that moment,
  // which a replay of separate system calls does not always have: a file
  // created 0444 was written through the fd that created it, and a crash
  // state may put an entry into a directory that a later op (replayed
  // before it when ops are dropped) made 0555. Root ignores file modes, so
  // a replay as root never noticed; an ordinary user gets EACCES, and the
  // state would silently lack the write. So an op refused for permission is
  // retried with the owner's write and search bits granted on the paths it
  // touches, which are then restored: modes are part of the state too.
  void Apply(const Op& op, const std::string* data) {
    const std::string p = Map(op.path);
    const std::string p2 = op.path2.empty() ? std::string() : Map(op.path2);
    if (Once(op, p, p2, data) || (errno != EACCES && errno != EPERM)) return;
    std::vector<std::pair<std::string, mode_t>> granted;
    for (const std::string& path : Touched(op, p, p2)) {
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
      const mode_t mode = st.st_mode & 07777;
      const mode_t want = mode | S_IWUSR | (S_ISDIR(st.st_mode) ? S_IXUSR : 0);
      if (want != mode && ::chmod(path.c_str(), want) == 0) granted.emplace_back(path, mode);
    }
    if (granted.empty()) return;
    const bool done = Once(op, p, p2, data);
    for (auto it = granted.rbegin(); it != granted.rend(); ++it) {
      std::string now = it->first;  // where the object lives after the op
      if (done && (op.kind == OpKind::kRename || op.kind == OpKind::kExchange)) {
        if (now == p) {
          now = p2;
        } else if (now == p2) {
          if (op.kind == OpKind::kRename) continue;  // replaced: gone
          now = p;
        }
      }
      (void)::chmod(now.c_str(), it->second);
    }
  }

 private:
  static std::string Parent(const std::string& p) { return p.substr(0, p.rfind('/')); }

  // The paths whose permission bits decide whether `op` may run: the
  // directories whose entries it changes, a directory moved to another
  // parent (its ".." changes), and a file written in place.
  static std::vector<std::string> Touched(const Op& op, const std::string& p,
                                          const std::string& p2) {
    switch (op.kind) {
      case OpKind::kWrite:
      case OpKind::kTruncate:
        return {Parent(p), p};  // Unshare may replace the file by a copy
      case OpKind::kRename:
      case OpKind::kExchange:
        return {Parent(p), Parent(p2), p, p2};
      case OpKind::kLink:
        return {Parent(p2)};
      default:
        return {Parent(p)};
    }
  }

  // One attempt at `op`; false with errno set when the system refused it.
  bool Once(const Op& op, const std::string& p, const std::string& p2, const std::string* data) {
    switch (op.kind) {
      case OpKind::kCreate: {
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return false;
        ::fchmod(fd, op.mode);
        ::close(fd);
        return true;
      }
      case OpKind::kWrite: {
        if (!Unshare(p)) return false;
        int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return false;
        (void)!::pwrite(fd, data->data(), data->size(), op.offset);
        ::close(fd);
        return true;
      }
      case OpKind::kTruncate:
        return Unshare(p) && ::truncate(p.c_str(), op.offset) == 0;
      case OpKind::kFsync:
      case OpKind::kSyncfs:
        return true;
      case OpKind::kMkdir:
        if (::mkdir(p.c_str(), 0700) != 0) return false;
        ::chmod(p.c_str(), op.mode);
        return true;
      case OpKind::kRename:
        return ::rename(p.c_str(), p2.c_str()) == 0;
      case OpKind::kLink:
        return ::link(p.c_str(), p2.c_str()) == 0;
      case OpKind::kExchange:
        return ::renameat2(AT_FDCWD, p.c_str(), AT_FDCWD, p2.c_str(), RENAME_EXCHANGE) == 0;
      case OpKind::kSymlink: {
        std::string target = op.data;
        if (target.rfind(orig_ + "/", 0) == 0) target = Map(target);
        return ::symlink(target.c_str(), p.c_str()) == 0;
      }
      case OpKind::kUnlink:
        return ::unlink(p.c_str()) == 0;
      case OpKind::kRmdir:
        return ::rmdir(p.c_str()) == 0;
      case OpKind::kChmod:
        return ::chmod(p.c_str(), op.mode) == 0;
    }
    return true;
  }

  // Files shared with the pre-state copy are hard links; give a file its
  // own inode before changing it in place so the shared copy stays intact.
  static bool Unshare(const std::string& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (st.st_nlink == 1) return true;
    std::string data;
    if (!ReadWhole(p, &data)) return false;
    const std::string tmp = p + ".powerloss-unshare";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (fd < 0) return false;
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ::close(fd);
    return ok && ::rename(tmp.c_str(), p.c_str()) == 0;
  }

  std::string orig_, dst_;
};

}  // namespace

std::string CrashState::Describe(const std::vector<Op>& ops) const {
  static const char* kClass[] = {"prefix", "one-drop", "two-drop", "data", "all-drop"};
  std::string s = std::string(kClass[static_cast<int>(cls)]) + " crash after op " +
                  std::to_string(prefix) + "/" + std::to_string(ops.size());
  if (prefix > 0) s += " (" + ops[prefix - 1].Describe() + ")";
  if (acked) s += " [acknowledged]";
  for (size_t d : dropped) s += "; lost op " + std::to_string(d) + ": " + ops[d].Describe();
  if (variant != DataVariant::kNone)
    s += std::string(variant == DataVariant::kZeroed ? "; zeroed" : "; half-written") + " op " +
         std::to_string(variant_op) + ": " + ops[variant_op].Describe();
  return s;
}

std::vector<size_t> DurableAt(const std::vector<Op>& ops) {
  std::vector<size_t> at(ops.size(), kNever);
  for (size_t j = 0; j < ops.size(); ++j) {
    if (!ops[j].Mutates()) continue;
    for (size_t k = j + 1; k < ops.size(); ++k) {
      if (ops[k].kind == OpKind::kSyncfs ||
          (ops[k].kind == OpKind::kFsync && Covers(ops[k], ops[j]))) {
        at[j] = k;
        break;
      }
    }
  }
  // A name that is later renamed away needs its own entry only until the
  // rename: once the rename is durable the inode is reachable under the new
  // name whatever became of the old entry (the stage directory is made in
  // tmp/, which is never fsynced, and renamed into gens/, which is). So an
  // entry op is durable no later than the rename that moves its name.
  for (size_t j = ops.size(); j-- > 0;) {
    const Op& op = ops[j];
    std::string name;
    if (op.kind == OpKind::kCreate || op.kind == OpKind::kMkdir || op.kind == OpKind::kSymlink)
      name = op.path;
    else if (op.kind == OpKind::kRename || op.kind == OpKind::kLink)
      name = op.path2;
    else
      continue;
    for (size_t k = j + 1; k < ops.size(); ++k) {
      const Op& later = ops[k];
      if (later.kind == OpKind::kRename && later.path == name) {
        at[j] = std::min(at[j], at[k]);
        break;
      }
      if ((later.kind == OpKind::kUnlink || later.kind == OpKind::kRmdir) && later.path == name)
        break;
    }
  }
  return at;
}

std::vector<size_t> VolatileAt(const std::vector<Op>& ops, const std::vector<size_t>& durable_at,
                               size_t prefix) {
  std::vector<size_t> out;
  for (size_t j = 0; j < prefix; ++j)
    if (ops[j].Mutates() && (durable_at[j] == kNever || durable_at[j] >= prefix)) out.push_back(j);
  return out;
}

std::vector<CrashState> EnumerateCrashStates(const std::vector<Op>& ops, bool completed,
                                             const EnumerateOptions& options) {
  const size_t n = ops.size();
  const auto durable_at = DurableAt(ops);
  // A crash right after an fsync leaves the same files as one right before
  // it, with fewer ops at risk: the states of such a prefix repeat those of
  // the prefix before. So only prefixes ending in a mutating op (and the
  // whole log when the operation was acknowledged) are enumerated.
  std::vector<std::pair<size_t, bool>> prefixes;  // (prefix, acked)
  for (size_t i = 0; i <= n; ++i) {
    bool acked = completed && i == n;
    if (i == 0 || ops[i - 1].Mutates() || acked) prefixes.emplace_back(i, acked);
  }
  std::vector<CrashState> out, pairs;
  for (auto [i, acked] : prefixes) {
    CrashState base;
    base.prefix = i;
    base.acked = acked;
    out.push_back(base);
    const auto vol = VolatileAt(ops, durable_at, i);
    if (options.one_drop) {
      for (size_t j : vol) {
        CrashState s = base;
        s.cls = StateClass::kOneDrop;
        s.dropped = {j};
        out.push_back(s);
      }
    }
    if (options.data_variants) {
      for (size_t j : vol) {
        if (ops[j].kind != OpKind::kWrite || ops[j].data.empty()) continue;
        for (DataVariant v : {DataVariant::kZeroed, DataVariant::kHalf}) {
          if (v == DataVariant::kHalf && ops[j].data.size() < 2) continue;
          CrashState s = base;
          s.cls = StateClass::kData;
          s.variant = v;
          s.variant_op = j;
          out.push_back(s);
        }
      }
    }
    // Everything not yet durable lost at once: what a publish acknowledged
    // before its last writes were flushed must survive (with three or more
    // such writes, no one- or two-drop state loses them all).
    if (vol.size() > 2) {
      CrashState s = base;
      s.cls = StateClass::kAllDrop;
      s.dropped = vol;
      out.push_back(s);
    }
    if (options.max_two_drop > 0) {
      for (size_t a = 0; a < vol.size(); ++a)
        for (size_t b = a + 1; b < vol.size(); ++b) {
          CrashState s = base;
          s.cls = StateClass::kTwoDrop;
          s.dropped = {vol[a], vol[b]};
          pairs.push_back(s);
        }
    }
  }
  if (pairs.size() <= options.max_two_drop) {
    out.insert(out.end(), pairs.begin(), pairs.end());
  } else {
    // Evenly spaced over all pairs of all prefixes: deterministic, and it
    // covers early and late crash points alike.
    const size_t m = options.max_two_drop;
    for (size_t k = 0; k < m; ++k) out.push_back(pairs[k * pairs.size() / m]);
  }
  return out;
}

Status CopyTree(const std::string& src, const std::string& dst,
                const std::function<bool(const std::string& rel)>& share) {
  struct stat st;
  if (::lstat(dst.c_str(), &st) == 0) return MakeError(Code::kExists, "already exists", dst);
  const BaseTree base = TXDIR_TRY(BaseTree::Load(src, share));
  return base.ResetTo(dst);
}

void RemoveTreeForce(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    ::unlink(path.c_str());
    return;
  }
  ::chmod(path.c_str(), 0700);
  {
    DirFd fd(OpenDirAt(AT_FDCWD, path.c_str()));
    if (fd.fd >= 0) RemoveContents(fd.fd);
  }
  ::rmdir(path.c_str());
}

std::string TreeDigest(const std::string& root) { return DigestTree(root, nullptr, nullptr); }

TreeDigester::TreeDigester(const std::string& base)
    : base_digest_(DigestTree(base, nullptr, &known_)) {}

std::string TreeDigester::Digest(const std::string& root) const {
  return DigestTree(root, &known_, nullptr);
}

// --- BaseTree

struct BaseTree::Node {
  std::string name;
  mode_t mode = 0;             // st_mode: type and permission bits
  FileId id{};                 // regular files: the base's inode
  bool shared = false;         // regular files: hard-linked to the base's file
  std::string data;            // regular files not shared: content; symlinks: target
  std::vector<Node> children;  // directories: sorted by name
};

namespace {

Status LoadDir(int fd, const std::string& rel, const std::function<bool(const std::string&)>& share,
               std::vector<BaseTree::Node>* out);

}  // namespace

BaseTree::BaseTree() = default;
BaseTree::~BaseTree() = default;
BaseTree::BaseTree(BaseTree&&) noexcept = default;
BaseTree& BaseTree::operator=(BaseTree&&) noexcept = default;

Result<BaseTree> BaseTree::Load(const std::string& base,
                                const std::function<bool(const std::string& rel)>& share) {
  BaseTree t;
  t.base_ = base;
  t.root_ = std::make_unique<Node>();
  struct stat st;
  if (::lstat(base.c_str(), &st) != 0) return SysError("lstat", base);
  t.root_->mode = st.st_mode;
  DirFd fd(OpenDirAt(AT_FDCWD, base.c_str()));
  if (fd.fd < 0) return SysError("open", base);
  TXDIR_CHECK(LoadDir(fd.fd, "", share, &t.root_->children));
  // A name that is a hard link of a shared file (a stage left by a crash
  // links files of a generation) is that same inode in a copy too.
  std::set<FileId> shared;
  std::function<void(Node&, bool)> walk = [&](Node& n, bool mark) {
    for (Node& c : n.children) walk(c, mark);
    if (!S_ISREG(n.mode)) return;
    if (!mark && n.shared) shared.insert(n.id);
    if (mark && !n.shared && shared.count(n.id) != 0) {
      n.shared = true;
      n.data.clear();
    }
  };
  walk(*t.root_, false);
  walk(*t.root_, true);
  return t;
}

namespace {

Status LoadDir(int fd, const std::string& rel, const std::function<bool(const std::string&)>& share,
               std::vector<BaseTree::Node>* out) {
  for (const auto& [name, type] : SortedEntriesAt(fd)) {
    (void)type;
    const std::string r = rel.empty() ? name : rel + "/" + name;
    BaseTree::Node n;
    n.name = name;
    struct stat st;
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return SysError("lstat", r);
    n.mode = st.st_mode;
    if (S_ISDIR(st.st_mode)) {
      DirFd sub(OpenDirAt(fd, name.c_str()));
      if (sub.fd < 0) return SysError("open", r);
      TXDIR_CHECK(LoadDir(sub.fd, r, share, &n.children));
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = ::readlinkat(fd, name.c_str(), buf, sizeof buf);
      if (len < 0) return SysError("readlink", r);
      n.data.assign(buf, static_cast<size_t>(len));
    } else if (S_ISREG(st.st_mode)) {
      n.id = FileId{st.st_dev, st.st_ino};
      n.shared = share && share(r);
      if (!n.shared) {
        const int in = ::openat(fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        const bool read = in >= 0 && ReadAll(in, &n.data);
        if (in >= 0) ::close(in);
        if (!read) return SysError("read", r);
      }
    } else {
      return MakeError(Code::kInvalidArgument, "cannot copy special file", r);
    }
    out->push_back(std::move(n));
  }
  return Ok();
}

// What one ResetTo needs as it walks. A run resets its state directory
// thousands of times: every call is made relative to a directory fd, so
// none walks the tree's path from the root again.
struct Resetter {
  const std::string& base;
  std::map<FileId, std::string> made;  // base inode -> path of the copy made of it

  // Creates `n` as `name` in the directory open at `fd` (full path `path`).
  Status Create(int fd, const BaseTree::Node& n, const std::string& rel, const std::string& path) {
    const std::string r = rel.empty() ? n.name : rel + "/" + n.name;
    const std::string d = path + "/" + n.name;
    if (S_ISDIR(n.mode)) {
      if (::mkdirat(fd, n.name.c_str(), 0700) != 0) return SysError("mkdir", d);
      DirFd sub(OpenDirAt(fd, n.name.c_str()));
      if (sub.fd < 0) return SysError("open", d);
      for (const BaseTree::Node& c : n.children) TXDIR_CHECK(Create(sub.fd, c, r, d));
      if (::fchmod(sub.fd, n.mode & 07777) != 0) return SysError("chmod", d);
      return Ok();
    }
    if (S_ISLNK(n.mode)) {
      if (::symlinkat(n.data.c_str(), fd, n.name.c_str()) != 0) return SysError("symlink", d);
      return Ok();
    }
    if (n.shared) {
      const std::string from = base + "/" + r;
      if (::linkat(AT_FDCWD, from.c_str(), fd, n.name.c_str(), 0) != 0) return SysError("link", d);
      return Ok();
    }
    if (auto it = made.find(n.id); it != made.end()) {  // a hard link within the base
      if (::linkat(AT_FDCWD, it->second.c_str(), fd, n.name.c_str(), 0) != 0)
        return SysError("link", d);
      return Ok();
    }
    int out = ::openat(fd, n.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) return SysError("create", d);
    bool ok = ::write(out, n.data.data(), n.data.size()) == static_cast<ssize_t>(n.data.size());
    ok = ok && ::fchmod(out, n.mode & 07777) == 0;
    ::close(out);
    if (!ok) return SysError("write", d);
    made.emplace(n.id, d);
    return Ok();
  }

  // Is the entry `name` (readdir type `type`) of the directory open at `fd`
  // already what `n` wants, so that it can stay?
  static bool Keeps(int fd, const std::string& name, unsigned char type, const BaseTree::Node& n) {
    if (S_ISLNK(n.mode)) {
      if (type != DT_LNK && type != DT_UNKNOWN) return false;
      char buf[4096];
      ssize_t len = ::readlinkat(fd, name.c_str(), buf, sizeof buf);
      return len >= 0 && std::string_view(buf, static_cast<size_t>(len)) == n.data;
    }
    // A shared file is the base's own inode or must be linked again. A
    // copied file is always made again: the check may have written it.
    if (!S_ISREG(n.mode) || !n.shared) return false;
    if (type != DT_REG && type != DT_UNKNOWN) return false;
    struct stat st;
    return ::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           FileId{st.st_dev, st.st_ino} == n.id;
  }

  // Makes the directory open at `fd` (full path `path`) hold exactly the
  // children of `dir`. `mode`: its current mode.
  Status Dir(int fd, const BaseTree::Node& dir, const std::string& rel, const std::string& path,
             mode_t mode) {
    if ((mode & 0700) != 0700 && ::fchmod(fd, 0700) != 0) return SysError("chmod", path);
    const auto have = SortedEntriesAt(fd);
    const auto& want = dir.children;
    size_t i = 0, j = 0;
    while (i < have.size() || j < want.size()) {
      const int c = i == have.size()   ? 1
                    : j == want.size() ? -1
                                       : have[i].first.compare(want[j].name);
      if (c < 0) {
        RemoveAt(fd, have[i].first, have[i].second);
        ++i;
        continue;
      }
      if (c > 0) {
        TXDIR_CHECK(Create(fd, want[j], rel, path));
        ++j;
        continue;
      }
      const auto& [name, type] = have[i];
      const BaseTree::Node& n = want[j];
      ++i;
      ++j;
      if (S_ISDIR(n.mode) && (type == DT_DIR || type == DT_UNKNOWN)) {
        int f = OpenDirAt(fd, name.c_str());
        if (f < 0 && errno == EACCES && ::fchmodat(fd, name.c_str(), 0700, 0) == 0)
          f = OpenDirAt(fd, name.c_str());
        if (f >= 0) {
          DirFd sub(f);
          struct stat st;
          if (::fstat(sub.fd, &st) != 0) return SysError("fstat", path + "/" + name);
          const std::string r = rel.empty() ? name : rel + "/" + name;
          TXDIR_CHECK(Dir(sub.fd, n, r, path + "/" + name, st.st_mode));
          continue;
        }
      } else if (Keeps(fd, name, type, n)) {
        continue;
      }
      RemoveAt(fd, name, type);
      TXDIR_CHECK(Create(fd, n, rel, path));
    }
    const mode_t now = (mode & 0700) != 0700 ? 0700 : (mode & 07777);
    if (now != (dir.mode & 07777) && ::fchmod(fd, dir.mode & 07777) != 0)
      return SysError("chmod", path);
    return Ok();
  }
};

}  // namespace

Status BaseTree::ResetTo(const std::string& dst) const {
  struct stat st;
  if (::lstat(dst.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    if (::unlink(dst.c_str()) != 0) return SysError("unlink", dst);
  }
  if (::lstat(dst.c_str(), &st) != 0) {
    if (::mkdir(dst.c_str(), 0700) != 0) return SysError("mkdir", dst);
    st.st_mode = S_IFDIR | 0700;
  }
  if ((st.st_mode & 0500) != 0500 && ::chmod(dst.c_str(), 0700) != 0) return SysError("chmod", dst);
  DirFd fd(OpenDirAt(AT_FDCWD, dst.c_str()));
  if (fd.fd < 0) return SysError("open", dst);
  if ((st.st_mode & 0500) != 0500) st.st_mode = S_IFDIR | 0700;
  Resetter r{base_, {}};
  return r.Dir(fd.fd, *root_, "", dst, st.st_mode);
}

bool PreShared(const std::string& rel) {
  // Objects and generation files are never written in place: share them.
  return rel.rfind(".txdir/store.git/objects/", 0) == 0 || rel.rfind(".txdir/gens/", 0) == 0;
}

Status BuildState(const std::string& pre, const std::string& dst, const std::string& orig_root,
                  const std::vector<Op>& ops, const CrashState& s) {
  TXDIR_CHECK(CopyTree(pre, dst, PreShared));
  ReplayState(dst, orig_root, ops, s);
  return Ok();
}

void ReplayState(const std::string& dst, const std::string& orig_root, const std::vector<Op>& ops,
                 const CrashState& s) {
  Replayer r(orig_root, dst);
  for (size_t i = 0; i < s.prefix; ++i) {
    if (std::find(s.dropped.begin(), s.dropped.end(), i) != s.dropped.end()) continue;
    const Op& op = ops[i];
    if (s.variant != DataVariant::kNone && i == s.variant_op) {
      std::string data = s.variant == DataVariant::kZeroed ? std::string(op.data.size(), '\0')
                                                           : op.data.substr(0, op.data.size() / 2);
      r.Apply(op, &data);
    } else {
      r.Apply(op, &op.data);
    }
  }
}

Status CheckLogConfined(const std::vector<Op>& ops, const std::string& root) {
  auto inside = [&](const std::string& p) { return p == root || p.rfind(root + "/", 0) == 0; };
  for (const Op& op : ops) {
    if (!op.Mutates()) continue;
    if (!inside(op.path) || (!op.path2.empty() && !inside(op.path2)))
      return MakeError(Code::kInvalidArgument, "op outside the repository: " + op.Describe());
  }
  return Ok();
}

}  // namespace txdir::powerloss
