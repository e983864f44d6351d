// Retention: removing generation directories outside the policy without
// ever removing one a reader is inside (docs/commit_protocol.md, "GC").
#include <fcntl.h>

#include <algorithm>
#include <map>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "store/logging.h"
#include "txn/src/retention_internal.h"
#include "txn/src/trust.h"

namespace txdir {

namespace internal {

namespace {

// What a generation directory occupies, counting a hard-linked file only
// when every one of its links is among the directories measured.
class SpaceCounter {
 public:
  explicit SpaceCounter(Env* env) : env_(env) {}

  void AddTree(int dir) {
    auto entries = env_->ListDir(dir);
    if (!entries) return;
    for (const auto& e : *entries) {
      auto st = env_->StatAt(dir, e.name, false);
      if (!st) continue;
      if (S_ISDIR(st->st_mode)) {
        bytes_ += Blocks(*st);
        if (auto sub = fs::OpenDir(env_, dir, e.name)) AddTree(sub->get());
        continue;
      }
      auto& f = files_[{st->st_dev, st->st_ino}];
      f.nlink = st->st_nlink;
      f.bytes = Blocks(*st);
      ++f.seen;
    }
  }

  uint64_t Freed() const {
    uint64_t total = bytes_;
    for (const auto& [key, f] : files_)
      if (f.seen >= f.nlink) total += f.bytes;
    return total;
  }

 private:
  static uint64_t Blocks(const struct stat& st) {
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }
  struct File {
    nlink_t nlink = 1;
    uint64_t bytes = 0;
    nlink_t seen = 0;
  };
  Env* env_;
  uint64_t bytes_ = 0;
  std::map<std::pair<dev_t, ino_t>, File> files_;
};

struct Victim {
  uint64_t gen;
  Fd dir;                  // holds flock(LOCK_EX): no reader can pin it meanwhile
  std::string trash = {};  // its name under gens/ once renamed away
};

}  // namespace

uint64_t TreeBytes(Env* env, const std::string& path) {
  auto dir = fs::OpenDir(env, Env::kCwd, path);
  if (!dir) return 0;
  SpaceCounter c(env);
  c.AddTree(dir->get());
  // Every link of a file inside `path` is counted here, or it is outside
  // and the file is not ours alone; for a store (no hard links) this is
  // simply the total.
  return c.Freed();
}

namespace {

// The policy's numbers into the report: the options, else the
// repository's configuration, else the defaults.
Status SetPolicy(const Repository::Impl& r, const GcOptions& o, GcReport* report) {
  report->keep = o.keep ? *o.keep : r.config.gc_keep.value_or(kDefaultGcKeep);
  if (report->keep == 0)
    return MakeError(Code::kInvalidArgument,
                     "keep must be at least 1 (the live generation is always kept)");
  if (o.keep_within) {
    if (o.keep_within->count() <= 0)
      return MakeError(Code::kInvalidArgument, "keep-within must be a positive duration");
    report->keep_within_ms = o.keep_within->count();
  } else {
    report->keep_within_ms = r.config.gc_keep_within_ms;
  }
  return Ok();
}

// The generations the policy keeps, over the history newest first: the
// first `keep`, every one younger than keep_within, the head's, and the
// live one (recovery, run when the lock was taken, moved the live link to
// the head; whatever it shows is kept anyway).
Result<std::set<uint64_t>> PolicyKeeps(Repository::Impl& r, const Head& head, GcReport* report) {
  std::set<uint64_t> keep;
  const int64_t now = store::NowMs();
  store::GenerationWalk walk(*r.store, head.commit);
  for (uint64_t i = 0; TXDIR_TRY(walk.Next()); ++i) {
    const store::GenMeta meta = TXDIR_TRY(walk.Meta());
    bool young = report->keep_within_ms && meta.time_ms >= now - *report->keep_within_ms;
    if (i < report->keep || young) keep.insert(meta.number);
  }
  keep.insert(head.meta.number);
  if (auto live = ReadLiveGeneration(r.env, r.layout); live && *live) {
    report->live = **live;
    keep.insert(**live);
  }
  return keep;
}

// The directories outside the policy, each locked exclusively; a reader's
// shared lock (its pin) makes that fail, and the directory is skipped.
Result<std::vector<Victim>> PlanRemovals(Env* env, int gens, uint64_t committed,
                                         const std::set<uint64_t>& keep, GcReport* report) {
  std::vector<uint64_t> names;
  for (const auto& e : TXDIR_TRY(env->ListDir(gens))) {
    auto n = ParseGenName(e.name);
    if (n && *n <= committed) names.push_back(*n);
  }
  std::sort(names.begin(), names.end());
  std::vector<Victim> victims;
  SpaceCounter space(env);
  for (uint64_t n : names) {
    if (keep.count(n)) {
      report->kept.push_back(n);
      continue;
    }
    auto dir = fs::OpenDir(env, gens, std::to_string(n));
    if (!dir) {
      if (dir.error().code == Code::kNotFound) continue;
      return tl::unexpected(dir.error());
    }
    auto locked = env->Flock(dir->get(), LockMode::kExclusive, /*wait=*/false);
    if (!locked) {
      if (locked.error().code != Code::kLocked) return tl::unexpected(locked.error());
      report->pinned.push_back(n);
      continue;
    }
    space.AddTree(dir->get());
    victims.push_back({n, std::move(*dir)});
    report->removed.push_back(n);
  }
  report->bytes_freed = space.Freed();
  return victims;
}

// First every victim leaves its name (a reader opening gens/<N> now finds
// nothing, or finds the directory moved and retries), and that is made
// durable before any file is deleted: a crash can never leave a
// half-deleted directory under a generation's name. Recovery removes
// gens/.trash-* leftovers. Unique trash names: an older gens/.trash-* may
// still be pinned by a reader (recovery keeps those until the reader is
// done).
Status RemoveVictims(Env* env, int gens, std::vector<Victim>& victims, const ProgressFn& progress) {
  for (Victim& v : victims) {
    v.trash = fs::UniqueName(".trash-" + std::to_string(v.gen) + "-");
    TXDIR_CHECK(env->RenameAt(gens, std::to_string(v.gen), gens, v.trash));
    TXDIR_FAILPOINT("gc.renamed");
  }
  TXDIR_CHECK(fs::FsyncDir(env, gens));
  TXDIR_FAILPOINT("gc.renames_synced");
  uint64_t removed = 0;
  for (const Victim& v : victims) {
    // We hold its exclusive lock: no reader is inside.
    TXDIR_CHECK(fs::RemoveTree(env, gens, v.trash));
    TXDIR_FAILPOINT("gc.removed");
    if (progress) progress(Progress{"removing generations", ++removed, victims.size(), 0});
  }
  return fs::FsyncDir(env, gens);
}

}  // namespace

Result<GcReport> CollectGarbageLocked(Repository::Impl& r, const WriterLock& lock,
                                      const GcOptions& o) {
  GcReport report;
  report.dry_run = o.dry_run;
  TXDIR_CHECK(SetPolicy(r, o, &report));
  auto head = TXDIR_TRY(ReadHead(r));
  if (!head) return report;  // nothing published, nothing to collect
  const std::set<uint64_t> keep = TXDIR_TRY(PolicyKeeps(r, *head, &report));

  Fd gens = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "gens"));
  std::vector<Victim> victims =
      TXDIR_TRY(PlanRemovals(r.env, gens.get(), head->meta.number, keep, &report));
  TXDIR_FAILPOINT("gc.planned");
  if (!o.dry_run && !victims.empty())
    TXDIR_CHECK(RemoveVictims(r.env, gens.get(), victims, o.progress));
  victims.clear();  // releases the exclusive locks

