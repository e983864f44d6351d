// Remotes, fetch and push: the network half of replication, through the
// store's remotes (store/remote.h). docs/replication.md.
#include <sys/stat.h>

#include <optional>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "store/remote.h"
#include "txn/src/replication_internal.h"

namespace txdir {

namespace {

std::string TrackingRef(const std::string& name) { return "refs/remotes/" + name + "/main"; }

Result<store::RemoteConfig> LookupRemote(Repository::Impl& r, const std::string& name) {
  auto remote = TXDIR_TRY(store::FindRemote(*r.store, name));
  if (!remote)
    return MakeError(Code::kNotFound, "no remote named '" + name + "' (see `txdir remote`)");
  return *std::move(remote);
}

}  // namespace

Status AddRemote(Repository& repo, const std::string& name, const std::string& url_arg) {
  Repository::Impl& r = internal::ImplOf(repo);
  if (url_arg.empty()) return MakeError(Code::kInvalidArgument, "empty remote URL");
  const std::string url = internal::NormalizeRemoteUrl(r.env, url_arg);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  // Only refs/heads/main travels; other refs of the remote are not ours.
  return store::CreateRemote(*r.store, name, url, "+refs/heads/main:" + TrackingRef(name));
}

Status RemoveRemote(Repository& repo, const std::string& name) {
  Repository::Impl& r = internal::ImplOf(repo);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  TXDIR_CHECK(LookupRemote(r, name));
  // Also deletes refs/remotes/<name>/*.
  return store::DeleteRemote(*r.store, name);
}

Result<std::vector<RemoteInfo>> ListRemotes(Repository& repo) {
  Repository::Impl& r = internal::ImplOf(repo);
  const std::vector<std::string> names = TXDIR_TRY(store::RemoteNames(*r.store));
  std::vector<RemoteInfo> out;
  for (const std::string& name : names) {
    store::RemoteConfig remote = TXDIR_TRY(LookupRemote(r, name));
    out.push_back(RemoteInfo{name, remote.url.value_or("")});
  }
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
  TXDIR_CHECK(LookupRemote(r, name));
  store::FetchOptions opts;
  opts.reflog_message = "txdir pull";
  // Reports "receiving objects" up to and including the last object, then
  // "resolving deltas" (libgit2 goes on calling with every object received).
  bool received_all = false;
  if (progress) {
    opts.progress = [&progress, &received_all](const store::FetchProgress& p) {
      if (!received_all) {
        progress(
            Progress{"receiving objects", p.received_objects, p.total_objects, p.received_bytes});
        received_all = p.received_objects == p.total_objects;
      } else if (p.total_deltas > 0) {
        progress(Progress{"resolving deltas", p.indexed_deltas, p.total_deltas, 0});
      }
    };
  }
  // Explicit, whatever the config says: only the generations' branch.
  const store::TransferCount got =
      TXDIR_TRY(store::FetchRemote(*r.store, name, "+refs/heads/main:" + TrackingRef(name), opts));
  return TransferStats{.bytes = got.bytes, .objects = got.objects};
}

}  // namespace internal

Result<PushResult> Push(Repository& repo, const std::string& name, const ProgressFn& progress) {
  Repository::Impl& r = internal::ImplOf(repo);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (!head) return MakeError(Code::kNotFound, "nothing to push: no generation yet");
  const store::RemoteConfig remote = TXDIR_TRY(LookupRemote(r, name));
  PushResult result;
  result.head = TXDIR_TRY(internal::DescribeCommit(r, head->commit));

  // Look at the remote's head first: equal means nothing to do, and a head
  // we do not contain is a Conflict with a clearer message than libgit2's.
  const std::vector<store::RemoteRef> refs =
      TXDIR_TRY(store::ListRemoteRefs(*r.store, name, store::RemoteDirection::kPush));
  std::optional<git_oid> theirs;
  for (const store::RemoteRef& ref : refs)
    if (ref.name == store::kHeadRef) theirs = ref.oid;
  if (theirs && store::OidEqual(*theirs, head->commit)) {
    result.up_to_date = true;
    return result;
  }
  if (theirs) {
    bool contained = false;
    // A history that cannot be walked counts as not containing theirs.
    if (TXDIR_TRY(r.store->HasObject(*theirs)))
      contained = store::IsDescendantOf(*r.store, head->commit, *theirs).value_or(false);
    if (!contained)
      return MakeError(Code::kConflict,
                       "remote '" + name + "' has generations this repository lacks (its head " +
                           store::OidHex(*theirs) +
                           " is not contained in the local head, generation " +
                           std::to_string(head->meta.number) +
                           "): another machine pushed first; pull, then push again");
  }
  TXDIR_FAILPOINT("push.checked");

  // libgit2's local transport copies objects and reports a byte count that
  // measures nothing (a few bytes for dozens of objects): not shown, not
  // reported.
  const bool local = remote.url && internal::IsLocalPath(*remote.url);
  store::PushOptions opts;
  if (progress) {
    opts.progress = [&progress, local](const store::PushProgress& p) {
      progress(Progress{"writing objects", p.objects_done, p.objects_total, local ? 0 : p.bytes});
    };
  }
  // No '+': never a forced update. Between our check and the push another
  // machine may still push; the server (or libgit2 for a local remote)
  // refuses a non-fast-forward then.
  const std::string spec = std::string(store::kHeadRef) + ":" + store::kHeadRef;
  auto pushed = store::PushToRemote(*r.store, name, spec, opts);
  if (!pushed) {
    if (pushed.error().code == Code::kConflict)
      pushed.error().message += " (another machine pushed first; pull, then push again)";
    return tl::unexpected(pushed.error());
  }
  if (!pushed->rejected.empty())
    return MakeError(Code::kConflict, "remote '" + name + "' refused the update of " +
                                          pushed->rejected +
                                          " (another machine may have pushed first; pull, then "
                                          "push again)");
  result.transfer =
      TransferStats{.bytes = local ? 0 : pushed->sent.bytes, .objects = pushed->sent.objects};
  return result;
}

}  // namespace txdir
