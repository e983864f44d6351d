// Browsing and change notification: diff, checkout, run, wait. (log's
// change counts and filters are in commands_core.cc with the rest of log.)
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "tools/txdir/cli.h"
#include "tools/txdir/pager.h"
#include "tools/txdir/progress.h"
#include "txdir/history.h"
#include "txdir/sdn.h"

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
      if (sdn::IsTablesPath(f.path)) continue;
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
  return Print(format == DiffFormat::kPatch && g.color ? ColorizePatch(*text) : *text);
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

// Blame lines as text: generation, time, author, key (and field = value),
// aligned; or as JSON.
int PrintBlame(const std::vector<BlameLine>& lines, bool fields, bool as_json, const Globals& g) {
  if (as_json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& l : lines) {
      nlohmann::json j = {{"id", l.id},
                          {"generation", l.info.number},
                          {"time", FormatTimeMs(l.info.time_ms)},
                          {"author", l.info.author},
                          {"message", l.info.message}};
      if (fields) {
        j["field"] = l.field;
        j["value"] = l.value;
      }
      if (!l.info.parent && l.info.history_pruned) j["history_pruned"] = true;
      arr.push_back(std::move(j));
    }
    return Print(arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  size_t gen_w = 0, author_w = 0, id_w = 0;
  for (const auto& l : lines) {
    gen_w = std::max(gen_w, std::to_string(l.info.number).size());
    author_w = std::max(author_w, PrintablePath(l.info.author).size());
    id_w = std::max(id_w, PrintablePath(l.id).size());
  }
  auto pad = [](std::string s, size_t w) { return s.append(w > s.size() ? w - s.size() : 0, ' '); };
  std::string text;
  for (const auto& l : lines) {
    std::string gen = std::to_string(l.info.number);
    gen.insert(0, gen_w - gen.size(), ' ');
    // '^' marks a line that is older than the retained history (pruned).
    std::string line = gen + (!l.info.parent && l.info.history_pruned ? "^" : " ") + " " +
                       FormatTimeMs(l.info.time_ms) + "  " +
                       pad(PrintablePath(l.info.author), author_w) + "  ";
    if (fields)
      line += pad(PrintablePath(l.id), id_w) + "  " + PrintablePath(l.field) + ": " +
              PrintablePath(l.value);
    else
      line += PrintablePath(l.id);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  if (!g.quiet) return Print(text);
  return static_cast<int>(kExitOk);
}

}  // namespace

namespace {

// `txdir diff`.
cmdline::Command DiffCommand(Globals& g) {
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
  return c;
}

// `txdir checkout`.
cmdline::Command CheckoutCommand(Globals& g) {
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
    StagedProgress progress("checkout", g.quiet);
    if (auto s = ExportGeneration(**repo, *n, *to, progress.Fn()); !s) {
      progress.Abort();
      return Fail(s.error());
    }
    progress.Done();
    Out(g, "checked out generation " + std::to_string(*n) + " to " + *to);
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir run`.
cmdline::Command RunCommand(Globals& g) {
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
  return c;
}

// `txdir blame`.
cmdline::Command BlameCommand(Globals& g) {
  cmdline::Command c{"blame",
                     "For each record of an SDN table, the generation that last changed it"};
  auto dir = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto table = std::make_shared<std::string>();
  auto id = std::make_shared<std::string>();
  auto gen = std::make_shared<std::string>();
  auto fields = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("FILE", file.get(), "The SDN file (a path in the generation)").Required();
  c.Add("TABLE", table.get(), "The table").Required();
  c.Add("ID", id.get(), "Only this record (its key)");
  c.Add("--gen", gen.get(), "As of this generation (7, live~1; default: the live one)");
  c.Flag("--fields", fields.get(), "One line per field: the generation that last changed it");
  c.Flag("--json", as_json.get(), "Print a JSON array");
  c.run = [=, &g] {
    const std::string ref = gen->empty() ? "live" : *gen;
    if (auto r = ParseGenerationRef(ref); !r) return UsageError(r.error().message);
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    auto n = ResolveGen(**repo, ref);
    if (!n) return GenFail(n.error());
    auto lines = Blame(**repo, *n, *file, *table,
                       id->empty() ? std::nullopt : std::optional<std::string>(*id), *fields);
    if (!lines) return Fail(lines.error());
    return PrintBlame(*lines, *fields, *as_json, g);
  };
  return c;
}

// `txdir wait`.
cmdline::Command WaitCommand(Globals& g) {
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
  return c;
}

}  // namespace

void AddHistoryCommands(Commands* out, Globals& g) {
  for (auto* make : {&DiffCommand, &CheckoutCommand, &RunCommand, &BlameCommand, &WaitCommand})
    out->push_back(make(g));
}

}  // namespace txdir::cli
