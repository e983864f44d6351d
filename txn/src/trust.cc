#include "txn/src/trust.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "store/fs_util.h"

namespace txdir::internal {

namespace {

constexpr const char* kLinkRefusal =
    "is a symbolic link; txdir does not follow links inside .txdir";

struct Part {
  const char* name;  // under .txdir
  bool directory;
};
constexpr Part kParts[] = {
    {"store.git", true}, {"gens", true}, {"tmp", true}, {"lock", false}, {"config.json", false}};

// What an open with O_NOFOLLOW reports for a link (ELOOP, or ENOTDIR with
// O_DIRECTORY) is said plainly; other errors stay as they are.
Error ExplainOpenFailure(Env* env, int dir, const std::string& name, const std::string& path,
                         const Error& e) {
  if (e.sys_errno == ELOOP || e.sys_errno == ENOTDIR) {
    if (auto st = env->StatAt(dir, name, false); st && S_ISLNK(st->st_mode))
      return MakeError(Code::kCorruption, kLinkRefusal, path).value();
  }
  return e;
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = text.find(sep, start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

bool IsInside(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

bool NamedSafe(const Layout& l) {
  const char* list = std::getenv(kSafeDirectoriesVar);
  if (list == nullptr) return false;
  for (const std::string& entry : Split(list, ':')) {
    if (entry == "*") return true;
    // Only absolute entries: a relative one would depend on the working
    // directory of whoever runs txdir.
    if (!entry.empty() && entry.front() == '/' && fs::AbsolutePath(entry) == l.root) return true;
  }
  return false;
}

}  // namespace

Error NotARepository(Env* env, const Layout& l) {
  std::string message = "not a txdir repository (no .txdir folder)";
  // The repository whose metadata folder holds `path`: the part before its
  // last "/.txdir" component, if that folder exists.
  auto owner = [&](const std::string& path) -> std::string {
    for (size_t at = path.rfind("/.txdir"); at != std::string::npos && at > 0;
         at = path.rfind("/.txdir", at - 1)) {
      const size_t end = at + 7;
      if (end != path.size() && path[end] != '/') continue;
      std::string root = path.substr(0, at);
      if (auto st = env->StatAt(Env::kCwd, root + "/.txdir", false); st && S_ISDIR(st->st_mode))
        return root;
    }
    return "";
  };
  std::string root = owner(l.root);
  std::string what = "a path inside the metadata folder of the repository";
  if (root.empty()) {
    // A live link points into the repository's gens/.
    if (auto target = env->ReadlinkAt(Env::kCwd, l.root); target) {
      const std::string abs =
          target->front() == '/' ? *target : fs::JoinPath(fs::Dirname(l.root), *target);
      root = owner(fs::AbsolutePath(abs));
      what = "the live link of the repository";
    }
  }
  if (!root.empty())
    message = "not a txdir repository but " + what + " at " + root + " (give " + root + " instead)";
  return Error{Code::kNotFound, message, l.root};
}

Status CheckMetaFolder(Env* env, const Layout& l) {
  auto meta = env->StatAt(Env::kCwd, l.meta, /*follow=*/false);
  if (!meta) {
    if (meta.error().code == Code::kNotFound) return tl::unexpected(NotARepository(env, l));
    return tl::unexpected(meta.error());
  }
  if (S_ISLNK(meta->st_mode)) return MakeError(Code::kCorruption, kLinkRefusal, l.meta);
  if (!S_ISDIR(meta->st_mode)) return tl::unexpected(NotARepository(env, l));
  for (const Part& p : kParts) {
    const std::string path = l.meta + "/" + p.name;
    auto st = env->StatAt(Env::kCwd, path, /*follow=*/false);
    if (!st) {
      if (st.error().code != Code::kNotFound) return tl::unexpected(st.error());
      if (std::string_view(p.name) == "config.json")
        return MakeError(Code::kCorruption, "repository config is missing", path);
      return MakeError(Code::kCorruption, "repository is missing part of its metadata folder",
                       path);
    }
    if (S_ISLNK(st->st_mode)) return MakeError(Code::kCorruption, kLinkRefusal, path);
    if (p.directory && !S_ISDIR(st->st_mode))
      return MakeError(Code::kCorruption,
                       "is not a directory (part of the metadata folder, which must be one)", path);
    if (!p.directory && !S_ISREG(st->st_mode))
      return MakeError(Code::kCorruption,
                       "is not a regular file (part of the metadata folder, which must be one)",
                       path);
  }
  return Ok();
}

Result<Fd> OpenMetaDir(Env* env, const Layout& l, const std::string& part) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  // The root itself is the path the user named, links and all.
  Fd root = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.root));
  auto meta = env->OpenAt(root.get(), kMetaDirName, kFlags);
  if (!meta)
    return tl::unexpected(ExplainOpenFailure(env, root.get(), kMetaDirName, l.meta, meta.error()));
  if (part.empty()) return meta;
  auto sub = env->OpenAt(meta->get(), part, kFlags);
  if (!sub)
    return tl::unexpected(
        ExplainOpenFailure(env, meta->get(), part, l.meta + "/" + part, sub.error()));
  return sub;
}

Result<Fd> OpenLiveDir(Env* env, const Layout& l) {
  const std::string dir = fs::Dirname(l.live);
  if (!IsInside(dir, l.root)) return fs::OpenDir(env, Env::kCwd, dir);
  Fd fd = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.root));
  if (dir == l.root) return fd;
  std::string path = l.root;
  for (const std::string& c : Split(dir.substr(l.root.size() + 1), '/')) {
    path += "/" + c;
    auto next = env->OpenAt(fd.get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!next) {
      const Error& e = next.error();
      if (e.sys_errno == ELOOP || e.sys_errno == ENOTDIR) {
        if (auto st = env->StatAt(fd.get(), c, false); st && S_ISLNK(st->st_mode))
          return MakeError(Code::kCorruption,
                           "is a symbolic link; the live path inside the repository must not "
                           "pass through one (it could lead the live link outside)",
                           path);
      }
      return tl::unexpected(e);
    }
    fd = std::move(*next);
  }
  return fd;
}

