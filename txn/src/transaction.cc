// Transactions: staged changes against a base generation, merged with
// whatever was published since, then published through CommitGeneration.
#include "txdir/transaction.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <thread>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/group_commit.h"
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
    std::optional<store::TreeFile> file;  // nullopt: removed (unless edits)
    int64_t time_ms = 0;
    std::vector<RecordEdit> edits;  // non-empty: record edits applied at commit
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

// Applies `edits` in order to `doc`, the document of `path`; appends what
// each did to `results` (when given). On error `doc` may hold the edits
// before the failing one.
Status ApplyEdits(const std::string& path, const std::vector<RecordEdit>& edits, sdn::Document& doc,
                  std::vector<RecordEditResult>* results) {
  // Many edits of one table stay linear with an index; for one edit,
  // building it (a hash of every key) costs more than the one lookup.
  RecordKeyIndex index;
  RecordKeyIndex* by_key = edits.size() > 1 ? &index : nullptr;
  for (const RecordEdit& e : edits) {
    RecordEditResult done = TXDIR_TRY(ApplyRecordEdit(path, e, doc, by_key));
    if (results) results->push_back(std::move(done));
  }
  return Ok();
}

// `text` (an SDN file; empty: an empty document) with `edits` applied.
Result<std::string> ApplyEditsToText(const std::string& path, std::string_view text,
                                     const std::vector<RecordEdit>& edits,
                                     std::vector<RecordEditResult>* results) {
  sdn::Document doc = TXDIR_TRY(LoadRecordDocument(path, text));
  TXDIR_CHECK(ApplyEdits(path, edits, doc, results));
  return sdn::Write(doc);
}

// Whether a path with pending edits exists once they apply: it does, or an
// edit inserts (an insert into a missing file makes it).
bool ExistsWithEdits(const FileMap& base, const std::string& path,
                     const Transaction::State::Change& c) {
  return base.count(path) > 0 || std::any_of(c.edits.begin(), c.edits.end(),
                                             [](const RecordEdit& e) { return e.op == "insert"; });
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
    if (!it->second.edits.empty()) return WithEdits(path, it->second.edits);
    f = it->second.file;
  } else {
    f = Lookup(state_->base_files, path);
  }
  if (!f) return MakeError(Code::kNotFound, "no such file in the transaction", path);
  return state_->repo->store->ReadBlob(f->oid);
}

// The base version of `path` (an empty document when absent) with `edits`
// applied, as text.
Result<std::string> Transaction::WithEdits(const std::string& path,
                                           const std::vector<RecordEdit>& edits) const {
  std::string text;
  if (auto f = Lookup(state_->base_files, path))
    text = TXDIR_TRY(state_->repo->store->ReadBlob(f->oid));
  return ApplyEditsToText(path, text, edits, nullptr);
}

Result<bool> Transaction::Exists(const std::string& path) const {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  if (auto it = state_->changes.find(path); it != state_->changes.end()) {
    if (!it->second.edits.empty()) return ExistsWithEdits(state_->base_files, path, it->second);
    return it->second.file.has_value();
  }
  return state_->base_files.count(path) > 0;
}

