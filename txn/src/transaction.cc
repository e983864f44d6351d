// Transactions: staged changes against a base generation, merged with
// whatever was published since, then published through CommitGeneration.
#include "txdir/transaction.h"

#include <map>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txdir/sdn.h"
#include "txn/src/path_check.h"
#include "txn/src/repo_impl.h"
#include "txn/src/source_tree.h"
#include "txn/src/tree_merge.h"
#include "txn/src/trust.h"

namespace txdir {

using internal::FileMap;
using internal::SameFile;
using internal::TreeMap;

struct Transaction::State {
  Repository::Impl* repo = nullptr;
  std::optional<internal::WriterLock> lock;  // exclusive mode only
  std::optional<git_oid> base_commit;
  uint64_t base_gen = 0;
  FileMap base_files;
  struct Change {
    std::optional<store::TreeFile> file;  // nullopt: removed
    int64_t time_ms = 0;
  };
  std::map<std::string, Change> changes;
  bool finished = false;
};

namespace {

std::optional<store::TreeFile> Lookup(const FileMap& m, const std::string& path) {
  auto it = m.find(path);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

// Write and ReplaceAllFrom store objects before Commit takes the writer
// lock, and an object's temp file lives in <root>/.txdir/tmp until it is
// renamed into place. Recovery, which every writer runs under the writer
// lock, empties tmp/; holding a shared flock on tmp/ while writing objects
// tells it to leave object temp files alone (recovery.cc, step 1).
Result<Fd> PinTmpForObjectWrites(Repository::Impl& r) {
  TXDIR_CHECK(internal::CheckWriteTrust(r.env, r.layout, "write to"));
  Fd dir = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "tmp"));
  TXDIR_CHECK(r.env->Flock(dir.get(), LockMode::kShared, /*wait=*/true));
  return dir;
}

}  // namespace

Result<std::unique_ptr<Transaction>> Repository::Begin() { return Begin(BeginOptions{}); }

Result<std::unique_ptr<Transaction>> Repository::Begin(const BeginOptions& options) {
  auto st = std::make_unique<Transaction::State>();
  st->repo = impl_.get();
  if (options.exclusive) st->lock.emplace(TXDIR_TRY(internal::LockForWrite(*impl_)));
  auto head = TXDIR_TRY(internal::ReadHead(*impl_));
  if (head) {
    st->base_commit = head->commit;
    st->base_gen = head->meta.number;
    st->base_files = TXDIR_TRY(TreeMap(*impl_->store, head->tree));
  }
  return std::unique_ptr<Transaction>(new Transaction(std::move(st)));
}

Transaction::Transaction(std::unique_ptr<State> state) : state_(std::move(state)) {}
Transaction::~Transaction() = default;

uint64_t Transaction::base_generation() const { return state_->base_gen; }

Result<std::string> Transaction::Read(const std::string& path) const {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  std::optional<store::TreeFile> f;
  if (auto it = state_->changes.find(path); it != state_->changes.end()) {
    f = it->second.file;
  } else {
    f = Lookup(state_->base_files, path);
  }
  if (!f) return MakeError(Code::kNotFound, "no such file in the transaction", path);
  return state_->repo->store->ReadBlob(f->oid);
}

Result<bool> Transaction::Exists(const std::string& path) const {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  if (auto it = state_->changes.find(path); it != state_->changes.end())
    return it->second.file.has_value();
  return state_->base_files.count(path) > 0;
}

