// The repository's writer lock: flock(LOCK_EX) on <root>/.txdir/lock.
//
// The kernel releases a flock when its holder dies, so the lock never goes
// stale; there is nothing to clean up after a crash. The holder writes its
// pid, host, command and start time into the file for diagnostics only —
// the lock itself is the flock, not the file's content.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "txdir/env.h"
#include "txdir/repository.h"

namespace txdir::internal {

class WriterLock {
 public:
  // Waits up to `timeout` (zero or less: try once; more than
  // kMaxLockTimeout: that long, so the deadline cannot overflow). On timeout: kLocked, with a
  // message naming the holder.
  static Result<WriterLock> Acquire(Env* env, const std::string& lock_path,
                                    std::chrono::milliseconds timeout);
  WriterLock(WriterLock&&) noexcept = default;
  WriterLock& operator=(WriterLock&&) noexcept = default;
  ~WriterLock();

 private:
  WriterLock(Env* env, Fd fd) : env_(env), fd_(std::move(fd)) {}
  Env* env_ = nullptr;
  Fd fd_;
};

// The current holder, or nullopt when the lock is free.
Result<std::optional<LockHolder>> ReadLockHolder(Env* env, const std::string& lock_path);

std::string DescribeHolder(const LockHolder& h);

}  // namespace txdir::internal
