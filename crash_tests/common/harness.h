// Plumbing shared by the crash tests: scratch directories, source trees
// described as maps, and running the txdir CLI in a child process.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace txdir::crash {

// A tree of files: relative '/'-separated path -> content. A symlink is
// recorded as "-> <target>".
using FileMap = std::map<std::string, std::string>;

// Where scratch directories go: $TXDIR_CRASH_TMP, else /dev/shm (a tmpfs:
// fsync is free, and kill/fault tests do not depend on durability), else
// $TMPDIR, else /tmp.
std::string ScratchBase();

// A fresh directory under ScratchBase(), removed with everything in it
// (read-only generation directories included) on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// rm -rf that first makes read-only directories writable.
void RemoveAll(const std::string& path);
// Replaces `dir` with exactly the files of `files`. Names ending in ".sh"
// are made executable.
void WriteTree(const std::string& dir, const FileMap& files);
// The files under `dir` (not following symlinks). Empty if it is missing.
FileMap ReadTree(const std::string& dir);
// "a: differs; b: missing; c: extra" or "" when equal.
std::string DiffTrees(const FileMap& want, const FileMap& got);

struct RunResult {
  int exit_code = -1;   // when it exited
  int term_signal = 0;  // when a signal ended it
  std::string output;   // stdout and stderr, interleaved
  bool killed() const;  // ended by SIGKILL
  std::string Describe() const;
};

// Runs argv[0] (a path, no PATH search) with the current environment plus
// `extra_env` ("NAME=value") and minus TXDIR_CRASH_AT, TXDIR_FAILPOINT_LOG
// and TXDIR_BROKEN unless given in extra_env. Waits for it.
RunResult RunCommand(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env = {});

std::vector<std::string> ReadLines(const std::string& file);

}  // namespace txdir::crash
