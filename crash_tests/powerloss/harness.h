// The invariant check of one crash state, and the loop that builds and
// checks every state of an operation's log (crash_sim.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crash_tests/powerloss/crash_sim.h"
#include "txdir/env.h"

namespace txdir::powerloss {

// A generation's files as a reader should see them: path -> bytes.
using FileMap = std::map<std::string, std::string>;

struct GenExpect {
  uint64_t number = 0;
  std::string commit;  // hex
  FileMap files;
};

// What an operation was: the generation before it (none before the first
// publish) and the one it made.
struct OpExpectation {
  std::optional<GenExpect> before;
  GenExpect after;
  std::string next_source;  // a tree to publish after recovery
  // The operation is the recovery of a publish acknowledged after one flush
  // whose renames a power loss undid: `after` was acknowledged before the
  // operation began, so every state counts as acknowledged after recovery
  // (acked-durable), though readers may see `before` until then.
  bool acknowledged_after_one_flush = false;
};

struct Violation {
  std::string invariant;  // a short name, docs/durability.md lists them
  std::string detail;
};

// The invariants of a crash state at `root` (docs/durability.md):
// readers before recovery, then Open + Recover, head and live after it,
// leftovers, idempotence, and the next publish. `env` is used for every
// call (the harness passes one that skips fsync: the checked state's own
// durability is not under test).
//
// `one_flush`: the operation was a publish acknowledged after one flush
// (single-flush mode: SingleFlushPublish).
// Its renames may still be lost when it returns, so readers may see the
// old generation until recovery completes the commit: `acked-visible` is
// not checked before recovery; `acked-durable` and `live-is-head` check
// that recovery makes it the head and shows it.
std::vector<Violation> CheckCrashState(const std::string& root, const OpExpectation& expect,
                                       bool acked, Env* env, bool one_flush = false);

// True when `ops` hold a publish acknowledged after one flush: exactly one
// syncfs, and the head ref's rename after it (txn/src/single_flush.h). It
// does not look for the ack record, so that a publish that skips writing
// it is judged by what recovery makes of it.
bool SingleFlushPublish(const std::vector<Op>& ops);

struct RunOptions {
  EnumerateOptions enumerate;
  std::string work_dir;    // scratch space for the states
  size_t max_reports = 8;  // violation descriptions kept
  // Self-test mode: check the latest crash points first (violations of a
  // broken protocol cluster around its commit point) and stop after this
  // many violating states. 0: check everything, in log order.
  size_t stop_after_violations = 0;
};

struct RunResult {
  size_t ops = 0;
  std::map<StateClass, size_t> generated;  // states enumerated, per class
  std::map<StateClass, size_t> checked;    // distinct states checked, per class
  size_t duplicates = 0;                   // built, equal to one already checked
  size_t violating_states = 0;
  std::map<std::string, size_t> by_invariant;  // violations per invariant
  std::vector<std::string> reports;
  double seconds = 0;
  // Where the seconds went: making the state directory the pre-operation
  // tree again, replaying the state's ops, digesting the result, and
  // checking it (CheckCrashState).
  double reset_seconds = 0, replay_seconds = 0, digest_seconds = 0, check_seconds = 0;

  size_t Checked(StateClass c) const {
    auto it = checked.find(c);
    return it == checked.end() ? 0 : it->second;
  }
  size_t TotalChecked() const;
};

// Builds and checks every crash state of `ops` (the log of one operation
// run on the tree at `orig_root`, whose pre-operation copy is `pre`).
Result<RunResult> RunPowerLoss(const std::string& pre, const std::string& orig_root,
                               const std::vector<Op>& ops, bool completed,
                               const OpExpectation& expect, const RunOptions& options);

// The Env a crash state is checked with: it skips fsync, fdatasync and
// syncfs, and reports a boot id of its own, since a power loss restarts
// the machine (a lock file left clean before it must not let a handle
// skip recovery).
class NoSyncEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Status Fsync(int) override { return Ok(); }
  Status Fdatasync(int) override { return Ok(); }
  Status Syncfs(int) override { return Ok(); }
  Result<std::string> BootId() override {
    return std::string("00000000-0000-4000-8000-00000000b007");
  }
};

// Reads every file (and symlink target) under `dir`.
FileMap ReadTree(const std::string& dir);

}  // namespace txdir::powerloss
