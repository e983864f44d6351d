// Verification of the whole repository (`txdir fsck`) and repair of
// damaged generation directories. See txdir/fsck.h.
#include "txdir/fsck.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "txdir/sdn.h"
#include "txn/src/path_check.h"
#include "txn/src/repo_impl.h"
#include "txn/src/trust.h"
#include "txn/src/writer_lock.h"

namespace txdir {

namespace {

class Checker {
 public:
  // `holding_lock`: this process holds the writer lock (repair), so no
  // other writer can be using tmp/.
  Checker(Repository& repo, FsckReport* report, const ProgressFn& progress,
          bool holding_lock = false)
      : repo_(repo),
        r_(internal::ImplOf(repo)),
        rep_(report),
        progress_(progress),
        holding_lock_(holding_lock) {}

  void Run() {
    CheckRefs();
    CheckHistory();
    CheckGenerations();
    CheckLive();
    CheckSeals();
    CheckTmp();
  }

  // Generations with damage found by CheckGenerations.
  const std::set<uint64_t>& damaged() const { return damaged_; }

 private:
  void Problem(const std::string& area, std::optional<uint64_t> gen, const std::string& path,
               const std::string& what) {
    rep_->problems.push_back(FsckProblem{area, gen, path, what, {}});
  }

  void CheckRefs() {
    auto refs = r_.store->ListRefs();
    if (!refs) {
      Problem("store", std::nullopt, "refs", "cannot list refs");
      return;
    }
    for (const auto& ref : *refs) {
      if (!ref.target) {
        Problem("store", std::nullopt, ref.name, "ref does not resolve");
        continue;
      }
      auto present = r_.store->HasObject(*ref.target);
      if (present && !*present)
        Problem("store", std::nullopt, ref.name,
                "ref points at a missing object " + store::OidHex(*ref.target));
    }
  }

  void CheckTree(const git_oid& tree_oid, const std::string& where, uint64_t gen) {
    if (!seen_.insert(tree_oid).second) return;
    ++rep_->objects_checked;
    Status intact = r_.store->VerifyObject(tree_oid);
    auto entries = intact ? r_.store->ReadTreeEntries(tree_oid)
                          : Result<std::vector<store::TreeEntry>>(tl::unexpected(intact.error()));
    if (!entries) {
      Problem("store", gen, where, "tree " + store::OidHex(tree_oid) + " is missing or damaged");
      return;
    }
    for (const auto& e : *entries) {
      const std::string path = where + e.name;
      // A folder by its mode, as git and libgit2 tell one.
      if ((e.mode & 0170000) == store::kModeTree) {
        CheckTree(e.oid, path + "/", gen);
        continue;
      }
      if (!seen_.insert(e.oid).second) continue;
      ++rep_->objects_checked;
      if (progress_) progress_(Progress{"checking objects", rep_->objects_checked, 0, 0});
      // Every blob is hashed as it is read, in pieces: one read of the
      // object whatever its size, and checking a 2 GB file takes no 2 GB of
      // memory. (VerifyObject checks the hash too, but reads whole.)
      auto got = r_.store->HashStoredBlob(e.oid);
      if (!got)
        Problem("store", gen, path,
                "blob " + store::OidHex(e.oid) + " is missing or damaged: " + got.error().message);
      else if (!store::OidEqual(*got, e.oid))
        Problem("store", gen, path,
                "blob " + store::OidHex(e.oid) + " is damaged: its content hashes to " +
                    store::OidHex(*got));
    }
  }

