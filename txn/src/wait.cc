// Change notification: wait until a newer generation is live.
//
// A publish makes a generation live by renaming a fresh symlink over the
// live path, so the live link's directory sees IN_MOVED_TO for the link's
// name (IN_CREATE/IN_ATTRIB cover other ways of replacing it). inotify is not
// file I/O and so does not go through the Env; the link itself is read
// through it.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "store/fs_util.h"
#include "txdir/history.h"
#include "txn/src/config.h"
#include "txn/src/repo_impl.h"
#include "txn/src/trust.h"

namespace txdir {

namespace {

constexpr std::chrono::milliseconds kPollInterval{100};      // without inotify
constexpr std::chrono::milliseconds kRecheckInterval{1000};  // with inotify: lost events

Result<internal::Layout> WaitLayout(Env* env, const std::string& root) {
  internal::Layout l = internal::Layout::For(root);
  auto config = internal::LoadConfig(env, l.config);
  if (!config) {
    if (!env->StatAt(Env::kCwd, l.meta, true))
      return tl::unexpected(internal::NotARepository(env, l));
    return tl::unexpected(config.error());
  }
  l.live = config->live_path.front() == '/' ? config->live_path : l.root + "/" + config->live_path;
  return l;
}

// An inotify watch on the live link's directory; invalid when inotify is
// unavailable (the caller then polls).
class DirWatch {
 public:
  explicit DirWatch(const std::string& dir) {
    // Tests force the polling fallback with TXDIR_WAIT_POLL=1.
    if (const char* p = std::getenv("TXDIR_WAIT_POLL"); p != nullptr && *p == '1') return;
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return;
    fd_ = Fd(fd);
    if (::inotify_add_watch(fd, dir.c_str(), IN_MOVED_TO | IN_CREATE | IN_ATTRIB) < 0) fd_.reset();
  }
  bool valid() const { return fd_.valid(); }

  // Waits up to `ms` for events and drains them. Which name changed does
  // not matter: the caller re-reads the link, which is cheap.
  void Wait(std::chrono::milliseconds ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(ms.count()));
    if (rc <= 0) return;  // timeout, or EINTR: the caller re-checks either way
    alignas(inotify_event) char buf[4096];
    while (::read(fd_.get(), buf, sizeof buf) > 0) {
    }
  }

 private:
  Fd fd_;
};

}  // namespace

Result<uint64_t> WaitForGeneration(const std::string& root, std::optional<uint64_t> after,
                                   std::chrono::milliseconds timeout, Env* env) {
  using Clock = std::chrono::steady_clock;
  if (env == nullptr) env = Env::Default();
  const auto start = Clock::now();
  internal::Layout l = TXDIR_TRY(WaitLayout(env, root));
  // Watch first, then read: a publish between the two is then not missed.
  DirWatch watch(fs::Dirname(l.live));
  auto live = [&]() -> Result<uint64_t> {
    auto g = TXDIR_TRY(internal::ReadLiveGeneration(env, l));
    return g.value_or(0);
  };
  const uint64_t base = after ? *after : TXDIR_TRY(live());
  for (;;) {
    uint64_t now_live = TXDIR_TRY(live());
    if (now_live > base) return now_live;
    std::chrono::milliseconds step = watch.valid() ? kRecheckInterval : kPollInterval;
    if (timeout.count() >= 0) {
      auto left =
          timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      if (left.count() <= 0)
        return MakeError(Code::kTimeout,
                         "no generation newer than " + std::to_string(base) + " went live within " +
                             std::to_string(timeout.count()) + " ms",
                         l.live);
      step = std::min(step, left);
    }
    if (watch.valid())
      watch.Wait(step);
    else
      std::this_thread::sleep_for(step);
  }
}

}  // namespace txdir
