// Pull: adopt the remote head as the live generation (fast-forward), or
// resolve a divergence per strategy; and clone. docs/replication.md.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "store/logging.h"
#include "txn/src/host_info.h"
#include "txn/src/path_check.h"
#include "txn/src/replication_internal.h"
#include "txn/src/tree_check.h"
#include "txn/src/tree_merge.h"
#include "txn/src/trust.h"

namespace txdir {

const char* PullOutcomeName(PullOutcome outcome) {
  switch (outcome) {
    case PullOutcome::kRemoteEmpty:
      return "remote-empty";
    case PullOutcome::kUpToDate:
      return "up-to-date";
    case PullOutcome::kRemoteBehind:
      return "remote-behind";
    case PullOutcome::kFastForward:
      return "fast-forward";
    case PullOutcome::kMerged:
      return "merged";
  }
  return "unknown";
}

namespace {

// Generation numbers of the commits reachable from `from` but not from
// `hide`, with their ids.
Result<std::vector<std::pair<uint64_t, git_oid>>> OnlyIn(Repository::Impl& r, const git_oid& from,
                                                         const git_oid& hide) {
  std::vector<std::pair<uint64_t, git_oid>> out;
  TXDIR_CHECK(store::ForEachCommitOnlyIn(*r.store, from, hide, [&](const git_oid& oid) -> Status {
    out.emplace_back(TXDIR_TRY(r.store->ReadMeta(oid)).number, oid);
    return Ok();
  }));
  return out;
}

// Checks every commit reachable from `remote` but not from `local` (a
// later rollback or checkout may materialize any of them, not only the
// head) before anything is adopted: each is a txdir generation numbered
// above its parents, and its tree is one publish could have made
// (tree_check.h). Git itself allows any byte but NUL and '/' in a name,
// unsorted trees, ".git" folders and links anywhere, so another
// repository can hold generations that would reach a terminal, a script
// or git raw once materialized.
Status CheckIncoming(Repository::Impl& r, const git_oid& remote,
                     const std::optional<git_oid>& local, const std::string& remote_name,
                     SymlinkPolicy symlinks) {
  internal::TreeChecker trees(*r.store, symlinks == SymlinkPolicy::kKeepAll);
  return store::ForEachCommitOnlyIn(*r.store, remote, local, [&](const git_oid& oid) -> Status {
    auto refuse = [&](Error e, const std::string& what) -> Status {
      e.message = "remote '" + remote_name + "' commit " + store::OidHex(oid).substr(0, 12) + " " +
                  what + "; nothing was pulled: " + e.message;
      return tl::unexpected(e);
    };
    auto meta = r.store->ReadMeta(oid);
    if (!meta) return refuse(meta.error(), "is not a txdir generation");
    if (auto st = internal::CheckParentNumbers(*r.store, oid, meta->number); !st)
      return refuse(st.error(),
                    "(generation " + std::to_string(meta->number) + ") is out of order");
    if (auto st = trees.Check(TXDIR_TRY(r.store->CommitTree(oid))); !st)
      return refuse(st.error(),
                    "(generation " + std::to_string(meta->number) + ") holds a tree txdir refuses");
    return Ok();
  });
}

std::string Short(const git_oid& oid) { return store::OidHex(oid).substr(0, 12); }

std::string DescribeHead(Repository::Impl& r, const git_oid& commit) {
  auto meta = r.store->ReadMeta(commit);
  if (!meta) return Short(commit);
  return "generation " + std::to_string(meta->number) + " (" + Short(commit) + ", published on " +
         (meta->host.empty() ? "?" : meta->host) + ")";
}

// The divergence: a new generation on top of the remote head whose files
// are the three-way merge of base, ours (local head) and theirs (remote).
Result<git_oid> WriteResolvingCommit(Repository::Impl& r, const internal::Head& local,
                                     const git_oid& remote, const git_oid& base,
                                     const PullOptions& options, const std::string& remote_name,
                                     PullResult* result) {
  const store::GenMeta remote_meta = TXDIR_TRY(r.store->ReadMeta(remote));
  auto base_files = TXDIR_TRY(internal::TreeMap(*r.store, TXDIR_TRY(r.store->CommitTree(base))));
  auto our_files = TXDIR_TRY(internal::TreeMap(*r.store, local.tree));
  auto their_files = TXDIR_TRY(internal::TreeMap(*r.store, TXDIR_TRY(r.store->CommitTree(remote))));
  // Ours: what the local-only generations changed since the merge base,
  // timed at the local head's publish time.
  std::map<std::string, internal::OurChange> ours;
  std::set<std::string> paths;
  for (const auto& [p, f] : base_files) paths.insert(p);
  for (const auto& [p, f] : our_files) paths.insert(p);
  for (const auto& p : paths) {
    auto b = base_files.find(p), o = our_files.find(p);
    std::optional<store::TreeFile> bf, of;
    if (b != base_files.end()) bf = b->second;
    if (o != our_files.end()) of = o->second;
    if (!internal::SameFile(bf, of)) ours[p] = internal::OurChange{of, local.meta.time_ms};
  }
  auto m = TXDIR_TRY(internal::MergeTrees(*r.store, internal::MergeDriversOf(r), *options.strategy,
                                          base_files, ours, their_files, remote_meta.time_ms));
  if (m.conflicted()) {
    std::string msg = "cannot resolve the divergence with strategy " +
                      std::string(StrategyName(*options.strategy)) + "; nothing was published";
    if (!m.conflicts.empty()) {
      msg += "; changed on both sides:";
      for (const auto& p : m.conflicts) msg += " " + internal::Printable(p);
    }
    if (!m.record_conflicts.empty()) msg += "; records: " + DescribeConflicts(m.record_conflicts);
    return MakeError(Code::kConflict, msg);
  }
  std::vector<store::TreeFile> list;
  list.reserve(m.files.size());
  for (auto& [path, f] : m.files) list.push_back(f);
  const git_oid tree = TXDIR_TRY(r.store->WriteTree(list));

  store::GenMeta meta;
  meta.number = std::max(local.meta.number, remote_meta.number) + 1;
  meta.kind = "pull";
  meta.message = options.message.empty()
                     ? "resolved divergence from remote '" + remote_name + "' (" +
                           std::string(StrategyName(*options.strategy)) + "): local generation " +
                           std::to_string(local.meta.number) + " merged onto remote generation " +
                           std::to_string(remote_meta.number)
                     : options.message;
  meta.host = internal::HostName();
  meta.pid = ::getpid();
  meta.time_ms = store::NowMs();
  const std::string author = options.author.empty() ? internal::DefaultAuthor() : options.author;
  // First parent: the remote head, so the chain the remote will accept as
  // a fast-forward runs through its generations; second: the local head,
  // which keeps the local-only generations reachable (`git log`).
  const git_oid commit = TXDIR_TRY(
      r.store->WriteCommit(tree, std::vector<git_oid>{remote, local.commit}, meta, author));
  result->merged = std::move(m.merged);
  result->theirs_kept = std::move(m.theirs_kept);
  result->renumbered = std::move(m.renumbered);
  return commit;
}

}  // namespace

namespace internal {

Status RetireGenerations(Repository::Impl& r, const git_oid& local_head, const git_oid& keep,
                         bool remove, RecoveryReport* report) {
  auto replaced = TXDIR_TRY(OnlyIn(r, local_head, keep));
  if (replaced.empty()) return Ok();
  auto live = ReadLiveGeneration(r.env, r.layout);
  Fd gens = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "gens"));
  bool renamed = false;
  for (const auto& [number, oid] : replaced) {
    const std::string name = std::to_string(number);
    if (live && *live == number) continue;  // still what readers resolve
    if (!r.env->StatAt(gens.get(), name, false)) continue;
    // A rename, not a removal: a reader inside keeps its directory fd
    // until the next recovery removes gens/.trash-*.
    const std::string trash = fs::UniqueName(".trash-" + name + "-");
    TXDIR_CHECK(r.env->RenameAt(gens.get(), name, gens.get(), trash));
    if (remove) (void)TXDIR_TRY(fs::RemoveTreeUnlessPinned(r.env, gens.get(), trash));
    if (report)
      report->actions.push_back("retired gens/" + name +
                                " (a local generation replaced by a pull)");
    renamed = true;
  }
  if (renamed) TXDIR_CHECK(fs::FsyncDir(r.env, gens.get()));
  return Ok();
}

