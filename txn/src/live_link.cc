// The live link: a symlink whose target is a generation directory.
#include <filesystem>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/repo_impl.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

// The link's target: relative when the live link sits inside the root, so
// the whole directory can be moved or mounted elsewhere; absolute otherwise.
std::string LinkTarget(const Layout& l, uint64_t gen) {
  namespace stdfs = std::filesystem;
  stdfs::path live_dir = stdfs::path(l.live).parent_path();
  stdfs::path target = l.GenDir(gen);
  std::string root_prefix = l.root + "/";
  if ((live_dir.string() + "/").rfind(root_prefix, 0) == 0 || live_dir.string() == l.root)
    return target.lexically_relative(live_dir).string();
  return target.string();
}

}  // namespace

namespace {

// One reading of the link. `target` receives what readlink returned, so the
// caller can tell a link that moved from one that is wrong.
Result<std::optional<uint64_t>> ReadLiveOnce(Env* env, const Layout& l, std::string* target) {
  auto link = env->ReadlinkAt(Env::kCwd, l.live);
  if (!link) {
    if (link.error().code == Code::kNotFound) return std::optional<uint64_t>();
    if (link.error().sys_errno == EINVAL)
      return MakeError(Code::kCorruption, "live path is not a symlink", l.live);
    return tl::unexpected(link.error());
  }
  *target = *link;
  std::string name = fs::Basename(*link);
  auto gen = ParseGenName(name);
  if (!gen)
    return MakeError(Code::kCorruption, "live link does not point at a generation: " + *link,
                     l.live);
  // The link must resolve to our own gens/<N>, not merely a path that ends
  // in a number: compare the directories it and gens/<N> name.
  auto via_link = env->StatAt(Env::kCwd, l.live, /*follow=*/true);
  auto ours = env->StatAt(Env::kCwd, l.GenDir(*gen), /*follow=*/false);
  if (!via_link || !ours || via_link->st_dev != ours->st_dev || via_link->st_ino != ours->st_ino)
    return MakeError(Code::kCorruption,
                     "live link points outside the repository's generations or at a missing "
                     "directory: " +
                         *link,
                     l.live);
  return gen;
}

}  // namespace

Result<std::optional<uint64_t>> ReadLiveGeneration(Env* env, const Layout& l) {
  // Readers take no lock, so a writer may move the link (and gc remove the
  // generation it pointed at) between our readlink and our stats. That is
  // not corruption: the link changed under us, so read it again. Only a
  // link that reads the same twice and is still wrong is reported.
  constexpr int kAttempts = 64;
  std::string target;
  for (int attempt = 1;; ++attempt) {
    target.clear();
    auto gen = ReadLiveOnce(env, l, &target);
    if (gen || gen.error().code != Code::kCorruption || attempt == kAttempts) return gen;
    auto again = env->ReadlinkAt(Env::kCwd, l.live);
    if (!again || *again == target) return gen;  // stable: really wrong
  }
}

Status SwapLive(Env* env, const Layout& l, uint64_t gen, bool sync) {
  Fd dir = TXDIR_TRY(OpenLiveDir(env, l));
  const std::string name = fs::Basename(l.live);
  // Only the live link (a symbolic link) or nothing is ever replaced:
  // rename(2) would put the link over a regular file without a word, and
  // whatever is there is not ours.
  if (auto st = env->StatAt(dir.get(), name, /*follow=*/false); st) {
    if (S_ISDIR(st->st_mode))
      return MakeError(Code::kCorruption, "live path is a directory, not the live link", l.live);
    if (!S_ISLNK(st->st_mode))
      return MakeError(Code::kCorruption,
                       std::string(S_ISREG(st->st_mode) ? "live path is a regular file"
                                                        : "live path is not a symbolic link") +
                           ", not the live link; txdir replaces only its own link there (move "
                           "it away, then run txdir recover)",
                       l.live);
  } else if (st.error().code != Code::kNotFound) {
    return tl::unexpected(st.error());
  }
  const std::string target = LinkTarget(l, gen);
  if (TXDIR_BROKEN("unlink-then-symlink")) {
    // Deliberately unsafe variant for the self-test: a window with no link.
    (void)env->UnlinkAt(dir.get(), name, 0);
    TXDIR_CHECK(env->SymlinkAt(target, dir.get(), name));
    return fs::FsyncDir(env, dir.get());
  }
  const std::string tmp = fs::UniqueName("." + name + ".txdir-tmp-");
  TXDIR_CHECK(env->SymlinkAt(target, dir.get(), tmp));
  TXDIR_FAILPOINT("live.after_symlink");
  if (auto r = env->RenameAt(dir.get(), tmp, dir.get(), name); !r) {
    (void)env->UnlinkAt(dir.get(), tmp, 0);
    if (r.error().sys_errno == EISDIR || r.error().sys_errno == ENOTEMPTY)
      return MakeError(Code::kCorruption, "live path is a directory, not the live link", l.live);
    return r;
  }
  TXDIR_FAILPOINT("live.after_rename");
  if (!sync) return Ok();
  if (TXDIR_BROKEN("no-live-fsync")) return Ok();  // deliberately broken variant (self-test)
  return fs::FsyncDir(env, dir.get());
}

Status ReplaceDirectoryWithLive(Env* env, const Layout& l, uint64_t gen) {
  Fd dir = TXDIR_TRY(OpenLiveDir(env, l));
  const std::string name = fs::Basename(l.live);
  const std::string tmp = fs::UniqueName("." + name + ".txdir-tmp-");
  TXDIR_CHECK(env->SymlinkAt(LinkTarget(l, gen), dir.get(), tmp));
  if (auto r = env->ExchangeAt(dir.get(), tmp, dir.get(), name); !r) {
    (void)env->UnlinkAt(dir.get(), tmp, 0);
    return r;
  }
  TXDIR_FAILPOINT("live.adopt_exchanged");
  TXDIR_CHECK(fs::FsyncDir(env, dir.get()));
  // The old directory now has the temporary name; its files are durable in
  // the store and in gens/<gen>. Recovery removes it if we die here.
  return fs::RemoveTree(env, dir.get(), tmp);
}

}  // namespace txdir::internal
