#include "txdir/exec.h"

#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "txn/src/repo_impl.h"
#include "txn/src/spawn.h"
#include "txn/src/trust.h"

namespace txdir {

namespace {

// Writes the transaction's view of every file into `stage` as ordinary
// writable files (the program edits them; they share nothing with the
// read-only generations). Executable files stay executable and symlinks stay
// symlinks: the stage is scanned back as the new file set, so a file the
// program did not touch must come back exactly as it was.
Status FillStage(Env* env, Repository& repo, Transaction& tx, const std::string& stage) {
  // The transaction has no writes yet, so its view is its base generation.
  std::map<std::string, uint32_t> modes;
  if (tx.base_generation() != 0)
    for (const auto& f : TXDIR_TRY(repo.ListFiles(tx.base_generation()))) modes[f.path] = f.mode;
  Fd root = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, stage));
  for (const auto& path : TXDIR_TRY(tx.List())) {
    std::string data = TXDIR_TRY(tx.Read(path));
    size_t start = 0;
    for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1)
      TXDIR_CHECK(fs::EnsureDir(env, root.get(), path.substr(0, slash), 0755));
    const uint32_t mode = modes.count(path) ? modes[path] : 0100644u;
    if (mode == 0120000u) {
      TXDIR_CHECK(env->SymlinkAt(data, root.get(), path));  // a link's blob is its target
    } else {
      TXDIR_CHECK(fs::WriteNewFile(env, root.get(), path, data, mode == 0100755u ? 0755 : 0644,
                                   /*sync=*/false));
    }
  }
  return Ok();
}

// `stage_lock` is the fd holding the stage's flock: the program inherits a
// copy, so the stage stays locked while the program runs even if txdir
// itself is killed (recovery must not remove files under a live program,
// nor fail on the files it keeps writing).
Result<int> RunProgram(const std::vector<std::string>& argv, const std::string& stage,
                       uint64_t base, int stage_lock) {
  // The program works inside the stage, as `txdir run` works inside a
  // generation: `sed -i x.sdn` edits the stage's copy, not the caller's.
  const internal::SpawnOutcome run = TXDIR_TRY(internal::Spawn(internal::SpawnSpec{
      .argv = argv,
      .what = "program",
      .cwd = stage,
      .env = {"TXDIR_STAGE=" + stage, "TXDIR_BASE_GENERATION=" + std::to_string(base)},
      .pass_fd = stage_lock}));
  return run.ExitCode();
}

}  // namespace

Result<ExecResult> ExecTransaction(Repository& repo, const std::vector<std::string>& argv,
                                   const CommitOptions& options) {
  if (argv.empty() || argv[0].empty())
    return MakeError(Code::kInvalidArgument, "no program to run");
  Repository::Impl& r = internal::ImplOf(repo);
  auto tx = TXDIR_TRY(repo.Begin());
  const std::string name = fs::UniqueName("exec-");
  const std::string stage = r.layout.tmp + "/" + name;
  // The stage is ours only while we hold its flock: recovery (in any
  // process) removes a stage it can lock. Its name must never be seen
  // unlocked, so it is created and locked under a shared flock on tmp/,
  // which recovery needs exclusively before it looks at exec stages.
  Fd tmp = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "tmp"));
  std::optional<Fd> creating = TXDIR_TRY(internal::OpenMetaDir(r.env, r.layout, "tmp"));
  TXDIR_CHECK(r.env->Flock(creating->get(), LockMode::kShared, /*wait=*/true));
  TXDIR_CHECK(r.env->MkdirAt(Env::kCwd, stage, 0700));  // the full path: errors name it
  TXDIR_FAILPOINT("exec.stage_created");
  // Removes the stage however we leave, still holding its flock so that
  // recovery cannot start on it half-way.
  struct Stage {
    Env* env;
    int tmp;
    std::string name;
    std::optional<Fd> pin;
    ~Stage() { (void)fs::RemoveTree(env, tmp, name); }
  } guard{r.env, tmp.get(), name, std::nullopt};
  guard.pin = TXDIR_TRY(fs::OpenDir(r.env, tmp.get(), name));
  TXDIR_CHECK(r.env->Flock(guard.pin->get(), LockMode::kExclusive, /*wait=*/false));
  creating.reset();  // the stage is locked: recovery may look now
  TXDIR_FAILPOINT("exec.stage_locked");
  TXDIR_CHECK(FillStage(r.env, repo, *tx, stage));
  TXDIR_FAILPOINT("exec.staged");

  ExecResult result;
  result.exit_status = TXDIR_TRY(RunProgram(argv, stage, tx->base_generation(), guard.pin->get()));
  TXDIR_FAILPOINT("exec.program_done");
  if (result.exit_status != 0) return result;
  TXDIR_CHECK(tx->ReplaceAllFrom(stage));
  CommitOptions o = options;
  if (o.kind == "transaction") o.kind = "exec";
  if (o.message.empty()) o.message = "exec " + argv[0];
  result.commit = TXDIR_TRY(tx->Commit(o));
  return result;
}

}  // namespace txdir
