#include "tools/serve/dashboard.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "tools/serve/html.h"

namespace txdir::serve {
namespace {

// Small enough to read in full: it runs only on the view's own table pages.
// Rows keep their file order in data-i, so "no sort" restores it.
constexpr std::string_view kScript = R"js(<script>
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var tables = Array.prototype.slice.call(document.querySelectorAll("table.browse"));
  var search = document.getElementById("search");
  var count = document.getElementById("rowcount");
  function cell(row, i) { return row.cells[i] ? row.cells[i].textContent : ""; }
  function numeric(s) { return s !== "" && !isNaN(Number(s)); }
  function save() {
    var q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
  function apply() {
    var q = (params.get("q") || "").toLowerCase();
    var sort = params.get("sort"), desc = params.get("desc") === "1";
    var shown = 0, total = 0;
    tables.forEach(function (t) {
      var heads = Array.prototype.slice.call(t.tHead.rows[0].cells);
      var cols = heads.map(function (h) { return h.dataset.col; });
      var filters = cols.map(function (c) { return (params.get("f." + c) || "").toLowerCase(); });
      var body = t.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var si = sort === null ? -1 : cols.indexOf(sort);
      var num = si >= 0 && rows.every(function (r) { var v = cell(r, si); return v === "" || numeric(v); });
      rows.sort(function (a, b) {
        var r = 0;
        if (si >= 0) {
          var x = cell(a, si), y = cell(b, si);
          r = num ? (x === "" ? -Infinity : Number(x)) - (y === "" ? -Infinity : Number(y))
                  : x.localeCompare(y);
          if (r !== r) r = 0;
          if (desc) r = -r;
        }
        return r || a.dataset.i - b.dataset.i;
      });
      rows.forEach(function (r) {
        var ok = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
        for (var i = 0; ok && i < filters.length; i++) {
          var f = filters[i], v = cell(r, i).toLowerCase();
          if (f && (f.charAt(0) === "=" ? v !== f.slice(1) : v.indexOf(f) < 0)) ok = false;
        }
        r.hidden = !ok;
        if (ok) shown++;
        total++;
        body.appendChild(r);
      });
      heads.forEach(function (h, i) {
        h.classList.toggle("sorted-asc", i === si && !desc);
        h.classList.toggle("sorted-desc", i === si && desc);
      });
    });
    if (count) count.textContent = shown === total ? total + " rows" : shown + " of " + total + " rows";
  }
  tables.forEach(function (t) {
    t.tHead.addEventListener("click", function (e) {
      var b = e.target.closest("button.sort");
      if (!b) return;
      var col = b.parentNode.dataset.col;
      if (params.get("sort") !== col) { params.set("sort", col); params.delete("desc"); }
      else if (params.get("desc") !== "1") params.set("desc", "1");
      else { params.delete("sort"); params.delete("desc"); }
      save(); apply();
    });
    t.tHead.addEventListener("input", function (e) {
      if (!e.target.classList.contains("filter")) return;
      var key = "f." + e.target.dataset.col;
      if (e.target.value) params.set(key, e.target.value); else params.delete(key);
      save(); apply();
    });
    t.tHead.querySelectorAll("input.filter").forEach(function (f) {
      f.value = params.get("f." + f.dataset.col) || "";
    });
  });
  if (search) {
    search.value = params.get("q") || "";
    search.addEventListener("input", function () {
      if (search.value) params.set("q", search.value); else params.delete("q");
      save(); apply();
    });
  }
  apply();
})();
</script>
)js";

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

std::string Fixed(double v) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.1f", v);
  return n > 0 && static_cast<size_t>(n) < sizeof buf ? std::string(buf) : std::string("0");
}

}  // namespace

std::string RenderBrowsableTable(
    const sdn::Table& table, const std::function<std::string(const std::string&)>& record_href) {
  const size_t key = table.KeyIndex();
  std::string h = "<div class=\"scroll\"><table class=\"sdn browse\" data-table=\"" +
                  Escape(table.name) + "\"><caption>" + Escape(table.name) +
                  " <span class=\"muted\">(" + std::to_string(table.rows.size()) +
                  " rows)</span></caption>\n<thead><tr>";
  for (const auto& c : table.columns)
    h += "<th data-col=\"" + Escape(c) + "\"><button class=\"sort\" type=\"button\">" + Escape(c) +
         "</button><input class=\"filter\" data-col=\"" + Escape(c) +
         "\" placeholder=\"filter\" aria-label=\"filter " + Escape(c) + "\"></th>";
  h += "</tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const auto& row = table.rows[i];
    h += "<tr data-i=\"" + std::to_string(i) + "\">";
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string href = c == key ? record_href(row[c]) : std::string();
      if (href.empty())
        h += "<td>" + Escape(row[c]) + "</td>";
      else
        h +=
            "<td><a class=\"record\" href=\"" + Escape(href) + "\">" + Escape(row[c]) + "</a></td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table></div>\n";
}

