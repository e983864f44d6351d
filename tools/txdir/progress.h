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
#include <string>

namespace txdir::cli {

class ProgressLine {
 public:
  // `title`: "publish: reading files". Off when `quiet` or stderr is not a
  // terminal.
  ProgressLine(std::string title, bool quiet);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

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

}  // namespace txdir::cli
