// Starting another program: the one place that does, for the pre-publish
// hook (hook.cc), exec (exec.cc) and run (RunInGeneration, history.cc).
// posix_spawn (vfork underneath): the child runs no code of ours between
// fork and exec, so nothing this process holds (locks, allocator state,
// other threads) can be caught half-way in it.
//
// Thread safety: Spawn may run on any thread; `like_system` changes this
// process's SIGINT and SIGQUIT dispositions while the child runs, so only
// one thread at a time may ask for it.
#pragma once

#include <string>
#include <vector>

#include "txdir/error.h"

namespace txdir::internal {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::string what;               // for errors: "cannot run <what>"
  std::string cwd;                // the child's working directory
  // NAME=value entries set in the child; any NAME of ours is replaced.
  std::vector<std::string> env;
  bool null_stdin = false;
  // > 0: stdout and stderr go to one pipe, of which the first `capture`
  // bytes are kept (the rest is read and dropped, so the child never blocks
  // on a full pipe).
  size_t capture = 0;
  // >= 0: a descriptor the child inherits (a duplicate without FD_CLOEXEC,
  // sharing its open file description, so a flock on it is shared too).
  int pass_fd = -1;
  // As system(3): SIGINT and SIGQUIT are ignored here while the child runs
  // (^C is the program's business) and default in the child.
  bool like_system = false;
};

struct SpawnOutcome {
  int status = 0;  // as waitpid reports it
  std::string output;
  bool truncated = false;  // the output was longer than `capture`
  // The exit status; 128 + N when signal N ended it.
  int ExitCode() const;
  // "exit status N" or "killed by signal N".
  std::string Describe() const;
};

// Runs the program to its end. Errors: the errno of a start that failed
// ("cannot run <what>", path argv[0]; ENOENT when there is no such program,
// also when `cwd` does not exist), Io for a failed pipe or wait.
Result<SpawnOutcome> Spawn(const SpawnSpec& spec);

}  // namespace txdir::internal
