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

#include "store/gen_meta.h"
#include "test_util.h"

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

TEST(WriterLockTest, ReleasedOnDestructionAndHolderInfoCleared) {
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
  }
  auto holder = ReadLockHolder(Env::Default(), LockPath(f));
  ASSERT_TRUE(holder);
  EXPECT_FALSE(holder->has_value());
  EXPECT_EQ(testing::ReadFile(LockPath(f)), "");
  EXPECT_TRUE(WriterLock::Acquire(Env::Default(), LockPath(f), milliseconds(0)));
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

TEST(WriterLockMultiProcessTest, WaiterProceedsAsSoonAsHolderIsKilled) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  testing::MakeTree(f.src, {{"a", "2"}});
  pid_t holder = ForkHolder(LockPath(f));
  ASSERT_GT(holder, 0) << "holder could not take the lock";
  ChildGuard holder_guard{holder};

  // The waiter: a second writer process with a generous timeout; it reports
  // the outcome of its publish on a pipe.
  int done[2];
  ASSERT_EQ(::pipe(done), 0);
  pid_t waiter = ::fork();
  if (waiter == 0) {
    ::close(done[0]);
    auto repo = Repository::Open(f.root, OpenOptions{.lock_timeout = milliseconds(30000)});
    char c = 'E';
    if (repo) {
      auto g = (*repo)->Publish(f.src);
      c = g ? 'P' : (g.error().code == Code::kLocked ? 'T' : 'E');
    }
    (void)::write(done[1], &c, 1);
    ::_exit(0);
  }
  ChildGuard waiter_guard{waiter};
  ::close(done[1]);

  // While the holder lives the waiter must not get through.
  EXPECT_FALSE(WaitReadable(done[0], 500)) << "second writer published while the lock was held";
  EXPECT_EQ(f.LiveGeneration(), 1u);

  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  ASSERT_TRUE(WaitReadable(done[0], 10000)) << "waiter did not proceed after the holder died";
  auto delay =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed_at)
          .count();
  char c = 0;
  ASSERT_EQ(::read(done[0], &c, 1), 1);
  std::printf("LOCK_RELEASE delay_after_sigkill_ms=%.1f (includes the waiter's publish)\n", delay);
  EXPECT_EQ(c, 'P') << "waiter's publish failed";
  EXPECT_LT(delay, 5000.0);
  ::close(done[0]);
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

}  // namespace
}  // namespace txdir
