// Helpers of the replication tests: a bare repository made by git itself,
// a `git daemon` on 127.0.0.1 started and stopped by the test, and the
// round-numbered file sets of the multi-file readers test (tests/core).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {

// Scratch space: a tmpfs when there is one (these tests check what travels
// and what readers see, not durability), else $TMPDIR.
inline std::string ReplBase() {
  if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return "";
}

// Runs a command (no shell) and returns its exit code; output to `log`.
inline int RunProgram(const std::vector<std::string>& argv, const std::string& log = "/dev/null") {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "a", stdout);
    (void)f;
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `git init --bare` with plain git: the remote is an ordinary git repository.
inline void MakeBare(const std::string& path) {
  ASSERT_EQ(RunProgram({"git", "init", "--quiet", "--bare", path}), 0) << "git init --bare failed";
}

// A TCP port that was free a moment ago (bind to 0, read it back, close).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// `git daemon` serving every repository under `base` (read and push) on
// 127.0.0.1:<free port>; stopped (its whole process group) on destruction.
class GitDaemon {
 public:
  explicit GitDaemon(const std::string& base) : base_(base) {
    if (RunProgram({"git", "daemon", "--help"}, base + "/daemon-help.log") != 0 &&
        RunProgram({"test", "-x", "/usr/lib/git-core/git-daemon"}) != 0) {
      error_ = "git daemon is not installed (Debian: package git; scripts/deps.sh)";
      return;
    }
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = FreePort();
      pid_t pid = ::fork();
      if (pid == 0) {
        ::setpgid(0, 0);
        const std::string log = base + "/daemon.log";
        FILE* f = std::freopen(log.c_str(), "a", stderr);
        (void)f;
        std::string port = "--port=" + std::to_string(port_);
        std::string base_path = "--base-path=" + base;
        ::execlp("git", "git", "daemon", "--export-all", "--enable=receive-pack", base_path.c_str(),
                 "--listen=127.0.0.1", port.c_str(), "--reuseaddr", base.c_str(),
                 static_cast<char*>(nullptr));
        ::_exit(127);
      }
      ::setpgid(pid, pid);
      // Ready when it accepts connections; gone if the port was taken.
      for (int i = 0; i < 200; ++i) {
        if (CanConnect(port_)) {
          pid_ = pid;
          break;
        }
        int status;
        if (::waitpid(pid, &status, WNOHANG) == pid) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (pid_ <= 0) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, WNOHANG);
      }
    }
    if (pid_ <= 0) error_ = "git daemon did not start (see " + base + "/daemon.log)";
  }
  ~GitDaemon() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    int status;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  GitDaemon(const GitDaemon&) = delete;
  GitDaemon& operator=(const GitDaemon&) = delete;

  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  // git://127.0.0.1:<port>/<rel>, rel relative to the base path.
  std::string Url(const std::string& rel) const {
    return "git://127.0.0.1:" + std::to_string(port_) + "/" + rel;
  }

 private:
  std::string base_;
  std::string error_;
  int port_ = -1;
  pid_t pid_ = -1;
};

// --- The self-checking file sets of the multi-file readers test: every file of round n starts
// with "seq=<n> manifest=<hash of all bodies of round n>".
constexpr int kRoundFiles = 11;

inline std::string RoundFileName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "table_%02d.sdn", i);
  return buf;
}

inline std::string RoundBody(int i, uint64_t seq) {
  std::string s = "table" + std::to_string(i) + " |id, value|\n";
  for (int row = 0; row < 20; ++row)
    s += "  " + std::to_string(row) + ", " + std::to_string(seq * 131 + row * 7 + i) + "\n";
  return s;
}

inline uint64_t Fnv1a(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline uint64_t RoundManifest(const std::vector<std::string>& bodies) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& b : bodies) h = Fnv1a(Fnv1a(h, b), "\x1f");
  return h;
}

inline void WriteRound(const std::string& src, uint64_t seq) {
  std::vector<std::string> bodies;
  for (int i = 0; i < kRoundFiles; ++i) bodies.push_back(RoundBody(i, seq));
  char header[64];
  std::snprintf(header, sizeof header, "seq=%" PRIu64 " manifest=%016" PRIx64 "\n", seq,
                RoundManifest(bodies));
  for (int i = 0; i < kRoundFiles; ++i) WriteFile(src + "/" + RoundFileName(i), header + bodies[i]);
}

// The round all `files` belong to, or -1 when they do not belong together.
inline int64_t RoundOf(const std::vector<std::string>& files) {
  std::vector<std::string> bodies;
  uint64_t seq0 = 0, man0 = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    uint64_t seq, man;
    if (std::sscanf(files[i].c_str(), "seq=%" SCNu64 " manifest=%" SCNx64, &seq, &man) != 2)
      return -1;
    if (i == 0) seq0 = seq, man0 = man;
    if (seq != seq0 || man != man0) return -1;
    size_t nl = files[i].find('\n');
    bodies.push_back(nl == std::string::npos ? "" : files[i].substr(nl + 1));
  }
  if (RoundManifest(bodies) != man0) return -1;
  return static_cast<int64_t>(seq0);
}

}  // namespace txdir::testing
