// Replication commands: remote, push, pull (with --watch), clone.
// docs/replication.md.
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "tools/txdir/cli.h"
#include "tools/txdir/progress.h"
#include "txdir/replication.h"

namespace txdir::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnStopSignal(int /*sig*/) { g_stop = 1; }

std::string Short(const std::string& commit) { return commit.substr(0, 12); }

std::string GenText(const std::optional<GenerationInfo>& g) {
  if (!g) return "no generation";
  return "generation " + std::to_string(g->number) + " (commit " + Short(g->commit) +
         ", published on " + g->host + ")";
}

// One line (or two) saying what a pull did.
// Prints what a pull did; returns the exit code (CommittedExit).
int ReportPull(const Globals& g, const std::string& remote, const PullResult& p) {
  const std::string bytes = std::to_string(p.transfer.bytes) + " bytes, " +
                            std::to_string(p.transfer.objects) + " objects received";
  switch (p.outcome) {
    case PullOutcome::kRemoteEmpty:
      Out(g, "remote '" + remote + "' has no generations yet (" + bytes + ")");
      break;
    case PullOutcome::kUpToDate:
      Out(g, "up to date with '" + remote + "': " + GenText(p.generation) + " (" + bytes + ")");
      break;
    case PullOutcome::kRemoteBehind:
      Out(g, "nothing to pull: remote '" + remote + "' is behind the local " +
                 GenText(p.generation) + "; push to update it (" + bytes + ")");
      break;
    case PullOutcome::kFastForward:
      Out(g,
          "pulled " + GenText(p.generation) + " from '" + remote + "', now live (" + bytes + ")");
      break;
    case PullOutcome::kMerged:
      Out(g, "resolved divergence with '" + remote + "' (merge base " + Short(p.merge_base) +
                 "): published " + GenText(p.generation) + " on top of remote head " +
                 Short(p.remote_head) + ", local head " + Short(p.local_head) +
                 " kept as its second parent (" + bytes + ")");
      for (const auto& path : p.merged) Out(g, "  merged: " + path);
      for (const auto& path : p.theirs_kept) Out(g, "  theirs kept: " + path);
      break;
  }
  return p.generation ? CommittedExit(*p.generation, g) : static_cast<int>(kExitOk);
}

// Sleeps `seconds` in short steps, returning early once a stop signal came.
void SleepInterruptibly(double seconds) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (!g_stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

struct PullArgs {
  std::string dir, remote = "origin", strategy, message, symlinks = "inside";
  bool watch = false;
  double interval = 5;
};

}  // namespace

