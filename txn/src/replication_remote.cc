// Remotes, fetch and push: the network half of replication, all through
// libgit2's remote API. docs/replication.md.
#include <git2.h>
#include <sys/stat.h>

#include <memory>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/tls_certificates.h"
#include "txn/src/replication_internal.h"

namespace txdir {

namespace {

struct RemoteDeleter {
  void operator()(git_remote* r) const { git_remote_free(r); }
};
using RemotePtr = std::unique_ptr<git_remote, RemoteDeleter>;

std::string TrackingRef(const std::string& name) { return "refs/remotes/" + name + "/main"; }

Result<RemotePtr> LookupRemote(Repository::Impl& r, const std::string& name) {
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, r.store->repo(), name.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC)
      return MakeError(Code::kNotFound, "no remote named '" + name + "' (see `txdir remote`)");
    return store::GitError(rc, "cannot read remote '" + name + "'");
  }
  return RemotePtr(raw);
}

// Network and server errors: Io, with libgit2's words.
tl::unexpected<Error> TransferError(int rc, const std::string& what) {
  if (rc == GIT_ENONFASTFORWARD) return store::GitError(rc, what, Code::kConflict);
  auto e = store::GitError(rc, what, Code::kIo);
  // GitError maps "not found" codes to NotFound; for a transfer that means
  // the remote repository is unreachable, an I/O failure.
  if (e.value().code == Code::kNotFound) e.value().code = Code::kIo;
  return e;
}

struct FetchState {
  git_indexer_progress last{};
  const ProgressFn* progress = nullptr;
  bool received_all = false;
};

// Reports "receiving objects" up to and including the last object, then
// "resolving deltas" (libgit2 goes on calling with every object received).
int FetchProgress(const git_indexer_progress* stats, void* payload) {
  auto* st = static_cast<FetchState*>(payload);
  st->last = *stats;
  if (!*st->progress) return 0;
  if (!st->received_all) {
    (*st->progress)(Progress{"receiving objects", stats->received_objects, stats->total_objects,
                             stats->received_bytes});
    st->received_all = stats->received_objects == stats->total_objects;
  } else if (stats->total_deltas > 0) {
    (*st->progress)(Progress{"resolving deltas", stats->indexed_deltas, stats->total_deltas, 0});
  }
  return 0;
}

struct PushState {
  TransferStats stats;
  const ProgressFn* progress = nullptr;
  bool local = false;    // the remote is a path on this machine
  std::string rejected;  // the server's reason, if it refused the update
};

int PushProgress(unsigned int current, unsigned int total, size_t bytes, void* payload) {
  auto* st = static_cast<PushState*>(payload);
  st->stats.objects = current;
  st->stats.bytes = bytes;
  // A local remote's byte count measures nothing (see Push): not shown.
  if (*st->progress)
    (*st->progress)(Progress{"writing objects", current, total, st->local ? 0 : bytes});
  return 0;
}

int PushUpdateReference(const char* refname, const char* status, void* payload) {
  if (status != nullptr)
    static_cast<PushState*>(payload)->rejected = std::string(refname) + ": " + status;
  return 0;
}

}  // namespace

Status AddRemote(Repository& repo, const std::string& name, const std::string& url_arg) {
  Repository::Impl& r = *repo.impl();
  if (url_arg.empty()) return MakeError(Code::kInvalidArgument, "empty remote URL");
  const std::string url = internal::NormalizeRemoteUrl(r.env, url_arg);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  int valid = 0;
  if (git_remote_name_is_valid(&valid, name.c_str()) < 0 || !valid)
    return MakeError(Code::kInvalidArgument, "invalid remote name '" + name + "'");
  git_remote* raw = nullptr;
  // Only refs/heads/main travels; other refs of the remote are not ours.
  const std::string spec = "+refs/heads/main:" + TrackingRef(name);
  int rc = git_remote_create_with_fetchspec(&raw, r.store->repo(), name.c_str(), url.c_str(),
                                            spec.c_str());
  if (rc == GIT_EEXISTS) return MakeError(Code::kExists, "remote '" + name + "' already exists");
  if (rc < 0)
    return store::GitError(rc, "cannot add remote '" + name + "'", Code::kInvalidArgument);
  git_remote_free(raw);
  return Ok();
}

Status RemoveRemote(Repository& repo, const std::string& name) {
  Repository::Impl& r = *repo.impl();
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  TXDIR_CHECK(LookupRemote(r, name));
  // Also deletes refs/remotes/<name>/*.
  if (int rc = git_remote_delete(r.store->repo(), name.c_str()); rc < 0)
    return store::GitError(rc, "cannot remove remote '" + name + "'", Code::kIo);
  return Ok();
}

Result<std::vector<RemoteInfo>> ListRemotes(Repository& repo) {
  Repository::Impl& r = *repo.impl();
  git_strarray names{};
  if (int rc = git_remote_list(&names, r.store->repo()); rc < 0)
    return store::GitError(rc, "cannot list remotes");
  std::vector<RemoteInfo> out;
  for (size_t i = 0; i < names.count; ++i) {
    auto remote = LookupRemote(r, names.strings[i]);
    if (!remote) {
      git_strarray_dispose(&names);
      return tl::unexpected(remote.error());
    }
    const char* url = git_remote_url(remote->get());
    out.push_back(RemoteInfo{names.strings[i], url ? url : ""});
  }
  git_strarray_dispose(&names);
  return out;
}

