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
#include <memory>
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
  int dir_fd() const { return dir_->get(); }

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
  friend class LiveReader;
  Snapshot(Env* env, std::shared_ptr<const Fd> dir, uint64_t generation, std::string path)
      : env_(env), dir_(std::move(dir)), generation_(generation), path_(std::move(path)) {}
  Env* env_;
  // The generation's directory, open with the pin (flock LOCK_SH) on it.
  // Shared with a LiveReader that keeps the same pin for its next snapshot;
  // the pin lasts while either holds it.
  std::shared_ptr<const Fd> dir_;
  uint64_t generation_;
  std::string path_;
};

// A long-lived reader of one repository's live generation, for a process
// that reads it again and again (a dashboard, a server, a polling script).
//
// OpenSnapshot() gives what Snapshot::OpenLive gives: the live generation,
// pinned, seen whole. The reader keeps the pin of the generation it last
// returned, so while the live link still names that generation a new
// snapshot costs one readlink(2) instead of the seven system calls of
// OpenLive (config check, readlink, open, lock, two stats, close).
//
// The cost of that: the generation this reader last saw stays pinned until
// OpenSnapshot() finds the link moved on or the reader is destroyed, so gc
// skips it ("pinned") even once it has left the retention policy. Destroy
// a reader that will not read again soon.
//
// The repository's live path is read from its config once, at Open
// (`txdir config` cannot change it). One thread at a time; the snapshots it
// returns may be used from any thread, as any Snapshot.
class LiveReader {
 public:
  static Result<LiveReader> Open(const std::string& root, Env* env = nullptr);

  // The live generation now. NotFound before the first publish.
  Result<Snapshot> OpenSnapshot();

 private:
  LiveReader(Env* env, std::string root, std::string live)
      : env_(env), root_(std::move(root)), live_(std::move(live)) {}
  Env* env_;
  std::string root_, live_;
  std::string target_;  // the live link's content when pin_ was taken
  uint64_t generation_ = 0;
  std::string path_;
  std::shared_ptr<const Fd> pin_;
};

}  // namespace txdir
