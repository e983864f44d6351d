// The repository's writer lock: flock(LOCK_EX) on <root>/.txdir/lock.
//
// The kernel releases a flock when its holder dies, so the lock never goes
// stale. The lock itself is the flock, not the file's content.
//
// The file's content is the holder record: pid, host, command and start
// time, written as soon as the flock is taken (shown by `txdir status` and
// in lock-timeout errors). It doubles as the crash marker: the record is
// blanked at release only by a holder that declared its work finished
// (Finish), so a record found at Acquire means the previous holder died
// holding the lock, or its operation failed part-way, and may have left
// something to repair. The record is written before the holder changes
// anything and the file never passes through blank while held. The file
// keeps one size (kLockRecordSize): records overwrite each other in place,
// so taking the lock needs no free space (on a full disk the commands that
// free space must still be able to lock).
//
// After a power loss the record may be lost with everything else unsynced.
// So the clean record names the boot of the machine it was written in
// (Env::BootId): a clean record of this boot means no power loss came since
// that holder finished, and a handle may skip recovery on its first lock;
// a clean record of another boot (or none: init's blank file, an older
// version's, an unreadable boot id) makes the handle's first lock recover
// (LockForWrite, commit.cc).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "txdir/env.h"
#include "txdir/repository.h"

namespace txdir::internal {

// Size of the lock file: one holder record, padded with blanks. A blank
// file is a clean one.
inline constexpr size_t kLockRecordSize = 4096;
// The content of a clean lock file that names no boot (init writes it).
std::string BlankLockRecord();
// The content of a lock file left clean in the boot `boot_id`: a blank
// record whose first bytes are " boot=<boot_id> " (the first byte stays a
// blank, so a clean file is still one that starts with a blank).
std::string CleanLockRecord(const std::string& boot_id);

// Longest sleep between two tries of a waiting Acquire.
inline constexpr std::chrono::microseconds kLockPollCap{1000};

class WriterLock {
 public:
  // Waits up to `timeout` (zero or less: try once; more than
  // kMaxLockTimeout: that long, so the deadline cannot overflow). On timeout: kLocked, with a
  // message naming the holder (LockTimedOut), or, with describe_holder
  // false, only saying it is held: for a caller that tries once and names
  // the holder only if it gives up later, so that a try does not read the
  // holder's record.
  static Result<WriterLock> Acquire(Env* env, const std::string& lock_path,
                                    std::chrono::milliseconds timeout, bool describe_holder = true);
  WriterLock(WriterLock&&) noexcept = default;
  WriterLock& operator=(WriterLock&&) noexcept = default;
  ~WriterLock();

  // The previous holder left its record: it died holding the lock or did not
  // finish. Run recovery before changing anything.
  bool previous_unclean() const { return previous_unclean_; }
  // The previous holder finished, in this boot of the machine: no crash and
  // no power loss since, so there is nothing to repair even for a handle
  // that has not recovered yet.
  bool finished_this_boot() const { return finished_this_boot_; }

  // This holder's work is complete and left nothing to repair: release
  // clears the record, and the next holder may skip recovery. Taint undoes
  // it for good (a step that failed after the work itself succeeded, such
  // as automatic gc). Const, like every use of the lock by the steps it
  // guards: these change what release does, not the lock.
  void Finish() const { finished_ = true; }
  void Taint() const { tainted_ = true; }

  // The lock file's stat. Acquire has just written the holder record, so
  // its mtime is the file system's own clock at that moment (what the stat
  // cache needs, stat_cache.h), with no file created to read it.
  Result<struct stat> Stat() const { return env_->Fstat(fd_.get()); }

 private:
  WriterLock(Env* env, Fd fd, std::string path, bool previous_unclean, bool finished_this_boot,
             std::string boot_id)
      : env_(env),
        fd_(std::move(fd)),
        path_(std::move(path)),
        boot_id_(std::move(boot_id)),
        previous_unclean_(previous_unclean),
        finished_this_boot_(finished_this_boot) {}
  Env* env_ = nullptr;
  Fd fd_;
  std::string path_;
  std::string boot_id_;  // empty when the Env could not tell
  bool previous_unclean_ = true;
  bool finished_this_boot_ = false;
  mutable bool finished_ = false;
  mutable bool tainted_ = false;
};

// The current holder, or nullopt when the lock is free.
Result<std::optional<LockHolder>> ReadLockHolder(Env* env, const std::string& lock_path);

std::string DescribeHolder(const LockHolder& h);

// kLocked: "timed out after <timeout> ms waiting for the writer lock, held
// by <the holder its record names>".
Error LockTimedOut(Env* env, const std::string& lock_path, std::chrono::milliseconds timeout);

}  // namespace txdir::internal
