// Three-way merge of one SDN table; the rules are in record_merge.h.
#include "txdir/record_merge.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "merge_util.h"
#include "txdir/records.h"

namespace txdir {
namespace {

using internal::IsBookkeeping;
using internal::LaterTimestamp;

// One input table indexed by key.
struct Side {
  const sdn::Table* table = nullptr;
  std::unordered_map<std::string, size_t> rows;  // key -> row index
};

Result<Side> IndexSide(const sdn::Table& table, const std::string& key, const char* which) {
  Side side{&table, {}};
  if (table.rows.empty()) return side;  // an empty table needs no key column
  int k = table.ColumnIndex(key);
  if (k < 0) {
    return MakeError(Code::kInvalidArgument,
                     "table '" + table.name + "' (" + which + ") has no key column '" + key + "'");
  }
  side.rows.reserve(table.rows.size());
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (!side.rows.emplace(table.rows[r][k], r).second) {
      return MakeError(Code::kInvalidArgument, "table '" + table.name + "' (" + which + "): key '" +
                                                   table.rows[r][k] + "' appears twice");
    }
  }
  return side;
}

class TableMerger {
 public:
  TableMerger(const Side& base, const Side& ours, const Side& theirs, std::string key,
              const MergeOptions& options)
      : base_(base),
        ours_(ours),
        theirs_(theirs),
        key_(std::move(key)),
        options_(options),
        columns_(ours.table->columns) {
    for (const std::string& c : theirs.table->columns)
      if (std::find(columns_.begin(), columns_.end(), c) == columns_.end()) columns_.push_back(c);
    same_columns_ = base.table->columns == columns_ && theirs.table->columns == columns_;
  }

  TableMerge Run() {
    TableMerge out;
    out.table.name = ours_.table->name;
    out.table.columns = columns_;
    std::unordered_set<std::string> resolved;
    resolved.reserve(theirs_.rows.size() + ours_.rows.size());
    std::vector<std::string> to_renumber;
    auto emit = [&](const Row& row) {
      std::vector<std::string> cells;
      for (const std::string& c : columns_) cells.push_back(row.at(c));
      out.table.rows.push_back(std::move(cells));
    };
    auto visit = [&](const std::string& id) {
      if (!resolved.insert(id).second) {
        if (NeedsRenumber(id)) to_renumber.push_back(id);
        return;
      }
      if (const std::vector<std::string>* cells = Unchanged(id)) {
        out.table.rows.push_back(*cells);
        return;
      }
      if (std::optional<Row> row = Resolve(id, out)) emit(*row);
    };
    // Theirs's order first: the published file changes least.
    for (const auto& [id, r] : OrderOf(theirs_)) visit(id);
    for (const auto& [id, r] : OrderOf(ours_)) visit(id);
    Renumber(to_renumber, out, emit);
    return out;
  }

 private:
  // Keys in the table's row order.
  static std::vector<std::pair<std::string, size_t>> OrderOf(const Side& side) {
    std::vector<std::pair<std::string, size_t>> order(side.rows.begin(), side.rows.end());
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    return order;
  }

  // The cells of record `id` of `side`, or nullptr when it has none.
  static const std::vector<std::string>* CellsOf(const Side& side, const std::string& id) {
    auto it = side.rows.find(id);
    return it == side.rows.end() ? nullptr : &side.table->rows[it->second];
  }

  // The answer for record `id` when at most one side changed it, found by
  // comparing cells: what Resolve answers for such a record, without
  // building its rows. Only when the three tables have the same columns (a
  // side's cells are then its row over the merged columns); nullptr when
  // Resolve must decide.
  const std::vector<std::string>* Unchanged(const std::string& id) const {
    if (!same_columns_) return nullptr;
    const auto *b = CellsOf(base_, id), *o = CellsOf(ours_, id), *t = CellsOf(theirs_, id);
    if (b == nullptr) return o == nullptr ? t : t == nullptr ? o : *o == *t ? o : nullptr;
    if (o == nullptr || t == nullptr) return nullptr;  // deleted on a side
    if (*o == *t || *t == *b) return o;
    if (*o == *b) return t;
    return nullptr;
  }