Result<std::vector<std::string>> Transaction::List() const {
  std::vector<std::string> out;
  for (const auto& [path, f] : state_->base_files)
    if (!state_->changes.count(path)) out.push_back(path);
  for (const auto& [path, c] : state_->changes)
    if (c.file) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

Status Transaction::Write(const std::string& path, std::string_view bytes, bool executable) {
  if (state_->finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  TXDIR_CHECK(internal::CheckRelativePath(path));
  // Objects are immutable and named by content, so writing them before the
  // lock is safe; unreferenced ones are harmless if we never commit.
  Fd pin = TXDIR_TRY(PinTmpForObjectWrites(*state_->repo));
  git_oid oid = TXDIR_TRY(state_->repo->store->WriteBlob(bytes));
  state_->changes[path] =
      State::Change{store::TreeFile{path, oid, executable ? 0100755u : 0100644u}, store::NowMs()};
  return Ok();
}

Status Transaction::Remove(const std::string& path) {
  if (state_->finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  TXDIR_CHECK(internal::CheckRelativePath(path));
  if (!TXDIR_TRY(Exists(path)))
    return MakeError(Code::kNotFound, "no such file in the transaction", path);
  state_->changes[path] = State::Change{std::nullopt, store::NowMs()};
  return Ok();
}

Status Transaction::ReplaceAllFrom(const std::string& dir) {
  if (state_->finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  Repository::Impl& r = *state_->repo;
  Fd pin = TXDIR_TRY(PinTmpForObjectWrites(r));
  auto files = TXDIR_TRY(
      internal::ScanSource(r.env, r.store.get(), dir, SymlinkPolicy::kInsideOnly, r.layout.meta));
  const int64_t now = store::NowMs();
  std::map<std::string, State::Change> changes;
  FileMap seen;
  for (auto& f : files) {
    seen.emplace(f.path, f);
    if (!SameFile(f, Lookup(state_->base_files, f.path))) changes[f.path] = State::Change{f, now};
  }
  for (const auto& [path, f] : state_->base_files)
    if (!seen.count(path)) changes[path] = State::Change{std::nullopt, now};
  state_->changes = std::move(changes);
  return Ok();
}

Result<CommitResult> Transaction::Commit(const CommitOptions& options) {
  State& st = *state_;
  if (st.finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  st.finished = true;
  Repository::Impl& r = *st.repo;
  std::optional<internal::WriterLock> lock = std::move(st.lock);
  if (!lock) lock.emplace(TXDIR_TRY(internal::LockForWrite(r)));
  TXDIR_FAILPOINT("tx.locked");

  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (!head && st.base_commit)
    return MakeError(Code::kCorruption, "the store's head disappeared during the transaction");
  const bool moved = head.has_value() != st.base_commit.has_value() ||
                     (head && !store::OidEqual(head->commit, *st.base_commit));
  // A `gc --prune-history` since Begin may have deleted the objects this
  // transaction wrote (they were unreachable then): nothing is lost by
  // starting over, so it is a conflict (RunTransaction and exec --retry
  // run it again), not damage.
  if (moved) {
    for (const auto& [path, change] : st.changes) {
      if (!change.file || TXDIR_TRY(r.store->HasObject(change.file->oid))) continue;
      return MakeError(Code::kConflict,
                       "conflict: gc --prune-history removed this transaction's new content of " +
                           internal::Printable(path) +
                           " before it committed; nothing was published; run it again");
    }
  }
  // Under kError a transaction commits only onto the generation it began
  // from (first committer wins). Comparing paths is not enough: a program
  // that read a file and wrote the same bytes another writer already
  // published (two increments of one counter) would otherwise be a silent
  // no-op, and a program may have read files it did not write.
  if (moved && options.strategy == Strategy::kError) {
    const FileMap now = head ? TXDIR_TRY(TreeMap(*r.store, head->tree)) : FileMap{};
    std::string changed, both;
    for (const auto& [path, change] : st.changes) {
      const auto base = Lookup(st.base_files, path);
      if (SameFile(change.file, base)) continue;
      changed += " " + internal::Printable(path);
      if (!SameFile(base, Lookup(now, path))) both += " " + internal::Printable(path);
    }
    if (!both.empty())
      changed = "; changed on both sides:" + both;
    else if (!changed.empty())
      changed = "; changed here:" + changed;
    if (!changed.empty())
      return MakeError(Code::kConflict,
                       "conflict: generation " + std::to_string(head ? head->meta.number : 0) +
                           " was published since this transaction began at generation " +
                           std::to_string(st.base_gen) +
                           " (strategy error commits only onto the generation it read); "
                           "nothing was published" +
                           changed);
  }
  // Nothing published since the base: theirs is the base itself, so every
  // change of ours applies as it is.
  FileMap theirs = st.base_files;
  if (moved) theirs = head ? TXDIR_TRY(TreeMap(*r.store, head->tree)) : FileMap{};
  std::map<std::string, internal::OurChange> ours;
  for (const auto& [path, change] : st.changes) ours[path] = {change.file, change.time_ms};
  auto tm = TXDIR_TRY(internal::MergeTrees(*r.store, options.strategy, st.base_files, ours, theirs,
                                           head ? head->meta.time_ms : 0));
  CommitResult result;
  result.merged = std::move(tm.merged);
  result.theirs_kept = std::move(tm.theirs_kept);
  result.renumbered = std::move(tm.renumbered);
  const std::vector<std::string>& conflicts = tm.conflicts;
  const std::vector<RecordConflict>& record_conflicts = tm.record_conflicts;
  FileMap& files = tm.files;
  if (!conflicts.empty() || !record_conflicts.empty()) {
    std::string msg = "conflict with generation " + std::to_string(head->meta.number) +
                      " (published since this transaction began at generation " +
                      std::to_string(st.base_gen) + "); nothing was published";
    if (!conflicts.empty()) {
      msg += "; changed on both sides:";
      for (const auto& p : conflicts) msg += " " + internal::Printable(p);
    }
    if (!record_conflicts.empty()) msg += "; records: " + DescribeConflicts(record_conflicts);
    return MakeError(Code::kConflict, msg);
  }
  TXDIR_FAILPOINT("tx.merged");

  std::vector<store::TreeFile> list;
  list.reserve(files.size());
  for (auto& [path, f] : files) list.push_back(f);
  git_oid tree = TXDIR_TRY(r.store->WriteTree(list));
  if (head && store::OidEqual(tree, head->tree)) {
    result.generation = TXDIR_TRY(internal::DescribeCommit(r, head->commit));
    return result;  // nothing to publish
  }
  // No head yet and nothing to add: publishing an empty generation 1 would
  // be a change the caller never made.
  if (!head && list.empty()) return result;
  internal::CommitPlan plan;
  plan.tree = tree;
  plan.meta.kind = options.kind;
  plan.meta.message = options.message;
  plan.author = options.author;
  if (head) {
    plan.expected_head = head->commit;
    plan.donors.push_back(head->meta.number);
  }
  result.generation = TXDIR_TRY(internal::CommitGeneration(r, *lock, std::move(plan)));
  result.published = true;
  lock->Finish();  // nothing left to repair (writer_lock.h)
  return result;
}

Result<CommitResult> RunTransaction(Repository& repo,
                                    const std::function<Status(Transaction&)>& body,
                                    const CommitOptions& options, int max_attempts) {
  for (int attempt = 1;; ++attempt) {
    auto tx = TXDIR_TRY(repo.Begin());
    TXDIR_CHECK(body(*tx));
    auto r = tx->Commit(options);
    if (r || r.error().code != Code::kConflict || attempt >= max_attempts) return r;
  }
}

}  // namespace txdir
