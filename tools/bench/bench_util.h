// Small helpers shared by the benchmark programs.
#pragma once

#include <string>

namespace txdir::bench {

// The file system type of `path` ("ext4", "tmpfs", ... or its magic number):
// figures mean little without it.
std::string FsName(const std::string& path);

// A todos table (one table, `todos`, keyed by `id` 0..rows-1) as the
// dashboard writes it: every string quoted, numbers bare, about 200 bytes a
// row, so 3,000 rows are about 600 KB. Column 9 is `status`, all "open".
std::string GenerateTodoTable(int rows);

// Removes a tree whose directories txdir made read-only.
void RemoveTree(const std::string& root);

}  // namespace txdir::bench
