// Remotes and transfers through libgit2's remote API. remote.h.
#include "store/remote.h"

#include <git2.h>

#include "store/git_handles.h"
#include "store/git_store_access.h"
#ifdef TXDIR_STATIC_DEPS
#include "store/libgit2_static.h"
#endif
#include "store/tls_certificates.h"

namespace txdir::store {

namespace {

// Network and server errors: Io, with libgit2's words.
tl::unexpected<Error> TransferError(int rc, const std::string& what) {
  if (rc == GIT_ENONFASTFORWARD) return GitError(rc, what, Code::kConflict);
  auto e = GitError(rc, what, Code::kIo);
  // GitError maps "not found" codes to NotFound; for a transfer that means
  // the remote repository is unreachable, an I/O failure.
  if (e.value().code == Code::kNotFound) e.value().code = Code::kIo;
#ifdef TXDIR_STATIC_DEPS
  // libssh2 is loaded on the first SSH session (ssh_on_demand.cc); without
  // it libgit2 only says "failed to initialize SSH session".
  if (std::string why = internal::Libssh2LoadError(); !why.empty())
    e.value().message += " (SSH remotes need libssh2, Debian package libssh2-1: " + why + ")";
#endif
  return e;
}

// The remote's handle, for a transfer. The caller has normally checked
// that the remote exists (FindRemote), so a failure here is reported as
// libgit2 sees it.
Result<RemotePtr> OpenRemote(const GitStore& store, const std::string& name) {
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, StoreAccess::Repo(store), name.c_str()); rc < 0)
    return GitError(rc, "cannot read remote '" + name + "'");
  return RemotePtr(raw);
}

// OpenRemote, with the CA certificates loaded: the remote may be HTTPS.
Result<RemotePtr> OpenRemoteToConnect(const GitStore& store, const std::string& name) {
  RemotePtr remote = TXDIR_TRY(OpenRemote(store, name));
  TXDIR_CHECK(LoadTlsCertificates());
  return remote;
}

struct FetchState {
  git_indexer_progress last{};
  const std::function<void(const FetchProgress&)>* progress = nullptr;
};

int OnFetchProgress(const git_indexer_progress* stats, void* payload) {
  auto* st = static_cast<FetchState*>(payload);
  st->last = *stats;
  if (*st->progress)
    (*st->progress)(FetchProgress{stats->received_objects, stats->total_objects,
                                  stats->received_bytes, stats->indexed_deltas,
                                  stats->total_deltas});
  return 0;
}

struct PushState {
  PushOutcome outcome;
  const std::function<void(const PushProgress&)>* progress = nullptr;
};

int OnPushProgress(unsigned int current, unsigned int total, size_t bytes, void* payload) {
  auto* st = static_cast<PushState*>(payload);
  st->outcome.sent = TransferCount{current, bytes};
  if (*st->progress) (*st->progress)(PushProgress{current, total, bytes});
  return 0;
}

// Called once per ref with the server's verdict: `status` null means
// accepted. A refusal is no error for libgit2; the caller decides.
int OnPushUpdateReference(const char* refname, const char* status, void* payload) {
  if (status != nullptr)
    static_cast<PushState*>(payload)->outcome.rejected = std::string(refname) + ": " + status;
  return 0;
}

}  // namespace

Status CreateRemote(GitStore& store, const std::string& name, const std::string& url,
                    const std::string& fetch_refspec) {
  int valid = 0;
  if (git_remote_name_is_valid(&valid, name.c_str()) < 0 || !valid)
    return MakeError(Code::kInvalidArgument, "invalid remote name '" + name + "'");
  git_remote* raw = nullptr;
  int rc = git_remote_create_with_fetchspec(&raw, StoreAccess::Repo(store), name.c_str(),
                                            url.c_str(), fetch_refspec.c_str());
  if (rc == GIT_EEXISTS) return MakeError(Code::kExists, "remote '" + name + "' already exists");
  if (rc < 0) return GitError(rc, "cannot add remote '" + name + "'", Code::kInvalidArgument);
  RemotePtr owner(raw);
  return Ok();
}

