// A generator of sample Simple-dashboard data: the 11 SDN tables that the
// Simple tooling writes into doc/dashboard/tables/ (see
// ../shared/docs/sdn_format.md for the tables and their header fields).
//
// Output is deterministic for (seed, run, rows). A later run changes what a
// real dashboard refresh changes — timestamps, passed/failed counts,
// durations, statuses, the rolling window of builds — and keeps the rest
// (ids, names, files), so successive runs differ the way real ones do. Every
// table differs between run R and run R+1.
//
// Files are written in the canonical SDN form: header `name |f1, f2|`, rows
// indented 4 spaces, cells separated by ", ", strings quoted when needed.
//
// Used by tools/sample_dashboard (the txdir-sample-dashboard command) and
// tools/bench (txdir-publish-bench). No dependency beyond the standard
// library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace txdir::sample {

inline constexpr size_t kTableCount = 11;
// Rows scale: with this value the 11 files add up to about 180 KB.
inline constexpr size_t kDefaultRows = 265;

struct Options {
  uint64_t seed = 1;
  uint64_t run = 1;  // 1, 2, 3, ...: one dashboard refresh each
  size_t rows = kDefaultRows;
};

// Table names in the order the dashboard writes them ("features", ...).
const std::vector<std::string>& TableNames();
// "features.sdn", ...
std::string FileName(size_t table);

// The content of table `table` (0 .. kTableCount-1) for `options`.
std::string RenderTable(size_t table, const Options& options);

struct File {
  std::string name;  // e.g. "features.sdn"
  std::string content;
};
// All 11 tables, in dashboard order.
std::vector<File> RenderDashboard(const Options& options);

// Writes every file into `out_dir` (created if missing) with plain writes,
// one file after another, as the real dashboard does. False and `*error` set
// on failure.
bool WriteDashboard(const std::string& out_dir, const Options& options, std::string* error);
// Writes one file (plain write: truncate and write in place).
bool WriteFile(const std::string& path, std::string_view content, std::string* error);

// An SDN string cell in canonical form: bare when it is a plain word,
// otherwise quoted with \\ \" \n \t \r escaped.
std::string SdnString(std::string_view s);

}  // namespace txdir::sample
