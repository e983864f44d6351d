// Small helpers shared by the benchmark programs.
#pragma once

#include <string>
#include <vector>

namespace txdir::bench {

// The file system type of `path` ("ext4", "tmpfs", ... or its magic number):
// figures mean little without it. For ext4, also whether it has a journal
// ("ext4, no journal"): without one, every file creation scans past the
// inodes deleted in the last minutes (docs/performance.md), so the cases
// that create files cost far more than on a journaled ext4.
std::string FsName(const std::string& path);

// A todos table (one table, `todos`, keyed by `id` 0..rows-1) as the
// dashboard writes it: every string quoted, numbers bare, about 200 bytes a
// row, so 3,000 rows are about 600 KB. Column 9 is `status`, all "open".
std::string GenerateTodoTable(int rows);

// Removes a tree whose directories txdir made read-only.
void RemoveTree(const std::string& root);

// The q-quantile (0..1) of `v`, interpolated between neighbours; 0 when
// empty. Quantile(v, 0.5) is the median.
double Quantile(std::vector<double> v, double q);

// A child process's outcome and what it cost, from wait4's rusage.
struct ChildResult {
  int status = -1;  // as waitpid reports it
  long maxrss_kb = 0;
  double cpu_ms = 0;   // user + system time of the child
  double wall_ms = 0;  // fork to reaped
  std::string out;     // its stdout
};

// Runs argv (execvp) in `cwd` (when not empty), stdout captured, stderr
// inherited or sent to /dev/null. Exits the program when fork or pipe fail.
ChildResult RunChild(const std::vector<std::string>& argv, const std::string& cwd = "",
                     bool quiet_stderr = false);

// True when the child exited with status 0.
bool ChildOk(const ChildResult& r);

}  // namespace txdir::bench
