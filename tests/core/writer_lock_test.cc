// The writer lock: flock on <root>/.txdir/lock, holder info for diagnostics,
// released by the kernel when the holder dies.
#include "txn/src/writer_lock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "store/gen_meta.h"
#include "test_util.h"
#include "txn/src/host_info.h"

namespace txdir {
namespace {

using internal::ReadLockHolder;
using internal::WriterLock;
using std::chrono::milliseconds;
using testing::RepoFixture;

std::string HostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string LockPath(const RepoFixture& f) { return f.root + "/.txdir/lock"; }

TEST(WriterLockTest, SecondAcquireTimesOutNamingTheHolder) {
  RepoFixture f;
  auto first = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(50));
  ASSERT_FALSE(second);
  const Error& e = second.error();
  EXPECT_EQ(e.code, Code::kLocked);
  EXPECT_NE(e.message.find("pid " + std::to_string(::getpid())), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(HostName()), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("txdir_core_tests"), std::string::npos)
      << "names the holder's command (this test binary): " << e.message;
  EXPECT_NE(e.message.find(" since "), std::string::npos) << e.message;
  EXPECT_EQ(e.path, LockPath(f));
}

TEST(WriterLockTest, ReleasedOnDestructionAndHolderInfoClearedWhenFinished) {
  RepoFixture f;
  {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    auto holder = ReadLockHolder(Env::Default(), LockPath(f));
    ASSERT_TRUE(holder);
    ASSERT_TRUE(holder->has_value());
    EXPECT_EQ((*holder)->pid, ::getpid());
    EXPECT_EQ((*holder)->host, HostName());
    EXPECT_GT((*holder)->since_ms, 0);
    held->Finish();
  }
  auto holder = ReadLockHolder(Env::Default(), LockPath(f));
  ASSERT_TRUE(holder);
  EXPECT_FALSE(holder->has_value());
  auto boot = Env::Default()->BootId();
  ASSERT_TRUE(boot) << boot.error().ToString();
  const std::string clean = testing::ReadFile(LockPath(f));
  EXPECT_EQ(clean, internal::CleanLockRecord(*boot)) << "blanked in place, naming this boot";
  EXPECT_EQ(clean.size(), internal::kLockRecordSize);
  EXPECT_EQ(clean.rfind(" boot=" + *boot + " ", 0), 0u) << clean.substr(0, 64);
  auto again = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->previous_unclean()) << "the last holder finished";
  EXPECT_TRUE(again->finished_this_boot());
}

TEST(WriterLockTest, AFinishedHolderOfAnotherBootOrAnUnknownOneDoesNotCount) {
  RepoFixture f;
  {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    held->Finish();
  }
  testing::BootIdEnv restarted(std::string("0c6b1a3e-2d6f-4e7a-9b1c-3f5e7d9a1b2c"));
  auto after_restart = WriterLock::Acquire(&restarted, LockPath(f), milliseconds(0));
  ASSERT_TRUE(after_restart);
  EXPECT_FALSE(after_restart->previous_unclean());
  EXPECT_FALSE(after_restart->finished_this_boot()) << "the record names the boot before";
  after_restart->Finish();
}

TEST(WriterLockTest, WithoutABootIdNoHolderCountsAsFinishedThisBoot) {
  RepoFixture f;
  testing::BootIdEnv no_proc(MakeError(Code::kNotFound, "no /proc"));
  for (int i = 0; i < 2; ++i) {
    auto held = WriterLock::Acquire(&no_proc, LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    EXPECT_FALSE(held->finished_this_boot());
    held->Finish();
  }
  EXPECT_EQ(testing::ReadFile(LockPath(f)), internal::BlankLockRecord());
}

// The holder record is the crash marker: a holder that did not Finish (its
// operation failed, or it died) leaves it, a tainted one too, and the next
// holder is told to recover.
TEST(WriterLockTest, AnUnfinishedHolderLeavesItsRecordForTheNext) {
  RepoFixture f;
  ASSERT_EQ(::truncate(LockPath(f).c_str(), 0), 0);
  {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    EXPECT_FALSE(held->previous_unclean());
  }  // not finished: an operation that failed part-way
  EXPECT_NE(testing::ReadFile(LockPath(f)), "");
  {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    EXPECT_TRUE(held->previous_unclean());
    held->Finish();
    held->Taint();  // finished, but a later step (gc) stopped half-way
  }
  EXPECT_NE(testing::ReadFile(LockPath(f)), "");
  {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    ASSERT_TRUE(held);
    EXPECT_TRUE(held->previous_unclean());
    held->Finish();
  }
  auto last = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->previous_unclean());
}

