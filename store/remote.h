// The store's remotes: their configuration (remote.NAME.* in the store's
// git config) and the transfers through them — fetch, listing a remote's
// refs, push — all through libgit2's remote API and transports. What to
// fetch or push, and what a refusal means to the user, is the caller's
// (txn/src/replication_*.cc, docs/replication.md).
//
// No credential and no certificate-check callback is given to libgit2: a
// remote that asks for credentials fails, and an HTTPS certificate that
// does not verify against the system's CA bundle (loaded on first use,
// tls_certificates.h) is refused — both transfer errors.
//
// Errors of a transfer (network, server, unreachable remote) are kIo with
// libgit2's words, except a non-fast-forward: kConflict.
//
// Thread safety: as GitStore, one thread at a time per store. Callbacks run
// on the calling thread, during the call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/git_store.h"
#include "txdir/error.h"

namespace txdir::store {

// A remote as configured.
struct RemoteConfig {
  std::string name;
  // remote.NAME.url; nullopt when the remote has none (only a pushurl).
  std::optional<std::string> url;
};

// Adds remote `name` fetching with the single refspec `fetch_refspec`.
// Errors: kInvalidArgument "invalid remote name 'NAME'" (by git's rules),
// kExists "remote 'NAME' already exists", otherwise "cannot add remote
// 'NAME'" with libgit2's reason (a bad URL, say): kInvalidArgument, or
// kLocked when the config is locked.
Status CreateRemote(GitStore& store, const std::string& name, const std::string& url,
                    const std::string& fetch_refspec);

// The configuration of remote `name`; nullopt when there is none (or
// `name` is no valid remote name).
// Errors: "cannot read remote 'NAME'" (an unreadable config).
Result<std::optional<RemoteConfig>> FindRemote(const GitStore& store, const std::string& name);

// Names of every configured remote (one with a url or a pushurl), sorted,
// each once.
// Errors: "cannot list remotes".
Result<std::vector<std::string>> RemoteNames(const GitStore& store);

// Removes remote `name` from the config, and its refs/remotes/NAME/*.
// Errors: "cannot remove remote 'NAME'" with libgit2's reason: kNotFound
// when there is no such remote, kIo otherwise.
Status DeleteRemote(GitStore& store, const std::string& name);

// Counters of libgit2's indexer while a fetch runs: objects arrive
// (received_*), then deltas are resolved (indexed_deltas of total_deltas).
struct FetchProgress {
  uint64_t received_objects = 0;
  uint64_t total_objects = 0;
  uint64_t received_bytes = 0;
  uint64_t indexed_deltas = 0;
  uint64_t total_deltas = 0;
};

struct FetchOptions {
  // Called with every update of the counters (libgit2 keeps calling after
  // the last object, once per delta resolved). Optional.
  std::function<void(const FetchProgress&)> progress;
  // The reflog message of the refs the fetch updates; empty: libgit2's
  // ("fetch NAME").
  std::string reflog_message;
};

// What a transfer moved.
struct TransferCount {
  uint64_t objects = 0;
  uint64_t bytes = 0;
};

// Fetches exactly `refspec` (whatever refspecs the remote is configured
// with) from remote `name`: no tags, no FETCH_HEAD, no pruning. libgit2
// writes the pack, its index and the updated refs itself (with its fsync
// on), not through the Env. Returns the objects and bytes received.
// Errors: "cannot read remote 'NAME'" (kNotFound when there is none);
// LoadTlsCertificates's; "cannot fetch from remote 'NAME'" with libgit2's
// reason, kIo (kConflict for a non-fast-forward update of a refspec
// without '+').
Result<TransferCount> FetchRemote(GitStore& store, const std::string& name,
                                  const std::string& refspec, const FetchOptions& options);

// A ref as a remote advertises it.
struct RemoteRef {
  std::string name;  // "refs/heads/main", "HEAD", ...
  git_oid oid;
};

// Which service of the remote a connection talks to: the refs it
// advertises may differ (upload-pack for a fetch, receive-pack for a push).
enum class RemoteDirection { kFetch, kPush };

// Connects to remote `name` and returns the refs it advertises, in its
// order, then disconnects; transfers no object.
// Errors: "cannot read remote 'NAME'" (kNotFound when there is none);
// LoadTlsCertificates's; "cannot connect to remote 'NAME'" or "cannot list
// the refs of remote 'NAME'" with libgit2's reason, kIo.
Result<std::vector<RemoteRef>> ListRemoteRefs(GitStore& store, const std::string& name,
                                              RemoteDirection direction);

// Counters of a push while the pack is sent.
struct PushProgress {
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  // Bytes sent so far. libgit2's local transport (a remote that is a path)
  // copies objects and reports a count that measures nothing.
  uint64_t bytes = 0;
};

struct PushOptions {
  std::function<void(const PushProgress&)> progress;  // optional
};

struct PushOutcome {
  // The last PushProgress's objects_done and bytes (0 when nothing was
  // sent).
  TransferCount sent;
  // "REF: reason" when the remote refused to update REF (a server's
  // receive-pack, or libgit2 for a local remote); empty when accepted.
  std::string rejected;
};

// Pushes `refspec` (with the objects it needs) to remote `name`. A refspec
// without '+' is never forced: a remote ref the source does not contain is
// refused. A ref the remote refuses to update is not an error, it is
// PushOutcome::rejected.
// Errors: "cannot read remote 'NAME'" (kNotFound when there is none);
// LoadTlsCertificates's; "cannot push to remote 'NAME'" with libgit2's
// reason: kConflict when the update is not a fast-forward (or the ref moved
// during the push), kIo otherwise.
Result<PushOutcome> PushToRemote(GitStore& store, const std::string& name,
                                 const std::string& refspec, const PushOptions& options);

}  // namespace txdir::store
