// Starting another program (spawn.h).
#include "txn/src/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "txdir/env.h"

extern char** environ;

namespace txdir::internal {

int SpawnOutcome::ExitCode() const {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

std::string SpawnOutcome::Describe() const {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "failed";
}

namespace {

// Our environment with every NAME that `overrides` sets replaced.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
      const size_t eq = o.find('=');
      return kv.size() > eq && kv.compare(0, eq + 1, o, 0, eq + 1) == 0;
    });
    if (!replaced) out.emplace_back(kv);
  }
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

// Restores SIGINT and SIGQUIT when it goes out of scope.
class IgnoreInterrupts {
 public:
  explicit IgnoreInterrupts(bool on) : on_(on) {
    if (!on_) return;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGINT, &ignore, &old_int_);
    ::sigaction(SIGQUIT, &ignore, &old_quit_);
  }
  ~IgnoreInterrupts() {
    if (!on_) return;
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGQUIT, &old_quit_, nullptr);
  }
  IgnoreInterrupts(const IgnoreInterrupts&) = delete;
  IgnoreInterrupts& operator=(const IgnoreInterrupts&) = delete;

 private:
  bool on_;
  struct sigaction old_int_ {
  }, old_quit_{};
};

// posix_spawn's two attribute objects, destroyed with it.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

}  // namespace

Result<SpawnOutcome> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return MakeError(Code::kInvalidArgument, "no program to run");
  std::vector<std::string> env_strings = ChildEnvironment(spec.env);
  std::vector<char*> envp, args;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = spec.argv;
  args.reserve(argv_copy.size() + 1);
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  Fd read_end, write_end;
  if (spec.capture > 0) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return ErrnoError("cannot create a pipe for " + spec.what, "", errno);
    read_end = Fd(fds[0]);
    write_end = Fd(fds[1]);
  }
  Fd passed;
  if (spec.pass_fd >= 0) {
    passed = Fd(::fcntl(spec.pass_fd, F_DUPFD, 3));  // F_DUPFD leaves FD_CLOEXEC off
    if (!passed.valid()) return ErrnoError("cannot pass a descriptor to " + spec.what, "", errno);
  }

  SpawnAttrs sa;
  if (spec.null_stdin) posix_spawn_file_actions_addopen(&sa.actions, 0, "/dev/null", O_RDONLY, 0);
  if (write_end.valid()) {
    posix_spawn_file_actions_adddup2(&sa.actions, write_end.get(), 1);
    posix_spawn_file_actions_adddup2(&sa.actions, write_end.get(), 2);
  }
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&sa.actions, spec.cwd.c_str());
  if (spec.like_system) {
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigdefault(&sa.attr, &defaults);
    posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETSIGDEF);
  }
  IgnoreInterrupts ignoring(spec.like_system);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &sa.actions, &sa.attr, args.data(), envp.data());
  passed.reset();
  write_end.reset();  // the child's copies are all that keep the pipe open
  if (rc != 0) return ErrnoError("cannot run " + spec.what, spec.argv[0], rc);

  SpawnOutcome out;
  if (read_end.valid()) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      const size_t room = spec.capture - std::min(spec.capture, out.output.size());
      out.output.append(buf, std::min(room, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) > room) out.truncated = true;
    }
  }
  while (::waitpid(pid, &out.status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("cannot wait for " + spec.what, spec.argv[0], errno);
  }
  return out;
}

}  // namespace txdir::internal