namespace internal {

std::string NormalizeRemoteUrl(Env* env, const std::string& url) {
  // A file:// URL is absolute already, and kept as the user wrote it.
  if (!IsLocalPath(url) || url.rfind("file://", 0) == 0) return url;
  if (!env->StatAt(Env::kCwd, url, /*follow=*/true)) return url;  // reported when used
  std::string abs = fs::AbsolutePath(url);
  std::string store = abs + "/.txdir/store.git";
  if (auto st = env->StatAt(Env::kCwd, store, /*follow=*/true); st && S_ISDIR(st->st_mode))
    return store;
  return abs;
}

bool IsLocalPath(const std::string& url) {
  if (url.rfind("file://", 0) == 0) return true;
  if (url.find("://") != std::string::npos) return false;
  const size_t colon = url.find(':'), slash = url.find('/');
  return colon == std::string::npos || (slash != std::string::npos && slash < colon);
}

Result<TransferStats> FetchMain(Repository::Impl& r, const std::string& name,
                                const ProgressFn& progress) {
  RemotePtr remote = TXDIR_TRY(LookupRemote(r, name));
  TXDIR_CHECK(store::LoadTlsCertificates());  // the remote may be HTTPS
  FetchState state;
  state.progress = &progress;
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks.transfer_progress = FetchProgress;
  opts.callbacks.payload = &state;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.prune = GIT_FETCH_NO_PRUNE;
  // Explicit, whatever the config says: only the generations' branch.
  std::string spec = "+refs/heads/main:" + TrackingRef(name);
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  if (int rc = git_remote_fetch(remote.get(), &refspecs, &opts, "txdir pull"); rc < 0)
    return TransferError(rc, "cannot fetch from remote '" + name + "'");
  const git_indexer_progress* st = git_remote_stats(remote.get());
  TransferStats out;
  out.bytes = st ? st->received_bytes : state.last.received_bytes;
  out.objects = st ? st->received_objects : state.last.received_objects;
  return out;
}

}  // namespace internal

Result<PushResult> Push(Repository& repo, const std::string& name, const ProgressFn& progress) {
  Repository::Impl& r = *repo.impl();
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (!head) return MakeError(Code::kNotFound, "nothing to push: no generation yet");
  RemotePtr remote = TXDIR_TRY(LookupRemote(r, name));
  PushResult result;
  result.head = TXDIR_TRY(internal::DescribeCommit(r, head->commit));

  // Look at the remote's head first: equal means nothing to do, and a head
  // we do not contain is a Conflict with a clearer message than libgit2's.
  TXDIR_CHECK(store::LoadTlsCertificates());  // the remote may be HTTPS
  git_remote_callbacks cbs = GIT_REMOTE_CALLBACKS_INIT;
  if (int rc = git_remote_connect(remote.get(), GIT_DIRECTION_PUSH, &cbs, nullptr, nullptr); rc < 0)
    return TransferError(rc, "cannot connect to remote '" + name + "'");
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  if (int rc = git_remote_ls(&heads, &n, remote.get()); rc < 0)
    return TransferError(rc, "cannot list the refs of remote '" + name + "'");
  std::optional<git_oid> theirs;
  for (size_t i = 0; i < n; ++i)
    if (std::string(heads[i]->name) == store::kHeadRef) theirs = heads[i]->oid;
  git_remote_disconnect(remote.get());
  if (theirs && store::OidEqual(*theirs, head->commit)) {
    result.up_to_date = true;
    return result;
  }
  if (theirs) {
    bool contained = false;
    if (TXDIR_TRY(r.store->HasObject(*theirs)))
      contained = git_graph_descendant_of(r.store->repo(), &head->commit, &*theirs) == 1;
    if (!contained)
      return MakeError(Code::kConflict,
                       "remote '" + name + "' has generations this repository lacks (its head " +
                           store::OidHex(*theirs) +
                           " is not contained in the local head, generation " +
                           std::to_string(head->meta.number) +
                           "): another machine pushed first; pull, then push again");
  }
  TXDIR_FAILPOINT("push.checked");

  PushState state;
  state.progress = &progress;
  if (const char* url = git_remote_url(remote.get()); url != nullptr)
    state.local = internal::IsLocalPath(url);
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks.push_transfer_progress = PushProgress;
  opts.callbacks.push_update_reference = PushUpdateReference;
  opts.callbacks.payload = &state;
  // No '+': never a forced update. Between our check and the push another
  // machine may still push; the server (or libgit2 for a local remote)
  // refuses a non-fast-forward then.
  std::string spec = std::string(store::kHeadRef) + ":" + store::kHeadRef;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  if (int rc = git_remote_push(remote.get(), &refspecs, &opts); rc < 0) {
    auto e = TransferError(rc, "cannot push to remote '" + name + "'");
    if (rc == GIT_ENONFASTFORWARD)
      e.value().message += " (another machine pushed first; pull, then push again)";
    return e;
  }
  if (!state.rejected.empty())
    return MakeError(Code::kConflict, "remote '" + name + "' refused the update of " +
                                          state.rejected +
                                          " (another machine may have pushed first; pull, then "
                                          "push again)");
  result.transfer = state.stats;
  // libgit2's local transport copies objects and reports a byte count that
  // measures nothing (a few bytes for dozens of objects).
  if (const char* url = git_remote_url(remote.get()); url != nullptr && internal::IsLocalPath(url))
    result.transfer.bytes = 0;
  return result;
}

}  // namespace txdir