  void CheckHistory() {
    auto head = r_.store->Head();
    if (!head) {
      Problem("store", std::nullopt, "refs/heads/main", head.error().ToString());
      return;
    }
    if (!*head) return;  // nothing published yet
    store::GenerationWalk walk(*r_.store, **head);
    std::optional<uint64_t> prev;  // the number of the generation checked last
    for (;;) {
      // Reads the first parent of generation `prev`; on an error the walk
      // stays on it.
      auto more = walk.Next();
      if (!more) {
        Problem("store", prev, "commit " + store::OidHex(walk.commit()), more.error().message);
        return;
      }
      if (!*more) return;
      const std::string where = "commit " + store::OidHex(walk.commit());
      ++rep_->commits_checked;
      if (!r_.store->VerifyObject(walk.commit())) {
        Problem("store", std::nullopt, where, "missing or damaged");
        return;
      }
      if (progress_) progress_(Progress{"checking objects", rep_->objects_checked, 0, 0});
      auto meta = walk.Meta();
      if (!meta) {
        Problem("store", std::nullopt, where, "trailers do not parse: " + meta.error().message);
        return;
      }
      if (!rep_->head) rep_->head = meta->number;
      if (prev && meta->number >= *prev)
        Problem("store", meta->number, where,
                "generation numbers do not decrease along the history (" +
                    std::to_string(meta->number) + " after " + std::to_string(*prev) + ")");
      prev = meta->number;
      history_.insert(meta->number);
      auto tree = r_.store->CommitTree(walk.commit());
      if (!tree)
        Problem("store", meta->number, where, tree.error().message);
      else
        CheckTree(*tree, "", meta->number);
    }
  }

  void CheckGenerations() {
    Env* env = r_.env;
    auto gens = fs::OpenDir(env, Env::kCwd, r_.layout.gens);
    if (!gens) {
      Problem("generation", std::nullopt, r_.layout.gens, gens.error().ToString());
      return;
    }
    auto entries = env->ListDir(gens->get());
    if (!entries) return;
    std::vector<uint64_t> numbers;
    for (const auto& e : *entries) {
      auto n = internal::ParseGenName(e.name);
      if (!n) {
        rep_->notes.push_back(
            "gens/" + e.name + " is not a generation directory" +
            (e.name.rfind(".trash-", 0) == 0
                 ? " (a retired generation; recovery removes it once no reader pins it)"
                 : ""));
        continue;
      }
      numbers.push_back(*n);
    }
    std::sort(numbers.begin(), numbers.end());
    uint64_t checked = 0;
    for (uint64_t n : numbers) {
      if (progress_) progress_(Progress{"checking generations", ++checked, numbers.size(), 0});
      if (rep_->head && n > *rep_->head) {
        Problem("generation", n, "",
                "directory above the committed head (a publish that never "
                "committed; `txdir recover` removes it)");
        continue;
      }
      if (!history_.count(n)) {
        rep_->notes.push_back("gens/" + std::to_string(n) +
                              " is no longer in the history (pruned while a reader was inside); "
                              "the next gc removes it");
        continue;
      }
      rep_->generations_checked.push_back(n);
      auto v = repo_.VerifyGeneration(n);
      if (!v) {
        if (v.error().code == Code::kNotFound) continue;  // removed meanwhile
        Problem("generation", n, "", v.error().ToString());
        damaged_.insert(n);
        continue;
      }
      for (const auto& issue : v->issues) {
        FsckProblem p{"generation", n, issue.path, issue.problem, {}};
        if (issue.problem.find("recorded hash") != std::string::npos)
          p.shared_with = SharedWith(n, issue.path);
        rep_->problems.push_back(std::move(p));
        damaged_.insert(n);
      }
    }
  }

  // Every "N/path" in a materialized generation that is the same inode as
  // gens/<gen>/<path>: a file edited in place damages all of them.
  std::vector<std::string> SharedWith(uint64_t gen, const std::string& path) {
    Env* env = r_.env;
    auto st = env->StatAt(Env::kCwd, r_.layout.GenDir(gen) + "/" + path, false);
    if (!st) return {};
    if (inodes_.empty()) IndexInodes();
    auto it = inodes_.find({st->st_dev, st->st_ino});
    return it == inodes_.end() ? std::vector<std::string>{} : it->second;
  }

  void IndexInodes() {
    Env* env = r_.env;
    auto gens = fs::OpenDir(env, Env::kCwd, r_.layout.gens);
    if (!gens) return;
    auto entries = env->ListDir(gens->get());
    if (!entries) return;
    for (const auto& e : *entries) {
      if (!internal::ParseGenName(e.name)) continue;
      if (auto d = fs::OpenDir(env, gens->get(), e.name)) Walk(d->get(), e.name + "/");
    }
    for (auto& [key, v] : inodes_) std::sort(v.begin(), v.end());
  }

