// A reader's view of one generation.
//
// Opening a Snapshot resolves the live link once and opens that
// generation's directory; every read is relative to that directory fd, so a
// reader of many files sees exactly one generation even while writers
// publish new ones. The Snapshot holds a shared lock (flock) on the
// generation directory — its pin — so retention (gc) never removes a
// generation a reader is inside. Readers write nothing.
//
// Non-C++ readers get the same guarantee by resolving the live link once
// (`cd -P live`, or opening the directory once) and reading relative to it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "txdir/env.h"
#include "txdir/error.h"

namespace txdir {

class Snapshot {
 public:
  Snapshot(Snapshot&&) noexcept = default;
  Snapshot& operator=(Snapshot&&) noexcept = default;

  // Opens the live generation of the repository at `root` without opening
  // the store: the cheapest way for a reader. NotFound before the first
  // publish.
  static Result<Snapshot> OpenLive(const std::string& root, Env* env = nullptr);
  // Opens and pins generation `number` if it is materialized.
  static Result<Snapshot> OpenGeneration(const std::string& root, uint64_t number,
                                         Env* env = nullptr);

  uint64_t generation() const { return generation_; }
  // Absolute path of the generation's directory.
  const std::string& path() const { return path_; }
  int dir_fd() const { return dir_.get(); }

  // The regular file at `path`: its bytes, or an fd open on it for reading.
  // `path` is relative ('/'-separated, no "..", not absolute; otherwise
  // InvalidArgument). No symbolic link is ever followed, neither `path`
  // itself nor a directory on the way, so a read never leaves the
  // generation, wherever a stored link points:
  //   - `path` is a stored link: InvalidArgument, "is a symbolic link (to
  //     'TARGET'), not a file" naming `path` (as Repository::ReadFile);
  //   - absent, a directory, or under a file or a link: NotFound.
  Result<std::string> ReadFile(const std::string& path) const;
  Result<Fd> OpenFile(const std::string& path) const;
  // All files, recursively, sorted.
  Result<std::vector<std::string>> ListFiles() const;

 private:
  Snapshot(Env* env, Fd dir, uint64_t generation, std::string path)
      : env_(env), dir_(std::move(dir)), generation_(generation), path_(std::move(path)) {}
  Env* env_;
  Fd dir_;  // holds the pin (flock LOCK_SH) for its lifetime
  uint64_t generation_;
  std::string path_;
};

}  // namespace txdir
