// Materializing a generation: the read-only directory gens/<N> that the
// live link points at.
#include <fcntl.h>

#include <map>
#include <unordered_map>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

namespace {

std::string DonorKey(const git_oid& oid, uint32_t mode) {
  return store::OidHex(oid) + ":" + std::to_string(mode);
}

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

bool BatchedSync(const Repository::Impl& r) { return r.config.sync == "syncfs"; }

Status SyncBarrier(Repository::Impl& r) {
  Fd meta = TXDIR_TRY(fs::OpenDir(r.env, Env::kCwd, r.layout.meta));
  return r.env->Syncfs(meta.get());
}

Result<std::string> StageGeneration(Repository::Impl& r, uint64_t gen,
                                    const std::vector<store::TreeFile>& files,
                                    const std::vector<uint64_t>& donors, bool sync) {
  Env* env = r.env;
  const Layout& l = r.layout;
  Fd gens = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.gens));
  Fd tmp = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.tmp));

  // Files that can be hard-linked: same blob and mode in a donor generation.
  std::unordered_map<std::string, std::string> donor_files;  // key -> "N/path"
  for (uint64_t d : donors) {
    if (!env->StatAt(gens.get(), std::to_string(d), false)) continue;
    auto commit = FindGeneration(r, d);
    if (!commit) continue;
    auto tree = TXDIR_TRY(r.store->CommitTree(*commit));
    for (const auto& f : TXDIR_TRY(r.store->ListTree(tree))) {
      if (f.mode == 0120000) continue;  // links are recreated, not shared
      donor_files.emplace(DonorKey(f.oid, f.mode), std::to_string(d) + "/" + f.path);
    }
  }

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
      TXDIR_CHECK(env->SymlinkAt(target, parent, leaf));
      continue;
    }
    if (auto it = donor_files.find(DonorKey(f.oid, f.mode)); it != donor_files.end()) {
      // The donor's file is immutable and already durable; only the new
      // directory entry needs the directory fsync below.
      auto linked = env->LinkAt(gens.get(), it->second, parent, leaf);
      if (linked) continue;
      // EMLINK or a damaged donor: fall back to a copy.
    }
    std::string data = TXDIR_TRY(r.store->ReadBlob(f.oid));
    mode_t mode = f.mode == 0100755 ? 0555 : 0444;
    // TXDIR_BROKEN: a deliberately broken variant for the power-loss self-test.
    TXDIR_CHECK(
        fs::WriteNewFile(env, parent, leaf, data, mode, sync && !TXDIR_BROKEN("no-stage-fsync")));
  }
  TXDIR_FAILPOINT("materialize.files_written");
  TXDIR_CHECK(dirs.SealAndSync());
  TXDIR_CHECK(env->Fchmod(stage_fd.get(), 0555));
  if (sync && !TXDIR_BROKEN("no-stage-dir-fsync"))  // (self-test variant when broken)
    TXDIR_CHECK(fs::FsyncDir(env, stage_fd.get()));
  TXDIR_FAILPOINT("materialize.stage_synced");
  return stage;
}

Status Materialize(Repository::Impl& r, uint64_t gen, const std::vector<store::TreeFile>& files,
                   const std::vector<uint64_t>& donors, bool sync,
                   const std::function<Status()>& before_rename) {
  Env* env = r.env;
  const std::string stage = TXDIR_TRY(StageGeneration(r, gen, files, donors, sync));
  if (before_rename) TXDIR_CHECK(before_rename());
  Fd gens = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, r.layout.gens));
  Fd tmp = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, r.layout.tmp));
  // A leftover gens/<gen> can only be an orphan of a publish that never
  // reached its commit point (recovery removes those); clear it anyway.
  TXDIR_CHECK(fs::RemoveTree(env, gens.get(), std::to_string(gen)));
  TXDIR_CHECK(env->RenameAt(tmp.get(), stage, gens.get(), std::to_string(gen)));
  TXDIR_FAILPOINT("materialize.renamed");
  if ((!sync && !before_rename) || TXDIR_BROKEN("no-gens-fsync")) return Ok();  // (self-test)
  TXDIR_CHECK(fs::FsyncDir(env, gens.get()));
  return Ok();
}

}  // namespace txdir::internal