std::string RenderTableControls() {
  return "<p class=\"controls\"><input id=\"search\" type=\"search\" placeholder=\"search all "
         "columns\" aria-label=\"search\"> <span id=\"rowcount\" class=\"muted\"></span></p>\n";
}

std::string_view TableScript() { return kScript; }

std::string RenderPatch(std::string_view patch, size_t max_bytes) {
  std::string h = "<pre class=\"patch\">";
  size_t pos = 0;
  while (pos < patch.size()) {
    if (pos >= max_bytes) {
      size_t rest = 0;
      for (size_t p = pos; p < patch.size(); ++p) rest += patch[p] == '\n';
      h += "<span class=\"meta\">… " + std::to_string(rest) + " more lines not shown</span>";
      break;
    }
    size_t nl = patch.find('\n', pos);
    std::string_view line =
        patch.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? patch.size() : nl + 1;
    const char* cls = line.rfind("+++", 0) == 0 || line.rfind("---", 0) == 0 ||
                              line.rfind("diff ", 0) == 0 || line.rfind("index ", 0) == 0 ||
                              line.rfind("new file", 0) == 0 ||
                              line.rfind("deleted file", 0) == 0 || line.rfind("\\ ", 0) == 0
                          ? "meta"
                      : line.rfind("@@", 0) == 0        ? "hunk"
                      : !line.empty() && line[0] == '+' ? "add"
                      : !line.empty() && line[0] == '-' ? "del"
                                                        : nullptr;
    // Block spans (no newline between them), so a line's colour spans the
    // width of the box.
    h += std::string("<span class=\"") + (cls ? cls : "ctx") + "\">" + Escape(line) + "</span>";
  }
  return h + "</pre>\n";
}