// A holder killed while holding the lock leaves its record (the page cache
// outlives the process), and a longer old record is cut to the new one.
TEST(WriterLockTest, AHolderKilledHoldingTheLockLeavesItsRecord) {
  RepoFixture f;
  testing::WriteFile(LockPath(f), std::string(4000, 'x'));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
    if (!held) ::_exit(2);
    held->Finish();  // dies before release all the same
    ::kill(::getpid(), SIGKILL);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  const std::string record = testing::ReadFile(LockPath(f));
  EXPECT_NE(record.find("\"pid\":" + std::to_string(child)), std::string::npos) << record;
  EXPECT_EQ(record.size(), internal::kLockRecordSize) << "the record keeps the file's size";
  const size_t end = record.find_last_not_of(' ');
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(record[end], '\n') << "one JSON line, then blanks: " << record;
  auto next = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->previous_unclean());
}

TEST(WriterLockTest, HolderWithUnreadableInfoIsStillReported) {
  RepoFixture f;
  int fd = ::open(LockPath(f).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  ASSERT_EQ(::write(fd, "not json", 8), 8);
  auto holder = ReadLockHolder(Env::Default(), LockPath(f));
  ASSERT_TRUE(holder);
  EXPECT_TRUE(holder->has_value());
  auto r = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kLocked);
  EXPECT_NE(r.error().message.find("unknown process"), std::string::npos) << r.error().message;
  ::close(fd);
}

TEST(WriterLockTest, PublishWithZeroTimeoutFailsAtOnceAndChangesNothing) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  auto held = WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0));
  ASSERT_TRUE(held);
  auto other = Repository::Open(f.root, OpenOptions{.lock_timeout = milliseconds(0)});
  ASSERT_TRUE(other);
  testing::MakeTree(f.src, {{"a", "2"}});
  auto g = (*other)->Publish(f.src);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kLocked);
  EXPECT_EQ(f.LiveGeneration(), 1u);
  EXPECT_EQ(testing::ReadFile(f.live() + "/a"), "1");
}

// --- Multi-process: the holder is a child process holding the real lock.

