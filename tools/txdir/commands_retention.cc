// Retention and verification: gc, config, fsck (docs/cli.md, "Retention and
// verification").
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/txdir/cli.h"
#include "tools/txdir/progress.h"
#include "txdir/fsck.h"
#include "txdir/retention.h"

namespace txdir::cli {

namespace {

using nlohmann::json;

struct GcArgs {
  std::string dir, keep_within;
  uint64_t keep = 0;
  bool dry_run = false, prune_history = false, as_json = false;
};

int RunGc(const GcArgs& a, const Globals& g) {
  GcOptions o;
  if (a.keep > 0) o.keep = a.keep;
  if (!a.keep_within.empty()) {
    auto d = ParseDuration(a.keep_within);
    if (!d) return UsageError("--keep-within: " + d.error().message);
    o.keep_within = *d;
  }
  o.dry_run = a.dry_run;
  o.prune_history = a.prune_history;
  auto repo = OpenRepo(a.dir, g);
  if (!repo) return Fail(repo.error());
  StagedProgress progress("gc", g.quiet);
  o.progress = progress.Fn();
  auto rep = CollectGarbage(**repo, o);
  if (!rep) {
    progress.Abort();
    return Fail(rep.error());
  }
  progress.Done();
  if (a.as_json) {
    json j = {{"dry_run", rep->dry_run}, {"keep", rep->keep},
              {"removed", rep->removed}, {"kept", rep->kept},
              {"pinned", rep->pinned},   {"bytes_freed", rep->bytes_freed}};
    j["keep_within_ms"] = rep->keep_within_ms ? json(*rep->keep_within_ms) : json(nullptr);
    j["live"] = rep->live ? json(*rep->live) : json(nullptr);
    if (a.prune_history)
      j["history"] = {{"pruned", rep->history_pruned},
                      {"kept", rep->history_kept},
                      {"store_bytes_before", rep->store_bytes_before},
                      {"store_bytes_after", rep->store_bytes_after}};
    std::cout << j.dump(2, ' ', false, kJsonReplace) << "\n";
    return kExitOk;
  }
  std::string policy = "keep the newest " + std::to_string(rep->keep);
  if (rep->keep_within_ms) {
    auto ms = *rep->keep_within_ms;
    std::string d = ms % 86400000 == 0  ? std::to_string(ms / 86400000) + "d"
                    : ms % 3600000 == 0 ? std::to_string(ms / 3600000) + "h"
                    : ms % 60000 == 0   ? std::to_string(ms / 60000) + "m"
                                        : std::to_string(ms) + "ms";
    policy += " and everything younger than " + d;
  }
  const std::string would = rep->dry_run ? "would remove" : "removed";
  Out(g, std::string(rep->dry_run ? "dry run: " : "") + "policy: " + policy);
  if (rep->live) Out(g, "live:    generation " + std::to_string(*rep->live) + " (never removed)");
  Out(g, would + ": " + GenerationList(rep->removed) + " (" + ByteCount(rep->bytes_freed) + ")");
  Out(g, "kept:    " + GenerationList(rep->kept));
  if (!rep->pinned.empty())
    Out(g, "pinned:  " + GenerationList(rep->pinned) +
               " (outside the policy but a reader is inside: skipped; a later gc removes them)");
  if (a.prune_history) {
    Out(g, std::string("history: ") + (rep->dry_run ? "would prune " : "pruned ") +
               std::to_string(rep->history_pruned.size()) + " generation(s), " +
               std::to_string(rep->history_kept) + " kept");
    if (!rep->dry_run)
      Out(g, "store:   " + ByteCount(rep->store_bytes_before) + " -> " +
                 ByteCount(rep->store_bytes_after));
  }
  return kExitOk;
}

int RunConfig(const std::string& dir, const std::string& key,
              const std::optional<std::string>& value, bool unset, const Globals& g) {
  if (!key.empty() &&
      std::find(ConfigKeys().begin(), ConfigKeys().end(), key) == ConfigKeys().end()) {
    std::string known;
    for (const auto& k : ConfigKeys()) known += (known.empty() ? "" : ", ") + k;
    const std::string best = cmdline::ClosestMatch(key, ConfigKeys());
    return Fail(
        Error{Code::kInvalidArgument, "unknown config key '" + key + "'" +
                                          (best.empty() ? "" : "; did you mean '" + best + "'?") +
                                          " (known: " + known + ")"});
  }
  if (key.empty()) {
    if (unset) return UsageError("--unset needs a KEY");
    auto all = ListConfig(dir);
    if (!all) return Fail(all.error());
    for (const auto& [k, v] : *all) Out(g, k + " = " + (v ? *v : "(unset)"));
    return kExitOk;
  }
  if (unset || value) {
    if (unset && value) return UsageError("give either VALUE or --unset, not both");
    auto s = SetConfig(dir, key, unset ? std::nullopt : value);
    if (!s) return Fail(s.error());
    return kExitOk;
  }
  auto v = GetConfig(dir, key);
  if (!v) return Fail(v.error());
  if (!*v) {
    // A failed write to stderr has nowhere to be reported; the exit code is.
    (void)std::fprintf(stderr, "txdir: %s is not set\n", key.c_str());
    return kExitNotFound;
  }
  std::cout << **v << "\n";  // the value is the output, even with -q
  return kExitOk;
}

int RunFsck(const std::string& dir, bool repair, bool as_json, const Globals& g) {
  auto repo = OpenRepo(dir, g);
  if (!repo) return Fail(repo.error());
  StagedProgress progress("fsck", g.quiet);
  auto rep = Fsck(**repo, FsckOptions{.repair = repair, .progress = progress.Fn()});
  if (!rep) {
    progress.Abort();
    return Fail(rep.error());
  }
  progress.Done();
  if (as_json) {
    json problems = json::array();
    for (const auto& p : rep->problems) {
      json j = {{"area", p.area}, {"path", p.path}, {"problem", p.problem}};
      j["generation"] = p.generation ? json(*p.generation) : json(nullptr);
      if (!p.shared_with.empty()) j["shared_with"] = p.shared_with;
      problems.push_back(j);
    }
    json j = {{"clean", rep->clean()},
              {"commits_checked", rep->commits_checked},
              {"objects_checked", rep->objects_checked},
              {"generations_checked", rep->generations_checked},
              {"problems", problems},
              {"repaired", rep->repaired},
              {"notes", rep->notes}};
    j["head"] = rep->head ? json(*rep->head) : json(nullptr);
    j["live"] = rep->live ? json(*rep->live) : json(nullptr);
    std::cout << j.dump(2, ' ', false, kJsonReplace) << "\n";
  } else {
    Out(g, "store: " + std::to_string(rep->commits_checked) + " commits, " +
               std::to_string(rep->objects_checked) + " trees and blobs checked");
    Out(g, "generations checked: " + GenerationList(rep->generations_checked));
    for (const auto& line : rep->repaired) Out(g, "repaired: " + line);
    for (const auto& n : rep->notes) Out(g, "note: " + n);
    for (const auto& p : rep->problems) {
      std::string where = p.area;
      if (p.generation) where += " " + std::to_string(*p.generation);
      if (!p.path.empty()) where += ": " + p.path;
      std::string line = where + ": " + p.problem;
      if (!p.shared_with.empty()) {
        line += " — the damaged file is shared (same inode) by";
        for (const auto& s : p.shared_with) line += " " + s;
      }
      std::cout << "PROBLEM " << line << "\n";  // shown even with -q
    }
    Out(g, rep->clean() ? "clean"
                        : std::to_string(rep->problems.size()) + " problem(s) found" +
                              (repair ? " after repair"
                                      : "; `txdir fsck --repair` re-materializes "
                                        "damaged generations"));
  }
  return rep->clean() ? kExitOk : kExitCorruption;
}

}  // namespace

namespace {

// `txdir gc`.
cmdline::Command GcCommand(Globals& g) {
  cmdline::Command c{"gc",
                     "Remove generation directories outside the retention policy (and, with "
                     "--prune-history, their history)"};
  auto a = std::make_shared<GcArgs>();
  c.Add("DIR", &a->dir, "The transactional directory").Required();
  c.Add("--keep", &a->keep, "Keep the newest N generations (default: config gc.keep, else 10)")
      .Count();
  c.Add("--keep-within", &a->keep_within,
        "Also keep every generation younger than DURATION (7d, 12h, 30m; default: "
        "config gc.keep_within, else none)");
  c.Flag("--dry-run", &a->dry_run, "List what would be removed; change nothing");
  c.Flag("--prune-history", &a->prune_history,
         "Also drop those generations from the store and reclaim their space");
  c.Flag("--json", &a->as_json, "Print JSON");
  c.run = [=, &g] { return RunGc(*a, g); };
  return c;
}

// `txdir config`.
cmdline::Command ConfigCommand(Globals& g) {
  cmdline::Command c{"config", "List, read or set the repository's settings"};
  auto dir = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto value = std::make_shared<std::vector<std::string>>();
  auto unset = std::make_shared<bool>(false);
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("KEY", key.get(),
        "lock_timeout_ms, sync, gc.keep, gc.keep_within, gc.auto, hooks.pre_publish, "
        "live_path (read-only)");
  c.Add("VALUE", value.get(), "New value").AtMost(1);
  c.Flag("--unset", unset.get(), "Remove KEY (back to its default)");
  c.run = [=, &g] {
    std::optional<std::string> v;
    if (!value->empty()) v = value->front();
    return RunConfig(*dir, *key, v, *unset, g);
  };
  return c;
}

// `txdir fsck`.
cmdline::Command FsckCommand(Globals& g) {
  cmdline::Command c{"fsck", "Check the store, every materialized generation and the live link"};
  auto dir = std::make_shared<std::string>();
  auto repair = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Flag("--repair", repair.get(),
         "Re-materialize damaged generations from the store (under the writer lock)");
  c.Flag("--json", as_json.get(), "Print JSON");
  c.run = [=, &g] { return RunFsck(*dir, *repair, *as_json, g); };
  return c;
}

}  // namespace

void AddRetentionCommands(Commands* out, Globals& g) {
  for (auto* make : {&GcCommand, &ConfigCommand, &FsckCommand}) out->push_back(make(g));
}

}  // namespace txdir::cli
