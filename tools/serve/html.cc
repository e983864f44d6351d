#include "tools/serve/html.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace txdir::serve {
namespace {

constexpr std::string_view kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
nav{background:#1f3a5f;padding:.6em 1.2em}
nav a{color:#fff;text-decoration:none;margin-right:1.2em;font-weight:600}
main{padding:1em 1.5em}
h1{font-size:1.4em;margin:.3em 0 .6em}
h2{font-size:1.15em;margin:1.2em 0 .4em}
table{border-collapse:collapse;background:#fff;margin:.4em 0 1em;font-size:.9em}
th,td{border:1px solid #d5d9e0;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#e9edf3}
caption{text-align:left;font-weight:600;padding:.3em 0}
tr.added td{background:#e3f6e5}
tr.removed td{background:#fbe4e4;text-decoration:line-through;color:#7a2d2d}
tr.changed td{background:#fff8e1}
td.cell-changed{background:#ffe08a!important;font-weight:600}
del{color:#9b3030}
ins{color:#1e6b2f;text-decoration:none}
.muted{color:#6b7280}
.status-added{color:#1e6b2f}.status-removed{color:#9b3030}.status-changed{color:#8a5a00}
code{background:#eef1f5;padding:0 .25em}
.scroll{overflow:auto;max-height:75vh;border:1px solid #d5d9e0;background:#fff;margin:.4em 0 1em}
.scroll table{margin:0}
table.browse td{white-space:nowrap}
table.browse thead th{position:sticky;top:0;z-index:1;box-shadow:0 1px 0 #c5cbd5}
table.browse caption{position:sticky;left:0}
th button.sort{all:unset;cursor:pointer;font-weight:600;display:block}
th.sorted-asc button.sort::after{content:" \25B2"}th.sorted-desc button.sort::after{content:" \25BC"}
th input.filter{width:100%;min-width:4em;box-sizing:border-box;font-size:.85em;margin-top:.2em}
.controls input{font-size:1em;padding:.2em .4em;min-width:18em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;background:#fff;padding:.6em 1em;border:1px solid #d5d9e0}
dl.meta dt{font-weight:600;color:#4b5563}dl.meta dd{margin:0}
p.pager a{margin-right:1em}
.live{background:#1e6b2f;color:#fff;border-radius:3px;padding:0 .35em;font-size:.85em}
pre.patch{background:#fff;border:1px solid #d5d9e0;padding:.5em;overflow:auto;font-size:.85em}
pre.patch span{display:block;min-height:1.2em}
pre.patch .add{color:#1e6b2f;background:#e3f6e5}pre.patch .del{color:#9b3030;background:#fbe4e4}
pre.patch .hunk{color:#6b4fbb}pre.patch .meta{color:#6b7280}
svg.trend{background:#fff;border:1px solid #d5d9e0;max-width:100%;height:auto}
svg.trend .grid{stroke:#e5e7eb}svg.trend .axis{font-size:11px;fill:#6b7280}
svg.trend rect.hit{fill:transparent}svg.trend rect.hit:hover{fill:rgba(31,58,95,.12)}
ul.legend{list-style:none;padding:0}ul.legend li{display:inline-block;margin-right:1.2em}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
form.compare select,form.trend select{font-size:1em;margin:0 .3em}
)css";

std::string KeyColumnOf(const sdn::Table& t) {
  return t.ColumnIndex("id") >= 0 ? "id" : t.columns.front();
}

// key -> row index, with repeated keys numbered by occurrence.
std::map<std::string, size_t> IndexRows(const sdn::Table& t) {
  std::map<std::string, size_t> out;
  std::map<std::string, int> seen;
  const int k = t.ColumnIndex(KeyColumnOf(t));
  for (size_t i = 0; i < t.rows.size(); ++i) {
    std::string key = t.rows[i][static_cast<size_t>(k)];
    if (int n = seen[key]++; n > 0) key += "#" + std::to_string(n + 1);
    out.emplace(std::move(key), i);
  }
  return out;
}

std::string Cell(const sdn::Table& t, const std::vector<std::string>& row, const std::string& col) {
  int i = t.ColumnIndex(col);
  return i >= 0 && static_cast<size_t>(i) < row.size() ? row[static_cast<size_t>(i)] : "";
}

std::string RowHtml(const char* cls, const sdn::Table& t, const std::vector<std::string>& row,
                    const std::vector<std::string>& cols) {
  std::string h = std::string("<tr class=\"") + cls + "\">";
  for (const auto& c : cols) h += "<td>" + Escape(Cell(t, row, c)) + "</td>";
  return h + "</tr>\n";
}

std::string Header(const std::vector<std::string>& cols) {
  std::string h = "<tr>";
  for (const auto& c : cols) h += "<th>" + Escape(c) + "</th>";
  return h + "</tr>\n";
}

// The caller passes at least one side: a table on both sides, added or removed.
std::string DiffOneTable(const sdn::Table* a, const sdn::Table* b, RecordDiffCounts* counts) {
  const sdn::Table* any_side = b ? b : a;
  if (!any_side) return "";
  const sdn::Table& any = *any_side;
  std::string h = "<table class=\"sdn diff\" data-table=\"" + Escape(any.name) + "\"><caption>" +
                  Escape(any.name);
  if (!a) h += " <span class=\"status-added\">(new table)</span>";
  if (!b) h += " <span class=\"status-removed\">(table removed)</span>";
  h += "</caption>\n";
  // Columns: the new version's, then any the old one had and the new lost.
  std::vector<std::string> cols = any.columns;
  if (a && b)
    for (const auto& c : a->columns)
      if (b->ColumnIndex(c) < 0) cols.push_back(c);
  h += Header(cols);
  std::string body;
  size_t unchanged = 0;
  if (!a || !b) {
    for (const auto& row : any.rows) body += RowHtml(a ? "removed" : "added", any, row, cols);
    (a ? counts->removed : counts->added) += any.rows.size();
  } else {
    auto ia = IndexRows(*a), ib = IndexRows(*b);
    // New version's order first (changed and added), then removed rows.
    std::vector<std::pair<std::string, size_t>> order(ib.begin(), ib.end());
    std::sort(order.begin(), order.end(),
              [](const auto& x, const auto& y) { return x.second < y.second; });
    for (const auto& [key, bi] : order) {
      const auto& nrow = b->rows[bi];
      auto it = ia.find(key);
      if (it == ia.end()) {
        body += RowHtml("added", *b, nrow, cols);
        ++counts->added;
        continue;
      }
      const auto& orow = a->rows[it->second];
      std::string cells;
      bool differs = false;
      for (const auto& c : cols) {
        std::string ov = Cell(*a, orow, c), nv = Cell(*b, nrow, c);
        if (ov == nv) {
          cells += "<td>" + Escape(nv) + "</td>";
        } else {
          differs = true;
          cells += "<td class=\"cell-changed\" title=\"was: " + Escape(ov) + "\"><del>" +
                   Escape(ov) + "</del> <ins>" + Escape(nv) + "</ins></td>";
        }
      }
      if (differs) {
        body += "<tr class=\"changed\">" + cells + "</tr>\n";
        ++counts->changed;
      } else {
        ++unchanged;
      }
    }
    std::vector<std::pair<std::string, size_t>> gone;
    for (const auto& [key, ai] : ia)
      if (!ib.count(key)) gone.emplace_back(key, ai);
    std::sort(gone.begin(), gone.end(),
              [](const auto& x, const auto& y) { return x.second < y.second; });
    for (const auto& [key, ai] : gone) {
      body += RowHtml("removed", *a, a->rows[ai], cols);
      ++counts->removed;
    }
  }
  counts->unchanged += unchanged;
  h += body;
  h += "</table>\n";
  if (unchanged > 0)
    h += "<p class=\"muted\">" + std::to_string(unchanged) + " unchanged record" +
         (unchanged == 1 ? "" : "s") + " in " + Escape(any.name) + " not shown.</p>\n";
  return h;
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string Page(std::string_view title, std::string_view body) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  h += Escape(title);
  h += "</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<nav><a href=\"/\">Live</a><a href=\"/history\">History</a><a "
       "href=\"/trends\">Trends</a></nav>\n"
       "<main>\n<h1>";
  h += Escape(title);
  h += "</h1>\n";
  h += body;
  h += "</main></body></html>\n";
  return h;
}

std::string RenderTable(const sdn::Table& table) {
  std::string h = "<table class=\"sdn\" data-table=\"" + Escape(table.name) + "\"><caption>" +
                  Escape(table.name) + " <span class=\"muted\">(" +
                  std::to_string(table.rows.size()) + " rows)</span></caption>\n";
  h += Header(table.columns);
  for (const auto& row : table.rows) {
    h += "<tr>";
    for (const auto& cell : row) h += "<td>" + Escape(cell) + "</td>";
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

std::string RenderRecordDiff(const sdn::Document& before, const sdn::Document& after,
                             RecordDiffCounts* counts) {
  std::string h;
  std::set<std::string> done;
  for (const auto& t : after.tables) {
    if (!done.insert(t.name).second) continue;
    h += DiffOneTable(before.Find(t.name), &t, counts);
  }
  for (const auto& t : before.tables) {
    if (!done.insert(t.name).second) continue;
    h += DiffOneTable(&t, nullptr, counts);
  }
  return h;
}

}  // namespace txdir::serve
