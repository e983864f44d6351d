// The pre-publish hook (config hooks.pre_publish): a shell command that
// validates a staged generation before its commit point.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "txn/src/retention_internal.h"
#include "txn/src/trust.h"

extern char** environ;

namespace txdir::internal {

namespace {

// Enough to show a validator's complaint; the rest is cut.
constexpr size_t kMaxOutput = 8192;

}  // namespace

Status RunPrePublishHook(Repository::Impl& r, uint64_t gen) {
  const std::string& command = r.config.pre_publish_hook;
  // Writes are already refused in a repository owned by someone else, but
  // the hook is a command of that owner's choosing: checked again where it
  // would run, so no path to this call can miss it.
  TXDIR_CHECK(CheckWriteTrust(r.env, r.layout, "run the pre-publish hook of"));
  const std::string dir = r.layout.GenDir(gen);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return ErrnoError("cannot create a pipe for the hook", "", errno);
  Fd read_end(fds[0]), write_end(fds[1]);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "TXDIR_GENERATION=", 17) == 0 || std::strncmp(*e, "TXDIR_ROOT=", 11) == 0)
      continue;
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("TXDIR_GENERATION=" + std::to_string(gen));
  env_strings.push_back("TXDIR_ROOT=" + r.layout.root);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};

  // The hook runs inside the staged generation (read-only), with no stdin,
  // its stdout and stderr both captured.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, write_end.get(), 2);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ErrnoError("cannot run the pre-publish hook", "/bin/sh", rc);
  write_end.reset();

  std::string output;
  bool truncated = false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // drain everything so the hook never blocks on a full pipe
    size_t room = kMaxOutput - std::min(kMaxOutput, output.size());
    output.append(buf, std::min(room, static_cast<size_t>(n)));
    if (static_cast<size_t>(n) > room) truncated = true;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid failed for the pre-publish hook", "", errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  std::string how = WIFEXITED(status)     ? "exit status " + std::to_string(WEXITSTATUS(status))
                    : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "failed";
  if (truncated) output += "\n[... output truncated at " + std::to_string(kMaxOutput) + " bytes]";
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return MakeError(
      Code::kInvalidArgument,
      "pre-publish hook rejected generation " + std::to_string(gen) + " (" + how +
          "); nothing was published" +
          (output.empty() ? std::string(" (no output)") : ". Hook output:\n" + output));
}

}  // namespace txdir::internal