  // The record `id` of `side` over the merged columns. A column the side does
  // not have is taken from base (the side did not change it), or "" for a
  // record base does not have.
  Row RowAt(const Side& side, const std::string& id) const {
    Row row;
    const sdn::Table& t = *side.table;
    const auto& cells = t.rows[side.rows.at(id)];
    auto base_it = base_.rows.find(id);
    for (const std::string& c : columns_) {
      int i = t.ColumnIndex(c);
      std::string& value = row[c];
      if (i >= 0) {
        value = cells[i];
      } else if (&side != &base_ && base_it != base_.rows.end()) {
        int bi = base_.table->ColumnIndex(c);
        if (bi >= 0) value = base_.table->rows[base_it->second][bi];
      }
    }
    return row;
  }

  // Content columns (not bookkeeping) whose value differs between a and b.
  std::vector<std::string> Changed(const Row& a, const Row& b) const {
    std::vector<std::string> fields;
    for (const std::string& c : columns_)
      if (!IsBookkeeping(c) && a.at(c) != b.at(c)) fields.push_back(c);
    return fields;
  }

  // Field-by-field combination; bookkeeping columns merged as documented.
  Row Combine(const Row& b, const Row& o, const Row& t) const {
    Row out = b;
    for (const std::string& c : columns_) {
      if (IsBookkeeping(c)) continue;
      out[c] = o.at(c) != b.at(c) ? o.at(c) : t.at(c);
    }
    internal::MergeBookkeeping(o, t, out);
    return out;
  }

  bool TheirsNewer(const Row& o, const Row& t) const {
    auto it_o = o.find(kLastModifiedColumn), it_t = t.find(kLastModifiedColumn);
    if (it_o == o.end() || it_t == t.end()) return false;
    return LaterTimestamp(it_t->second, it_o->second);
  }

  void AddConflict(TableMerge& out, const std::string& id, std::vector<std::string> fields,
                   ConflictKind kind) const {
    out.conflicts.push_back(RecordConflict{ours_.table->name, id, std::move(fields), kind});
  }

  // Both sides changed the record's content, differently.
  Row BothChanged(const std::string& id, const Row& b, const Row& o, const Row& t,
                  TableMerge& out) const {
    auto fo = Changed(b, o), ft = Changed(b, t);
    switch (options_.strategy) {
      case Strategy::kMerge: {
        std::vector<std::string> overlap;
        for (const std::string& c : fo)
          if (std::find(ft.begin(), ft.end(), c) != ft.end() && o.at(c) != t.at(c))
            overlap.push_back(c);
        if (overlap.empty()) return Combine(b, o, t);
        AddConflict(out, id, std::move(overlap), ConflictKind::kBothModified);
        return o;
      }
      case Strategy::kError: {
        std::vector<std::string> all;
        for (const std::string& c : columns_)
          if (std::count(fo.begin(), fo.end(), c) || std::count(ft.begin(), ft.end(), c))
            all.push_back(c);
        AddConflict(out, id, std::move(all), ConflictKind::kBothModified);
        return o;
      }
      case Strategy::kLastWriteWins:
        return o;
      case Strategy::kLastModifiedWins:
        return TheirsNewer(o, t) ? t : o;
    }
    return o;
  }

