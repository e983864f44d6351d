// The dashboard pieces of `txdir serve`: a table users can sort, filter and
// search, a unified diff as HTML, and the trend chart (inline SVG). Pure
// rendering from data the server has read; every repository-supplied string
// goes through Escape.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "txdir/sdn.h"

namespace txdir::serve {

// One SDN table for browsing: <table class="sdn browse"> in a scrolling box
// whose header row stays in view, a sort button and a filter box in each
// column header, rows numbered by their file order (data-i). The key column
// (`id`, else the first) links to `record_href(key)` unless that is empty.
// The search box, the sort and the filters work through kTableScript.
std::string RenderBrowsableTable(const sdn::Table& table,
                                 const std::function<std::string(const std::string&)>& record_href);

// The search box and row count that go above the tables of a page.
std::string RenderTableControls();

// The table script (a <script> element). Its state is the page's query
// string, so a view can be linked and reloaded: q=TEXT (rows containing
// TEXT in any cell), f.COLUMN=TEXT (rows whose COLUMN contains TEXT; "=TEXT":
// whose COLUMN is TEXT), sort=
// COLUMN and desc=1; matching is case-insensitive, a column whose values
// are all numbers sorts numerically. Rows that do not match get `hidden`.
std::string_view TableScript();

// A unified diff (FormatDiff's kPatch text) as <pre class="patch"> with
// each line a block span of class add, del, hunk, meta or ctx. At most `max_bytes`
// of it; the rest is summarised in one line.
std::string RenderPatch(std::string_view patch, size_t max_bytes);

// One generation's point of a trend: whether the table was there, its row
// count, and its rows counted by the chosen column's value.
struct TrendPoint {
  uint64_t gen = 0;
  bool present = false;
  size_t rows = 0;
  std::vector<std::pair<std::string, size_t>> by;  // value -> rows, any order
};

// The trend chart over `points` (oldest first): one line for the row count
// and, when `by` is not empty, one per value of that column (the
// `max_series` values with the most rows at any point; the rest summed as
// "(other)"; an empty value is called "(empty)"). Each generation is a hit area linked to /gen/N
// whose tooltip lists its counts; a legend gives each line's latest value.
std::string RenderTrendChart(const std::vector<TrendPoint>& points, const std::string& by,
                             size_t max_series);

}  // namespace txdir::serve
