// Helpers for the history tests: run the CLI in the background and wait for
// it, time measurements, line matching.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {

// The txdir binary started in the background with stdout/stderr to files.
class BackgroundCli {
 public:
  BackgroundCli(const std::vector<std::string>& args, const std::string& out_path,
                const std::string& err_path)
      : out_path_(out_path), err_path_(err_path) {
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
    if (posix_spawn(&pid_, TXDIR_CLI, &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~BackgroundCli() {
    if (pid_ > 0) {  // a failed test: do not leave the process behind
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }

  // Waits for the process; its result.
  CliResult Wait() {
    CliResult r;
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_)
      r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    r.out = ReadFile(out_path_);
    r.err = ReadFile(err_path_);
    return r;
  }

 private:
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
};

// Like ReadTree, but keys are the entries' own paths: test_util.h's ReadTree
// names an entry by stdfs::relative(), which resolves symlinks, so a link to
// a file is listed under its target's name.
inline std::map<std::string, std::string> ReadTreeExact(const std::string& dir) {
  std::map<std::string, std::string> out;
  stdfs::path root = stdfs::canonical(dir);
  for (auto it = stdfs::recursive_directory_iterator(root);
       it != stdfs::recursive_directory_iterator(); ++it) {
    std::string rel = it->path().lexically_relative(root).string();
    if (it->is_symlink())
      out[rel] = "link:" + stdfs::read_symlink(it->path()).string();
    else if (it->is_regular_file())
      out[rel] = ReadFile(it->path().string());
  }
  return out;
}

// True when `text` has `line` as one complete line.
inline bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

// Polls `pred` every 10 ms for up to `limit`; true once it holds. Used only to
// wait for a precondition (a file appearing), never to assert on timing.
template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace txdir::testing
