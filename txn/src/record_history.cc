// Record history and blame: one SDN record followed through the
// generations. Both walk the store's parent links from a generation back;
// a generation whose file has its parent's blob changed nothing in it and
// costs one tree lookup; each version of the file that differs is read and
// parsed once, and is the next step's newer side.
#include <map>
#include <set>

#include "store/history_walk.h"
#include "txdir/history.h"
#include "txdir/sdn.h"
#include "txn/src/history_util.h"
#include "txn/src/path_check.h"

namespace txdir {

namespace {

// One version of the file along the walk: its blob (none when the
// generation has no such file) and, once needed, its parsed document.
struct Version {
  std::optional<git_oid> blob;
  std::optional<sdn::Document> doc;
};

// A generation's commit, walked from newest to oldest.
class Walk {
 public:
  Walk(Repository::Impl& r, const std::string& path) : r_(r), path_(path) {}

  Status Start(const git_oid& commit) {
    gens_.emplace(*r_.store, commit);
    TXDIR_CHECK(gens_->Next());  // onto `commit` itself: reads nothing
    commit_ = commit;
    return Load(commit, &cur_);
  }
  // Moves to the parent; false at the oldest retained generation.
  Result<bool> Step() {
    if (!TXDIR_TRY(gens_->Next())) return false;
    const git_oid parent = gens_->commit();
    Version older;
    TXDIR_CHECK(Load(parent, &older));
    prev_ = std::move(cur_);
    cur_ = std::move(older);
    child_ = commit_;
    commit_ = parent;
    return true;
  }
  // Whether the file differs between the current generation and the one
  // stepped back from (the child).
  bool Changed() const {
    if (!prev_.blob || !cur_.blob) return prev_.blob.has_value() != cur_.blob.has_value();
    return !store::OidEqual(*prev_.blob, *cur_.blob);
  }
  Result<const sdn::Table*> Table(Version* v, const git_oid& at, const std::string& name) {
    if (!v->blob) return static_cast<const sdn::Table*>(nullptr);
    if (!v->doc) {
      const std::string text = TXDIR_TRY(r_.store->ReadBlob(*v->blob));
      auto doc = sdn::Parse(text);
      if (!doc) {
        auto meta = TXDIR_TRY(r_.store->ReadMeta(at));
        return MakeError(Code::kInvalidArgument,
                         "not valid SDN in generation " + std::to_string(meta.number) + ": " +
                             doc.error().message,
                         path_);
      }
      v->doc = std::move(*doc);
    }
    return v->doc->Find(name);
  }
  Result<const sdn::Table*> CurrentTable(const std::string& name) {
    return Table(&cur_, commit_, name);
  }
  Result<const sdn::Table*> ChildTable(const std::string& name) {
    return Table(&prev_, child_, name);
  }
  const git_oid& commit() const { return commit_; }
  const git_oid& child() const { return child_; }

 private:
  Status Load(const git_oid& commit, Version* v) {
    const git_oid tree = TXDIR_TRY(r_.store->CommitTree(commit));
    auto file = r_.store->FindFile(tree, path_);
    if (file) {
      v->blob = file->oid;
    } else if (file.error().code != Code::kNotFound) {
      return tl::unexpected(file.error());
    }
    return Ok();
  }

