// The pre-publish hook (config hooks.pre_publish): a shell command that
// validates a staged generation before its commit point.
#include <sys/wait.h>

#include "txn/src/retention_internal.h"
#include "txn/src/spawn.h"
#include "txn/src/trust.h"

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
  // The hook runs inside the staged generation (read-only), with no stdin,
  // its stdout and stderr both captured.
  const SpawnOutcome run = TXDIR_TRY(Spawn(
      SpawnSpec{.argv = {"/bin/sh", "-c", command},
                .what = "the pre-publish hook",
                .cwd = r.layout.GenDir(gen),
                .env = {"TXDIR_GENERATION=" + std::to_string(gen), "TXDIR_ROOT=" + r.layout.root},
                .null_stdin = true,
                .capture = kMaxOutput}));
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) return Ok();
  std::string output = run.output;
  if (run.truncated)
    output += "\n[... output truncated at " + std::to_string(kMaxOutput) + " bytes]";
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return MakeError(
      Code::kInvalidArgument,
      "pre-publish hook rejected generation " + std::to_string(gen) + " (" + run.Describe() +
          "); nothing was published" +
          (output.empty() ? std::string(" (no output)") : ". Hook output:\n" + output));
}

}  // namespace txdir::internal