Result<std::optional<RemoteConfig>> FindRemote(const GitStore& store, const std::string& name) {
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, StoreAccess::Repo(store), name.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) return std::optional<RemoteConfig>();
    return GitError(rc, "cannot read remote '" + name + "'");
  }
  RemotePtr owner(raw);
  RemoteConfig config{name, std::nullopt};
  if (const char* url = git_remote_url(raw); url != nullptr) config.url = url;
  return std::optional<RemoteConfig>(std::move(config));
}

Result<std::vector<std::string>> RemoteNames(const GitStore& store) {
  git_strarray names{};
  if (int rc = git_remote_list(&names, StoreAccess::Repo(store)); rc < 0)
    return GitError(rc, "cannot list remotes");
  std::vector<std::string> out(names.strings, names.strings + names.count);
  git_strarray_dispose(&names);
  return out;
}

Status DeleteRemote(GitStore& store, const std::string& name) {
  if (int rc = git_remote_delete(StoreAccess::Repo(store), name.c_str()); rc < 0)
    return GitError(rc, "cannot remove remote '" + name + "'", Code::kIo);
  return Ok();
}

Result<TransferCount> FetchRemote(GitStore& store, const std::string& name,
                                  const std::string& refspec, const FetchOptions& options) {
  RemotePtr remote = TXDIR_TRY(OpenRemoteToConnect(store, name));
  FetchState state;
  state.progress = &options.progress;
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks.transfer_progress = OnFetchProgress;
  opts.callbacks.payload = &state;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  opts.prune = GIT_FETCH_NO_PRUNE;
  // Explicit, whatever the config says.
  std::string spec = refspec;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  const char* reflog = options.reflog_message.empty() ? nullptr : options.reflog_message.c_str();
  if (int rc = git_remote_fetch(remote.get(), &refspecs, &opts, reflog); rc < 0)
    return TransferError(rc, "cannot fetch from remote '" + name + "'");
  // libgit2's totals, or the last progress seen if it keeps none.
  const git_indexer_progress* st = git_remote_stats(remote.get());
  TransferCount out;
  out.bytes = st ? st->received_bytes : state.last.received_bytes;
  out.objects = st ? st->received_objects : state.last.received_objects;
  return out;
}

Result<std::vector<RemoteRef>> ListRemoteRefs(GitStore& store, const std::string& name,
                                              RemoteDirection direction) {
  RemotePtr remote = TXDIR_TRY(OpenRemoteToConnect(store, name));
  git_remote_callbacks cbs = GIT_REMOTE_CALLBACKS_INIT;
  const git_direction dir =
      direction == RemoteDirection::kPush ? GIT_DIRECTION_PUSH : GIT_DIRECTION_FETCH;
  if (int rc = git_remote_connect(remote.get(), dir, &cbs, nullptr, nullptr); rc < 0)
    return TransferError(rc, "cannot connect to remote '" + name + "'");
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  if (int rc = git_remote_ls(&heads, &n, remote.get()); rc < 0)
    return TransferError(rc, "cannot list the refs of remote '" + name + "'");
  std::vector<RemoteRef> refs;
  refs.reserve(n);
  for (size_t i = 0; i < n; ++i) refs.push_back(RemoteRef{heads[i]->name, heads[i]->oid});
  git_remote_disconnect(remote.get());
  return refs;
}

Result<PushOutcome> PushToRemote(GitStore& store, const std::string& name,
                                 const std::string& refspec, const PushOptions& options) {
  RemotePtr remote = TXDIR_TRY(OpenRemoteToConnect(store, name));
  PushState state;
  state.progress = &options.progress;
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks.push_transfer_progress = OnPushProgress;
  opts.callbacks.push_update_reference = OnPushUpdateReference;
  opts.callbacks.payload = &state;
  std::string spec = refspec;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  if (int rc = git_remote_push(remote.get(), &refspecs, &opts); rc < 0)
    return TransferError(rc, "cannot push to remote '" + name + "'");
  return std::move(state.outcome);
}

}  // namespace txdir::store