  // The merged record `id`, or nullopt when it is deleted.
  std::optional<Row> Resolve(const std::string& id, TableMerge& out) const {
    bool in_b = base_.rows.count(id), in_o = ours_.rows.count(id), in_t = theirs_.rows.count(id);
    std::optional<Row> o, t;
    if (in_o) o = RowAt(ours_, id);
    if (in_t) t = RowAt(theirs_, id);
    if (!in_b) {
      if (!in_o || !in_t) return in_o ? o : t;
      if (*o == *t) return o;
      if (Changed(*o, *t).empty()) return Combine(*o, *o, *t);  // same content, stamps differ
      if (IsNumericId(id)) return t;                            // ours is renumbered in Renumber()
      switch (options_.strategy) {
        case Strategy::kMerge:
        case Strategy::kError:
          AddConflict(out, id, Changed(*o, *t), ConflictKind::kBothInserted);
          return o;
        case Strategy::kLastWriteWins:
          return o;
        case Strategy::kLastModifiedWins:
          return TheirsNewer(*o, *t) ? t : o;
      }
      return o;
    }
    Row b = RowAt(base_, id);
    if (in_o && in_t) {
      if (*o == *t) return o;
      if (*o == b) return t;
      if (*t == b) return o;
      if (Changed(b, *o).empty() || Changed(b, *t).empty() || Changed(*o, *t).empty())
        return Combine(b, *o, *t);
      return BothChanged(id, b, *o, *t, out);
    }
    if (!in_o && !in_t) return std::nullopt;
    // Deleted on one side. A side that changed only bookkeeping did not
    // really update the record, so the deletion stands.
    const Row& kept = in_o ? *o : *t;
    std::vector<std::string> changed = Changed(b, kept);
    if (changed.empty()) return std::nullopt;
    bool conflict = options_.strategy == Strategy::kMerge || options_.strategy == Strategy::kError;
    if (conflict) {
      AddConflict(out, id, std::move(changed),
                  in_o ? ConflictKind::kDeletedByTheirs : ConflictKind::kDeletedByOurs);
    }
    if (in_o) return o;   // ours updated it: ours wins, or conflict shown as ours
    return std::nullopt;  // ours deleted it
  }

  // Both sides inserted numeric key `id` with different content.
  bool NeedsRenumber(const std::string& id) const {
    if (base_.rows.count(id) || !ours_.rows.count(id) || !theirs_.rows.count(id)) return false;
    return IsNumericId(id) && !Changed(RowAt(ours_, id), RowAt(theirs_, id)).empty();
  }

  template <class Emit>
  void Renumber(const std::vector<std::string>& ids, TableMerge& out, Emit& emit) const {
    if (ids.empty()) return;
    std::vector<std::string> all;
    for (const Side* s : {&base_, &ours_, &theirs_})
      for (const auto& [id, r] : s->rows) all.push_back(id);
    std::string next = NextNumericId(all);
    for (const std::string& id : ids) {
      Row row = RowAt(ours_, id);
      row[key_] = next;
      out.renumbered.push_back(Renumbered{ours_.table->name, id, next});
      emit(row);
      std::vector<std::string> one{next};
      next = NextNumericId(one);
    }
  }

  const Side& base_;
  const Side& ours_;
  const Side& theirs_;
  std::string key_;
  const MergeOptions& options_;
  std::vector<std::string> columns_;
  bool same_columns_ = false;  // base, ours and theirs have columns_, in that order
};

}  // namespace

Result<TableMerge> MergeTable(const sdn::Table& base, const sdn::Table& ours,
                              const sdn::Table& theirs, const MergeOptions& options) {
  // One side unchanged: the other side is the answer, byte for byte.
  if (ours == base || ours == theirs) return TableMerge{theirs, {}, {}};
  if (theirs == base) return TableMerge{ours, {}, {}};
  std::string key = options.key_column;
  if (key.empty())
    key = ours.ColumnIndex("id") >= 0 || ours.columns.empty() ? "id" : ours.columns[0];
  Side b = TXDIR_TRY(IndexSide(base, key, "base"));
  Side o = TXDIR_TRY(IndexSide(ours, key, "ours"));
  Side t = TXDIR_TRY(IndexSide(theirs, key, "theirs"));
  return TableMerger(b, o, t, key, options).Run();
}

}  // namespace txdir
