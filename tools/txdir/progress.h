// A progress line on the terminal, as git prints one: a single line on
// stderr, rewritten in place ("publish: reading files: 40% (4012/10030),
// 120.3 MiB"), shown only when stderr is a terminal, not with -q, and only
// for work that lasts: nothing appears before a delay (1 s; the
// environment's TXDIR_PROGRESS_DELAY_MS overrides it, for tests), then at
// most ten updates a second, and a last line ending ", done." when
// something was shown. docs/cli.md, "Output".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "txdir/progress.h"

namespace txdir::cli {

class ProgressLine {
 public:
  // `title`: "publish: reading files". Off when `quiet` or stderr is not a
  // terminal. The delay counts from `start`.
  ProgressLine(std::string title, bool quiet,
               std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `total` 0: not known ("(120)" instead of "40% (120/300)"); `bytes` 0:
  // not counted (no size shown).
  void Update(uint64_t done, uint64_t total, uint64_t bytes);
  // The last line, ", done.", if any was shown; otherwise nothing.
  void Done();
  // Ends a shown line as it is (before an error message); the destructor
  // does this when neither was called.
  void Abort();

 private:
  std::string Text(uint64_t done, uint64_t total, uint64_t bytes) const;

  std::string title_;
  bool on_ = false, shown_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  std::chrono::milliseconds delay_{1000};
  uint64_t done_ = 0, total_ = 0, bytes_ = 0;
};

// The progress of an operation that goes through stages (txdir::Progress):
// one ProgressLine per stage, "COMMAND: STAGE: ...", each ended with
// ", done." when the next begins. The delay counts from the operation's
// start, so once it has run a second every stage shows.
class StagedProgress {
 public:
  StagedProgress(std::string command, bool quiet);
  // For the library's options; valid while this object lives.
  ProgressFn Fn();
  void Done();   // the current stage's line ends with ", done."
  void Abort();  // ends it as it is (before an error message)

 private:
  std::string command_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  std::string stage_;
  std::unique_ptr<ProgressLine> line_;
};

}  // namespace txdir::cli
