#include "crash_tests/powerloss/harness.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "txdir/repository.h"
#include "txdir/snapshot.h"

namespace txdir::powerloss {

namespace {

std::string Show(const Error& e) { return e.ToString(); }

// Compares what a reader sees in `snap` with `want`; empty when equal.
std::string CompareSnapshot(const Snapshot& snap, const FileMap& want) {
  auto files = snap.ListFiles();
  if (!files) return "cannot list: " + Show(files.error());
  std::set<std::string> seen;
  for (const std::string& f : *files) {
    seen.insert(f);
    auto it = want.find(f);
    if (it == want.end()) return "unexpected file " + f;
    auto data = snap.ReadFile(f);
    if (!data) return "cannot read " + f + ": " + Show(data.error());
    if (*data != it->second) return "content of " + f + " differs";
  }
  for (const auto& [path, _] : want)
    if (!seen.count(path)) return "missing file " + path;
  return "";
}

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  return out;
}

// Seconds between laps.
class Stopwatch {
 public:
  double Lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace

FileMap ReadTree(const std::string& dir) {
  FileMap out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    std::string rel = std::filesystem::relative(e.path(), dir).string();
    if (e.is_symlink()) {
      out[rel] = std::filesystem::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      std::string data;
      FILE* f = std::fopen(e.path().c_str(), "rb");
      char buf[65536];
      size_t n;
      while (f != nullptr && (n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
      if (f != nullptr) std::fclose(f);
      out[rel] = data;
    }
  }
  return out;
}

size_t RunResult::TotalChecked() const {
  size_t n = 0;
  for (const auto& [_, c] : checked) n += c;
  return n;
}

std::vector<Violation> CheckCrashState(const std::string& root, const OpExpectation& expect,
                                       bool acked, Env* env, bool one_flush) {
  std::vector<Violation> v;
  if (expect.acknowledged_after_one_flush) acked = one_flush = true;
  auto fail = [&](const char* inv, std::string detail) { v.push_back({inv, std::move(detail)}); };
  const std::optional<uint64_t> old_gen =
      expect.before ? std::optional<uint64_t>(expect.before->number) : std::nullopt;
  const uint64_t new_gen = expect.after.number;

  // 1. A reader, before anyone recovers: a complete old or new generation.
  std::optional<uint64_t> seen;
  {
    auto snap = Snapshot::OpenLive(root, env);
    if (!snap) {
      if (old_gen || snap.error().code != Code::kNotFound)
        fail("reader-complete", "reader cannot open the live generation: " + Show(snap.error()));
    } else {
      seen = snap->generation();
      const FileMap* want = nullptr;
      if (seen == new_gen) want = &expect.after.files;
      if (old_gen && seen == *old_gen) want = &expect.before->files;
      if (want == nullptr) {
        fail("reader-complete", "reader sees generation " + std::to_string(*seen) +
                                    ", neither the old nor the new one");
      } else if (std::string diff = CompareSnapshot(*snap, *want); !diff.empty()) {
        fail("reader-complete",
             "reader sees an incomplete generation " + std::to_string(*seen) + ": " + diff);
      }
    }
    if (acked && !one_flush && seen != new_gen)
      fail("acked-visible", "operation was acknowledged but readers see " +
                                (seen ? "generation " + std::to_string(*seen) : "nothing"));
  }

  // 2. Recovery.
  auto repo = Repository::Open(root, OpenOptions{.env = env, .lock_timeout = {}});
  if (!repo) {
    fail("recover", "cannot open repository: " + Show(repo.error()));
    return v;
  }
  auto rep = (*repo)->Recover();
  if (!rep) {
    fail("recover", "recovery failed: " + Show(rep.error()));
    return v;
  }

  // 3. The head is the old or the new generation; acknowledged => new.
  auto log = (*repo)->Log(1);
  if (!log) {
    fail("head-old-or-new", "cannot read the head: " + Show(log.error()));
    return v;
  }
  std::optional<uint64_t> head;
  if (!log->empty()) {
    const GenerationInfo& g = log->front();
    head = g.number;
    bool is_new = g.number == new_gen && g.commit == expect.after.commit;
    bool is_old =
        expect.before && g.number == expect.before->number && g.commit == expect.before->commit;
    if (!is_new && !is_old)
      fail("head-old-or-new", "head is generation " + std::to_string(g.number) + " (" + g.commit +
                                  "), neither the old nor the new one");
  } else if (old_gen) {
    fail("head-old-or-new", "the head was lost: the store has no generation");
  }
  if (acked && head != new_gen)
    fail("acked-durable", "operation was acknowledged but after recovery the head is " +
                              (head ? "generation " + std::to_string(*head) : "empty"));
  if (seen && (!head || *head < *seen))
    fail("reader-monotonic", "a reader saw generation " + std::to_string(*seen) +
                                 " before recovery; afterwards the head is " +
                                 (head ? std::to_string(*head) : "empty"));

  // 4. The live generation is the head, complete and verified.
  auto status = (*repo)->Status();
  if (!status) {
    fail("live-is-head", "status failed: " + Show(status.error()));
  } else if (status->live != head) {
    fail("live-is-head", "live is " + (status->live ? std::to_string(*status->live) : "none") +
                             ", head is " + (head ? std::to_string(*head) : "none"));
  }
  if (head) {
    auto report = (*repo)->VerifyGeneration(*head);
    if (!report) {
      fail("live-is-head",
           "cannot verify generation " + std::to_string(*head) + ": " + Show(report.error()));
    } else if (!report->ok()) {
      fail("live-is-head", "generation " + std::to_string(*head) + " does not verify: " +
                               report->issues[0].path + ": " + report->issues[0].problem);
    }
    const FileMap* want = *head == new_gen ? &expect.after.files
                          : expect.before  ? &expect.before->files
                                           : nullptr;
    auto snap = Snapshot::OpenLive(root, env);
    if (!snap) {
      fail("live-is-head",
           "reader cannot open the live generation after recovery: " + Show(snap.error()));
    } else if (want != nullptr) {
      if (std::string diff = CompareSnapshot(*snap, *want); !diff.empty())
        fail("live-is-head", "after recovery: " + diff);
    }
  }

  // 4b. The store itself: every file of the head and of the old generation
  // reads back from the objects (libgit2 checks each object's hash). A
  // materialized directory can be intact while the objects behind it are
  // not, and the next rollback or re-materialization would need them.
  if (head) {
    std::vector<const GenExpect*> gens;
    if (*head == new_gen) gens.push_back(&expect.after);
    if (expect.before) gens.push_back(&*expect.before);
    for (const GenExpect* g : gens) {
      for (const auto& [path, data] : g->files) {
        auto got = (*repo)->ReadFile(g->number, path);
        if (!got || *got != data) {
          fail("store-readable", "generation " + std::to_string(g->number) + " file " + path +
                                     (got ? " reads back wrong" : ": " + Show(got.error())));
          break;
        }
      }
    }
  }

  // 5. Nothing left behind.
  const std::string meta = root + "/.txdir";
  if (auto left = Names(meta + "/tmp"); !left.empty())
    fail("no-leftovers", "tmp/ holds " + left[0]);
  for (const std::string& name : Names(meta + "/gens")) {
    if (!IsNumber(name) || !head || std::stoull(name) > *head)
      fail("no-leftovers", "gens/ holds " + name);
  }
  for (const std::string& name : Names(meta + "/store.git/refs/heads"))
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0)
      fail("no-leftovers", "stale lock refs/heads/" + name);
  for (const std::string& name : Names(root))
    if (name.rfind(".current.txdir-tmp-", 0) == 0)
      fail("no-leftovers", "temporary live link " + name);

  // 6. Recovery is idempotent.
  auto again = (*repo)->Recover();
  if (!again) {
    fail("recover-idempotent", "second recovery failed: " + Show(again.error()));
  } else if (!again->actions.empty()) {
    fail("recover-idempotent", "second recovery still acted: " + again->actions[0]);
  }

  // 7. The next publish succeeds and is live and clean.
  // Life goes on with whatever set comes next: the publish guard is not under test.
  auto next =
      (*repo)->Publish(expect.next_source, {.message = "after crash", .allow_remove_all = true});
  if (!next) {
    fail("next-publish", "publish after recovery failed: " + Show(next.error()));
  } else {
    auto report = (*repo)->VerifyGeneration(next->number);
    auto st = (*repo)->Status();
    if (!report || !report->ok() || !st || st->live != next->number)
      fail("next-publish", "generation published after recovery is not live and clean");
  }
  return v;
}

bool SingleFlushPublish(const std::vector<Op>& ops) {
  size_t flushes = 0;
  bool head_moved_after = false;
  for (const Op& op : ops) {
    if (op.kind == OpKind::kSyncfs) ++flushes;
    if (op.kind == OpKind::kRename && flushes > 0 && op.path2.ends_with("/refs/heads/main"))
      head_moved_after = true;
  }
  return flushes == 1 && head_moved_after;
}

Result<RunResult> RunPowerLoss(const std::string& pre, const std::string& orig_root,
                               const std::vector<Op>& ops, bool completed,
                               const OpExpectation& expect, const RunOptions& options) {
  TXDIR_CHECK(CheckLogConfined(ops, orig_root));
  const auto start = std::chrono::steady_clock::now();
  RunResult result;
  result.ops = ops.size();
  const TreeDigester digester(pre);
  const BaseTree base = TXDIR_TRY(BaseTree::Load(pre, PreShared));
  const bool one_flush = SingleFlushPublish(ops);
  NoSyncEnv env(Env::Default());
  auto states = EnumerateCrashStates(ops, completed, options.enumerate);
  if (options.stop_after_violations > 0)
    std::stable_sort(states.begin(), states.end(),
                     [](const CrashState& a, const CrashState& b) { return a.prefix > b.prefix; });
  std::set<std::string> seen;  // (acked, digest) of states already checked
  const std::string dir = options.work_dir + "/state";
  bool stopped = false;
  // TXDIR_POWERLOSS_VERBOSE=1: one line per checked state on stderr.
  const bool verbose = std::getenv("TXDIR_POWERLOSS_VERBOSE") != nullptr;
  const bool check_reset = std::getenv("TXDIR_POWERLOSS_CHECK_RESET") != nullptr;
  size_t states_built = 0;
  for (const CrashState& s : states) {
    ++result.generated[s.cls];
    Stopwatch watch;
    TXDIR_CHECK(base.ResetTo(dir));
    // The reset is checked against a full digest for one state in 64, and
    // for every state with TXDIR_POWERLOSS_CHECK_RESET=1.
    if ((check_reset || states_built++ % 64 == 0) && digester.Digest(dir) != digester.base_digest())
      return MakeError(
          Code::kInternal,
          "the state directory is not the pre-operation tree after its reset: " + s.Describe(ops),
          dir);
    result.reset_seconds += watch.Lap();
    ReplayState(dir, orig_root, ops, s);
    result.replay_seconds += watch.Lap();
    // Different crash states can leave identical trees (a lost op whose
    // dependants could not happen either); check each distinct tree once.
    std::string key = (s.acked ? "A" : "-") + digester.Digest(dir);
    result.digest_seconds += watch.Lap();
    if (!seen.insert(key).second) {
      ++result.duplicates;
      continue;
    }
    ++result.checked[s.cls];
    auto violations = CheckCrashState(dir, expect, s.acked, &env, one_flush);
    result.check_seconds += watch.Lap();
    if (verbose)
      std::fprintf(stderr, "state %zu: %s: %s\n", result.TotalChecked(), s.Describe(ops).c_str(),
                   violations.empty() ? "ok" : violations[0].invariant.c_str());
    if (violations.empty()) continue;
    ++result.violating_states;
    if (options.stop_after_violations > 0 &&
        result.violating_states >= options.stop_after_violations)
      stopped = true;
    for (const Violation& x : violations) ++result.by_invariant[x.invariant];
    if (result.reports.size() < options.max_reports)
      result.reports.push_back(s.Describe(ops) + "\n    " + violations[0].invariant + ": " +
                               violations[0].detail);
    if (stopped) break;
  }
  RemoveTreeForce(dir);
  if (TreeDigest(pre) != digester.base_digest())
    return MakeError(Code::kInternal, "the pre-operation copy changed while checking states", pre);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace txdir::powerloss