  if (o.prune_history) {
    // A pinned generation stays in the history too: its reader may still
    // look it up (`txdir show`), and the next gc drops both together.
    std::set<uint64_t> retain = keep;
    retain.insert(report.pinned.begin(), report.pinned.end());
    TXDIR_CHECK(PruneHistoryLocked(r, lock, retain, o.dry_run, o.progress, &report));
  }
  TXDIR_FAILPOINT("gc.done");
  return report;
}

void AutoGcAfterWrite(Repository::Impl& r, const WriterLock& lock, GenerationInfo* info) {
  auto report = CollectGarbageLocked(r, lock, GcOptions{});
  if (!report) {
    store::LogWarning("automatic gc failed (the write itself succeeded): ",
                      report.error().ToString());
    lock.Taint();  // it may have stopped half-way: the next writer recovers
    return;
  }
  if (!report->pinned.empty())
    store::LogDebug("automatic gc: ", report->pinned.size(), " pinned generation(s) skipped");
  info->auto_gc_removed = report->removed;
  info->auto_gc_bytes = report->bytes_freed;
}

}  // namespace internal

Result<GcReport> CollectGarbage(Repository& repo, const GcOptions& options) {
  Repository::Impl& r = internal::ImplOf(repo);
  auto lock = TXDIR_TRY(internal::LockForWrite(r));
  return internal::CollectGarbageLocked(r, lock, options);
}

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  return std::chrono::milliseconds(TXDIR_TRY(internal::ParseDurationMs(text)));
}

}  // namespace txdir