Result<std::vector<std::string>> Transaction::List() const {
  std::vector<std::string> out;
  for (const auto& [path, f] : state_->base_files)
    if (!state_->changes.count(path)) out.push_back(path);
  for (const auto& [path, c] : state_->changes)
    if (c.edits.empty() ? c.file.has_value() : ExistsWithEdits(state_->base_files, path, c))
      out.push_back(path);
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

Status Transaction::EditRecords(const std::string& path, std::vector<RecordEdit> edits) {
  if (state_->finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  TXDIR_CHECK(internal::CheckRelativePath(path));
  for (const RecordEdit& e : edits) TXDIR_CHECK(CheckRecordEdit(e));
  if (edits.empty()) return Ok();
  auto it = state_->changes.find(path);
  if (it == state_->changes.end()) {
    state_->changes[path] = State::Change{std::nullopt, store::NowMs(), std::move(edits)};
    return Ok();
  }
  State::Change& c = it->second;
  if (!c.edits.empty()) {  // more edits of the same file: in order
    c.edits.insert(c.edits.end(), std::make_move_iterator(edits.begin()),
                   std::make_move_iterator(edits.end()));
    c.time_ms = store::NowMs();
    return Ok();
  }
  // Written (or removed: an empty document) by this transaction: its own
  // content, so the edits apply now.
  std::string text;
  if (c.file) text = TXDIR_TRY(state_->repo->store->ReadBlob(c.file->oid));
  const bool executable = c.file && c.file->mode == 0100755u;
  return Write(path, TXDIR_TRY(ApplyEditsToText(path, text, edits, nullptr)), executable);
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

namespace {

using internal::Claimed;
using internal::Head;
using internal::OurChange;
using internal::PendingTx;

// The record edits of a transaction, resolved (ResolveEdits).
struct EditedChanges {
  // The transaction's changes with each edited path either gone (applied
  // directly, below) or a file: the edits applied to its base version.
  // Unset when the transaction has no edits.
  std::optional<std::map<std::string, OurChange>> changes;
  // Paths whose edits apply to the newer file directly (ApplyDirectEdits,
  // once nothing else can fail): that file (nullopt: missing) and edits.
  std::map<std::string, std::pair<std::optional<store::TreeFile>, const std::vector<RecordEdit>*>>
      direct;
  std::map<std::string, std::vector<RecordEditResult>> results;  // by path
};

// True when applying `edits` to `now` (the file as published since) gives
// what the strategy's record merge of `base` + edits against `now` would:
// only sets, without versioning, of records that are in both with the same
// cells, in tables with the same columns. Every other record is then
// changed on one side only (kept as that side has it), and so is each
// edited one. Of the base it reads only the edited records
// (MergeCache::BaseRecords, of the file `path` at `base_blob`).
Result<bool> EditsApplyDirectly(const store::GitStore& store, internal::MergeCache& cache,
                                const std::string& path, const git_oid& base_blob,
                                const sdn::Document& now, const std::vector<RecordEdit>& edits) {
  for (const RecordEdit& e : edits) {
    if (e.op != "set" || e.versioning) return false;
    const sdn::Table* b = TXDIR_TRY(cache.BaseRecords(store, path, base_blob, e.table, e.id));
    const sdn::Table* n = now.Find(e.table);
    if (b == nullptr || n == nullptr || b->columns != n->columns) return false;
    const int rb = b->FindRow(e.id), rn = n->FindRow(e.id);
    if (rb < 0 || rn < 0 || b->rows[static_cast<size_t>(rb)] != n->rows[static_cast<size_t>(rn)])
      return false;
  }
  return true;
}

// Resolves the record edits of `tx` against `acc`, the files it commits
// onto. A path's edits apply to acc's version directly when that is the
// base version (and the strategy does not refuse a moved head), or when
// the strategy merges the path with the SDN record merge and
// EditsApplyDirectly says the merge would give the same; those are left
// for ApplyDirectEdits. Otherwise they apply here to the base version,
// which MergeTrees then merges like a Write of it.
Result<EditedChanges> ResolveEdits(Repository::Impl& r, const PendingTx& tx,
                                   const FileMap& base_files, const FileMap& acc, bool moved,
                                   internal::MergeCache& cache) {
  EditedChanges out;
  for (const auto& [path, c] : tx.changes) {
    if (c.edits.empty()) continue;
    if (!out.changes) out.changes = tx.changes;
    const auto base = Lookup(base_files, path), now = Lookup(acc, path);
    bool direct = false;
    if (SameFile(base, now)) {
      direct = !(moved && tx.strategy == Strategy::kError);
    } else if (base && now &&
               (tx.strategy == Strategy::kMerge || tx.strategy == Strategy::kLastModifiedWins) &&
               sdn::IsTablesPath(path) &&
               std::none_of(r.merge_drivers.begin(), r.merge_drivers.end(),
                            [&p = path](const auto& d) { return d->Handles(p); })) {
      auto n = TXDIR_TRY(cache.ReadDocument(*r.store, path, now->oid));
      direct = TXDIR_TRY(EditsApplyDirectly(*r.store, cache, path, base->oid, *n, c.edits));
    }
    if (direct) {
      out.direct[path] = {now, &c.edits};
      out.changes->erase(path);
      continue;
    }
    // This transaction's version: rendered and hashed, so that MergeTrees
    // compares it with the others by content, as it does a Write.
    auto doc = base ? TXDIR_TRY(cache.TakeDocument(*r.store, path, base->oid, /*own=*/false))
                    : std::make_shared<sdn::Document>();
    TXDIR_CHECK(ApplyEdits(path, c.edits, *doc, &out.results[path]));
    const git_oid oid = TXDIR_TRY(cache.Put(sdn::Write(*doc)));
    (*out.changes)[path] =
        OurChange{store::TreeFile{path, oid, base ? base->mode : 0100644u}, c.time_ms, {}};
  }
  return out;
}

// Applies the edits ResolveEdits left to apply directly; on success
// `files` holds each edited path's result. A document nothing else holds
// is edited in place when one edit is all the transaction makes (on error
// ApplyRecordEdit leaves it as it was); otherwise a copy.
Status ApplyDirectEdits(Repository::Impl& r, EditedChanges& edited, internal::MergeCache& cache,
                        FileMap* files) {
  size_t count = 0;
  for (const auto& [path, d] : edited.direct) count += d.second->size();
  for (const auto& [path, d] : edited.direct) {
    const auto& [now, edits] = d;
    const bool own = count == 1 && now.has_value();
    auto doc = now ? TXDIR_TRY(cache.TakeDocument(*r.store, path, now->oid, own))
                   : std::make_shared<sdn::Document>();
    std::vector<RecordEditResult>& results = edited.results[path];
    if (Status st = ApplyEdits(path, *edits, *doc, &results); !st) {
      if (own) cache.Restore(now->oid, std::move(doc));
      return st;
    }
    const bool changed = std::any_of(results.begin(), results.end(),
                                     [](const RecordEditResult& e) { return e.changed; });
    if (!changed && now) {
      if (own) cache.Restore(now->oid, std::move(doc));
      (*files)[path] = *now;
      continue;
    }
    (*files)[path] =
        store::TreeFile{path, cache.PutDocument(std::move(doc)), now ? now->mode : 0100644u};
  }
  return Ok();
}

// Applies `tx` on top of `acc`: the head's files plus what the transactions
// before it in this group changed (`group_moved`: they changed something).
// On success `acc` becomes the merged file set. `base_files`, when given,
// are the files of tx's base commit (the caller's own transaction has
// them already). Merged and edited tables stay in `cache` until the group's
// generation is written.
Result<CommitResult> ApplyPending(Repository::Impl& r, const std::optional<Head>& head,
                                  const PendingTx& tx, const FileMap* base_files, FileMap* acc,
                                  bool group_moved, int64_t acc_time_ms,
                                  internal::MergeCache& cache) {
  const bool head_moved = head.has_value() != tx.base_commit.has_value() ||
                          (head && !store::OidEqual(head->commit, *tx.base_commit));
  const bool moved = head_moved || group_moved;
  const std::string since =
      head_moved ? "generation " + std::to_string(head ? head->meta.number : 0) +
                       " was published since this transaction began at generation " +
                       std::to_string(tx.base_gen)
                 : "a transaction committed just before it in the same group changed the files "
                   "of generation " +
                       std::to_string(tx.base_gen) + " it began from";
  const FileMap no_files;
  if (!base_files) {
    base_files = &no_files;
    if (tx.base_commit) {
      base_files = TXDIR_TRY(cache.CommitFiles(*r.store, *tx.base_commit));
      if (base_files == nullptr)
        return MakeError(Code::kConflict,
                         "conflict: the generation this transaction began from (" +
                             std::to_string(tx.base_gen) +
                             ") is no longer in the history; nothing was published; run it again");
    }
  }
  // Record edits become files here: applied to the newer file when that
  // gives what a merge would, else to the base version as this
  // transaction's own (then merged like a Write).
  EditedChanges edited = TXDIR_TRY(ResolveEdits(r, tx, *base_files, *acc, moved, cache));
  const std::map<std::string, OurChange>& changes = edited.changes ? *edited.changes : tx.changes;
  // A `gc --prune-history` since the transaction began may have deleted the
  // objects it wrote (they were unreachable then): nothing is lost by
  // starting over, so it is a conflict (RunTransaction and exec --retry run
  // it again), not damage. A queued transaction's objects were written by
  // another process: always checked.
  if (moved || !tx.id.empty()) {
    for (const auto& [path, change] : tx.changes) {
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
  if (moved && tx.strategy == Strategy::kError) {
    std::string changed, both;
    for (const auto& [path, change] : changes) {
      const auto base = Lookup(*base_files, path);
      if (SameFile(change.file, base)) continue;
      changed += " " + internal::Printable(path);
      if (!SameFile(base, Lookup(*acc, path))) both += " " + internal::Printable(path);
    }
    if (!both.empty())
      changed = "; changed on both sides:" + both;
    else if (!changed.empty())
      changed = "; changed here:" + changed;
    if (!changed.empty())
      return MakeError(Code::kConflict, "conflict: " + since +
                                            " (strategy error commits only onto the generation "
                                            "it read); nothing was published" +
                                            changed);
  }
  // Not moved: `acc` is the base itself, so every change applies as it is.
  auto tm = TXDIR_TRY(internal::MergeTrees(*r.store, internal::MergeDriversOf(r), tx.strategy,
                                           *base_files, changes, *acc, acc_time_ms, &cache));
  if (tm.conflicted()) {
    std::string msg = "conflict: " + since + "; nothing was published";
    if (!tm.conflicts.empty()) {
      msg += "; changed on both sides:";
      for (const auto& p : tm.conflicts) msg += " " + internal::Printable(p);
    }
    if (!tm.record_conflicts.empty()) msg += "; records: " + DescribeConflicts(tm.record_conflicts);
    return MakeError(Code::kConflict, msg);
  }
  CommitResult result;
  result.merged = std::move(tm.merged);
  result.theirs_kept = std::move(tm.theirs_kept);
  result.renumbered = std::move(tm.renumbered);
  TXDIR_CHECK(ApplyDirectEdits(r, edited, cache, &tm.files));
  for (auto& [path, results] : edited.results)
    for (auto& e : results) result.record_edits.push_back(std::move(e));
  *acc = std::move(tm.files);
  return result;
}

// One transaction of a group commit and its outcome.
struct Slot {
  std::string id;  // empty: the caller's own
  const PendingTx* tx;
  Result<CommitResult> result;
};

// The metadata of a group's generation: the first transaction's kind and
// author (kind "transaction" when they differ), each distinct message once
// in order, the queued transactions' ids; the head as parent and donor.
internal::CommitPlan GroupPlan(const std::vector<Slot*>& ok, const std::optional<Head>& head,
                               const git_oid& tree) {
  internal::CommitPlan plan;
  plan.tree = tree;
  const PendingTx& first = *ok.front()->tx;
  plan.meta.kind = first.kind;
  plan.author = first.author;
  std::vector<std::string> messages;
  for (Slot* s : ok) {
    if (s->tx->kind != first.kind) plan.meta.kind = "transaction";
    if (std::find(messages.begin(), messages.end(), s->tx->message) == messages.end())
      messages.push_back(s->tx->message);
    if (!s->id.empty()) plan.meta.queued.push_back(s->id);
  }
  for (const std::string& m : messages)
    plan.meta.message += (plan.meta.message.empty() ? "" : "\n") + m;
  if (head) {
    plan.expected_head = head->commit;
    plan.donors.push_back(head->meta.number);
  }
  return plan;
}

// Publishes one generation of `acc`, the merged files of the transactions
// that applied (`ok`), and gives each its generation; an error fails them
// all. A tree equal to the head's publishes nothing: each gets the head.
void PublishGroup(Repository::Impl& r, const internal::WriterLock& lock,
                  const std::optional<Head>& head, const FileMap& acc, internal::MergeCache& cache,
                  const std::vector<Slot*>& ok) {
  std::optional<Error> publish_error;
  // The merged and edited tables the generation holds, written now: once
  // each.
  FileMap files = acc;
  auto flushed = cache.Flush(*r.store, &files);
  std::vector<store::TreeFile> list;
  list.reserve(files.size());
  for (const auto& [path, f] : files) list.push_back(f);
  Result<git_oid> tree =
      flushed ? r.store->WriteTree(list) : Result<git_oid>(tl::unexpected(flushed.error()));
  if (!tree) {
    publish_error = tree.error();
  } else if (head && store::OidEqual(*tree, head->tree)) {
    auto gen = internal::DescribeCommit(r, head->commit);  // nothing to publish
    if (!gen) publish_error = gen.error();
    for (Slot* s : ok)
      if (gen) s->result->generation = *gen;
  } else if (head || !list.empty()) {
    // (No head yet and nothing to add: publishing an empty generation 1
    // would be a change nobody made.)
    auto gen = internal::CommitGeneration(r, lock, GroupPlan(ok, head, *tree));
    if (!gen) {
      publish_error = gen.error();
    } else {
      TXDIR_FAILPOINT("group.committed");
      for (Slot* s : ok) {
        s->result->generation = *gen;
        s->result->published = true;
      }
      lock.Finish();  // nothing left to repair (writer_lock.h)
    }
  }
  if (publish_error)
    for (Slot* s : ok) s->result = tl::unexpected(*publish_error);
}

// Under the writer lock: applies the caller's own transaction (`own`, if
// any) and then every queued one it claims, publishes one generation for
// all that applied and answers the queued ones. `own_id`: the caller's own
// transaction is in the queue under this id (a queued writer whose poll
// took the lock). Returns the caller's own outcome.
Result<CommitResult> CommitAsHolder(Repository::Impl& r, const internal::WriterLock& lock,
                                    const PendingTx* own, const FileMap* own_base,
                                    const std::string& own_id) {
  auto head = TXDIR_TRY(internal::ReadHead(r));
  if (own && !head && own->base_commit)
    return MakeError(Code::kCorruption, "the store's head disappeared during the transaction");
  // A deque: slots point at the claimed transactions while more are claimed.
  std::deque<Claimed> claimed;
  for (Claimed& c : TXDIR_TRY(internal::ClaimQueued(r, internal::kMaxGroup, own_id)))
    claimed.push_back(std::move(c));

  FileMap acc = head ? TXDIR_TRY(TreeMap(*r.store, head->tree)) : FileMap{};
  int64_t acc_time = head ? head->meta.time_ms : 0;
  bool group_moved = false;
  internal::MergeCache cache;
  std::vector<Slot> slots;
  auto apply = [&](const std::string& id, const PendingTx& tx, const FileMap* base) {
    // A merge changes the file set only at the paths the transaction
    // touched: compare those, not a copy of the whole set.
    std::vector<std::optional<store::TreeFile>> before;
    before.reserve(tx.changes.size());
    for (const auto& [path, c] : tx.changes) before.push_back(Lookup(acc, path));
    auto res = ApplyPending(r, head, tx, base, &acc, group_moved, acc_time, cache);
    bool changed = false;
    size_t i = 0;
    for (const auto& [path, c] : tx.changes)
      changed = changed || !SameFile(before[i++], Lookup(acc, path));
    if (res && changed) {
      group_moved = true;
      for (const auto& [path, c] : tx.changes) acc_time = std::max(acc_time, c.time_ms);
    }
    slots.push_back(Slot{id, &tx, std::move(res)});
  };
  // The records a transaction's edits will read of the version it began
  // from (once the group has changed that file): named before a batch
  // applies, so that one scan of each version answers the whole batch
  // (MergeCache::BaseRecords). Errors here are ApplyPending's to report.
  auto want = [&](const PendingTx& tx, const FileMap* base) {
    if (!tx.base_commit) return;
    if (base == nullptr) {
      auto files = cache.CommitFiles(*r.store, *tx.base_commit);
      if (!files || *files == nullptr) return;
      base = *files;
    }
    for (const auto& [path, c] : tx.changes) {
      auto it = base->find(path);
      if (it == base->end()) continue;
      for (const RecordEdit& e : c.edits)
        if (e.op == "set") cache.WantRecord(it->second.oid, e.table, e.id);
    }
  };
  if (own) want(*own, own_base);
  for (const Claimed& c : claimed)
    if (c.tx) want(*c.tx, nullptr);
  if (own) apply("", *own, own_base);
  for (size_t next = 0;;) {
    for (; next < claimed.size(); ++next) {
      const Claimed& c = claimed[next];
      if (c.tx) {
        apply(c.id, *c.tx, nullptr);
      } else {
        slots.push_back(Slot{c.id, nullptr, tl::unexpected(c.error)});
      }
    }
    TXDIR_FAILPOINT("group.applied");
    // What was queued while these applied joins the group too, without
    // waiting for more: those writers would otherwise wait out this whole
    // turn and the next holder's fixed costs (reading the head's tables,
    // the flushes). An empty queue ends the group.
    if (claimed.size() >= internal::kMaxGroup) break;
    auto more = TXDIR_TRY(internal::ClaimQueued(r, internal::kMaxGroup - claimed.size()));
    if (more.empty()) break;
    for (Claimed& c : more) {
      if (c.tx) want(*c.tx, nullptr);
      claimed.push_back(std::move(c));
    }
  }
  TXDIR_FAILPOINT("tx.merged");

  // One generation for every transaction that applied.
  std::vector<Slot*> ok;
  for (Slot& s : slots)
    if (s.result) ok.push_back(&s);
  if (!ok.empty()) PublishGroup(r, lock, head, acc, cache, ok);

  Result<CommitResult> mine = MakeError(Code::kInternal, "the transaction was not applied");
  for (Slot& s : slots) {
    if (s.id.empty() || s.id == own_id) {
      if (s.id == own_id && !own_id.empty()) TXDIR_CHECK(internal::RemoveClaim(r, s.id));
      mine = std::move(s.result);
      continue;
    }
    TXDIR_CHECK(internal::WriteOutcome(r, s.id, s.result, s.tx));
  }
  if (!claimed.empty()) TXDIR_FAILPOINT("group.answered");
  return mine;
}

// A transaction that found the writer lock taken: queued for whoever holds
// it next (group_commit.h), or committed by this writer itself if its poll
// takes the lock first.
Result<CommitResult> CommitQueued(Repository::Impl& r, const PendingTx& own, Error lock_error) {
  TXDIR_CHECK(internal::CheckWriteTrust(r.env, r.layout, "write to"));
  // The holder refers to our objects: their names must be durable first
  // (in syncfs mode its barrier covers them).
  if (!internal::BatchedSync(r)) TXDIR_CHECK(r.store->SyncObjects());
  internal::QueuedRequest q = TXDIR_TRY(internal::Enqueue(r, own));
#ifdef TXDIR_TESTING
  // Crash tests: a queued writer that only waits for its outcome and never
  // takes the lock, so that the process under test commits the group.
  static const bool follow_only = std::getenv("TXDIR_GROUP_FOLLOW_ONLY") != nullptr;
#else
  constexpr bool follow_only = false;
#endif
  // A cheap look at the lock between polls: a flock try on a descriptor
  // kept open. Only when it is free does the writer try for real (trust
  // check, holder record, recovery when due).
  auto probe = r.env->OpenAt(Env::kCwd, r.layout.lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  auto lock_looks_free = [&]() -> bool {
    if (!probe) return true;
    auto got = r.env->Flock(probe->get(), LockMode::kExclusive, /*wait=*/false);
    if (!got) return got.error().code != Code::kLocked;
    (void)r.env->Unlock(probe->get());
    return true;
  };
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + r.lock_timeout;
  bool taken = false;  // a holder claimed it: its outcome will follow
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    if (auto o = TXDIR_TRY(internal::TakeOutcome(r, q))) return std::move(*o);
    auto got = follow_only || !lock_looks_free()
                   ? Result<internal::WriterLock>(tl::unexpected(lock_error))
                   : internal::LockForWrite(r, std::chrono::milliseconds(0), false);
    if (got) {
      if (auto o = TXDIR_TRY(internal::TakeOutcome(r, q))) {
        got->Finish();
        return std::move(*o);
      }
      if (!TXDIR_TRY(internal::StillQueued(r, q)))
        return MakeError(Code::kInternal, "queued transaction " + q.id() +
                                              " was taken by a writer that left no outcome");
      TXDIR_FAILPOINT("tx.locked");
      return CommitAsHolder(r, *got, nullptr, nullptr, q.id());
    }
    if (got.error().code != Code::kLocked) {
      (void)internal::Cancel(r, q);
      return tl::unexpected(got.error());
    }
    lock_error = got.error();
    if (Clock::now() >= deadline) {
      if (!taken) {
        if (TXDIR_TRY(internal::Cancel(r, q)))
          return tl::unexpected(internal::LockTimedOut(r.env, r.layout.lock, r.lock_timeout));
        // Too late to withdraw: wait for the holder that has it as long again.
        taken = true;
        deadline = Clock::now() + r.lock_timeout;
      } else {
        return MakeError(Code::kTimeout,
                         "commit outcome unknown: the writer holding the lock took this "
                         "transaction (queued as " +
                             q.id() +
                             ") and has not answered; `txdir log` shows whether it was "
                             "published");
      }
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(internal::kLockPollCap));
  }
}

}  // namespace

Result<CommitResult> Transaction::Commit(const CommitOptions& options) {
  State& st = *state_;
  if (st.finished) return MakeError(Code::kInvalidArgument, "transaction is finished");
  st.finished = true;
  Repository::Impl& r = *st.repo;
  PendingTx own;
  own.base_commit = st.base_commit;
  own.base_gen = st.base_gen;
  for (const auto& [path, change] : st.changes)
    own.changes[path] = {change.file, change.time_ms, change.edits};
  own.strategy = options.strategy;
  own.message = options.message;
  own.author = options.author;
  own.kind = options.kind;
  std::optional<internal::WriterLock> lock = std::move(st.lock);
  if (!lock && own.changes.empty()) {
    lock.emplace(TXDIR_TRY(internal::LockForWrite(r)));
  } else if (!lock) {
    // Try once: a writer busy with the lock takes this transaction in with
    // its own generation (group commit) instead of making it wait a turn.
    auto got = internal::LockForWrite(r, std::chrono::milliseconds(0), false);
    if (!got && got.error().code == Code::kLocked) return CommitQueued(r, own, got.error());
    if (!got) return tl::unexpected(got.error());
    lock.emplace(std::move(*got));
  }
  TXDIR_FAILPOINT("tx.locked");
  return CommitAsHolder(r, *lock, &own, &st.base_files, "");
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
