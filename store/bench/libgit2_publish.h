// The raw-libgit2 publish that txdir-compare-bench sets txdir against
// (tools/bench/compare_bench.cc, case c5; docs/performance.md): what a
// program writing a directory's files straight into a git repository with
// libgit2 pays, with libgit2's own fsync of what it writes turned on
// (GIT_OPT_ENABLE_FSYNC_GITDIR). Not part of txdir: only the benchmark links
// it (target txdir_store_bench_baseline). It lives in store/ because store/
// is the only code that calls libgit2; this header shows none of it.
//
// Thread safety: one thread at a time. The fsync option it sets is
// process-wide: nothing else in the process should depend on it while a
// Libgit2Publisher lives, nor right after (it is left off).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"

namespace txdir::store::bench {

// libgit2's process-wide state, initialized for as long as this object
// lives (git_libgit2_init, then git_libgit2_shutdown). libgit2 counts
// these, so it nests with txdir's own initialization (EnsureLibgit2, which
// never shuts down). A Libgit2Publisher needs one alive, or txdir to have
// used libgit2 already in this process.
class Libgit2Scope {
 public:
  Libgit2Scope();
  ~Libgit2Scope();
  Libgit2Scope(const Libgit2Scope&) = delete;
  Libgit2Scope& operator=(const Libgit2Scope&) = delete;
};

// One file of a publish: its name at the root of the tree (NUL-terminated,
// as libgit2 takes it: no copy in the measured operation) and its bytes.
// Neither is owned: the caller keeps both alive during Publish.
struct BaselineFile {
  const char* name;
  std::string_view content;
};

// A fresh bare repository that each Publish commits a whole file set to.
class Libgit2Publisher {
 public:
  // Turns GIT_OPT_ENABLE_FSYNC_GITDIR on, creates a bare repository at
  // `dir` (git_repository_init) and takes the signature every commit uses
  // ("bench", now). Errors: the repository cannot be created (kIo, or as
  // libgit2 reports it).
  static Result<std::unique_ptr<Libgit2Publisher>> Create(const std::string& dir);
  // Frees the repository and turns GIT_OPT_ENABLE_FSYNC_GITDIR off,
  // whatever it was before Create.
  ~Libgit2Publisher();
  Libgit2Publisher(const Libgit2Publisher&) = delete;
  Libgit2Publisher& operator=(const Libgit2Publisher&) = delete;

  // The measured operation: one blob per file, one tree of them (mode
  // 100644; names must be valid, unique entry names), one commit with
  // message "run" whose parent is the previous Publish's commit, and HEAD
  // moved to it. Errors: whatever libgit2 reports for the step that failed.
  Status Publish(const std::vector<BaselineFile>& files);

  // The bytes of `name` in HEAD's tree: the check of the benchmark's
  // --quick mode. Errors: no such file, or not a blob (kNotFound,
  // kInvalidArgument).
  Result<std::string> ReadHeadFile(const std::string& name) const;

 private:
  struct Impl;
  explicit Libgit2Publisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txdir::store::bench
