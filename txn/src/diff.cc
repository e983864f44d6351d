// Differences between two generations as text (unified diff, stat,
// name-status) and, for SDN tables, as added/removed/changed records.
#include <algorithm>
#include <cstdio>
#include <map>

#include "txdir/history.h"
#include "txdir/sdn.h"
#include "txn/src/history_util.h"
#include "txn/src/path_check.h"

namespace txdir {

namespace {

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Result<std::string> FormatDiff(Repository& repo, uint64_t from, uint64_t to, DiffFormat format,
                               const std::string& path) {
  Repository::Impl& r = internal::ImplOf(repo);
  const std::string selector = internal::NormalizeSelector(path);
  if (!selector.empty()) TXDIR_CHECK(internal::CheckRelativePath(selector));
  const store::TreeDiff diff =
      TXDIR_TRY(store::TreeDiff::Compare(*r.store, TXDIR_TRY(internal::GenerationTree(r, from)),
                                         TXDIR_TRY(internal::GenerationTree(r, to))));

  std::string out;
  if (format == DiffFormat::kNameStatus) {
    for (const auto& c : TXDIR_TRY(internal::ChangesOf(r, diff, selector)))
      out += std::string(1, static_cast<char>(c.kind)) + "\t" + PrintablePath(c.path) + "\n";
    return out;
  }

  struct Stat {
    std::string path;
    bool binary = false;
    size_t adds = 0, dels = 0;
    uint64_t old_size = 0, new_size = 0;
  };
  std::vector<Stat> stats;
  for (size_t i = 0; i < diff.changes().size(); ++i) {
    const store::TreeChange& c = diff.changes()[i];
    if (!internal::PathSelected(c.path, selector)) continue;
    const store::FilePatch p = TXDIR_TRY(diff.Patch(i, format == DiffFormat::kPatch));
    if (format == DiffFormat::kPatch) {
      if (p.binary) {
        out += "diff --git a/" + c.path + " b/" + c.path + "\n";
        if (c.kind == store::TreeChange::Kind::kAdded) out += "new file\n";
        if (c.kind == store::TreeChange::Kind::kRemoved) out += "deleted file\n";
        out += "binary files differ\n";
        continue;
      }
      out += p.text;
      continue;
    }
    stats.push_back(Stat{PrintablePath(c.path), p.binary, p.lines_added, p.lines_removed,
                         p.old_size, p.new_size});
  }
  if (format == DiffFormat::kPatch || stats.empty()) return out;

  size_t width = 0;
  size_t adds = 0, dels = 0;
  for (const auto& s : stats) {
    width = std::max(width, s.path.size());
    adds += s.adds;
    dels += s.dels;
  }
  for (const auto& s : stats) {
    out += " " + s.path + std::string(width - s.path.size(), ' ') + " | ";
    if (s.binary)
      out += "binary, " + std::to_string(s.old_size) + " -> " + std::to_string(s.new_size) +
             " bytes\n";
    else
      out += "+" + std::to_string(s.adds) + " -" + std::to_string(s.dels) + "\n";
  }
  out += " " + Plural(stats.size(), "file", "files") + " changed, " +
         Plural(adds, "insertion(+)", "insertions(+)") + ", " +
         Plural(dels, "deletion(-)", "deletions(-)") + "\n";
  return out;
}

// --- records

namespace {

// `any` is old_t when there is one, else new_t.
std::string KeyColumn(const sdn::Table* old_t, const sdn::Table* new_t, const sdn::Table& any) {
  auto has = [](const sdn::Table* t, const std::string& c) {
    return t == nullptr || t->ColumnIndex(c) >= 0;
  };
  if (has(old_t, "id") && has(new_t, "id")) return "id";
  return any.columns.empty() ? std::string() : any.columns.front();
}

// The caller passes at least one side: a table on both sides, added or removed.
TableDiff CompareTables(const sdn::Table* old_t, const sdn::Table* new_t) {
  TableDiff td;
  const sdn::Table* any = old_t != nullptr ? old_t : new_t;
  if (any == nullptr) return td;
  td.name = any->name;
  td.key = KeyColumn(old_t, new_t, *any);
  td.table_added = old_t == nullptr;
  td.table_removed = new_t == nullptr;
  static const sdn::Table kEmpty;
  const sdn::Table& o = old_t != nullptr ? *old_t : kEmpty;
  const sdn::Table& n = new_t != nullptr ? *new_t : kEmpty;
  const int ok = o.ColumnIndex(td.key), nk = n.ColumnIndex(td.key);

  // Columns both sides have, in the old side's order, as index pairs.
  std::vector<std::pair<size_t, size_t>> common;
  if (old_t != nullptr && new_t != nullptr) {
    for (size_t c = 0; c < o.columns.size(); ++c) {
      int j = n.ColumnIndex(o.columns[c]);
      if (j >= 0)
        common.emplace_back(c, static_cast<size_t>(j));
      else
        td.columns_removed.push_back(o.columns[c]);
    }
    for (const auto& c : n.columns)
      if (o.ColumnIndex(c) < 0) td.columns_added.push_back(c);
  }

  // The k-th record with an id on one side matches the k-th on the other.
  std::map<std::string, std::vector<size_t>> new_by_id;
  if (nk >= 0)
    for (size_t i = 0; i < n.rows.size(); ++i)
      new_by_id[n.rows[i][static_cast<size_t>(nk)]].push_back(i);
  std::vector<bool> used(n.rows.size(), false);
  std::map<std::string, size_t> seen;
  if (ok >= 0) {
    for (const auto& row : o.rows) {
      const std::string& id = row[static_cast<size_t>(ok)];
      size_t k = seen[id]++;
      auto it = new_by_id.find(id);
      if (it == new_by_id.end() || k >= it->second.size()) {
        td.records.push_back(RecordChange{RecordChangeKind::kRemoved, id, {}});
        continue;
      }
      size_t ni = it->second[k];
      used[ni] = true;
      RecordChange rc{RecordChangeKind::kChanged, id, {}};
      for (auto [oc, nc] : common)
        if (row[oc] != n.rows[ni][nc])
          rc.fields.push_back(FieldChange{o.columns[oc], row[oc], n.rows[ni][nc]});
      if (!rc.fields.empty()) td.records.push_back(std::move(rc));
    }
  }
  if (nk >= 0)
    for (size_t i = 0; i < n.rows.size(); ++i)
      if (!used[i])
        td.records.push_back(
            RecordChange{RecordChangeKind::kAdded, n.rows[i][static_cast<size_t>(nk)], {}});
  return td;
}

// Tables matched by name; the k-th table of a name matches the k-th.
std::vector<TableDiff> CompareDocuments(const sdn::Document& a, const sdn::Document& b) {
  std::map<std::string, std::vector<const sdn::Table*>> b_by_name;
  for (const auto& t : b.tables) b_by_name[t.name].push_back(&t);
  std::map<std::string, size_t> seen;
  std::vector<const sdn::Table*> matched;
  std::vector<TableDiff> out;
  for (const auto& t : a.tables) {
    size_t k = seen[t.name]++;
    auto it = b_by_name.find(t.name);
    const sdn::Table* other =
        it != b_by_name.end() && k < it->second.size() ? it->second[k] : nullptr;
    if (other != nullptr) matched.push_back(other);
    TableDiff td = CompareTables(&t, other);
    if (!td.empty()) out.push_back(std::move(td));
  }
  for (const auto& t : b.tables) {
    if (std::find(matched.begin(), matched.end(), &t) != matched.end()) continue;
    out.push_back(CompareTables(nullptr, &t));
  }
  return out;
}

}  // namespace

std::vector<TableDiff> DiffTables(std::string_view old_text, std::string_view new_text,
                                  std::string* parse_error) {
  auto a = sdn::Parse(old_text);
  auto b = sdn::Parse(new_text);
  if (!a || !b) {
    if (parse_error != nullptr)
      *parse_error = !a ? "old version: " + a.error().message : "new version: " + b.error().message;
    return {};
  }
  return CompareDocuments(*a, *b);
}

Result<std::vector<FileRecordDiff>> DiffRecords(Repository& repo, uint64_t from, uint64_t to,
                                                const std::string& path) {
  Repository::Impl& r = internal::ImplOf(repo);
  std::vector<FileRecordDiff> out;
  for (const auto& c : TXDIR_TRY(DiffGenerations(repo, from, to, path))) {
    if (!sdn::IsTablesPath(c.path)) continue;
    auto read = [&](const std::string& hex, uint32_t mode) -> Result<std::string> {
      if (hex.empty() || mode == 0120000) return std::string();  // absent, or a link
      return r.store->ReadBlob(TXDIR_TRY(store::OidFromHex(hex)));
    };
    std::string old_text = TXDIR_TRY(read(c.old_blob, c.old_mode));
    std::string new_text = TXDIR_TRY(read(c.new_blob, c.new_mode));
    FileRecordDiff f;
    f.path = c.path;
    f.kind = c.kind;
    f.tables = DiffTables(old_text, new_text, &f.parse_error);
    out.push_back(std::move(f));
  }
  return out;
}

std::string QuoteValue(std::string_view v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string FormatRecordDiffs(const std::vector<FileRecordDiff>& diffs) {
  std::string out;
  for (const auto& f : diffs) {
    out += "== " + PrintablePath(f.path);
    if (f.kind == ChangeKind::kAdded) out += " (new file)";
    if (f.kind == ChangeKind::kRemoved) out += " (removed file)";
    out += "\n";
    if (!f.parse_error.empty()) {
      out += "cannot compare records: " + PrintablePath(f.parse_error) + "\n";
      continue;
    }
    if (f.tables.empty()) out += "no record changes\n";
    for (const auto& t : f.tables) {
      size_t added = 0, removed = 0, changed = 0;
      for (const auto& rc : t.records) {
        added += rc.kind == RecordChangeKind::kAdded;
        removed += rc.kind == RecordChangeKind::kRemoved;
        changed += rc.kind == RecordChangeKind::kChanged;
      }
      out += "table " + PrintablePath(t.name);
      if (t.table_added) out += " (new table)";
      if (t.table_removed) out += " (removed table)";
      out += ": " + std::to_string(added) + " added, " + std::to_string(removed) + " removed, " +
             std::to_string(changed) + " changed\n";
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + PrintablePath(x);
        return s;
      };
      if (!t.columns_added.empty()) out += "  columns added: " + join(t.columns_added) + "\n";
      if (!t.columns_removed.empty()) out += "  columns removed: " + join(t.columns_removed) + "\n";
      for (const auto& rc : t.records) {
        switch (rc.kind) {
          case RecordChangeKind::kAdded:
            out += "  added " + PrintablePath(rc.id) + "\n";
            break;
          case RecordChangeKind::kRemoved:
            out += "  removed " + PrintablePath(rc.id) + "\n";
            break;
          case RecordChangeKind::kChanged: {
            out += "  changed " + PrintablePath(rc.id) + ":";
            for (size_t i = 0; i < rc.fields.size(); ++i)
              out += (i == 0 ? " " : ", ") + PrintablePath(rc.fields[i].field) + ": " +
                     QuoteValue(rc.fields[i].old_value) + " -> " +
                     QuoteValue(rc.fields[i].new_value);
            out += "\n";
            break;
          }
        }
      }
    }
  }
  return out;
}

}  // namespace txdir
