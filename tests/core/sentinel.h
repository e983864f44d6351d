// A sentinel tree: a directory of files kept beside a transactional
// directory in hostile-input tests. txdir must never write outside its
// directory, so after every case the sentinel's listing (paths, types,
// modes, sizes, link targets) and the hash of every file are unchanged.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "tests/core/test_util.h"

namespace txdir::testing {

inline uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// One line per entry under `dir`: path, type and mode, size, and the
// content's hash (a link's target), sorted by path. Entries whose relative
// path is in `skip` (and what is under them) are left out.
inline std::string TreeFingerprint(const std::string& dir, const std::set<std::string>& skip = {}) {
  std::map<std::string, std::string> lines;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string p = it->path().string();
    const std::string rel = std::filesystem::relative(p, dir).string();
    if (skip.count(rel)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::string line = std::to_string(st.st_mode) + " " + std::to_string(st.st_size);
    if (S_ISLNK(st.st_mode))
      line += " -> " + std::filesystem::read_symlink(p).string();
    else if (S_ISREG(st.st_mode))
      line += " #" + std::to_string(Fnv1a(ReadFile(p)));
    lines[rel] = line;
  }
  struct stat root {};
  ::lstat(dir.c_str(), &root);
  std::string out = ". " + std::to_string(root.st_mode) + "\n";
  for (const auto& [path, line] : lines) out += path + " " + line + "\n";
  return out;
}

class SentinelTree {
 public:
  // Creates `dir` with files, a subfolder, an empty file and a symlink.
  explicit SentinelTree(std::string dir) : dir_(std::move(dir)) {
    MakeTree(dir_, {{"README", "sentinel: must never change\n"},
                    {"data/table.sdn", "id | name\n1 | one\n"},
                    {"data/deep/x.bin", std::string("\0\1\2\xff", 4)},
                    {"empty", ""}});
    std::filesystem::create_symlink("data/table.sdn", dir_ + "/link");
    before_ = Fingerprint();
  }

  const std::string& dir() const { return dir_; }

  std::string Fingerprint() const { return TreeFingerprint(dir_); }

  ::testing::AssertionResult Untouched() const {
    std::string now = Fingerprint();
    if (now == before_) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the sentinel tree " << dir_ << " changed:\nbefore:\n"
                                         << before_ << "after:\n"
                                         << now;
  }

 private:
  std::string dir_;
  std::string before_;
};

}  // namespace txdir::testing
