// Materializing a generation: the read-only directory gens/<N> that the
// live link points at.
#include <fcntl.h>

#include <map>
#include <optional>
#include <unordered_map>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/path_check.h"
#include "txn/src/repo_impl.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

// Where a file of the new generation can be hard-linked from. The common
// case, a file unchanged at the same path in the first donor (the previous
// generation), is found by walking both sorted lists side by side and linked
// relative to the donor's directory fd (opened once per directory), so the
// kernel resolves one name per link, not the whole path. Anything else
// (renamed, copied, or from another donor) is looked up by blob id in a map
// built only once more than kCopyBeforeMap files missed the walk (before
// that they are copied: usually they are new content, in no donor).
class Donors {
 public:
  Donors(Env* env, Repository::Impl& r, int gens, const std::vector<uint64_t>& donors)
      : env_(env), r_(r), gens_(gens) {
    for (uint64_t d : donors) {
      if (!env->StatAt(gens, std::to_string(d), false)) continue;
      auto commit = FindGeneration(r, d);
      if (!commit) continue;
      auto tree = r.store->CommitTree(*commit);
      if (!tree) continue;
      donors_.push_back(Donor{d, *tree});
    }
  }

  // Links `f` as `leaf` in `parent` if a donor has the same blob and mode.
  Result<bool> Link(const store::TreeFile& f, int parent, const std::string& leaf) {
    if (donors_.empty()) return false;
    TXDIR_CHECK(LoadFirst());
    const auto& first = first_files_;
    while (pos_ < first.size() && first[pos_].path < f.path) ++pos_;
    if (pos_ < first.size() && first[pos_].path == f.path &&
        store::OidEqual(first[pos_].oid, f.oid) && first[pos_].mode == f.mode) {
      auto dir = DonorDir(f.path);
      if (dir && env_->LinkAt(*dir, fs::Basename(f.path), parent, leaf)) return true;
    }
    // A few changed files are new content: copying them costs less than
    // listing every donor into a map to look for their blobs elsewhere.
    if (++misses_ <= kCopyBeforeMap) return false;
    TXDIR_CHECK(LoadAll());
    auto it = by_blob_.find(Key(f.oid, f.mode));
    if (it == by_blob_.end()) return false;
    return env_->LinkAt(gens_, it->second, parent, leaf).has_value();
  }

 private:
  struct Donor {
    uint64_t number;
    git_oid tree;
  };

  static std::string Key(const git_oid& oid, uint32_t mode) {
    std::string k(reinterpret_cast<const char*>(oid.id), store::kOidRawSize);
    k.append(reinterpret_cast<const char*>(&mode), sizeof mode);
    return k;
  }

  Status LoadFirst() {
    if (first_loaded_) return Ok();
    first_loaded_ = true;
    first_files_ = TXDIR_TRY(r_.store->ListTree(donors_.front().tree));  // sorted by path
    return Ok();
  }

  Status LoadAll() {
    if (all_loaded_) return Ok();
    all_loaded_ = true;
    for (const Donor& d : donors_) {
      std::vector<store::TreeFile> files;
      if (&d == &donors_.front()) {
        files = first_files_;
      } else {
        files = TXDIR_TRY(r_.store->ListTree(d.tree));
      }
      for (const auto& f : files) {
        if (f.mode == 0120000) continue;  // links are recreated, not shared
        by_blob_.emplace(Key(f.oid, f.mode), std::to_string(d.number) + "/" + f.path);
      }
    }
    return Ok();
  }