namespace {

// `txdir remote`.
cmdline::Command RemoteCommand(Globals& g) {
  cmdline::Command c{"remote",
                     "Manage the remotes generations are pushed to and "
                     "pulled from"};
  auto dir = std::make_shared<std::string>();
  auto action = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto url = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("ACTION", action.get(), "add, remove or list").Required().OneOf({"add", "remove", "list"});
  c.Add("NAME", name.get(), "Remote name (add, remove)");
  c.Add("URL", url.get(), "Remote URL: a path, file://, ssh://, https:// or git:// (add)");
  c.run = [=, &g] {
    if (*action == "add" && (name->empty() || url->empty()))
      return UsageError("remote add needs NAME and URL");
    if (*action == "remove" && name->empty()) return UsageError("remote remove needs NAME");
    if (*action == "list" && !name->empty()) return UsageError("remote list takes no NAME");
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    if (*action == "add") {
      if (auto s = AddRemote(**repo, *name, *url); !s) return Fail(s.error());
      Out(g, "added remote '" + *name + "' " + *url);
    } else if (*action == "remove") {
      if (auto s = RemoveRemote(**repo, *name); !s) return Fail(s.error());
      Out(g, "removed remote '" + *name + "'");
    } else {
      auto list = ListRemotes(**repo);
      if (!list) return Fail(list.error());
      // Data, printed even with -q.
      for (const auto& rm : *list) std::cout << rm.name << "\t" << rm.url << "\n";
    }
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir push`.
cmdline::Command PushCommand(Globals& g) {
  cmdline::Command c{"push", "Send the generations to a remote (never forced)"};
  auto dir = std::make_shared<std::string>();
  auto remote = std::make_shared<std::string>("origin");
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("NAME", remote.get(), "Remote name (default origin)");
  c.run = [=, &g] {
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    StagedProgress progress("push", g.quiet);
    auto p = Push(**repo, *remote, progress.Fn());
    if (!p) {
      progress.Abort();
      return Fail(p.error());
    }
    progress.Done();
    if (p->up_to_date) {
      Out(g, "remote '" + *remote + "' is up to date: " + GenText(p->head));
    } else {
      Out(g, "pushed " + GenText(p->head) + " to '" + *remote + "' (" +
                 std::to_string(p->transfer.objects) + " objects" +
                 (p->transfer.bytes > 0 ? ", " + std::to_string(p->transfer.bytes) + " bytes"
                                        : std::string()) +
                 " sent)");
    }
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir pull`.
cmdline::Command PullCommand(Globals& g) {
  cmdline::Command c{"pull", "Fetch a remote's head and make it the live generation (atomically)"};
  auto a = std::make_shared<PullArgs>();
  c.Add("DIR", &a->dir, "The transactional directory").Required();
  c.Add("NAME", &a->remote, "Remote name (default origin)");
  c.Add("--strategy", &a->strategy,
        "Resolve a divergence: error, last-write-wins, last-modified-wins or merge "
        "(default: refuse, exit 5)");
  c.Add("-m,--message", &a->message, "Message of a generation resolving a divergence");
  c.Add("--symlinks", &a->symlinks,
        "inside (default): refuse generations with links that leave them; keep: "
        "accept them (as publish --symlinks)")
      .OneOf({"inside", "keep"});
  c.Flag("--watch", &a->watch, "Keep pulling every --interval seconds until SIGINT or SIGTERM");
  c.Add("--interval", &a->interval, "Seconds between pulls with --watch (default 5)")
      .PositiveSeconds()
      .Needs("--watch");
  c.run = [=, &g] {
    PullOptions o;
    o.message = a->message;
    o.symlinks = a->symlinks == "keep" ? SymlinkPolicy::kKeepAll : SymlinkPolicy::kInsideOnly;
    if (!a->strategy.empty()) {
      auto s = ParseStrategy(a->strategy);
      if (!s) return UsageError("unknown strategy '" + a->strategy + "'");
      o.strategy = *s;
    }
    auto repo = OpenRepo(a->dir, g);
    if (!repo) return Fail(repo.error());
    if (!a->watch) {  // (a watch prints one line per pull that changed something)
      StagedProgress progress("pull", g.quiet);
      o.progress = progress.Fn();
      auto p = Pull(**repo, a->remote, o);
      if (!p) {
        progress.Abort();
        return Fail(p.error());
      }
      progress.Done();
      return ReportPull(g, a->remote, *p);
    }
    // Watch: pull, sleep, repeat. Transient failures (network, lock
    // timeout) are reported and retried; a divergence or damage ends
    // the loop with its exit code, since retrying cannot fix it.
    if (std::signal(SIGINT, OnStopSignal) == SIG_ERR ||
        std::signal(SIGTERM, OnStopSignal) == SIG_ERR)
      return Fail(
          MakeError(Code::kInternal, "cannot install the stop signal handlers", "", errno).value());
    while (!g_stop) {
      auto p = Pull(**repo, a->remote, o);
      if (p) {
        if (p->outcome == PullOutcome::kFastForward || p->outcome == PullOutcome::kMerged)
          (void)ReportPull(g, a->remote, *p);  // a pending link: the next round
      } else if (p.error().code == Code::kIo || p.error().code == Code::kLocked) {
        // A failed write to stderr has nowhere to be reported.
        (void)std::fprintf(stderr, "txdir: warning: %s (will retry)\n",
                           p.error().ToString().c_str());
      } else {
        return Fail(p.error());
      }
      // Shows this round's report now. A failed write to our stdout is
      // no reason to stop watching; it makes the exit code 7 when the
      // watch ends (output.h).
      std::cout.flush();
      SleepInterruptibly(a->interval);
    }
    Out(g, "stopped watching");
    return static_cast<int>(kExitOk);
  };
  return c;
}

// `txdir clone`.
cmdline::Command CloneCommand(Globals& g) {
  cmdline::Command c{"clone",
                     "Create a transactional directory from a remote and publish its head"};
  auto url = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto live = std::make_shared<std::string>();
  auto symlinks = std::make_shared<std::string>("inside");
  c.Add("URL", url.get(), "Remote URL (becomes remote 'origin')").Required();
  c.Add("DIR", dir.get(), "The transactional directory to create").Required();
  c.Add("--live", live.get(), "Path of the live link (default DIR/current)");
  c.Add("--symlinks", symlinks.get(),
        "inside (default): refuse generations with links that leave them; keep: "
        "accept them (as publish --symlinks)")
      .OneOf({"inside", "keep"});
  c.run = [=, &g] {
    StagedProgress progress("clone", g.quiet);
    auto cl = Clone(*url, *dir,
                    CloneOptions{.live_path = *live,
                                 .symlinks = *symlinks == "keep" ? SymlinkPolicy::kKeepAll
                                                                 : SymlinkPolicy::kInsideOnly,
                                 .progress = progress.Fn()});
    if (!cl) {
      progress.Abort();
      return Fail(cl.error());
    }
    progress.Done();
    Out(g, "cloned " + *url + " into " + cl->repo->root());
    return ReportPull(g, "origin", cl->pull);
  };
  return c;
}

}  // namespace

void AddRemoteCommands(Commands* out, Globals& g) {
  for (auto* make : {&RemoteCommand, &PushCommand, &PullCommand, &CloneCommand})
    out->push_back(make(g));
}

}  // namespace txdir::cli
