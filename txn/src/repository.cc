// The public Repository API: thin glue over the pieces in this folder.
#include "txdir/repository.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/git_store.h"
#include "store/history_walk.h"
#include "store/logging.h"
#include "txn/src/path_check.h"
#include "txn/src/repo_impl.h"
#include "txn/src/single_flush.h"
#include "txn/src/source_tree.h"
#include "txn/src/trust.h"

namespace txdir {

using internal::Layout;

Repository::Repository(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Repository::~Repository() = default;

const std::string& Repository::root() const { return impl_->layout.root; }
const std::string& Repository::live_path() const { return impl_->layout.live; }

namespace {

// mkdir -p through the Env.
Status MakeDirs(Env* env, const std::string& abs) {
  if (abs.empty() || abs == "/") return Ok();
  if (auto st = env->StatAt(Env::kCwd, abs, true); st) {
    if (S_ISDIR(st->st_mode)) return Ok();
    return MakeError(Code::kExists, "exists and is not a directory", abs);
  }
  TXDIR_CHECK(MakeDirs(env, fs::Dirname(abs)));
  return fs::EnsureDir(env, Env::kCwd, abs, 0755);
}

bool IsInside(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

// The live path's place (docs/security.md): not the root, not inside
// .txdir, not above the root; inside the root, a relative path of plain
// components (it is stored relative).
Status CheckLivePlacement(const Layout& l, Code code) {
  if (l.live == l.root || IsInside(l.live, l.meta) || IsInside(l.root, l.live))
    return MakeError(code,
                     "live path must not be the repository, inside its metadata folder, or "
                     "above it",
                     l.live);
  const std::string stored = IsInside(l.live, l.root) ? l.live.substr(l.root.size() + 1) : l.live;
  if (auto s = internal::CheckLivePathValue(stored); !s)
    return MakeError(code, s.error().message, l.live);
  return Ok();
}

// Init's second half when the live path was an existing directory: its
// files become generation 1, then the directory is replaced by the link.
// Recovery does both (see RecoverLocked), so an init that dies half-way is
// finished by the next write or `txdir recover`.
Status Adopt(Repository::Impl& r) {
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  (void)lock;
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Repository>> Repository::Init(const std::string& root_arg,
                                                     const InitOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  if (root_arg.empty()) return MakeError(Code::kInvalidArgument, "empty repository path");
  Layout l = Layout::For(root_arg);
  l.live = options.live_path.empty() ? l.root + "/current" : fs::AbsolutePath(options.live_path);
  const std::string& live = l.live;
  TXDIR_CHECK(CheckLivePlacement(l, Code::kInvalidArgument));
  // Directories are created inside the repository only: a live path
  // elsewhere whose directory is missing is a typo more often than not.
  if (!IsInside(l.live, l.root)) {
    auto parent = env->StatAt(Env::kCwd, fs::Dirname(live), /*follow=*/true);
    if (!parent || !S_ISDIR(parent->st_mode))
      return MakeError(Code::kInvalidArgument,
                       "the live path's directory does not exist (init creates directories only "
                       "inside the repository; create it first)",
                       fs::Dirname(live));
  }
  TXDIR_CHECK(MakeDirs(env, l.root));
  // Creating a repository in another user's directory would make one that
  // user could rearrange under us: the same rule as every write.
  TXDIR_CHECK(internal::CheckWriteTrust(env, l, "create"));
  if (env->StatAt(Env::kCwd, l.meta, false))
    return MakeError(Code::kExists, "already a txdir repository", l.root);
  TXDIR_CHECK(MakeDirs(env, fs::Dirname(live)));
  bool adopt = false;
  if (auto st = env->StatAt(Env::kCwd, live, false); st) {
    if (!S_ISDIR(st->st_mode))
      return MakeError(Code::kExists,
                       "live path exists and is not a directory that could be adopted", live);
    adopt = true;
  }

  // Build the metadata folder under a temporary name, then rename it into
  // place: a repository exists completely or not at all.
  Fd root_fd = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, l.root));
  const std::string tmp_name = fs::UniqueName(".txdir.init-");
  const std::string tmp_meta = l.root + "/" + tmp_name;
  txdir::Status built = [&]() -> txdir::Status {
    TXDIR_CHECK(env->MkdirAt(root_fd.get(), tmp_name, 0755));
    TXDIR_CHECK(store::GitStore::Init(env, tmp_meta + "/store.git"));
    Fd meta = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, tmp_meta));
    TXDIR_CHECK(env->MkdirAt(meta.get(), "gens", 0755));
    TXDIR_CHECK(env->MkdirAt(meta.get(), "tmp", 0755));
    TXDIR_CHECK(fs::WriteNewFile(env, meta.get(), "lock", internal::BlankLockRecord(), 0644,
                                 /*sync=*/true));
    internal::RepoConfig config;
    config.live_path = IsInside(live, l.root) ? live.substr(l.root.size() + 1) : live;
    TXDIR_CHECK(internal::SaveConfig(env, tmp_meta + "/config.json", config));
    TXDIR_CHECK(fs::FsyncDir(env, meta.get()));
    TXDIR_FAILPOINT("init.meta_built");
    TXDIR_CHECK(env->RenameAt(root_fd.get(), tmp_name, root_fd.get(), internal::kMetaDirName));
    return fs::FsyncDir(env, root_fd.get());
  }();
  if (!built) {
    (void)fs::RemoveTree(env, root_fd.get(), tmp_name);
    return tl::unexpected(built.error());
  }
  auto repo = TXDIR_TRY(Open(l.root, OpenOptions{.env = env}));
  if (adopt) TXDIR_CHECK(Adopt(internal::ImplOf(*repo)));
  return repo;
}

Result<std::unique_ptr<Repository>> Repository::Open(const std::string& root_arg,
                                                     const OpenOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->env = options.env != nullptr ? options.env : Env::Default();
  impl->layout = Layout::For(root_arg);
  Layout& l = impl->layout;
  // Once, here: every part of .txdir has its type and none is a link. The
  // opens that act on the parts later refuse links again (trust.h).
  TXDIR_CHECK(internal::CheckMetaFolder(impl->env, l));
  impl->config = TXDIR_TRY(internal::LoadConfig(impl->env, l.config));
  l.live = impl->config.live_path.front() == '/' ? impl->config.live_path
                                                 : l.root + "/" + impl->config.live_path;
  TXDIR_CHECK(CheckLivePlacement(l, Code::kCorruption));
  // TXDIR_SYNC overrides the configured sync mode for this process (tests
  // run the crash suites in both modes; operators can force "fsync").
  if (const char* mode = std::getenv("TXDIR_SYNC"); mode != nullptr && *mode != '\0') {
    if (!internal::ValidSyncMode(mode))
      return MakeError(
          Code::kInvalidArgument,
          std::string("TXDIR_SYNC must be syncfs, single-flush or fsync, not '") + mode + "'");
    impl->config.sync = mode;
  }
  store::StoreOptions so;
  so.tmp_dir = l.tmp;
  so.sync_each_object = !internal::BatchedSync(*impl);
  impl->store = TXDIR_TRY(store::GitStore::Open(impl->env, l.store, so));
  impl->lock_timeout = options.lock_timeout.count() >= 0
                           ? options.lock_timeout
                           : std::chrono::milliseconds(impl->config.lock_timeout_ms);
  return std::unique_ptr<Repository>(new Repository(std::move(impl)));
}

namespace {

// Publish's guard against wiping the set (PublishOptions::allow_empty,
// allow_remove_all): `files` is the source's listing, `head` what it
// replaces. Cheap in the common case: one lookup finds a file that stays.
Status CheckPublishKeepsFiles(const Repository::Impl& r, const std::optional<internal::Head>& head,
                              const std::vector<store::TreeFile>& files, const std::string& source,
                              const PublishOptions& options) {
  if (files.empty()) {
    if (options.allow_empty) return Ok();
    return MakeError(Code::kInvalidArgument,
                     "the source holds no files: publishing it would leave the live directory "
                     "empty (--allow-empty publishes an empty set)",
                     source);
  }
  if (!head || options.allow_remove_all) return Ok();
  for (const auto& f : files) {
    auto found = r.store->FindFile(head->tree, f.path);
    if (found) return Ok();
    if (found.error().code != Code::kNotFound) return tl::unexpected(found.error());
  }
  const auto old = TXDIR_TRY(r.store->ListTree(head->tree));
  if (old.empty()) return Ok();
  return MakeError(Code::kInvalidArgument,
                   "publishing the source would remove every file of generation " +
                       std::to_string(head->meta.number) + " (" + std::to_string(old.size()) +
                       (old.size() == 1 ? " file" : " files") +
                       "; none of their paths is in the source): is it the right "
                       "directory? (--allow-remove-all replaces the whole set)",
                   source);
}

}  // namespace

Result<std::vector<FileChange>> Repository::PreviewPublish(const std::string& source,
                                                           const PublishOptions& options) {
  Impl& r = *impl_;
  auto head = TXDIR_TRY(internal::ReadHead(r));
  auto files = TXDIR_TRY(internal::ScanSource(r.env, r.store.get(), source, options.symlinks,
                                              r.layout.meta, nullptr, /*hash_only=*/true));
  TXDIR_CHECK(CheckPublishKeepsFiles(r, head, files, source, options));
  std::map<std::string, store::TreeFile> old;
  if (head)
    for (auto& f : TXDIR_TRY(r.store->ListTree(head->tree))) old.emplace(f.path, f);
  auto source_size = [&](const store::TreeFile& f) -> Result<uint64_t> {
    auto st = TXDIR_TRY(r.env->StatAt(Env::kCwd, source + "/" + f.path, /*follow=*/false));
    return static_cast<uint64_t>(st.st_size);
  };
  std::vector<FileChange> out;
  for (const auto& f : files) {
    auto it = old.find(f.path);
    FileChange c;
    c.path = f.path;
    c.new_mode = f.mode;
    c.new_blob = store::OidHex(f.oid);
    if (it == old.end()) {
      c.kind = ChangeKind::kAdded;
    } else {
      if (store::OidEqual(it->second.oid, f.oid) && it->second.mode == f.mode) {
        old.erase(it);
        continue;
      }
      c.kind = ChangeKind::kModified;
      c.old_mode = it->second.mode;
      c.old_blob = store::OidHex(it->second.oid);
      c.old_size = TXDIR_TRY(r.store->ObjectSize(it->second.oid));
      old.erase(it);
    }
    c.new_size = TXDIR_TRY(source_size(f));
    out.push_back(std::move(c));
  }
  for (const auto& [path, f] : old) {
    FileChange c;
    c.kind = ChangeKind::kRemoved;
    c.path = path;
    c.old_mode = f.mode;
    c.old_blob = store::OidHex(f.oid);
    c.old_size = TXDIR_TRY(r.store->ObjectSize(f.oid));
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const FileChange& a, const FileChange& b) { return a.path < b.path; });
  return out;
}

