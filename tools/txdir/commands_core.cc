// The first set of commands: init, publish, status, log, show, cat,
// recover, rollback.
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tools/txdir/cli.h"
#include "tools/txdir/pager.h"
#include "tools/txdir/progress.h"
#include "txdir/history.h"
#include "txdir/sdn.h"

namespace txdir::cli {

namespace {

using nlohmann::json;

json GenJson(const GenerationInfo& g) {
  json j = {{"generation", g.number},
            {"kind", g.kind},
            {"message", g.message},
            {"author", g.author},
            {"host", g.host},
            {"pid", g.pid},
            {"time", FormatTimeMs(g.time_ms)},
            {"time_ms", g.time_ms},
            {"commit", g.commit},
            {"tree", g.tree}};
  if (g.restores) j["restores"] = *g.restores;
  j["parent"] = g.parent ? json(*g.parent) : json(nullptr);
  if (g.history_pruned) j["history_pruned"] = true;
  return j;
}

std::string Describe(const GenerationInfo& g) {
  std::string s = "generation " + std::to_string(g.number);
  if (g.kind == "rollback" && g.restores)
    s += " (rollback: restores generation " + std::to_string(*g.restores) + ")";
  return s;
}

// "7", "none (the first generation)" or "none (older generations were
// removed by gc --prune-history)".
std::string ParentText(const GenerationInfo& g) {
  if (g.parent) return std::to_string(*g.parent);
  return g.history_pruned ? "none (older generations were removed by gc --prune-history)"
                          : "none (the first generation)";
}

// The changed files of a log entry, each with, for an SDN table, its
// changed records ("records: 2 changed, 1 added"; empty otherwise).
Result<std::vector<std::pair<FileChange, std::string>>> StatLines(Repository& repo,
                                                                  const HistoryEntry& e) {
  std::vector<std::pair<FileChange, std::string>> out;
  for (const FileChange& ch : e.changes.changed) {
    std::string records;
    if (sdn::IsTablesPath(ch.path)) {
      auto diffs = TXDIR_TRY(DiffRecords(repo, e.info.parent.value_or(0), e.info.number, ch.path));
      size_t added = 0, changed = 0, removed = 0;
      bool unreadable = false;
      for (const auto& f : diffs) {
        unreadable = unreadable || !f.parse_error.empty();
        for (const auto& t : f.tables)
          for (const auto& rc : t.records) {
            added += rc.kind == RecordChangeKind::kAdded;
            removed += rc.kind == RecordChangeKind::kRemoved;
            changed += rc.kind == RecordChangeKind::kChanged;
          }
      }
      if (unreadable) {
        records = "records: not comparable (not valid SDN)";
      } else {
        std::vector<std::string> parts;
        if (changed) parts.push_back(std::to_string(changed) + " changed");
        if (added) parts.push_back(std::to_string(added) + " added");
        if (removed) parts.push_back(std::to_string(removed) + " removed");
        records = "records: ";
        for (size_t i = 0; i < parts.size(); ++i) records += (i ? ", " : "") + parts[i];
        if (parts.empty()) records += "none changed";
      }
    }
    out.emplace_back(ch, std::move(records));
  }
  return out;
}

const char* RecordKind(RecordChangeKind k) {
  switch (k) {
    case RecordChangeKind::kAdded:
      return "added";
    case RecordChangeKind::kRemoved:
      return "removed";
    case RecordChangeKind::kChanged:
      break;
  }
  return "changed";
}

// `log --record FILE TABLE ID`.
int RunRecordLog(const std::string& dir, const std::vector<std::string>& rec, size_t limit,
                 bool as_json, const Globals& g) {
  auto repo = OpenRepo(dir, g);
  if (!repo) return Fail(repo.error());
  auto events = RecordHistory(**repo, rec[0], rec[1], rec[2], limit);
  if (!events) return Fail(events.error());
  if (as_json) {
    json arr = json::array();
    for (const auto& e : *events) {
      json j = GenJson(e.info);
      j["change"] = RecordKind(e.kind);
      j["fields"] = json::array();
      for (const auto& f : e.fields)
        j["fields"].push_back({{"field", f.field}, {"old", f.old_value}, {"new", f.new_value}});
      arr.push_back(std::move(j));
    }
    std::cout << arr.dump(2, ' ', false, kJsonReplace) << "\n";
    return static_cast<int>(kExitOk);
  }
  if (events->empty())
    Out(g, "record " + PrintablePath(rec[2]) + " of table " + PrintablePath(rec[1]) + " in " +
               PrintablePath(rec[0]) + " is in no retained generation");
  for (const auto& e : *events) {
    const GenerationInfo& gi = e.info;
    std::istringstream msg(gi.message);
    std::string first;
    std::getline(msg, first);
    std::string kind = RecordKind(e.kind);
    if (e.kind == RecordChangeKind::kAdded && gi.history_pruned && !gi.parent)
      kind = "present (older generations were pruned)";
    Out(g, "generation " + std::to_string(gi.number) + "  " + FormatTimeMs(gi.time_ms) + "  " +
               PrintablePath(gi.author) + "  " + PrintablePath(first));
    std::string fields;
    for (const auto& f : e.fields) {
      if (!fields.empty()) fields += ", ";
      fields += PrintablePath(f.field) + ": ";
      if (e.kind == RecordChangeKind::kChanged)
        fields += QuoteValue(f.old_value) + " -> " + QuoteValue(f.new_value);
      else
        fields += QuoteValue(e.kind == RecordChangeKind::kAdded ? f.new_value : f.old_value);
    }
    Out(g, "  " + kind + (fields.empty() ? "" : " " + fields));
  }
  return static_cast<int>(kExitOk);
}

std::string ModeString(uint32_t mode) {
  switch (mode) {
    case 0100755:
      return "exec";
    case 0120000:
      return "link";
    default:
      return "file";
  }
}

struct PublishArgs {
  std::string dir, from, message, author, symlinks = "inside";
  bool dry_run = false, allow_empty = false, allow_remove_all = false;
};

// "A added, M modified, R removed".
std::string ChangeCounts(const std::vector<FileChange>& changes) {
  size_t added = 0, modified = 0, removed = 0;
  for (const auto& ch : changes) {
    added += ch.kind == ChangeKind::kAdded;
    modified += ch.kind == ChangeKind::kModified;
    removed += ch.kind == ChangeKind::kRemoved;
  }
  return std::to_string(added) + " added, " + std::to_string(modified) + " modified, " +
         std::to_string(removed) + " removed";
}

// "A\tPATH" lines, as diff --name-status prints them.
std::string NameStatus(const std::vector<FileChange>& changes, ChangeKind only = ChangeKind{}) {
  std::string out;
  for (const auto& c : changes)
    if (only == ChangeKind{} || c.kind == only)
      out += std::string(1, static_cast<char>(c.kind)) + "\t" + PrintablePath(c.path) + "\n";
  return out;
}

}  // namespace

int CommittedExit(const GenerationInfo& gi, const Globals& g) {
  if (!gi.auto_gc_removed.empty())
    Out(g, "gc.auto: removed generation directories " + GenerationList(gi.auto_gc_removed) + " (" +
               ByteCount(gi.auto_gc_bytes) + ")");
  if (!gi.live_pending) return kExitOk;
  // A failed write to stderr has nowhere to be reported.
  (void)std::fprintf(stderr,
                     "txdir: published generation %llu, but the live link still shows the "
                     "previous generation: %s; `txdir recover` (or the next write) moves it\n",
                     static_cast<unsigned long long>(gi.number), gi.live_error.c_str());
  return kExitNotLive;
}

std::string JsonGeneration(const GenerationInfo& g) {
  return GenJson(g).dump(-1, ' ', false, kJsonReplace);
}

namespace {

// `txdir init`.
cmdline::Command InitCommand(Globals& g) {
  cmdline::Command c{"init", "Create a transactional directory"};
  auto dir = std::make_shared<std::string>();
  auto live = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory (created if missing)").Required();
  c.Add("--live", live.get(),
        "Path of the live link (default DIR/current). An existing directory there "
        "becomes generation 1 and is replaced by the link");
  c.run = [=, &g] {
    auto repo = Repository::Init(*dir, InitOptions{.live_path = *live});
    if (!repo) return Fail(repo.error());
    Out(g, "initialized txdir repository in " + (*repo)->root());
    Out(g, "live path: " + (*repo)->live_path());
    auto st = (*repo)->Status();
    if (st && st->live) Out(g, "adopted existing files as generation 1");
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir publish`.
cmdline::Command PublishCommand(Globals& g) {
  cmdline::Command c{"publish", "Publish a directory tree as the next generation"};
  auto a = std::make_shared<PublishArgs>();
  c.Add("DIR", &a->dir, "The transactional directory").Required();
  c.Add("--from", &a->from, "Source directory whose full contents are published").Required();
  c.Add("-m,--message", &a->message, "Message recorded with the generation");
  c.Add("--author", &a->author, "Author (default $TXDIR_AUTHOR or the user name)");
  c.Add("--symlinks", &a->symlinks,
        "inside: store links that stay inside the source, refuse others; keep: "
        "store every link as a link")
      .OneOf({"inside", "keep"});
  c.Flag("-n,--dry-run", &a->dry_run,
         "Print what would be added (A), changed (M) and removed (D); publish nothing");
  c.Flag("--allow-empty", &a->allow_empty, "Publish even if the source holds no files");
  c.Flag("--allow-remove-all", &a->allow_remove_all,
         "Publish even if none of the live generation's files would remain");
  c.run = [=, &g] {
    auto repo = OpenRepo(a->dir, g);
    if (!repo) return Fail(repo.error());
    PublishOptions o;
    o.message = a->message;
    o.author = a->author;
    o.symlinks = a->symlinks == "keep" ? SymlinkPolicy::kKeepAll : SymlinkPolicy::kInsideOnly;
    o.allow_empty = a->allow_empty;
    o.allow_remove_all = a->allow_remove_all;
    if (a->dry_run) {
      auto changes = (*repo)->PreviewPublish(a->from, o);
      if (!changes) return Fail(changes.error());
      if (!g.quiet) std::cout << NameStatus(*changes);
      Out(g, "would publish: " + ChangeCounts(*changes) + " (dry run: nothing published)");
      return static_cast<int>(kExitOk);
    }
    StagedProgress progress("publish", g.quiet);
    o.progress = progress.Fn();
    auto gen = (*repo)->Publish(a->from, o);
    // Only a publish that worked gets ", done."; an error gets its own line.
    if (!gen) {
      progress.Abort();
      return Fail(gen.error());
    }
    progress.Done();
    Out(g, "published " + Describe(*gen) + " (commit " + gen->commit.substr(0, 12) + ")");
    // Removals are the change a user least expects: named, each one. The
    // report is for a reader; with -q nothing would print it, so skip the diff.
    if (!g.quiet) {
      if (auto changes = DiffGenerations(**repo, gen->parent.value_or(0), gen->number)) {
        Out(g, ChangeCounts(*changes));
        std::cout << NameStatus(*changes, ChangeKind::kRemoved);
      }
    }
    return CommittedExit(*gen, g);
  };
  return c;
}

// `txdir status`.
cmdline::Command StatusCommand(Globals& g) {
  cmdline::Command c{"status", "Show the live and committed generation and the lock"};
  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Flag("--json", as_json.get(), "Print JSON");
  c.run = [=, &g] {
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    auto s = (*repo)->Status();
    if (!s) return Fail(s.error());
    if (*as_json) {
      json j = {{"root", s->root},
                {"live_path", s->live_path},
                {"consistent", s->consistent},
                {"publish_in_progress", s->publish_in_progress}};
      j["live"] = s->live ? json(*s->live) : json(nullptr);
      j["committed"] = s->committed ? json(*s->committed) : json(nullptr);
      j["awaiting_recovery"] = s->awaiting_recovery ? json(*s->awaiting_recovery) : json(nullptr);
      if (s->lock_holder)
        j["lock_holder"] = {{"pid", s->lock_holder->pid},
                            {"host", s->lock_holder->host},
                            {"command", s->lock_holder->command},
                            {"since", FormatTimeMs(s->lock_holder->since_ms)}};
      else
        j["lock_holder"] = nullptr;
      std::cout << j.dump(2, ' ', false, kJsonReplace) << "\n";
      return static_cast<int>(kExitOk);
    }
    auto gen = [](const std::optional<uint64_t>& n) {
      return n ? "generation " + std::to_string(*n) : std::string("none");
    };
    Out(g, "repository:  " + s->root);
    Out(g, "live path:   " + s->live_path);
    Out(g, "live:        " + gen(s->live));
    Out(g, "committed:   " + gen(s->committed));
    Out(g, std::string("state:       ") + (s->consistent ? "consistent"
                                           : s->publish_in_progress
                                               ? "publish in progress (the writer holding the lock "
                                                 "is about to move the live link)"
                                               : "live link behind the committed generation (the "
                                                 "next write or `txdir recover` repairs it)"));
    if (s->awaiting_recovery)
      Out(g, "awaiting:    " + gen(s->awaiting_recovery) +
                 ", published in single-flush mode and whole, its head move left to recovery by "
                 "a power loss or a crash after its flush; readers see the live generation "
                 "until the next write or `txdir recover` completes it");
    if (s->lock_holder)
      Out(g, "writer lock: held by pid " + std::to_string(s->lock_holder->pid) + " on " +
                 s->lock_holder->host + " (" + s->lock_holder->command + ") since " +
                 FormatTimeMs(s->lock_holder->since_ms));
    else
      Out(g, "writer lock: free");
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `log --json`: every entry as one JSON array.
int PrintLogJson(Repository& repo, const HistoryOptions& opts, bool stat, uint64_t live_gen) {
  auto log = History(repo, opts);
  if (!log) return Fail(log.error());
  json arr = json::array();
  for (const auto& e : *log) {
    json j = GenJson(e.info);
    j["live"] = live_gen == e.info.number;
    j["changes"] = {{"added", e.changes.added},
                    {"modified", e.changes.modified},
                    {"removed", e.changes.removed},
                    {"files", e.changes.files},
                    {"bytes", e.changes.bytes},
                    {"bytes_added", e.changes.bytes_added},
                    {"bytes_removed", e.changes.bytes_removed},
                    {"bytes_changed", e.changes.bytes_changed}};
    if (stat) {
      auto files = StatLines(repo, e);
      if (!files) return Fail(files.error());
      j["changed"] = json::array();
      for (const auto& [change, records] : *files)
        j["changed"].push_back({{"status", std::string(1, static_cast<char>(change.kind))},
                                {"path", change.path},
                                {"records", records}});
    }
    arr.push_back(j);
  }
  std::cout << arr.dump(2, ' ', false, kJsonReplace) << "\n";
  return static_cast<int>(kExitOk);
}

// One generation of `log` as text: a block, or one line with --oneline.
// Text output escapes control characters in what users wrote (messages,
// names); file names cannot contain any.
void PrintLogEntry(const HistoryEntry& e, bool oneline, uint64_t live_gen, Globals& g) {
  const GenerationInfo& gi = e.info;
  const std::string counts = gi.history_pruned && !gi.parent
                                 ? std::string("older generations removed by gc --prune-history")
                                 : std::to_string(e.changes.added) + " added, " +
                                       std::to_string(e.changes.modified) + " modified, " +
                                       std::to_string(e.changes.removed) + " removed";
  if (oneline) {
    std::istringstream msg(gi.message);
    std::string first;
    std::getline(msg, first);
    std::string kind = gi.kind;
    if (gi.restores) kind += " of " + std::to_string(*gi.restores);
    // Counts as +added ~modified -removed files.
    const std::string short_counts = gi.history_pruned && !gi.parent
                                         ? std::string("(pruned below)")
                                         : "+" + std::to_string(e.changes.added) + " ~" +
                                               std::to_string(e.changes.modified) + " -" +
                                               std::to_string(e.changes.removed);
    Out(g, std::to_string(gi.number) + (live_gen == gi.number ? " (live)" : "") + "  " +
               FormatTimeMs(gi.time_ms) + "  " + kind + "  " + short_counts + "  " +
               PrintablePath(first));
  } else {
    std::string head = "generation " + std::to_string(gi.number);
    if (live_gen == gi.number) head += " (live)";
    Out(g, g.color ? "\x1b[33m" + head + "\x1b[m" : head);
    Out(g, "  kind:   " + gi.kind +
               (gi.restores ? " of generation " + std::to_string(*gi.restores) : ""));
    Out(g, "  time:   " + FormatTimeMs(gi.time_ms));
    Out(g, "  author: " + PrintablePath(gi.author) + " on " + PrintablePath(gi.host) + " (pid " +
               std::to_string(gi.pid) + ")");
    Out(g, "  commit: " + gi.commit);
    if (gi.history_pruned && !gi.parent)
      Out(g, "  changes: unknown: " + counts);
    else
      Out(g, "  changes: " + counts + "; +" + std::to_string(e.changes.bytes_added) + " -" +
                 std::to_string(e.changes.bytes_removed) + " bytes");
    Out(g, "  size:   " + std::to_string(e.changes.files) + " files, " +
               std::to_string(e.changes.bytes) + " bytes");
    std::istringstream msg(gi.message);
    for (std::string line; std::getline(msg, line);) Out(g, "    " + PrintablePath(line));
  }
}

// `txdir log`.
cmdline::Command LogCommand(Globals& g) {
  cmdline::Command c{"log", "List generations, newest first, with what each changed"};
  auto dir = std::make_shared<std::string>();
  auto n = std::make_shared<size_t>(0);
  auto as_json = std::make_shared<bool>(false);
  auto since = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("-n,--max-count", n.get(), "Show at most N generations").Count();
  c.Add("--since", since.get(),
        "Only generations created since WHEN: a duration ago (7d, 12h, 30m, 45s, 2w) or "
        "an ISO date/time in UTC (2026-11-27, 2026-11-27T02:11:12Z)");
  c.Add("--path", path.get(),
        "Only generations that changed PATH (a file, or a directory and what is under "
        "it)");
  auto oneline = std::make_shared<bool>(false);
  auto stat = std::make_shared<bool>(false);
  c.Flag("--oneline", oneline.get(),
         "One line per generation: number, time, kind, A/M/D counts, first message line")
      .Excludes("--json");
  c.Flag("--stat", stat.get(),
         "Also list each generation's changed files, with the records changed in SDN "
         "tables");
  auto record = std::make_shared<std::vector<std::string>>();
  c.Add("--record", record.get(),
        "FILE TABLE ID: the generations that added, changed or removed that record of an SDN "
        "table, with the fields changed")
      .Exactly(3)
      .Excludes("--stat")
      .Excludes("--oneline")
      .Excludes("--path")
      .Excludes("--since");
  c.Flag("--json", as_json.get(), "Print a JSON array");
  c.run = [=, &g] {
    if (!record->empty()) return RunRecordLog(*dir, *record, *n, *as_json, g);
    HistoryOptions opts;
    opts.limit = *n;
    opts.path = *path;
    opts.changed_bytes = !*oneline || *as_json;  // --oneline does not show them
    if (!since->empty()) {
      auto when = ParseSince(*since, NowMs());
      if (!when) return UsageError("--since: " + when.error().message);
      opts.since_ms = *when;
    }
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    auto st = (*repo)->Status();
    uint64_t live_gen = st && st->live ? *st->live : 0;
    if (*as_json) return PrintLogJson(**repo, opts, *stat, live_gen);
    // Each generation is printed as the walk reaches it, so the newest
    // show at once (through the pager too) however long the history.
    std::optional<int> failed;
    auto walked = ForEachHistoryEntry(**repo, opts, [&](const HistoryEntry& e) {
      PrintLogEntry(e, *oneline, live_gen, g);
      if (*stat) {
        auto files = StatLines(**repo, e);
        if (!files) {
          failed = Fail(files.error());
          return false;
        }
        for (const auto& [change, records] : *files)
          Out(g, std::string("    ") + static_cast<char>(change.kind) + " " +
                     PrintablePath(change.path) + (records.empty() ? "" : "  " + records));
      }
      if (!*oneline) Out(g, "");
      std::cout.flush();  // one write per generation: the reader sees it now
      return true;
    });
    if (failed) return *failed;
    if (!walked) return Fail(walked.error());
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `show --json`: the generation's metadata, what it changed from its
// parent (null when a prune made that unknown) and its files.
int PrintShowJson(Repository& repo, const GenerationInfo& gi, bool unknown) {
  auto files = repo.ListFiles(gi.number);
  if (!files) return Fail(files.error());
  auto changes = unknown ? Result<std::vector<FileChange>>(std::vector<FileChange>())
                         : DiffGenerations(repo, gi.parent.value_or(0), gi.number);
  if (!changes) return Fail(changes.error());
  json j = GenJson(gi);
  j["changes"] = unknown ? json(nullptr) : json::array();
  for (const auto& ch : *changes)
    j["changes"].push_back({{"status", std::string(1, static_cast<char>(ch.kind))},
                            {"path", ch.path},
                            {"old_size", ch.old_size},
                            {"new_size", ch.new_size}});
  j["files"] = json::array();
  for (const auto& f : *files)
    j["files"].push_back(
        {{"path", f.path}, {"size", f.size}, {"mode", ModeString(f.mode)}, {"blob", f.blob}});
  std::cout << j.dump(2, ' ', false, kJsonReplace) << "\n";
  return static_cast<int>(kExitOk);
}

// `show --files`: the generation's files with their modes and sizes.
int PrintFileList(Repository& repo, uint64_t gen, Globals& g) {
  auto files = repo.ListFiles(gen);
  if (!files) return Fail(files.error());
  Out(g, std::to_string(files->size()) + " files:");
  for (const auto& f : *files) {
    // "  %-4s %10llu  PATH"
    std::string mode = ModeString(f.mode), size = std::to_string(f.size);
    if (mode.size() < 4) mode.append(4 - mode.size(), ' ');
    if (size.size() < 10) size.insert(0, 10 - size.size(), ' ');
    Out(g, "  " + mode + " " + size + "  " + PrintablePath(f.path));
  }
  return static_cast<int>(kExitOk);
}

// `txdir show`.
cmdline::Command ShowCommand(Globals& g) {
  cmdline::Command c{"show",
                     "Show a generation: its metadata and its diff against its parent, or a "
                     "file"};
  auto dir = std::make_shared<std::string>();
  auto spec = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto stat = std::make_shared<bool>(false);
  auto name_status = std::make_shared<bool>(false);
  auto records = std::make_shared<bool>(false);
  auto list = std::make_shared<bool>(false);
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("GEN[:PATH]", spec.get(),
        "Generation (7, live, live~1, 7^), optionally :PATH to print one file")
      .Required();
  c.Flag("--stat", stat.get(), "The diff as per-file +/- line counts and a summary")
      .Excludes("--name-status")
      .Excludes("--records")
      .Excludes("--files");
  c.Flag("--name-status", name_status.get(), "The diff as A/M/D and the path per file")
      .Excludes("--records")
      .Excludes("--files");
  c.Flag("--records", records.get(), "The diff of SDN tables by record").Excludes("--files");
  c.Flag("--files", list.get(), "List the generation's files instead of the diff");
  c.Flag("--json", as_json.get(),
         "Print JSON: metadata, the changed files and the generation's files");
  c.run = [=, &g] {
    std::string gen_s = *spec, path;
    if (auto colon = spec->find(':'); colon != std::string::npos) {
      gen_s = spec->substr(0, colon);
      path = spec->substr(colon + 1);
      if (path.empty()) return UsageError("empty PATH after ':' in '" + *spec + "'");
    }
    if (auto ref = ParseGenerationRef(gen_s); !ref) return UsageError(ref.error().message);
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    auto n = ResolveGen(**repo, gen_s);
    if (!n) return GenFail(n.error());
    if (!path.empty()) {
      auto data = (*repo)->ReadFile(*n, path);
      if (!data) return Fail(data.error());
      // A failed write is reported where every command ends (output.h).
      std::cout.write(data->data(), static_cast<std::streamsize>(data->size()));
      return static_cast<int>(kExitOk);
    }
    auto gi = (*repo)->Generation(*n);
    if (!gi) return Fail(gi.error());
    // The diff is against the parent; a generation without one (the
    // first, or the oldest gc kept) against no files.
    const uint64_t parent = gi->parent.value_or(0);
    // The oldest generation a prune kept: what it changed is unknown, and
    // a diff against no files would claim it added everything.
    const bool unknown = !gi->parent && gi->history_pruned;
    if (*as_json) return PrintShowJson(**repo, *gi, unknown);
    Out(g, Describe(*gi));
    Out(g, "time:    " + FormatTimeMs(gi->time_ms));
    Out(g, "author:  " + PrintablePath(gi->author) + " on " + PrintablePath(gi->host) + " (pid " +
               std::to_string(gi->pid) + ")");
    Out(g, "commit:  " + gi->commit);
    Out(g, "parent:  " + ParentText(*gi));
    std::istringstream msg(gi->message);
    std::string line;
    for (bool first = true; std::getline(msg, line); first = false)
      Out(g, (first ? "message: " : "         ") + PrintablePath(line));
    Out(g, "");
    if (*list) return PrintFileList(**repo, *n, g);
    if (unknown) {
      Out(g,
          "(what it changed is unknown: older generations were removed by gc "
          "--prune-history)");
      return static_cast<int>(kExitOk);
    }
    if (*records) {
      auto diffs = DiffRecords(**repo, parent, *n);
      if (!diffs) return Fail(diffs.error());
      if (!g.quiet) std::cout << FormatRecordDiffs(*diffs);
      return static_cast<int>(kExitOk);
    }
    DiffFormat format = *stat          ? DiffFormat::kStat
                        : *name_status ? DiffFormat::kNameStatus
                                       : DiffFormat::kPatch;
    auto text = FormatDiff(**repo, parent, *n, format);
    if (!text) return Fail(text.error());
    if (!g.quiet)
      std::cout << (format == DiffFormat::kPatch && g.color ? ColorizePatch(*text) : *text);
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir cat`.
cmdline::Command CatCommand(Globals& g) {
  cmdline::Command c{"cat", "Print a file of the live (or a given) generation"};
  auto dir = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto gen = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("PATH", path.get(), "File path inside the generation").Required();
  c.Add("--gen", gen.get(), "Generation (7, live~1, 7^; default: the live one)");
  c.run = [=, &g] {
    // A path that is a symbolic link in the generation is refused
    // (exit 8) by both reads, naming its target, never printed as the
    // target's text nor followed: `cat` promises a file's bytes, and a
    // script reading `tables/x.sdn` must not get "../y.sdn" instead
    // without a sign, nor bytes from outside the generation (docs/cli.md).
    Result<std::string> data;
    if (gen->empty()) {
      auto snap = Snapshot::OpenLive(*dir);
      if (!snap) return Fail(snap.error());
      data = snap->ReadFile(*path);
    } else {
      if (auto ref = ParseGenerationRef(*gen); !ref) return UsageError(ref.error().message);
      auto repo = OpenRepo(*dir, g);
      if (!repo) return Fail(repo.error());
      auto n = ResolveGen(**repo, *gen);
      if (!n) return GenFail(n.error());
      data = (*repo)->ReadFile(*n, *path);
    }
    if (!data) return Fail(data.error());
    // A failed write is reported where every command ends (output.h).
    std::cout.write(data->data(), static_cast<std::streamsize>(data->size()));
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir recover`.
cmdline::Command RecoverCommand(Globals& g) {
  cmdline::Command c{"recover", "Repair what an interrupted writer left behind"};
  auto dir = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.run = [=, &g] {
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    auto rep = (*repo)->Recover();
    if (!rep) return Fail(rep.error());
    if (rep->actions.empty()) Out(g, "nothing to recover");
    for (const auto& a : rep->actions) Out(g, a);
    if (rep->live) Out(g, "live: generation " + std::to_string(*rep->live));
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir rollback`.
cmdline::Command RollbackCommand(Globals& g) {
  cmdline::Command c{
      "rollback",
      "Publish an earlier generation's files as a new generation (default: one step back)"};
  auto dir = std::make_shared<std::string>();
  auto gen = std::make_shared<std::string>();
  auto msg = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("GEN", gen.get(), "Generation to restore (7, live~2, ...)");
  c.Add("-m,--message", msg.get(), "Message recorded with the new generation");
  c.run = [=, &g] {
    if (!gen->empty())
      if (auto ref = ParseGenerationRef(*gen); !ref) return UsageError(ref.error().message);
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    std::optional<uint64_t> target;
    if (!gen->empty()) {
      auto n = ResolveGen(**repo, *gen);
      if (!n) return GenFail(n.error());
      target = *n;
    }
    auto gi = (*repo)->Rollback(target, PublishOptions{.message = *msg});
    if (!gi) return Fail(gi.error());
    Out(g, "published " + Describe(*gi));
    return CommittedExit(*gi, g);
  };
  return c;
}

}  // namespace

void AddCoreCommands(Commands* out, Globals& g) {
  for (auto* make : {&InitCommand, &PublishCommand, &StatusCommand, &LogCommand, &ShowCommand,
                     &CatCommand, &RecoverCommand, &RollbackCommand})
    out->push_back(make(g));
}

}  // namespace txdir::cli
