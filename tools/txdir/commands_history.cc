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

// A generation argument: a number, or "live" for the live generation.
Result<uint64_t> ResolveGeneration(Repository& repo, const std::string& s) {
  if (s == "live") {
    auto st = TXDIR_TRY(repo.Status());
    if (!st.live) return MakeError(Code::kNotFound, "nothing has been published yet");
    return *st.live;
  }
  return ParseGeneration(s);
}

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
  auto from = ResolveGeneration(**repo, a.a);
  if (!from)
    return from.error().code == Code::kInvalidArgument ? UsageError(from.error().message)
                                                       : Fail(from.error());
  auto to = ResolveGeneration(**repo, a.b);
  if (!to)
    return to.error().code == Code::kInvalidArgument ? UsageError(to.error().message)
                                                     : Fail(to.error());
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
    c.Add("A", &a->a, "The old generation (a number, or 'live')").Required();
    c.Add("B", &a->b, "The new generation (a number, or 'live')").Required();
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
    c.Add("GEN", gen.get(), "Generation (a number, or 'live')").Required();
    c.Add("--to", to.get(), "Output directory: must not exist, or be empty").Required();
    c.run = [=, &g] {
      auto repo = OpenRepo(*dir, g);
      if (!repo) return Fail(repo.error());
      auto n = ResolveGeneration(**repo, *gen);
      if (!n)
        return n.error().code == Code::kInvalidArgument ? UsageError(n.error().message)
                                                        : Fail(n.error());
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
    c.Add("--gen", gen.get(), "Generation (default: the live one); must be materialized");
    c.Add("CMD", cmd.get(), "The command and its arguments (after --)").Required();
    c.run = [=, &g] {
      Result<Snapshot> snap = MakeError(Code::kInternal, "unset");
      if (gen->empty() || *gen == "live") {
        snap = Snapshot::OpenLive(*dir);
      } else {
        auto n = ParseGeneration(*gen);
        if (!n) return UsageError(n.error().message);
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
      if (!after->empty() && *after != "live") {
        if (*after == "0") {
          base = 0;
        } else {
          auto n = ParseGeneration(*after);
          if (!n) return UsageError(n.error().message);
          base = *n;
        }
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