Result<GenerationInfo> Repository::Publish(const std::string& source,
                                           const PublishOptions& options) {
  Impl& r = *impl_;
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  auto head = TXDIR_TRY(internal::ReadHead(r));
  // The stat cache (stat_cache.h) lets unchanged files go unread. Anything
  // that keeps it from working only makes this publish read every file.
  internal::StatCache old_cache, fresh_cache;
  internal::ScanCache scan_cache;
  if (auto root_st = r.env->StatAt(Env::kCwd, source, /*follow=*/true); root_st) {
    auto lock_st = lock.Stat();
    if (lock_st) {
      int64_t limit = internal::StatNs(lock_st->st_mtim);
      // Another device: its clock granularity is unknown (see stat_cache.h).
      if (lock_st->st_dev != root_st->st_dev)
        limit = (limit / 1000000000) * 1000000000 - 2000000000;
      fresh_cache.Reset("", *root_st, limit);
      scan_cache.fresh = &fresh_cache;
      old_cache = internal::StatCache::Load(r.env, r.layout.meta, internal::kStatCacheName);
      if (old_cache.source_dev() == static_cast<uint64_t>(root_st->st_dev) &&
          old_cache.source_ino() == static_cast<uint64_t>(root_st->st_ino)) {
        scan_cache.old = &old_cache;
        scan_cache.old_blobs_present = head && old_cache.head() == store::OidHex(head->commit);
      }
    } else {
      store::LogDebug("publishing without the stat cache: ", lock_st.error().ToString());
    }
  }
  // A large publish (a first one, an import) writes its new objects as one
  // pack rather than a loose file each: half the files created.
  store::GitStore::Batch batch(r.store.get());
  internal::ScanProgress progress;
  if (options.progress)
    progress = [&options](uint64_t files, uint64_t total, uint64_t bytes) {
      options.progress(Progress{"reading files", files, total, bytes});
    };
  auto files = TXDIR_TRY(internal::ScanSource(r.env, r.store.get(), source, options.symlinks,
                                              r.layout.meta, &scan_cache, false, progress));
  store::LogDebug("publish: ", scan_cache.reads, " file(s) read, ", scan_cache.hits,
                  " reused from the stat cache");
  TXDIR_FAILPOINT("publish.blobs_written");
  TXDIR_CHECK(CheckPublishKeepsFiles(r, head, files, source, options));
  internal::CommitPlan plan;
  plan.tree = TXDIR_TRY(r.store->WriteTree(files));
  TXDIR_CHECK(batch.End());
  TXDIR_FAILPOINT("publish.objects_ended");
  plan.meta.kind = "publish";
  plan.meta.message = options.message;
  plan.author = options.author;
  if (head) {
    plan.expected_head = head->commit;
    plan.donors.push_back(head->meta.number);
  }
  auto info = TXDIR_TRY(internal::CommitGeneration(r, lock, std::move(plan)));
  // After the commit point, outside it: the cache is an optimization and a
  // failure to write it never fails the publish.
  if (scan_cache.fresh) {
    fresh_cache.set_head(info.commit);
    if (auto s = fresh_cache.Save(r.env, r.layout.meta, internal::kStatCacheName); !s)
      store::LogDebug("stat cache not written: ", s.error().ToString());
    TXDIR_FAILPOINT("publish.statcache_written");
  }
  lock.Finish();  // nothing left to repair (writer_lock.h)
  return info;
}