  // The first donor's directory holding `path`, opened once.
  std::optional<int> DonorDir(const std::string& path) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
    if (dir == last_dir_ && last_fd_) return last_fd_->get();
    last_dir_ = dir;
    const std::string rel = std::to_string(donors_.front().number) + (dir.empty() ? "" : "/" + dir);
    auto fd = fs::OpenDir(env_, gens_, rel);
    if (!fd) {
      last_fd_.reset();
      return std::nullopt;
    }
    last_fd_ = std::move(*fd);
    return last_fd_->get();
  }

  Env* env_;
  Repository::Impl& r_;
  int gens_;
  std::vector<Donor> donors_;
  bool first_loaded_ = false, all_loaded_ = false;
  std::vector<store::TreeFile> first_files_;
  size_t pos_ = 0;
  static constexpr size_t kCopyBeforeMap = 64;
  size_t misses_ = 0;
  std::unordered_map<std::string, std::string> by_blob_;  // Key -> "N/path"
  std::string last_dir_;
  std::optional<Fd> last_fd_;
};

// Directories of the stage, created on demand, fsynced and sealed at the end.
class StageDirs {
 public:
  StageDirs(Env* env, int root, bool sync) : env_(env), sync_(sync) { fds_.emplace("", root); }

  // The fd of the directory holding `path`, creating parents as needed.
  Result<int> ParentOf(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return fds_.at("");
    return Open(path.substr(0, slash));
  }

  // fsync every directory, deepest first, after making it read-only.
  Status SealAndSync() {
    for (auto it = owned_.rbegin(); it != owned_.rend(); ++it) {
      TXDIR_CHECK(env_->Fchmod(it->second.get(), 0555));
      if (!sync_ || TXDIR_BROKEN("no-stage-dir-fsync")) continue;  // (self-test variant)
      TXDIR_CHECK(fs::FsyncDir(env_, it->second.get()));
    }
    return Ok();
  }

 private:
  Result<int> Open(const std::string& dir) {
    if (auto it = fds_.find(dir); it != fds_.end()) return it->second;
    size_t slash = dir.rfind('/');
    std::string parent = slash == std::string::npos ? "" : dir.substr(0, slash);
    std::string name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    int pfd = TXDIR_TRY(Open(parent));
    TXDIR_CHECK(env_->MkdirAt(pfd, name, 0755));
    Fd fd = TXDIR_TRY(fs::OpenDir(env_, pfd, name));
    int raw = fd.get();
    owned_.emplace(dir, std::move(fd));
    fds_.emplace(dir, raw);
    return raw;
  }

  Env* env_;
  bool sync_;
  std::map<std::string, int> fds_;
  std::map<std::string, Fd> owned_;  // sorted: parents before children
};

}  // namespace

bool BatchedSync(const Repository::Impl& r) {
  return r.config.sync == "syncfs" || r.config.sync == "single-flush";
}

bool SingleFlushSync(const Repository::Impl& r) { return r.config.sync == "single-flush"; }

Status SyncBarrier(Repository::Impl& r) {
  Fd meta = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, ""));
  return r.env->Syncfs(meta.get());
}

