#include "txn/src/writer_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "store/gen_meta.h"
#include "txn/src/host_info.h"

namespace txdir::internal {

namespace {

std::optional<LockHolder> ParseHolder(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  LockHolder h;
  try {
    h.pid = j.value("pid", int64_t{0});
    h.host = j.value("host", std::string());
    h.command = j.value("command", std::string());
    h.since_ms = j.value("since_ms", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return h;
}

// The holder record, padded with blanks to kLockRecordSize so that it
// always covers the previous one whole. An overlong command line is cut.
std::string HolderRecord(LockHolder me) {
  me.host = me.host.substr(0, 255);
  for (;;) {
    nlohmann::json j = {{"pid", me.pid},
                        {"host", me.host},
                        {"command", me.command},
                        {"since_ms", me.since_ms},
                        {"since", store::FormatTime(me.since_ms)}};
    // The command line may hold bytes that are not UTF-8 (a file name):
    // replaced, as dump() would otherwise throw.
    std::string info = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (info.size() <= kLockRecordSize) {
      info.resize(kLockRecordSize, ' ');
      return info;
    }
    // Escapes can make the JSON longer than the text: cut generously.
    const size_t cut = std::min(me.command.size(), info.size() - kLockRecordSize + 16);
    me.command = me.command.substr(0, me.command.size() - cut) + "...";
  }
}

}  // namespace

std::string DescribeHolder(const LockHolder& h) {
  return "pid " + std::to_string(h.pid) + " on " + h.host + " (" + h.command + ") since " +
         store::FormatTime(h.since_ms);
}

Error LockTimedOut(Env* env, const std::string& lock_path, std::chrono::milliseconds timeout) {
  std::string who = "an unknown process";
  if (auto text = env->ReadFileAt(Env::kCwd, lock_path); text) {
    if (auto h = ParseHolder(*text)) who = DescribeHolder(*h);
  }
  return Error{Code::kLocked,
               "timed out after " + std::to_string(timeout.count()) +
                   " ms waiting for the writer lock, held by " + who,
               lock_path};
}

Result<WriterLock> WriterLock::Acquire(Env* env, const std::string& lock_path,
                                       std::chrono::milliseconds timeout, bool describe_holder) {
  // O_NOFOLLOW: the lock file is written (its holder record) and must be
  // .txdir's own, never a link's target (docs/security.md).
  Fd fd = TXDIR_TRY(env->OpenAt(Env::kCwd, lock_path, O_RDWR | O_NOFOLLOW));
  timeout = std::clamp(timeout, std::chrono::milliseconds(0), kMaxLockTimeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // flock(2) has no timed wait, so the lock is polled. The cap is short
  // because a publish holds the lock for about a millisecond: with a 10 ms
  // cap, 8 contending writers left the lock idle most of the time (8 writers
  // made fewer updates per second than 1). A failed LOCK_NB is one cheap
  // system call; 1000 of them a second per waiter cost well under 1% of a core.
  auto backoff = std::chrono::microseconds(50);
  for (;;) {
    auto r = env->Flock(fd.get(), LockMode::kExclusive, /*wait=*/false);
    if (r) break;
    if (r.error().code != Code::kLocked) return tl::unexpected(r.error());
    if (std::chrono::steady_clock::now() >= deadline) {
      if (describe_holder) return tl::unexpected(LockTimedOut(env, lock_path, timeout));
      return MakeError(Code::kLocked, "the writer lock is held by another process", lock_path);
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::microseconds>(backoff * 2, kLockPollCap);
  }
  // A record left in the file: the previous holder did not finish (see the
  // header). A clean file is blank, or empty (made by an older version).
  // Unreadable counts as left.
  char head[64] = {};
  auto left = env->PRead(fd.get(), head, sizeof head, 0);
  const bool previous_unclean = !left || (*left > 0 && head[0] != ' ');
  // A clean record names the boot it was written in (CleanLockRecord).
  auto boot = env->BootId();
  const bool finished_this_boot =
      !previous_unclean && boot && !boot->empty() && left &&
      std::string_view(head, *left).substr(0, boot->size() + 7) == " boot=" + *boot + " ";
  const std::string info = HolderRecord(SelfAsHolder());
  // Overwrite the blank record in place: the file never passes through
  // blank while held, so a holder that dies at any point leaves a record,
  // and the record's block is already allocated, so it is written even on
  // a full disk (gc and recover must work there). No fsync: after a power
  // loss every handle recovers on its first lock anyway. Without the record
  // a crash of ours could go unnoticed, so failing to write it fails the lock.
  Status written = env->Write(fd.get(), info.data(), info.size());
  if (!written) {
    (void)env->Unlock(fd.get());
    Error e = written.error();
    e.message = "cannot write the writer lock's holder record: " + e.message;
    return tl::unexpected(e);
  }
  return WriterLock(env, std::move(fd), lock_path, previous_unclean, finished_this_boot,
                    boot ? *boot : std::string());
}

std::string BlankLockRecord() { return std::string(kLockRecordSize, ' '); }

std::string CleanLockRecord(const std::string& boot_id) {
  std::string r = BlankLockRecord();
  if (!boot_id.empty() && boot_id.size() < 64)
    r.replace(0, boot_id.size() + 7, " boot=" + boot_id + " ");
  return r;
}

WriterLock::~WriterLock() {
  if (!fd_.valid()) return;
  if (finished_ && !tainted_) {
    // Blanked in place through a second descriptor (the first one's offset
    // is past the record); a failure leaves the record, which only makes
    // the next holder recover.
    if (auto w = env_->OpenAt(Env::kCwd, path_, O_WRONLY)) {
      const std::string clean = CleanLockRecord(boot_id_);
      (void)env_->Write(w->get(), clean.data(), clean.size());
    }
  }
  (void)env_->Unlock(fd_.get());
}

Result<std::optional<LockHolder>> ReadLockHolder(Env* env, const std::string& lock_path) {
  Fd fd = TXDIR_TRY(env->OpenAt(Env::kCwd, lock_path, O_RDONLY | O_NOFOLLOW));
  auto r = env->Flock(fd.get(), LockMode::kShared, /*wait=*/false);
  if (r) {
    (void)env->Unlock(fd.get());
    return std::optional<LockHolder>();
  }
  if (r.error().code != Code::kLocked) return tl::unexpected(r.error());
  auto text = TXDIR_TRY(env->ReadAll(fd.get()));
  auto h = ParseHolder(text);
  if (!h) h = LockHolder{0, "?", "unknown", 0};
  return std::optional<LockHolder>(*h);
}

}  // namespace txdir::internal
