#include "txn/src/host_info.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "store/gen_meta.h"

namespace txdir::internal {

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