  void Walk(int dir, const std::string& prefix) {
    auto entries = r_.env->ListDir(dir);
    if (!entries) return;
    for (const auto& e : *entries) {
      auto st = r_.env->StatAt(dir, e.name, false);
      if (!st) continue;
      if (S_ISDIR(st->st_mode)) {
        if (auto sub = fs::OpenDir(r_.env, dir, e.name)) Walk(sub->get(), prefix + e.name + "/");
      } else if (S_ISREG(st->st_mode)) {
        inodes_[{st->st_dev, st->st_ino}].push_back(prefix + e.name);
      }
    }
  }

  void CheckLive() {
    auto live = internal::ReadLiveGeneration(r_.env, r_.layout);
    if (!live) {
      Problem("live", std::nullopt, r_.layout.live, live.error().ToString());
      return;
    }
    rep_->live = *live;
    if (*live != rep_->head)
      Problem("live", *live, r_.layout.live,
              "the live link shows " +
                  (*live ? "generation " + std::to_string(**live) : "nothing") +
                  " but the committed head is " +
                  (rep_->head ? "generation " + std::to_string(*rep_->head) : "nothing") +
                  " (`txdir recover` moves it)");
  }

  // The head generation's sealed SDN files: the Simple tooling loads a file
  // whose `#sdn-crc32:` seal does not match its body as nil, so a writer that
  // edited one without resealing has damaged that database for its readers.
  void CheckSeals() {
    if (!rep_->head) return;
    auto files = repo_.ListFiles(*rep_->head);
    if (!files) return;  // the generation's own problems are reported above
    for (const FileInfo& f : *files) {
      if (!sdn::IsTablesPath(f.path)) continue;
      auto bytes = repo_.ReadFile(*rep_->head, f.path);
      if (!bytes || !sdn::IsSealed(*bytes)) continue;
      if (Status seal = sdn::VerifySeal(*bytes); !seal)
        Problem("sdn", *rep_->head, f.path, f.path + ": " + seal.error().message);
    }
  }

  // What a writer that died (or failed part-way) left in .txdir/tmp: a
  // stage, a temp file. Recovery removes them (step 1 of recovery.cc)
  // with the same tests of what is still in use: an entry a live process
  // holds a flock on (an exec's stage while its program runs) and, while
  // a transaction holds tmp/ itself, object temp files. While another
  // process holds the writer lock, its stage is work in progress: tmp/ is
  // not judged then.
  void CheckTmp() {
    Env* env = r_.env;
    if (!holding_lock_) {
      auto holder = internal::ReadLockHolder(env, r_.layout.lock);
      if (holder && *holder) {
        rep_->notes.push_back(".txdir/tmp not checked: a writer is running (" +
                              internal::DescribeHolder(**holder) + ")");
        return;
      }
    }
    auto tmp = fs::OpenDir(env, Env::kCwd, r_.layout.tmp);
    if (!tmp) {
      Problem("tmp", std::nullopt, r_.layout.tmp, tmp.error().ToString());
      return;
    }
    auto entries = env->ListDir(tmp->get());
    if (!entries) {
      Problem("tmp", std::nullopt, r_.layout.tmp, entries.error().ToString());
      return;
    }
    // A transaction writing objects holds a shared flock on tmp/ (it waits
    // for our probe, which is released at once).
    bool objects_busy = false;
    {
      auto t2 = fs::OpenDir(env, Env::kCwd, r_.layout.tmp);
      if (t2) {
        auto probe = env->Flock(t2->get(), LockMode::kExclusive, /*wait=*/false);
        objects_busy = !probe && probe.error().code == Code::kLocked;
      }
    }
    for (const auto& e : *entries) {
      if (objects_busy && e.name.rfind("tmp_obj_", 0) == 0) continue;
      if (auto fd = env->OpenAt(tmp->get(), e.name, O_RDONLY | O_NOFOLLOW); fd) {
        auto held = env->Flock(fd->get(), LockMode::kExclusive, /*wait=*/false);
        if (!held && held.error().code == Code::kLocked) continue;  // in use
      }
      Problem("tmp", std::nullopt, ".txdir/tmp/" + internal::Printable(e.name),
              "left over by a writer that did not finish (`txdir recover` or "
              "`txdir fsck --repair` removes it)");
    }
  }

