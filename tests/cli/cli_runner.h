// Runs the built `txdir` binary and captures its exit code, stdout and
// stderr (through temporary files, so large outputs cannot deadlock).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <initializer_list>
#include <string>
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

inline CliResult RunCli(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io / "out", err_path = io / "err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = {TXDIR_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  CliResult r;
  pid_t pid = -1;
  int rc = posix_spawn(&pid, TXDIR_CLI, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ADD_FAILURE() << "cannot run " << TXDIR_CLI;
    return r;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

inline CliResult RunCli(std::initializer_list<std::string> args) {
  return RunCli(std::vector<std::string>(args));
}

// A fresh directory with an initialized repository at root = tmp/repo and a
// source tree at tmp/src.
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
    return RunCli({"publish", root, "--from", src, "-m", msg});
  }
};

}  // namespace txdir::testing