Result<GenerationInfo> Repository::Rollback(std::optional<uint64_t> target,
                                            const PublishOptions& options) {
  Impl& r = *impl_;
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (!head) return MakeError(Code::kNotFound, "nothing has been published yet");
  uint64_t to = 0;
  if (target) {
    to = *target;
    if (to == head->meta.number)
      return MakeError(Code::kInvalidArgument,
                       "generation " + std::to_string(to) + " is already live");
  } else {
    // Step back from what the live generation shows: a rollback to G shows
    // G, so the next step back is G - 1.
    uint64_t shown = head->meta.kind == "rollback" && head->meta.restores ? *head->meta.restores
                                                                          : head->meta.number;
    if (shown <= 1)
      return MakeError(Code::kNotFound, "no generation before generation " + std::to_string(shown) +
                                            " to roll back to");
    to = shown - 1;
  }
  auto found = internal::FindGeneration(r, to);
  if (!found && found.error().code == Code::kNotFound && !target)
    // The user named no generation: say which one stepping back needs and
    // why it is gone, rather than "no generation N".
    return MakeError(Code::kNotFound, "cannot step back to generation " + std::to_string(to) +
                                          " (the one before what the live generation shows): it "
                                          "is no longer in the history (gc --prune-history); "
                                          "name a retained generation (txdir log)");
  const git_oid commit = TXDIR_TRY(std::move(found));
  internal::CommitPlan plan;
  plan.tree = TXDIR_TRY(r.store->CommitTree(commit));
  plan.meta.kind = "rollback";
  plan.meta.restores = to;
  plan.meta.message =
      options.message.empty() ? "rollback to generation " + std::to_string(to) : options.message;
  plan.author = options.author;
  plan.expected_head = head->commit;
  // Every file of the target is in its own directory if still materialized,
  // so no data is copied; the live generation covers the rest.
  plan.donors = {to, head->meta.number};
  auto info = TXDIR_TRY(internal::CommitGeneration(r, lock, std::move(plan)));
  lock.Finish();  // nothing left to repair (writer_lock.h)
  return info;
}