  Repository::Impl& r_;
  std::string path_;
  std::optional<store::GenerationWalk> gens_;  // back from Start's commit
  git_oid commit_{}, child_{};
  Version cur_, prev_;
};

// The record's fields by column name; nullopt when absent.
using Fields = std::vector<std::pair<std::string, std::string>>;
std::optional<Fields> RecordOf(const sdn::Table* t, const std::string& id) {
  if (t == nullptr) return std::nullopt;
  const int row = t->FindRow(id);
  if (row < 0) return std::nullopt;
  Fields f;
  for (size_t c = 0; c < t->columns.size(); ++c)
    f.emplace_back(t->columns[c], t->rows[static_cast<size_t>(row)][c]);
  return f;
}

const std::string* ValueOf(const Fields& f, const std::string& column) {
  for (const auto& [name, value] : f)
    if (name == column) return &value;
  return nullptr;
}

// The event that turned `older` into `newer`, if anything changed.
std::optional<RecordEvent> EventBetween(const std::optional<Fields>& older,
                                        const std::optional<Fields>& newer) {
  RecordEvent e;
  if (!older && !newer) return std::nullopt;
  if (!older) {
    e.kind = RecordChangeKind::kAdded;
    for (const auto& [name, value] : *newer) e.fields.push_back({name, "", value});
    return e;
  }
  if (!newer) {
    e.kind = RecordChangeKind::kRemoved;
    for (const auto& [name, value] : *older) e.fields.push_back({name, value, ""});
    return e;
  }
  e.kind = RecordChangeKind::kChanged;
  for (const auto& [name, value] : *newer) {
    const std::string* old = ValueOf(*older, name);
    if (old == nullptr || *old != value) e.fields.push_back({name, old ? *old : "", value});
  }
  for (const auto& [name, value] : *older)
    if (ValueOf(*newer, name) == nullptr) e.fields.push_back({name, value, ""});
  if (e.fields.empty()) return std::nullopt;
  return e;
}

Status CheckArgs(const std::string& path, const std::string& table) {
  TXDIR_CHECK(internal::CheckRelativePath(path));
  if (table.empty()) return MakeError(Code::kInvalidArgument, "empty table name");
  return Ok();
}

}  // namespace

Result<std::vector<RecordEvent>> RecordHistory(Repository& repo, const std::string& path,
                                               const std::string& table, const std::string& id,
                                               size_t limit) {
  TXDIR_CHECK(CheckArgs(path, table));
  Repository::Impl& r = internal::ImplOf(repo);
  std::vector<RecordEvent> out;
  auto head = TXDIR_TRY(r.store->Head());
  if (!head) return out;
  Walk walk(r, path);
  TXDIR_CHECK(walk.Start(*head));
  // The record in the newer of the two generations being compared.
  std::optional<Fields> newer = RecordOf(TXDIR_TRY(walk.CurrentTable(table)), id);
  while (limit == 0 || out.size() < limit) {
    if (!TXDIR_TRY(walk.Step())) {
      // The oldest retained generation adds what it holds.
      if (auto e = EventBetween(std::nullopt, newer)) {
        e->info = TXDIR_TRY(internal::DescribeCommit(r, walk.commit()));
        out.push_back(std::move(*e));
      }
      break;
    }
    if (!walk.Changed()) continue;
    std::optional<Fields> older = RecordOf(TXDIR_TRY(walk.CurrentTable(table)), id);
    if (auto e = EventBetween(older, newer)) {
      e->info = TXDIR_TRY(internal::DescribeCommit(r, walk.child()));
      out.push_back(std::move(*e));
    }
    newer = std::move(older);
  }
  return out;
}

Result<std::vector<BlameLine>> Blame(Repository& repo, uint64_t gen, const std::string& path,
                                     const std::string& table, const std::optional<std::string>& id,
                                     bool fields) {
  TXDIR_CHECK(CheckArgs(path, table));
  Repository::Impl& r = internal::ImplOf(repo);
  const git_oid start = TXDIR_TRY(internal::FindGeneration(r, gen));
  Walk walk(r, path);
  TXDIR_CHECK(walk.Start(start));
  const sdn::Table* t = TXDIR_TRY(walk.CurrentTable(table));
  const std::string where = " in generation " + std::to_string(gen);
  if (t == nullptr) {
    auto tree = TXDIR_TRY(r.store->CommitTree(start));
    if (!r.store->FindFile(tree, path))
      return MakeError(Code::kNotFound, "no such file" + where, path);
    return MakeError(Code::kNotFound, "no table '" + table + "'" + where, path);
  }
  // The lines to resolve, in table order, and for each record its current
  // fields (what every older version is compared with).
  std::vector<BlameLine> out;
  std::map<std::string, Fields> current;
  std::vector<std::string> order;
  for (const auto& row : t->rows) {
    const std::string& key = row[t->KeyIndex()];
    if (id && key != *id) continue;
    if (current.count(key) != 0) continue;  // a repeated key: FindRow's row
    current[key] = *RecordOf(t, key);
    order.push_back(key);
  }
  if (id && order.empty())
    return MakeError(Code::kNotFound, "no record '" + *id + "' in table '" + table + "'" + where,
                     path);
  // line index by (id, field); field "" for the whole record.
  std::map<std::pair<std::string, std::string>, size_t> open;
  for (const auto& key : order) {
    if (!fields) {
      open[{key, ""}] = out.size();
      out.push_back(BlameLine{key, "", "", {}});
      continue;
    }
    for (const auto& [column, value] : current[key]) {
      open[{key, column}] = out.size();
      out.push_back(BlameLine{key, column, value, {}});
    }
  }
  // Walk back: a line is resolved by the newest generation whose parent
  // has a different value (or no such record).
  while (!open.empty()) {
    if (!TXDIR_TRY(walk.Step())) break;
    if (!walk.Changed()) continue;
    const sdn::Table* older_table = TXDIR_TRY(walk.CurrentTable(table));
    std::optional<GenerationInfo> child;
    for (auto it = open.begin(); it != open.end();) {
      const auto& [key, column] = it->first;
      const std::optional<Fields> older = RecordOf(older_table, key);
      bool changed = !older.has_value();
      if (!changed) {
        if (column.empty()) {
          changed = *older != current[key];
        } else {
          const std::string* old_value = ValueOf(*older, column);
          changed = old_value == nullptr || *old_value != out[it->second].value;
        }
      }
      if (!changed) {
        ++it;
        continue;
      }
      if (!child) child = TXDIR_TRY(internal::DescribeCommit(r, walk.child()));
      out[it->second].info = *child;
      it = open.erase(it);
    }
  }
  // Unchanged since the oldest retained generation (or the walk's end).
  if (!open.empty()) {
    const GenerationInfo oldest = TXDIR_TRY(internal::DescribeCommit(r, walk.commit()));
    for (const auto& [k, index] : open) out[index].info = oldest;
  }
  return out;
}

}  // namespace txdir