Result<std::string> StageGeneration(Repository::Impl& r, uint64_t gen,
                                    const std::vector<store::TreeFile>& files,
                                    const std::vector<uint64_t>& donors, bool sync) {
  Env* env = r.env;
  const Layout& l = r.layout;
  Fd gens = TXDIR_TRY(internal::OpenMetaDir(env, l, "gens"));
  Fd tmp = TXDIR_TRY(internal::OpenMetaDir(env, l, "tmp"));

  // Whatever the tree's origin (a repository made before these rules, a
  // store edited by hand), nothing is materialized under a name publish
  // refuses: a ".git" folder here would be a git working tree in current/.
  // Cheap string checks, before anything is created.
  for (const auto& f : files) TXDIR_CHECK(CheckRelativePath(f.path));

  Donors donor(env, r, gens.get(), donors);
  const std::string stage = fs::UniqueName("stage-" + std::to_string(gen) + "-");
  TXDIR_CHECK(env->MkdirAt(tmp.get(), stage, 0755));
  Fd stage_fd = TXDIR_TRY(fs::OpenDir(env, tmp.get(), stage));
  StageDirs dirs(env, stage_fd.get(), sync);
  TXDIR_FAILPOINT("materialize.stage_created");

  for (const auto& f : files) {
    int parent = TXDIR_TRY(dirs.ParentOf(f.path));
    const std::string leaf = fs::Basename(f.path);
    if (f.mode == 0120000) {
      std::string target = TXDIR_TRY(r.store->ReadBlob(f.oid));
      // Links that leave the generation may have been published on purpose
      // (--symlinks=keep); the rest of the link rule holds for every tree.
      TXDIR_CHECK(CheckLinkTarget(f.path, target, /*allow_outside=*/true));
      TXDIR_CHECK(env->SymlinkAt(target, parent, leaf));
      continue;
    }
    // The donor's file is immutable and already durable; only the new
    // directory entry needs the directory fsync below. EMLINK or a damaged
    // donor: fall back to a copy.
    if (TXDIR_TRY(donor.Link(f, parent, leaf))) continue;
    mode_t mode = f.mode == 0100755 ? 0555 : 0444;
    // TXDIR_BROKEN: a deliberately broken variant for the power-loss self-test.
    const bool fsync_file = sync && !TXDIR_BROKEN("no-stage-fsync");
    // Streamed from the store: a file of any size costs one piece of memory.
    Fd out = TXDIR_TRY(env->OpenAt(parent, leaf, O_WRONLY | O_CREAT | O_EXCL, mode));
    TXDIR_CHECK(r.store->ReadBlobStream(f.oid, [&](std::string_view piece) {
      return env->Write(out.get(), piece.data(), piece.size());
    }));
    if (fsync_file) TXDIR_CHECK(env->Fsync(out.get()));
  }
  TXDIR_FAILPOINT("materialize.files_written");
  TXDIR_CHECK(dirs.SealAndSync());
  // The top directory stays writable until it is in place: moving a
  // directory to another parent rewrites its `..` entry, which needs write
  // permission on it (root skips that check, its owner does not).
  if (sync && !TXDIR_BROKEN("no-stage-dir-fsync"))  // (self-test variant when broken)
    TXDIR_CHECK(fs::FsyncDir(env, stage_fd.get()));
  TXDIR_FAILPOINT("materialize.stage_synced");
  return stage;
}

Status SealPlaced(Env* env, int gens, uint64_t gen, bool sync) {
  Fd dir = TXDIR_TRY(fs::OpenDir(env, gens, std::to_string(gen)));
  TXDIR_CHECK(env->Fchmod(dir.get(), 0555));
  if (sync) TXDIR_CHECK(fs::FsyncDir(env, dir.get()));
  return Ok();
}

Status Materialize(Repository::Impl& r, uint64_t gen, const std::vector<store::TreeFile>& files,
                   const std::vector<uint64_t>& donors, bool sync,
                   const std::function<Status()>& before_rename) {
  Env* env = r.env;
  const std::string stage = TXDIR_TRY(StageGeneration(r, gen, files, donors, sync));
  if (before_rename) TXDIR_CHECK(before_rename());
  Fd gens = TXDIR_TRY(internal::OpenMetaDir(env, r.layout, "gens"));
  Fd tmp = TXDIR_TRY(internal::OpenMetaDir(env, r.layout, "tmp"));
  // A leftover gens/<gen> can only be an orphan of a publish that never
  // reached its commit point (recovery removes those); clear it anyway.
  TXDIR_CHECK(fs::RemoveTree(env, gens.get(), std::to_string(gen)));
  TXDIR_CHECK(env->RenameAt(tmp.get(), stage, gens.get(), std::to_string(gen)));
  TXDIR_FAILPOINT("materialize.renamed");
  // Unsynced (batched mode without `before_rename`), the caller's barrier
  // makes the mode durable with everything else.
  const bool durable = sync || before_rename;
  TXDIR_CHECK(SealPlaced(env, gens.get(), gen, durable));
  if (!durable || TXDIR_BROKEN("no-gens-fsync")) return Ok();  // (self-test)
  TXDIR_CHECK(fs::FsyncDir(env, gens.get()));
  return Ok();
}

}  // namespace txdir::internal