Status RetireReplacedGenerations(Repository::Impl& r, RecoveryReport* report) {
  auto head = TXDIR_TRY(ReadHead(r));
  if (!head || head->meta.kind != "pull") return Ok();
  const std::vector<git_oid> parents = TXDIR_TRY(r.store->CommitParents(head->commit));
  if (parents.size() != 2) return Ok();
  return RetireGenerations(r, parents[1], parents[0], /*remove=*/true, report);
}

}  // namespace internal

Result<PullResult> Pull(Repository& repo, const std::string& remote_name,
                        const PullOptions& options) {
  Repository::Impl& r = internal::ImplOf(repo);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  PullResult result;
  result.transfer = TXDIR_TRY(internal::FetchMain(r, remote_name, options.progress));
  TXDIR_FAILPOINT("pull.fetched");

  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (head) {
    result.local_head = store::OidHex(head->commit);
    result.generation = TXDIR_TRY(internal::DescribeCommit(r, head->commit));
  }
  const std::string tracking = "refs/remotes/" + remote_name + "/main";
  const std::optional<git_oid> fetched = TXDIR_TRY(r.store->ResolveRef(tracking));
  if (!fetched) {
    result.outcome = PullOutcome::kRemoteEmpty;
    return result;
  }
  const git_oid remote = *fetched;
  result.remote_head = store::OidHex(remote);
  if (head && store::OidEqual(head->commit, remote)) {
    result.outcome = PullOutcome::kUpToDate;
    return result;
  }
  // Only txdir generations are adopted: the head's trailers give its number.
  if (auto meta = r.store->ReadMeta(remote); !meta)
    return MakeError(Code::kCorruption, "the head of remote '" + remote_name +
                                            "' is not a txdir generation: " + meta.error().message);

  TXDIR_CHECK(CheckIncoming(r, remote, head ? std::optional<git_oid>(head->commit) : std::nullopt,
                            remote_name, options.symlinks));

  std::optional<git_oid> base;
  if (head) {
    base = TXDIR_TRY(store::MergeBase(*r.store, head->commit, remote));
    if (base && store::OidEqual(*base, remote)) {
      result.outcome = PullOutcome::kRemoteBehind;
      return result;
    }
  }

  if (!head || (base && store::OidEqual(*base, head->commit))) {
    // Fast-forward: the remote head is adopted as it is.
    std::vector<uint64_t> donors;
    std::optional<git_oid> expected;
    if (head) {
      donors.push_back(head->meta.number);
      expected = head->commit;
    }
    result.generation = TXDIR_TRY(internal::AdoptCommit(r, lock, remote, expected, donors));
    result.outcome = PullOutcome::kFastForward;
    return result;
  }

  // Diverged: both sides have generations the other lacks.
  const std::string what =
      "local head " + DescribeHead(r, head->commit) + " and remote '" + remote_name + "' head " +
      DescribeHead(r, remote) + " have diverged" +
      (base ? " from their merge base " + DescribeHead(r, *base) : " (no common generation)");
  if (!options.strategy)
    return MakeError(Code::kConflict,
                     what +
                         "; nothing was pulled. Pass --strategy to publish a generation "
                         "resolving both, or push from one side only");
  if (!base) return MakeError(Code::kConflict, what + "; a strategy cannot resolve this");
  result.merge_base = store::OidHex(*base);
  const git_oid commit =
      TXDIR_TRY(WriteResolvingCommit(r, *head, remote, *base, options, remote_name, &result));
  TXDIR_FAILPOINT("pull.merge_written");
  // Before the commit point: the local-only generations' directories other
  // than the live one stop answering to their numbers (the remote's chain
  // gives those numbers to other commits). A crash here leaves them merely
  // missing, as retention would.
  TXDIR_CHECK(internal::RetireGenerations(r, head->commit, remote, /*remove=*/false, nullptr));
  TXDIR_FAILPOINT("pull.retired");
  result.generation =
      TXDIR_TRY(internal::AdoptCommit(r, lock, commit, head->commit, {head->meta.number}));
  // After the live swap: the previously live local generation too. If we
  // die first, recovery does it (RetireReplacedGenerations).
  TXDIR_CHECK(internal::RetireGenerations(r, head->commit, remote, /*remove=*/false, nullptr));
  result.outcome = PullOutcome::kMerged;
  return result;
}

