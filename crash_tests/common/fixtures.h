// Small source trees and repository set-up shared by the crash tests. The
// trees are small on purpose: every test repeats its operation once per
// crash point.
#pragma once

#include <cstdint>
#include <string>

#include "crash_tests/common/harness.h"

namespace txdir::crash {

// Five entries: nested directories, an executable, a symlink.
FileMap TreeA();
// TreeA with one file changed, one removed, one added; the rest unchanged
// (so publishing it after TreeA hard-links the unchanged files).
FileMap TreeB();
// Another variation, for a third generation.
FileMap TreeC();
// What the invariant check publishes after recovery.
FileMap TreeNext();

// Creates a repository at `root` with the default live path. Throws on error.
void InitRepo(const std::string& root);
// Writes `files` to `source` and publishes it in-process; returns the
// generation number. Throws on error.
uint64_t PublishTree(const std::string& root, const std::string& source, const FileMap& files);

// The txdir command-line tool under test.
std::string CliPath();

}  // namespace txdir::crash
