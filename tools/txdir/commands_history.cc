// Browsing and change notification: diff, checkout, run, wait. (log's
// change counts and filters are in commands_core.cc with the rest of log.)
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string_view>

#include "tools/txdir/cli.h"
#include "txdir/history.h"

namespace txdir::cli {

namespace {

// A failed write is reported where every command ends (output.h).
int Print(const std::string& text) {
  std::cout << text;
  return static_cast<int>(kExitOk);
}

struct DiffArgs {
  std::string dir, a, b, path;
  bool stat = false, name_status = false, records = false;
};

int RunDiff(const DiffArgs& a, const Globals& g) {
  auto repo = OpenRepo(a.dir, g);
  if (!repo) return Fail(repo.error());
  auto from = ResolveGen(**repo, a.a);
  if (!from) return GenFail(from.error());
  auto to = ResolveGen(**repo, a.b);
  if (!to) return GenFail(to.error());
  if (a.records) {
    auto diffs = DiffRecords(**repo, *from, *to, a.path);
    if (!diffs) return Fail(diffs.error());
    std::string text = FormatRecordDiffs(*diffs);
    // Files that are not SDN tables: named, as --name-status would.
    auto files = DiffGenerations(**repo, *from, *to, a.path);
    if (!files) return Fail(files.error());
    for (const auto& f : *files) {
      if (f.path.size() > 4 && f.path.compare(f.path.size() - 4, 4, ".sdn") == 0) continue;
      text += std::string(1, static_cast<char>(f.kind)) + "\t" + PrintablePath(f.path) +
              " (not an SDN table)\n";
    }
    return Print(text);
  }
  DiffFormat format = a.stat          ? DiffFormat::kStat
                      : a.name_status ? DiffFormat::kNameStatus
                                      : DiffFormat::kPatch;
  auto text = FormatDiff(**repo, *from, *to, format, a.path);
  if (!text) return Fail(text.error());
  return Print(*text);
}

// Runs argv inside `snap`'s generation (RunInGeneration) and returns an
// exit code: the program's, 128 + signal when a signal ended it, 127 when
// there is no such program and 126 when it could not be started otherwise.
int RunPinned(const Snapshot& snap, const std::vector<std::string>& args) {
  std::cout.flush();
  // Only so that output still buffered is not written twice; a write error
  // on our own stdout is not the program's business.
  (void)std::fflush(nullptr);
  auto code = RunInGeneration(snap, args);
  if (code) return *code;
  (void)std::fprintf(stderr, "txdir: error: %s\n", code.error().ToString().c_str());
  return code.error().sys_errno == ENOENT ? 127 : 126;
}

}  // namespace

void AddHistoryCommands(Commands* out, Globals& g) {
  // --- diff
  {
    cmdline::Command c{"diff", "Show what changed between two generations"};
    auto a = std::make_shared<DiffArgs>();
    c.Add("DIR", &a->dir, "The transactional directory").Required();
    c.Add("A", &a->a, "The old generation (7, live, live~1, 7^)").Required();
    c.Add("B", &a->b, "The new generation (7, live, live~1, 7^)").Required();
    c.Add("PATH", &a->path, "Only this file, or this directory and what is under it");
    c.Flag("--stat", &a->stat, "Per-file +/- line counts and a summary")
        .Excludes("--name-status")
        .Excludes("--records");
    c.Flag("--name-status", &a->name_status, "A/M/D and the path, one per line")
        .Excludes("--records");
    c.Flag("--records", &a->records,
           "For SDN tables (*.sdn): added, removed and changed records by id");
    c.run = [=, &g] { return RunDiff(*a, g); };
    out->push_back(std::move(c));
  }
  // --- checkout
  {
    cmdline::Command c{"checkout", "Export a generation as plain writable files"};
    auto dir = std::make_shared<std::string>();
    auto gen = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    c.Add("DIR", dir.get(), "The transactional directory").Required();
    c.Add("GEN", gen.get(), "Generation (7, live, live~1, 7^)").Required();
    c.Add("--to", to.get(), "Output directory: must not exist, or be empty").Required();
    c.run = [=, &g] {
      auto repo = OpenRepo(*dir, g);
      if (!repo) return Fail(repo.error());
      auto n = ResolveGen(**repo, *gen);
      if (!n) return GenFail(n.error());
      if (auto s = ExportGeneration(**repo, *n, *to); !s) return Fail(s.error());
      Out(g, "checked out generation " + std::to_string(*n) + " to " + *to);
      return static_cast<int>(kExitOk);
    };
    out->push_back(std::move(c));
  }
  // --- run
  {
    cmdline::Command c{
        "run",
        "Run a command inside a pinned generation (its working directory), pin held until "
        "it exits"};
    auto dir = std::make_shared<std::string>();
    auto gen = std::make_shared<std::string>();
    auto cmd = std::make_shared<std::vector<std::string>>();
    c.Add("DIR", dir.get(), "The transactional directory").Required();
    c.Add("--gen", gen.get(),
          "Generation (7, live~1, 7^; default: the live one); must be materialized");
    c.Add("CMD", cmd.get(), "The command and its arguments (after --)").Required();
    c.run = [=, &g] {
      Result<Snapshot> snap = MakeError(Code::kInternal, "unset");
      auto ref = ParseGenerationRef(gen->empty() ? "live" : *gen);
      if (!ref) return UsageError(ref.error().message);
      if (!ref->number && ref->back == 0) {
        snap = Snapshot::OpenLive(*dir);
      } else if (ref->back == 0) {
        snap = Snapshot::OpenGeneration(*dir, *ref->number);
      } else {  // steps back need the store
        auto repo = OpenRepo(*dir, g);
        if (!repo) return Fail(repo.error());
        auto n = ResolveGen(**repo, *gen);
        if (!n) return GenFail(n.error());
        snap = Snapshot::OpenGeneration(*dir, *n);
      }
      if (!snap) return Fail(snap.error());
      return RunPinned(*snap, *cmd);
    };
    out->push_back(std::move(c));
  }
  // --- wait
  {
    cmdline::Command c{"wait",
                       "Wait until a generation newer than --after is live, then print its number"};
    auto dir = std::make_shared<std::string>();
    auto after = std::make_shared<std::string>();
    auto timeout = std::make_shared<double>(-1);
    c.Add("DIR", dir.get(), "The transactional directory").Required();
    c.Add("--after", after.get(),
          "Wait for a generation newer than this one (default: the live one)");
    c.Add("--timeout", timeout.get(), "Give up after this many seconds (default: never)").Seconds();
    c.run = [=, &g] {
      std::optional<uint64_t> base;
      if (*after == "0") {
        base = 0;
      } else if (!after->empty() && *after != "live") {
        if (auto ref = ParseGenerationRef(*after); !ref) return UsageError(ref.error().message);
        auto repo = OpenRepo(*dir, g);
        if (!repo) return Fail(repo.error());
        auto n = ResolveGen(**repo, *after);
        if (!n) return GenFail(n.error());
        base = *n;
        // Past the newest: legal (a generation not yet published), but a
        // typo waits forever without a word.
        if (auto st = (*repo)->Status(); st && st->committed.value_or(0) < *n)
          (void)std::fprintf(stderr,
                             "txdir: warning: generation %llu is not published yet (the newest "
                             "is %llu); waiting for a generation after it\n",
                             static_cast<unsigned long long>(*n),
                             static_cast<unsigned long long>(st->committed.value_or(0)));
      }
      // `--timeout` before the command name is parsed as the global
      // option; for wait it means the same thing.
      double secs = *timeout >= 0 ? *timeout : g.timeout_s;
      auto limit = secs >= 0 ? std::chrono::milliseconds(static_cast<int64_t>(secs * 1000))
                             : std::chrono::milliseconds(-1);
      auto gen = WaitForGeneration(*dir, base, limit);
      if (!gen) return Fail(gen.error());
      return Print(std::to_string(*gen) + "\n");
    };
    out->push_back(std::move(c));
  }
}

}  // namespace txdir::cli