Result<CloneResult> Clone(const std::string& url, const std::string& root,
                          const CloneOptions& options) {
  // Like git clone: a folder that exists must be empty. Otherwise Init
  // would make the user's files a half-cloned repository.
  Env* env = Env::Default();
  if (auto dir = env->OpenAt(Env::kCwd, root, O_RDONLY | O_DIRECTORY)) {
    auto entries = TXDIR_TRY(env->ListDir(dir->get()));
    if (!entries.empty())
      return MakeError(Code::kExists, "cannot clone into a folder that exists and is not empty",
                       root);
  } else if (dir.error().code != Code::kNotFound) {
    return tl::unexpected(dir.error());
  }
  const bool existed = static_cast<bool>(env->StatAt(Env::kCwd, root, /*follow=*/false));
  // A local path that is not there would otherwise reach libgit2, which
  // calls it an "unsupported URL protocol".
  if (internal::IsLocalPath(url) &&
      !env->StatAt(Env::kCwd, url.rfind("file://", 0) == 0 ? url.substr(7) : url,
                   /*follow=*/true))
    return MakeError(Code::kNotFound, "no repository at this path", url);
  CloneResult out;
  out.repo = TXDIR_TRY(Repository::Init(root, InitOptions{.live_path = options.live_path}));
  Status fetched = [&]() -> Status {
    TXDIR_CHECK(AddRemote(*out.repo, "origin", url));
    out.pull =
        TXDIR_TRY(Pull(*out.repo, "origin",
                       PullOptions{.symlinks = options.symlinks, .progress = options.progress}));
    return Ok();
  }();
  if (fetched) return out;
  // A failed clone leaves nothing behind, as git clone does, so that a
  // retry starts clean: what Init made goes (the folder itself, unless it
  // was there, empty, before).
  const std::string abs_root = fs::AbsolutePath(root), live = out.repo->live_path();
  out.repo.reset();
  if (auto st = env->StatAt(Env::kCwd, live, /*follow=*/false); st && S_ISLNK(st->st_mode))
    (void)env->UnlinkAt(Env::kCwd, live, 0);
  Status removed = existed ? fs::RemoveTree(env, Env::kCwd, abs_root + "/.txdir")
                           : fs::RemoveTree(env, Env::kCwd, abs_root);
  if (!removed)
    store::LogWarning("clone: cannot remove what the failed clone created: ",
                      removed.error().ToString());
  return tl::unexpected(fetched.error());
}

}  // namespace txdir