std::string RenderTrendChart(const std::vector<TrendPoint>& points, const std::string& by,
                             size_t max_series) {
  if (points.empty()) return "<p class=\"muted\">No generations to plot.</p>\n";
  // The series: rows, then the values with the most rows at any point.
  struct Series {
    std::string name;
    std::vector<std::optional<size_t>> v;  // per point; nullopt: table absent
  };
  std::vector<Series> series;
  series.push_back({"rows", {}});
  std::vector<std::string> values;
  if (!by.empty()) {
    std::map<std::string, size_t> peak;
    for (const auto& p : points)
      for (const auto& [value, n] : p.by) peak[value] = std::max(peak[value], n);
    std::vector<std::pair<std::string, size_t>> ranked(peak.begin(), peak.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < ranked.size() && i < max_series; ++i) values.push_back(ranked[i].first);
    const bool other = ranked.size() > max_series;
    for (const auto& value : values)
      series.push_back({by + " = " + (value.empty() ? std::string("(empty)") : value), {}});
    if (other) series.push_back({by + " = (other)", {}});
  }
  size_t top = 1;
  for (const auto& p : points) {
    series[0].v.push_back(p.present ? std::optional<size_t>(p.rows) : std::nullopt);
    if (by.empty()) {
      top = std::max(top, p.present ? p.rows : 0);
      continue;
    }
    size_t named = 0;
    for (size_t s = 0; s < values.size(); ++s) {
      size_t n = 0;
      for (const auto& [value, c] : p.by)
        if (value == values[s]) n = c;
      named += n;
      series[s + 1].v.push_back(p.present ? std::optional<size_t>(n) : std::nullopt);
    }
    if (series.size() > values.size() + 1)
      series.back().v.push_back(p.present ? std::optional<size_t>(p.rows - named) : std::nullopt);
    top = std::max(top, p.present ? p.rows : 0);
  }

  const double width = 960, height = 320, left = 56, right = 16, up = 12, down = 36;
  const double pw = width - left - right, ph = height - up - down;
  const size_t n = points.size();
  const double step = n > 1 ? pw / static_cast<double>(n - 1) : 0;
  auto x = [&](size_t i) { return n > 1 ? left + step * static_cast<double>(i) : left + pw / 2; };
  auto y = [&](size_t v) {
    return up + ph * (1.0 - static_cast<double>(v) / static_cast<double>(top));
  };

  std::string s = "<svg class=\"trend\" viewBox=\"0 0 " + Fixed(width) + " " + Fixed(height) +
                  "\" width=\"" + Fixed(width) + "\" height=\"" + Fixed(height) +
                  "\" role=\"img\" aria-label=\"trend over " + std::to_string(n) +
                  " generations\">\n";
  // Grid and axis labels: 0, half and the top; the first, middle and last
  // generation numbers.
  for (size_t v : {size_t{0}, top / 2, top}) {
    s += "<line class=\"grid\" x1=\"" + Fixed(left) + "\" x2=\"" + Fixed(width - right) +
         "\" y1=\"" + Fixed(y(v)) + "\" y2=\"" + Fixed(y(v)) + "\"/><text class=\"axis\" x=\"" +
         Fixed(left - 6) + "\" y=\"" + Fixed(y(v) + 4) + "\" text-anchor=\"end\">" +
         std::to_string(v) + "</text>\n";
  }
  for (size_t i : {size_t{0}, n / 2, n - 1}) {
    s += "<text class=\"axis\" x=\"" + Fixed(x(i)) + "\" y=\"" + Fixed(height - 12) +
         "\" text-anchor=\"middle\">" + std::to_string(points[i].gen) + "</text>\n";
    if (n == 1) break;
  }
  // One polyline per stretch of generations where the table exists.
  for (size_t k = 0; k < series.size(); ++k) {
    const char* color = kPalette[k % std::size(kPalette)];
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        s += std::string("<polyline class=\"series\" data-series=\"") + Escape(series[k].name) +
             "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"" +
             (k == 0 ? "2.5" : "1.5") + "\" points=\"" + pts + "\"/>\n";
      pts.clear();
    };
    for (size_t i = 0; i < n; ++i) {
      if (!series[k].v[i]) {
        flush();
        continue;
      }
      if (!pts.empty()) pts += ' ';
      pts += Fixed(x(i)) + "," + Fixed(y(*series[k].v[i]));
    }
    flush();
    if (n <= 60)  // visible dots only where they do not crowd
      for (size_t i = 0; i < n; ++i)
        if (series[k].v[i])
          s += std::string("<circle cx=\"") + Fixed(x(i)) + "\" cy=\"" + Fixed(y(*series[k].v[i])) +
               "\" r=\"2.5\" fill=\"" + color + "\"/>\n";
  }
  // A hit area per generation: the link and the tooltip.
  const double w = n > 1 ? step : pw;
  for (size_t i = 0; i < n; ++i) {
    const std::string g = std::to_string(points[i].gen);
    std::string tip = "generation " + g + ": ";
    if (!points[i].present) {
      tip += "no such table";
    } else {
      for (size_t k = 0; k < series.size(); ++k) {
        if (k) tip += ", ";
        tip += series[k].name + " " + std::to_string(series[k].v[i].value_or(0));
      }
    }
    s += "<a href=\"/gen/" + g + "\"><rect class=\"hit\" data-gen=\"" + g + "\" data-rows=\"" +
         (points[i].present ? std::to_string(points[i].rows) : std::string("-")) + "\" x=\"" +
         Fixed(x(i) - w / 2) + "\" y=\"" + Fixed(up) + "\" width=\"" + Fixed(w) + "\" height=\"" +
         Fixed(ph) + "\"><title>" + Escape(tip) + "</title></rect></a>\n";
  }
  s += "</svg>\n<ul class=\"legend\">\n";
  for (size_t k = 0; k < series.size(); ++k) {
    std::optional<size_t> last;
    for (size_t i = n; i-- > 0;)
      if (series[k].v[i]) {
        last = series[k].v[i];
        break;
      }
    s += std::string("<li><span class=\"swatch\" style=\"background:") +
         kPalette[k % std::size(kPalette)] + "\"></span>" + Escape(series[k].name) + ": " +
         (last ? std::to_string(*last) : std::string("-")) + "</li>\n";
  }
  return s + "</ul>\n";
}

}  // namespace txdir::serve
