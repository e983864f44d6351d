// Helpers for the serve tests: child processes (the `txdir serve` CLI, the
// writer, Chromium) with their output in files, and a sample repository.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/test_util.h"

extern char** environ;

namespace txdir::testing {

// A child process whose stdout and stderr go to files; killed (SIGTERM, then
// SIGKILL) and reaped when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& out_path,
        const std::string& err_path)
      : out_path_(out_path), err_path_(err_path) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = argv;
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    if (posix_spawn(&pid_, args[0].c_str(), &fa, nullptr, cargv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() { Stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }

  // Waits for exit up to `timeout`; the exit code, or nullopt on timeout
  // (or -1 when killed by a signal).
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (exit_) return exit_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = -1;
        return exit_;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_;
  }
  bool Running() { return pid_ > 0 && !Wait(std::chrono::milliseconds(0)); }
  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // SIGTERM; SIGKILL if it has not exited within 5 s. The exit code.
  std::optional<int> Stop() {
    if (pid_ <= 0) return exit_;
    ::kill(pid_, SIGTERM);
    // Generous: the writer of the consistency test may be mid-publish.
    if (auto e = Wait(std::chrono::seconds(20))) return e;
    ::kill(pid_, SIGKILL);
    return Wait(std::chrono::seconds(5));
  }

  std::string out() const { return ReadFile(out_path_); }
  std::string err() const { return ReadFile(err_path_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
  std::string out_path_, err_path_;
};

// Starts `txdir serve ROOT --addr 127.0.0.1:0` and waits (up to 20 s) for
// the line that names the port. Port 0: the kernel picks a free port, so
// tests never collide.
struct ServeProcess {
  std::unique_ptr<Child> child;
  int port = -1;

  ServeProcess(const std::string& root, const std::string& io_dir) {
    child = std::make_unique<Child>(
        std::vector<std::string>{TXDIR_CLI, "serve", root, "--addr", "127.0.0.1:0"},
        io_dir + "/serve.out", io_dir + "/serve.err");
    static const std::regex kLine(R"(at http://127\.0\.0\.1:(\d+)/)");
    for (int i = 0; i < 2000 && child->Running(); ++i) {
      std::smatch m;
      std::string out = child->out();
      if (std::regex_search(out, m, kLine)) {
        port = std::stoi(m[1]);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "txdir serve did not start: " << child->out() << child->err();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

}  // namespace txdir::testing
