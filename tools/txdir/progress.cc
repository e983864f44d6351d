#include "tools/txdir/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace txdir::cli {

ProgressLine::ProgressLine(std::string title, bool quiet,
                           std::chrono::steady_clock::time_point start)
    : title_(std::move(title)), on_(!quiet && ::isatty(2) == 1), start_(start), last_(start_) {
  if (const char* d = std::getenv("TXDIR_PROGRESS_DELAY_MS"); d != nullptr && *d != '\0') {
    char* end = nullptr;
    const long ms = std::strtol(d, &end, 10);
    if (end != nullptr && *end == '\0' && ms >= 0) delay_ = std::chrono::milliseconds(ms);
  }
}

ProgressLine::~ProgressLine() { Abort(); }

void ProgressLine::Abort() {
  if (finished_) return;
  finished_ = true;
  if (shown_) (void)std::fputs("\n", stderr);
}

std::string ProgressLine::Text(uint64_t done, uint64_t total, uint64_t bytes) const {
  std::string s = title_ + ": ";
  if (total > 0)
    s += std::to_string(done * 100 / total) + "% (" + std::to_string(done) + "/" +
         std::to_string(total) + ")";
  else
    s += "(" + std::to_string(done) + ")";
  char buf[32];
  const double mib = static_cast<double>(bytes) / (1 << 20);
  if (bytes > 0 && std::snprintf(buf, sizeof buf, ", %.1f MiB", mib) > 0) s += buf;
  return s;
}

void ProgressLine::Update(uint64_t done, uint64_t total, uint64_t bytes) {
  done_ = done, total_ = total, bytes_ = bytes;
  if (!on_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < delay_) return;
  if (shown_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  shown_ = true;
  // "\r" back to the line's start, "\x1b[K" clears what a longer line left.
  (void)std::fprintf(stderr, "\r%s\x1b[K", Text(done, total, bytes).c_str());
  (void)std::fflush(stderr);
}

void ProgressLine::Done() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  (void)std::fprintf(stderr, "\r%s, done.\x1b[K\n", Text(done_, total_, bytes_).c_str());
  (void)std::fflush(stderr);
}

StagedProgress::StagedProgress(std::string command, bool quiet)
    : command_(std::move(command)), quiet_(quiet), start_(std::chrono::steady_clock::now()) {}

ProgressFn StagedProgress::Fn() {
  return [this](const Progress& p) {
    if (!line_ || p.stage != stage_) {
      if (line_) line_->Done();
      stage_ = std::string(p.stage);
      line_ = std::make_unique<ProgressLine>(command_ + ": " + stage_, quiet_, start_);
    }
    line_->Update(p.done, p.total, p.bytes);
  };
}

void StagedProgress::Done() {
  if (line_) line_->Done();
}

void StagedProgress::Abort() {
  if (line_) line_->Abort();
}

}  // namespace txdir::cli