Status CheckLivePathValue(const std::string& live_path) {
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "live_path '" + live_path + "' " + why);
  };
  if (live_path.empty()) return bad("is empty");
  if (live_path.find('\0') != std::string::npos) return bad("contains a NUL byte");
  if (live_path.front() == '/') {
    if (live_path == "/" || fs::AbsolutePath(live_path) != live_path)
      return bad(
          "must be a normalized absolute path (no '.', '..' or empty components, no trailing "
          "'/'), and not '/'");
    return Ok();
  }
  const auto parts = Split(live_path, '/');
  for (const std::string& c : parts) {
    if (c.empty() || c == "." || c == "..")
      return bad(
          "must stay inside the repository: a relative path without '.', '..' or empty "
          "components");
  }
  if (parts.front() == kMetaDirName) return bad("must not be inside the .txdir folder");
  return Ok();
}

Status CheckWriteTrust(Env* env, const Layout& l, const std::string& what) {
  const uid_t me = ::geteuid();
  for (const auto& [path, follow] : {std::pair{l.root, true}, std::pair{l.meta, false}}) {
    auto st = env->StatAt(Env::kCwd, path, follow);
    // No .txdir yet: init is creating it, and the root's owner decides.
    if (!st && st.error().code == Code::kNotFound && path == l.meta) continue;
    if (!st) return tl::unexpected(st.error());
    if (st->st_uid == me || NamedSafe(l)) continue;
    return MakeError(Code::kInvalidArgument,
                     "refusing to " + what + " a repository owned by another user (uid " +
                         std::to_string(st->st_uid) + ", not uid " + std::to_string(me) +
                         "); reading it works. To trust it, set " + kSafeDirectoriesVar + "=" +
                         l.root + " (docs/security.md)",
                     path);
  }
  return Ok();
}

}  // namespace txdir::internal
