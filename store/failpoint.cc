#include "store/failpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace txdir::internal {
namespace {

struct Config {
  std::string name;  // empty: match any name
  long nth = 0;      // 0: failpoints disabled
  const char* log = nullptr;
  std::string broken;
  std::string pause_at;   // TXDIR_PAUSE_AT
  std::string pause_dir;  // TXDIR_PAUSE_DIR
};

const Config& GetConfig() {
  static const Config cfg = [] {
    Config c;
    if (const char* at = std::getenv("TXDIR_CRASH_AT"); at != nullptr && *at != '\0') {
      std::string s(at);
      auto hash = s.find('#');
      c.name = s.substr(0, hash);
      c.nth = hash == std::string::npos ? 1 : std::atol(s.c_str() + hash + 1);
    }
    c.log = std::getenv("TXDIR_FAILPOINT_LOG");
    if (const char* b = std::getenv("TXDIR_BROKEN")) c.broken = b;
    if (const char* p = std::getenv("TXDIR_PAUSE_AT")) c.pause_at = p;
    if (const char* d = std::getenv("TXDIR_PAUSE_DIR")) c.pause_dir = d;
    return c;
  }();
  return cfg;
}

// Parks the process at a failpoint until a test lets it go: creates
// DIR/paused, then waits (at most 60 s) for DIR/resume to exist. How a test
// holds one process inside a window while another runs.
void Pause(const Config& cfg) {
  const std::string paused = cfg.pause_dir + "/paused", resume = cfg.pause_dir + "/resume";
  int fd = ::open(paused.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  for (int i = 0; i < 60000 && ::access(resume.c_str(), F_OK) != 0; ++i) ::usleep(1000);
}

}  // namespace

void Failpoint(const char* name) {
  const Config& cfg = GetConfig();
  if (!cfg.pause_at.empty() && cfg.pause_at == name && !cfg.pause_dir.empty()) Pause(cfg);
  static std::mutex mu;
  static long hits = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (cfg.log != nullptr) {
    // O_APPEND writes of one short line are atomic, so concurrent processes
    // writing the same log do not interleave within a line.
    int fd = ::open(cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      std::string line = std::string(name) + "\n";
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  if (cfg.nth == 0) return;
  if (!cfg.name.empty() && cfg.name != name) return;
  if (++hits == cfg.nth) ::kill(::getpid(), SIGKILL);
}

bool Broken(const char* variant) {
  const std::string& b = GetConfig().broken;
  if (b.empty()) return false;
  // A comma-separated list of variant names.
  size_t n = std::strlen(variant);
  for (size_t pos = 0; pos <= b.size();) {
    size_t end = b.find(',', pos);
    if (end == std::string::npos) end = b.size();
    if (end - pos == n && b.compare(pos, n, variant) == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace txdir::internal