Result<RecoveryReport> Repository::Recover() {
  Impl& r = *impl_;
  TXDIR_CHECK(internal::CheckWriteTrust(r.env, r.layout, "recover"));
  auto lock = TXDIR_TRY(internal::WriterLock::Acquire(r.env, r.layout.lock, r.lock_timeout));
  auto report = TXDIR_TRY(internal::RecoverLocked(r, lock, /*thorough=*/true));
  r.recovered.store(true);
  lock.Finish();
  return report;
}

Result<RepoStatus> Repository::Status() {
  Impl& r = *impl_;
  RepoStatus s;
  s.root = r.layout.root;
  s.live_path = r.layout.live;
  // Status takes no lock, so a writer may move the head and the live link
  // between our reads. The holder is read *before* head and link: a mismatch
  // seen while the lock was free at that moment can only come from a writer
  // that took the lock since, so look again (it then shows as the holder);
  // a mismatch with no writer in three looks is real (a crash between the
  // head update and the swap, which the next write or recovery repairs).
  constexpr int kLooks = 3;
  for (int look = 0; look < kLooks; ++look) {
    s.lock_holder = TXDIR_TRY(internal::ReadLockHolder(r.env, r.layout.lock));
    auto head = TXDIR_TRY(internal::ReadHead(r));
    s.committed = head ? std::optional<uint64_t>(head->meta.number) : std::nullopt;
    auto live = internal::ReadLiveGeneration(r.env, r.layout);
    s.live = live ? *live : std::nullopt;
    s.consistent = s.live == s.committed;
    s.publish_in_progress = !s.consistent && s.lock_holder.has_value();
    if (s.consistent || s.publish_in_progress) break;
  }
  // With the lock free, refs/heads/main.lock is a commit an interrupted
  // writer left: one recovery will complete, if it was published in
  // single-flush mode and is whole (single_flush.h). Only reads; what
  // cannot be read says nothing here (recovery decides).
  if (!s.lock_holder) {
    if (auto pending = r.store->PendingHead(); pending && *pending) {
      if (auto meta = r.store->ReadMeta(**pending)) {
        auto acked = internal::AckedAfterOneFlush(r, **pending, meta->number);
        if (acked && *acked) s.awaiting_recovery = meta->number;
      }
    }
  }
  return s;
}

