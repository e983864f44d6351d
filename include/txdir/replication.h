// Replication through git remotes: a repository's generations travel as the
// commits of refs/heads/main to a bare repository or any git server, and
// other machines pull them in as live generations. docs/replication.md.
//
//   txdir::AddRemote(*repo, "origin", "file:///srv/dash.git");
//   auto pushed = txdir::Push(*repo, "origin");          // publisher
//   auto pulled = txdir::Pull(*replica, "origin", {});   // each replica
//
// A generation keeps its number and metadata (the commit is the same
// commit, trailers included), so `txdir log` on a replica shows the host
// each generation was published on.
//
// Every call here holds the repository's writer lock (and runs recovery
// first) for its whole duration, network transfer included: libgit2 writes
// lock files, refs and packs inside the store, and recovery removes stale
// lock files on the assumption that every writer holds that lock.
//
// URLs: local paths and file://, ssh:// and scp-like user@host:path,
// https://, git:// (git daemon) — whatever the linked libgit2 supports.
// Credentials are not handled: ssh uses the agent; https must not need any.
//
// Thread safety: as Repository.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "txdir/error.h"
#include "txdir/record_merge.h"
#include "txdir/repository.h"
#include "txdir/strategy.h"

namespace txdir {

struct RemoteInfo {
  std::string name;
  std::string url;
};

// Stored in the store's git config (remote.NAME.url and a fetch refspec
// for refs/heads/main only). A local path that exists is stored absolute,
// and a txdir repository's folder as its store (DIR/.txdir/store.git).
// Exists if NAME is taken; InvalidArgument for an invalid name or URL.
Status AddRemote(Repository& repo, const std::string& name, const std::string& url);
// NotFound if there is no such remote.
Status RemoveRemote(Repository& repo, const std::string& name);
Result<std::vector<RemoteInfo>> ListRemotes(Repository& repo);

// What a transfer moved (libgit2's git_indexer_progress for a fetch, the
// push progress callback for a push).
struct TransferStats {
  // Bytes received (fetch) or sent (push) over the network; 0 when not
  // measured: a remote that is a local path gets objects, not a pack.
  uint64_t bytes = 0;
  uint64_t objects = 0;  // objects received (fetch) or pushed (push)
};

struct PushResult {
  bool up_to_date = false;  // the remote already had the head
  GenerationInfo head;      // the local head that was pushed
  TransferStats transfer;
};

// Pushes refs/heads/main (with every object it needs) to the remote's
// refs/heads/main. Never forces: when the remote has generations that the
// local head does not contain (another machine pushed first), Conflict and
// the remote is unchanged; pull, then push again.
// Errors: NotFound (no such remote, or nothing to push), Conflict, Io
// (network, server refusal).
// `progress`: stage "writing objects" (objects and bytes sent).
Result<PushResult> Push(Repository& repo, const std::string& remote = "origin",
                        const ProgressFn& progress = {});

enum class PullOutcome {
  kRemoteEmpty,   // the remote has no refs/heads/main yet
  kUpToDate,      // remote head == local head
  kRemoteBehind,  // the remote head is an ancestor of the local head: nothing to pull
  kFastForward,   // the remote head was adopted as the new live generation
  kMerged,        // diverged, resolved by the strategy into a new generation
};
const char* PullOutcomeName(PullOutcome outcome);

struct PullOptions {
  // nullopt: a diverged replica is a Conflict. Otherwise a new generation
  // on top of the remote head whose files are the three-way merge (merge
  // base, ours = local head, theirs = remote head) per strategy, as
  // Transaction::Commit resolves them (transaction.h).
  std::optional<Strategy> strategy;
  std::string message;  // for a resolving generation; default describes it
  std::string author;
  // Symlinks of incoming generations: kInsideOnly (default) refuses a link
  // that is absolute or leaves the generation, as publish does by default;
  // kKeepAll accepts them (generations published with --symlinks=keep).
  SymlinkPolicy symlinks = SymlinkPolicy::kInsideOnly;
  // Stages "receiving objects" (objects and bytes received of the objects
  // the remote sends) and "resolving deltas".
  ProgressFn progress;
};

struct PullResult {
  PullOutcome outcome = PullOutcome::kUpToDate;
  TransferStats transfer;
  // The live generation afterwards (the adopted remote head, the resolving
  // generation, or the unchanged local head); nullopt when there is none.
  std::optional<GenerationInfo> generation;
  std::string local_head;  // commit ids (hex) before the pull; empty: none
  std::string remote_head;
  std::string merge_base;  // kMerged only
  // kMerged only, as CommitResult.
  std::vector<std::string> merged;
  std::vector<std::string> theirs_kept;
  std::vector<Renumbered> renumbered;
};

// Fetches the remote's refs/heads/main into refs/remotes/NAME/main, then
// (see PullOutcome) adopts it through the commit protocol: the remote
// head's generation directory is materialized and made durable, the head
// ref moves by compare-and-swap (the commit point), the live link follows.
// When this returns Ok with kFastForward or kMerged the new generation is
// durable and live. On error the previous generation stays live.
// Errors: NotFound (no such remote), Conflict (diverged without a strategy,
// naming both heads and the merge base; or a conflict the strategy cannot
// resolve), Corruption (the remote head is not a txdir generation), Locked,
// Io (network).
Result<PullResult> Pull(Repository& repo, const std::string& remote = "origin",
                        const PullOptions& options = {});

struct CloneOptions {
  std::string live_path;                                // as InitOptions::live_path
  SymlinkPolicy symlinks = SymlinkPolicy::kInsideOnly;  // as PullOptions::symlinks
  ProgressFn progress;                                  // as PullOptions::progress
};

struct CloneResult {
  std::unique_ptr<Repository> repo;
  PullResult pull;
};

// Init + AddRemote("origin", url) + Pull. `root` must not exist or be an
// empty folder (Exists otherwise, and nothing is written). If the pull
// fails the repository stays (empty, with its remote) and the error is
// returned.
Result<CloneResult> Clone(const std::string& url, const std::string& root,
                          const CloneOptions& options = {});

}  // namespace txdir
