// Small helpers shared by the benchmark programs.
#pragma once

#include <string>

namespace txdir::bench {

// The file system type of `path` ("ext4", "tmpfs", ... or its magic number):
// figures mean little without it.
std::string FsName(const std::string& path);

// Removes a tree whose directories txdir made read-only.
void RemoveTree(const std::string& root);

}  // namespace txdir::bench