Result<std::vector<GenerationInfo>> Repository::Log(size_t limit) {
  Impl& r = *impl_;
  std::vector<GenerationInfo> out;
  store::GenerationWalk walk(*r.store, TXDIR_TRY(r.store->Head()));
  while (TXDIR_TRY(walk.Next()) && (limit == 0 || out.size() < limit))
    out.push_back(TXDIR_TRY(internal::DescribeCommit(r, walk.commit())));
  return out;
}

Result<GenerationInfo> Repository::Generation(uint64_t number) {
  git_oid commit = TXDIR_TRY(internal::FindGeneration(*impl_, number));
  return internal::DescribeCommit(*impl_, commit);
}

Result<std::vector<FileInfo>> Repository::ListFiles(uint64_t number) {
  Impl& r = *impl_;
  git_oid commit = TXDIR_TRY(internal::FindGeneration(r, number));
  git_oid tree = TXDIR_TRY(r.store->CommitTree(commit));
  std::vector<FileInfo> out;
  for (const auto& f : TXDIR_TRY(r.store->ListTree(tree))) {
    uint64_t size = TXDIR_TRY(r.store->ObjectSize(f.oid));
    out.push_back(FileInfo{f.path, store::OidHex(f.oid), f.mode, size});
  }
  return out;
}

namespace {

// The entry at `path` in generation `number`: a file or a link.
Result<store::TreeFile> FindInGeneration(Repository::Impl& r, uint64_t number,
                                         const std::string& path) {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  git_oid commit = TXDIR_TRY(internal::FindGeneration(r, number));
  git_oid tree = TXDIR_TRY(r.store->CommitTree(commit));
  auto f = r.store->FindFile(tree, path);
  if (!f) {
    Error e = f.error();
    e.message += " " + std::to_string(number);
    return tl::unexpected(e);
  }
  return f;
}

}  // namespace

Result<std::string> Repository::ReadFile(uint64_t number, const std::string& path) {
  store::TreeFile f = TXDIR_TRY(FindInGeneration(*impl_, number, path));
  if (f.mode == 0120000) {
    // A stored link's blob is its target, not a file's bytes. Returning it
    // as the content (git cat-file's view of the blob) would hand a reader
    // the text "tables/x.sdn" where it expects the table, with nothing to
    // tell the two apart, and the live generation's copy is a real link
    // that Snapshot::ReadFile will not follow out of the generation. So
    // both refuse, alike, naming the target; ReadLink is the explicit ask.
    auto target = TXDIR_TRY(impl_->store->ReadBlob(f.oid));
    return MakeError(Code::kInvalidArgument,
                     "is a symbolic link (to '" + internal::Printable(target) + "'), not a file",
                     internal::Printable(path));
  }
  return impl_->store->ReadBlob(f.oid);
}

Result<std::string> Repository::ReadLink(uint64_t number, const std::string& path) {
  store::TreeFile f = TXDIR_TRY(FindInGeneration(*impl_, number, path));
  if (f.mode != 0120000)
    return MakeError(Code::kInvalidArgument, "is not a symbolic link", internal::Printable(path));
  return impl_->store->ReadBlob(f.oid);
}

Result<Snapshot> Repository::OpenSnapshot() {
  return Snapshot::OpenLive(impl_->layout.root, impl_->env);
}

}  // namespace txdir
