#include "tools/txdir/pager.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

extern char** environ;

namespace txdir::cli {

namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// Whether `program` is an executable file in a directory of $PATH.
bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest(path);
  while (true) {
    const size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace

bool ColorWanted() {
  if (::isatty(1) != 1) return false;
  if (Env("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::string_view(term) != "dumb";
}

std::string PagerCommand() {
  if (const char* p = std::getenv("TXDIR_PAGER"))
    return *p == '\0' || std::string_view(p) == "cat" ? "" : p;
  if (const char* p = std::getenv("PAGER"))
    return *p == '\0' || std::string_view(p) == "cat" ? "" : p;
  return OnPath("less") ? "less" : "";
}

bool Pager::Start(const std::string& command) {
  if (command.empty() || ::isatty(1) != 1) return false;
  // A plain program name that is not there would swallow the output (the
  // shell reports it and exits): say so and print directly instead.
  if (command.find_first_of(" \t|&;<>()$`\\\"'*?[#~=%") == std::string::npos) {
    const bool found = command.find('/') != std::string::npos ? ::access(command.c_str(), X_OK) == 0
                                                              : OnPath(command);
    if (!found) {
      (void)std::fprintf(stderr, "txdir: warning: pager '%s' not found; not paging\n",
                         command.c_str());
      return false;
    }
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  if (std::getenv("LESS") == nullptr) env.emplace_back("LESS=FRX");
  if (std::getenv("LV") == nullptr) env.emplace_back("LV=-c");
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return false;
  }
  // The terminal stays on fd 2 for errors; fd 1 becomes the pipe.
  if (::dup2(fds[1], 1) < 0) {
    ::close(fds[1]);
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  ::close(fds[1]);
  pid_ = pid;
  return true;
}

void Pager::Finish() {
  if (pid_ < 0) return;
  // End of input for the pager: fd 1 becomes /dev/null for anything later.
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, 1);
    ::close(null_fd);
  } else {
    ::close(1);
  }
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ColorizePatch(const std::string& text) {
  static constexpr std::string_view kBold = "\x1b[1m", kCyan = "\x1b[36m", kGreen = "\x1b[32m",
                                    kRed = "\x1b[31m", kReset = "\x1b[m";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool has_nl = end != std::string::npos;
    if (!has_nl) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    std::string_view color;
    if (line.starts_with("diff --git") || line.starts_with("index ") || line.starts_with("--- ") ||
        line.starts_with("+++ ") || line.starts_with("new file") ||
        line.starts_with("deleted file"))
      color = kBold;
    else if (line.starts_with("@@"))
      color = kCyan;
    else if (line.starts_with("+"))
      color = kGreen;
    else if (line.starts_with("-"))
      color = kRed;
    if (color.empty()) {
      out.append(line);
    } else {
      out.append(color).append(line).append(kReset);
    }
    if (has_nl) out.push_back('\n');
    pos = end + 1;
  }
  return out;
}

}  // namespace txdir::cli