// Forks a child that takes the writer lock, reports on `ready`, and sleeps
// until killed.
pid_t ForkHolder(const std::string& lock_path) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    auto lock = WriterLock::Acquire(Env::Default(), lock_path, milliseconds(0));
    char c = lock ? 'L' : 'E';
    (void)::write(ready[1], &c, 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ssize_t n = ::read(ready[0], &c, 1);
  ::close(ready[0]);
  if (n != 1 || c != 'L') {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

// Kills and reaps a child when the test ends, however it ends.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Waits up to `timeout_ms` for a byte on fd. True if one arrived.
bool WaitReadable(int fd, int timeout_ms) {
  struct pollfd p {
    fd, POLLIN, 0
  };
  return ::poll(&p, 1, timeout_ms) == 1;
}

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The waiter's Env: tells the parent (one 'W' on `fd`) when its first try
// for the writer lock is refused, and records when it finally gets it.
class LockWatchEnv : public EnvWrapper {
 public:
  explicit LockWatchEnv(int fd) : EnvWrapper(Env::Default()), fd_(fd) {}
  Status Flock(int fd, LockMode mode, bool wait) override {
    Status r = EnvWrapper::Flock(fd, mode, wait);
    if (mode == LockMode::kExclusive) {
      if (!r && r.error().code == Code::kLocked && !told_) {
        char w = 'W';
        (void)::write(fd_, &w, 1);
        told_ = true;
      }
      if (r && acquired_ns == 0) acquired_ns = MonotonicNs();
    }
    return r;
  }
  int64_t acquired_ns = 0;

 private:
  int fd_;
  bool told_ = false;
};

TEST(WriterLockMultiProcessTest, WaiterProceedsAsSoonAsHolderIsKilled) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  testing::MakeTree(f.src, {{"a", "2"}});
  pid_t holder = ForkHolder(LockPath(f));
  ASSERT_GT(holder, 0) << "holder could not take the lock";
  ChildGuard holder_guard{holder};

  // The waiter: a second writer process publishing with a generous
  // timeout. It reports 'W' once it is refused the lock, then the outcome
  // of its publish and when it got the lock.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t waiter = ::fork();
  if (waiter == 0) {
    ::close(pipe_fds[0]);
    LockWatchEnv env(pipe_fds[1]);
    auto repo =
        Repository::Open(f.root, OpenOptions{.env = &env, .lock_timeout = milliseconds(30000)});
    char c = 'E';
    if (repo) {
      auto g = (*repo)->Publish(f.src);
      c = g ? 'P' : (g.error().code == Code::kLocked ? 'T' : 'E');
    }
    char msg[1 + sizeof(int64_t)];
    msg[0] = c;
    std::memcpy(msg + 1, &env.acquired_ns, sizeof(int64_t));
    (void)::write(pipe_fds[1], msg, sizeof msg);
    ::_exit(0);
  }
  ChildGuard waiter_guard{waiter};
  ::close(pipe_fds[1]);
  const int from_waiter = pipe_fds[0];

  // The waiter is refused while the holder lives, and keeps waiting.
  ASSERT_TRUE(WaitReadable(from_waiter, 10000)) << "waiter never tried the lock";
  char c = 0;
  ASSERT_EQ(::read(from_waiter, &c, 1), 1);
  ASSERT_EQ(c, 'W') << "the second writer got through while the lock was held";
  EXPECT_FALSE(WaitReadable(from_waiter, 300)) << "second writer finished while the lock was held";
  EXPECT_EQ(f.LiveGeneration(), 1u);

  const int64_t killed_ns = MonotonicNs();
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  ASSERT_TRUE(WaitReadable(from_waiter, 10000)) << "waiter did not proceed after the holder died";
  const double total_ms = (MonotonicNs() - killed_ns) / 1e6;
  char msg[1 + sizeof(int64_t)];
  ASSERT_EQ(::read(from_waiter, msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  ::close(from_waiter);
  int64_t acquired_ns = 0;
  std::memcpy(&acquired_ns, msg + 1, sizeof acquired_ns);
  EXPECT_EQ(msg[0], 'P') << "the waiter's publish failed";
  ASSERT_GT(acquired_ns, 0);
  const double lock_ms = (acquired_ns - killed_ns) / 1e6;
  std::printf("LOCK_RELEASE sigkill_to_lock_acquired_ms=%.2f sigkill_to_publish_done_ms=%.1f\n",
              lock_ms, total_ms);
  EXPECT_GE(lock_ms, 0.0) << "the waiter had the lock before the holder died";
  EXPECT_LT(lock_ms, 5000.0);
  EXPECT_EQ(f.LiveGeneration(), 2u);
  EXPECT_EQ(testing::ReadFile(f.live() + "/a"), "2");
}

TEST(WriterLockMultiProcessTest, TimeoutNamesTheOtherProcess) {
  RepoFixture f;
  pid_t holder = ForkHolder(LockPath(f));
  ASSERT_GT(holder, 0);
  auto repo = Repository::Open(f.root, OpenOptions{.lock_timeout = milliseconds(100)});
  ASSERT_TRUE(repo);
  testing::MakeTree(f.src, {{"a", "1"}});
  auto g = (*repo)->Publish(f.src);
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kLocked);
  const std::string& m = g.error().message;
  EXPECT_NE(m.find("pid " + std::to_string(holder) + " on " + HostName()), std::string::npos) << m;
  EXPECT_NE(m.find("txdir_core_tests"), std::string::npos) << "names the command: " << m;
  EXPECT_NE(m.find("since 20"), std::string::npos) << "names since-when: " << m;

  // Once the holder is gone the lock is free again: nothing went stale.
  auto status = (*repo)->Status();
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->lock_holder.has_value());
  EXPECT_TRUE((*repo)->Publish(f.src));
}

TEST(WriterLockMultiProcessTest, StatusReportsTheLiveHolder) {
  RepoFixture f;
  pid_t holder = ForkHolder(LockPath(f));
  ASSERT_GT(holder, 0);
  auto status = f.repo->Status();
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ASSERT_TRUE(status);
  ASSERT_TRUE(status->lock_holder.has_value());
  EXPECT_EQ(status->lock_holder->pid, holder);
  EXPECT_EQ(status->lock_holder->host, HostName());
}

// The holder record's command line is diagnostics: a read error (here
// EISDIR, as EIO from /proc would be) gives "unknown", never an exception
// (libstdc++'s filebuf throws on a read error whatever the stream's mask).
TEST(HolderRecordTest, AnUnreadableCommandLineIsUnknownNotACrash) {
  EXPECT_EQ(internal::CommandLineFrom("/"), "unknown");
  EXPECT_EQ(internal::CommandLineFrom("/nonexistent/cmdline"), "unknown");
  EXPECT_NE(internal::CommandLine().find("txdir_core_tests"), std::string::npos)
      << internal::CommandLine();
}

}  // namespace
}  // namespace txdir
