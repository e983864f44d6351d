// Runs the built `txdir` binary and captures its exit code, stdout and
// stderr (through temporary files, so large outputs cannot deadlock).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <initializer_list>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/test_util.h"

extern char** environ;

namespace txdir::testing {

struct CliResult {
  int exit = -1;  // exit code; -1 if it did not exit normally
  std::string out, err;
};

inline std::ostream& operator<<(std::ostream& os, const CliResult& r) {
  return os << "exit " << r.exit << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}

// TXDIR_CLI followed by `args`, NULL-terminated, as exec wants it.
class CliArgv {
 public:
  explicit CliArgv(const std::vector<std::string>& args) : all_{TXDIR_CLI} {
    all_.insert(all_.end(), args.begin(), args.end());
    for (auto& a : all_) ptrs_.push_back(a.data());
    ptrs_.push_back(nullptr);
  }
  char* const* data() { return ptrs_.data(); }

 private:
  std::vector<std::string> all_;
  std::vector<char*> ptrs_;
};

// Waits for the txdir child `pid` and collects what it wrote to the files.
inline CliResult WaitForCli(pid_t pid, const std::string& out_path, const std::string& err_path) {
  CliResult r;
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

// Starts the txdir binary with `args`, standard input from `stdin_path`,
// standard output and error into the files named (WaitForCli reads them),
// and the environment `envp` (default: this process's). The child's pid;
// -1, with a test failure, when it cannot start.
inline pid_t SpawnCli(const std::vector<std::string>& args, const std::string& stdin_path,
                      const std::string& out_path, const std::string& err_path,
                      char* const* envp = environ) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CliArgv argv(args);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, TXDIR_CLI, &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  if (rc == 0) return pid;
  ADD_FAILURE() << "cannot run " << TXDIR_CLI;
  return -1;
}

// As RunCli, with standard input read from `stdin_path` (default /dev/null).
inline CliResult RunCliFrom(const std::vector<std::string>& args,
                            const std::string& stdin_path = "/dev/null") {
  TempDir io;
  const std::string out_path = io / "out", err_path = io / "err";
  const pid_t pid = SpawnCli(args, stdin_path, out_path, err_path);
  if (pid < 0) return CliResult{};
  return WaitForCli(pid, out_path, err_path);
}

inline CliResult RunCli(const std::vector<std::string>& args) { return RunCliFrom(args); }

// As RunCli, with `input` on standard input.
inline CliResult RunCliWithInput(const std::vector<std::string>& args, const std::string& input) {
  TempDir in;
  const std::string path = in / "stdin";
  WriteFile(path, input);
  return RunCliFrom(args, path);
}

inline CliResult RunCli(std::initializer_list<std::string> args) {
  return RunCli(std::vector<std::string>(args));
}

// A txdir process started with extra environment variables; Wait() collects it.
class StartedCli {
 public:
  StartedCli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    out_ = io_ / "out";
    err_ = io_ / "err";
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const auto& e : extra_env) env_strings.push_back(e);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_ = SpawnCli(args, "/dev/null", out_, err_, envp.data());
  }
  ~StartedCli() {
    if (pid_ > 0) (void)Wait();
  }
  CliResult Wait() {
    if (pid_ <= 0) return CliResult{};
    CliResult r = WaitForCli(pid_, out_, err_);
    pid_ = -1;
    return r;
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  TempDir io_;
  std::string out_, err_;
  pid_t pid_ = -1;
};

// Polls for `path` to exist, at most 30 s.
inline bool WaitForFile(const std::string& path) {
  for (int i = 0; i < 30000; ++i) {
    if (access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A fresh directory with an initialized repository at root = tmp/repo and a
// source tree at tmp/src.
// Whether `needle` occurs in `text` (output checks).
inline bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The lines of `text`, without their newlines.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

struct CliFixture {
  TempDir tmp;
  std::string root = tmp / "repo";
  std::string src = tmp / "src";

  CliFixture() {
    CliResult r = RunCli({"init", root});
    if (r.exit != 0) ADD_FAILURE() << "init failed: " << r;
  }

  // Publishes `files` with the CLI; returns the result.
  CliResult Publish(const std::map<std::string, std::string>& files, const std::string& msg = "m") {
    MakeTree(src, files);
    // Tests replace whole sets freely; the guard against it has its own tests.
    return RunCli({"publish", root, "--from", src, "-m", msg, "--allow-remove-all"});
  }
};

}  // namespace txdir::testing
