#include "txn/src/host_info.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "store/gen_meta.h"

namespace txdir::internal {

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string CommandLine() { return CommandLineFrom("/proc/self/cmdline"); }

std::string CommandLineFrom(const char* path) {
  // read(2), not a stream: libstdc++'s filebuf throws on a read error (EIO)
  // whatever the stream's exception mask, and this runs on every lock. The
  // command line is for diagnostics only: what cannot be read is left out.
  std::string s;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "unknown";
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && s.empty()) s = "unknown";
      break;
    }
    s.append(buf, static_cast<size_t>(n));
    if (s.size() > 4096) break;
  }
  ::close(fd);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s)
    if (c == '\0') c = ' ';
  if (s.size() > 200) s.replace(200, std::string::npos, "...");
  return s;
}

std::string DefaultAuthor() {
  if (const char* a = std::getenv("TXDIR_AUTHOR"); a != nullptr && *a != '\0') return a;
  // getpwuid_r, not getpwuid: commits may be made on several threads.
  struct passwd pwd;
  struct passwd* pw = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::geteuid(), &pwd, buf.data(), buf.size(), &pw) == 0 && pw != nullptr &&
      pw->pw_name != nullptr)
    return pw->pw_name;
  return "txdir";
}

LockHolder SelfAsHolder() {
  return LockHolder{static_cast<int64_t>(::getpid()), HostName(), CommandLine(), store::NowMs()};
}

}  // namespace txdir::internal
