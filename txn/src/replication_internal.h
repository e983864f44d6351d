// Internals of replication (replication_*.cc) that other files of the
// publication layer call. Not installed.
#pragma once

#include <string>

#include "txdir/replication.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

// Fetches the remote's refs/heads/main into refs/remotes/<name>/main.
// libgit2 writes the pack and the ref itself (with its fsync on), not
// through the Env. Requires the writer lock.
// The URL a remote is stored with: a local path that exists becomes
// absolute (a relative one would be resolved against whatever folder a
// later pull runs in), and a txdir repository's folder its store
// (DIR/.txdir/store.git), so `clone DIR copy` works as `git clone` does.
// Anything else (a file:// URL too) is kept as given.
std::string NormalizeRemoteUrl(Env* env, const std::string& url);

// `progress`: stages "receiving objects" and "resolving deltas".
Result<TransferStats> FetchMain(Repository::Impl& r, const std::string& name,
                                const ProgressFn& progress);

// A remote URL that names a local path: absolute, relative, or file://
// (not scheme://host/..., nor scp-like host:path).
bool IsLocalPath(const std::string& url);

// After a pull resolved a divergence, the local-only generations are no
// longer generations of the head's chain, but their directories gens/<k>
// would still answer to numbers that the chain now gives to other
// commits. Renames each such directory (except the live one) to
// gens/.trash-* (removed by the next recovery; at once with `remove`);
// readers inside keep their directory fd meanwhile. `local_head` is the
// replaced local head; everything reachable from it but not from `keep` is
// retired.
Status RetireGenerations(Repository::Impl& r, const git_oid& local_head, const git_oid& keep,
                         bool remove, RecoveryReport* report);

// Recovery's part: when the head is a generation that resolved a diverged
// pull (two parents), retires what a pull that died after its commit point
// left (see RetireGenerations). Requires the writer lock.
Status RetireReplacedGenerations(Repository::Impl& r, RecoveryReport* report);

}  // namespace txdir::internal