  Repository& repo_;
  Repository::Impl& r_;
  FsckReport* rep_;
  const ProgressFn& progress_;
  bool holding_lock_ = false;
  std::set<git_oid, store::OidLess> seen_;
  std::set<uint64_t> history_;
  std::set<uint64_t> damaged_;
  std::map<std::pair<dev_t, ino_t>, std::vector<std::string>> inodes_;
};

// Materializes `gen` afresh (fresh copies: nothing shared with the damaged
// inodes) and exchanges it with the damaged directory in one
// renameat2(RENAME_EXCHANGE): readers see one or the other, never nothing.
// The damaged copy ends in tmp/ and is removed unless a reader is inside
// it (then recovery removes it once the reader has left).
Result<std::string> Repair(Repository::Impl& r, uint64_t gen) {
  Env* env = r.env;
  git_oid commit = TXDIR_TRY(internal::FindGeneration(r, gen));
  git_oid tree = TXDIR_TRY(r.store->CommitTree(commit));
  auto files = TXDIR_TRY(r.store->ListTree(tree));
  const bool batched = internal::BatchedSync(r);
  const std::string stage = TXDIR_TRY(internal::StageGeneration(r, gen, files, {}, !batched));
  if (batched) TXDIR_CHECK(internal::SyncBarrier(r));
  TXDIR_FAILPOINT("fsck.repair_staged");
  Fd gens = TXDIR_TRY(internal::OpenMetaDir(env, r.layout, "gens"));
  Fd tmp = TXDIR_TRY(internal::OpenMetaDir(env, r.layout, "tmp"));
  // Both directories change parent: each must be writable for its `..`.
  const std::string name = std::to_string(gen);
  if (auto st = env->StatAt(gens.get(), name, false); st && S_ISDIR(st->st_mode))
    TXDIR_CHECK(env->FchmodAt(gens.get(), name, (st->st_mode & 07777) | S_IRWXU));
  TXDIR_CHECK(env->ExchangeAt(tmp.get(), stage, gens.get(), name));
  TXDIR_CHECK(internal::SealPlaced(env, gens.get(), gen, /*sync=*/true));
  TXDIR_CHECK(fs::FsyncDir(env, gens.get()));
  TXDIR_CHECK(fs::FsyncDir(env, tmp.get()));
  TXDIR_FAILPOINT("fsck.repair_exchanged");
  std::string line = "re-materialized generation " + std::to_string(gen) + " from the store";
  auto old = fs::OpenDir(env, tmp.get(), stage);
  if (old && env->Flock(old->get(), LockMode::kExclusive, /*wait=*/false)) {
    TXDIR_CHECK(fs::RemoveTree(env, tmp.get(), stage));
  } else {
    line += " (the damaged copy stays in .txdir/tmp while a reader is inside it)";
  }
  return line;
}

}  // namespace

Result<FsckReport> Fsck(Repository& repo, const FsckOptions& options) {
  Repository::Impl& r = internal::ImplOf(repo);
  if (!options.repair) {
    FsckReport report;
    Checker(repo, &report, options.progress).Run();
    return report;
  }
  TXDIR_CHECK(internal::CheckWriteTrust(r.env, r.layout, "repair"));
  auto lock = TXDIR_TRY(internal::WriterLock::Acquire(r.env, r.layout.lock, r.lock_timeout));
  auto recovered = TXDIR_TRY(internal::RecoverLocked(r, lock, /*thorough=*/true));
  std::vector<std::string> repaired = recovered.actions;
  {
    FsckReport first;
    Checker checker(repo, &first, options.progress, /*holding_lock=*/true);
    checker.Run();
    for (uint64_t gen : checker.damaged()) {
      auto line = Repair(r, gen);
      if (!line) return tl::unexpected(line.error());
      repaired.push_back(*line);
    }
  }
  FsckReport report;
  Checker(repo, &report, options.progress, /*holding_lock=*/true).Run();
  report.repaired = std::move(repaired);
  return report;
}

}  // namespace txdir
