// txdir-serve-bench: how long the web view's pages take over a long
// history, as a browser gets them (HTTP over loopback, server in this
// process).
//
//   txdir-serve-bench [--generations 1000] [--runs 10] [--rows 265] [--quick]
//                     [--keep DIR | --repo DIR] [--page NAME]
//
// Builds a repository of N generations of the 11-table sample dashboard
// (every table changes in every generation, so every version of a table must
// be read), then for each page: "start" is the server's start-up (it indexes
// the history), "cold" the first request to the freshly started server (the
// trees and parsed tables it needs read by that request), "warm" the median
// of the next R requests. docs/performance.md
// ("Web view") states the goal: 200 ms for the history page and a trends
// page over 1,000 generations. --quick (the CI smoke test): 20 generations,
// one run, every page checked for its content, nothing timed. --keep leaves
// the built repository in DIR; --repo times the pages of an existing
// repository built that way instead of building one (so a profiler sees only
// the pages); --page times only the pages whose name contains NAME.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "tools/sample_dashboard/sample_data.h"
#include "tools/serve/serve.h"
#include "txdir/repository.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Page {
  const char* name;
  std::string path;
  std::string must_contain;  // checked on every answer
};

struct Running {
  std::unique_ptr<txdir::serve::Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;
  ~Running() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
  }
};

// A server on a free loopback port, and a client; null (said why) when it
// cannot start.
std::unique_ptr<Running> Start(const std::string& root, double* start_ms) {
  auto r = std::make_unique<Running>();
  const auto t0 = Clock::now();
  auto server = txdir::serve::Server::Open(root, {.host = "127.0.0.1", .port = 0});
  if (!server) {
    (void)std::fprintf(stderr, "cannot open the server: %s\n", server.error().ToString().c_str());
    return nullptr;
  }
  r->server = std::move(*server);
  *start_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  auto port = r->server->Bind();
  if (!port) {
    (void)std::fprintf(stderr, "cannot bind: %s\n", port.error().ToString().c_str());
    return nullptr;
  }
  r->thread = std::thread([s = r->server.get()] { (void)s->Run(); });
  r->client = std::make_unique<httplib::Client>("127.0.0.1", *port);
  r->client->set_read_timeout(120, 0);
  return r;
}

// One GET: its time in ms; nullopt (said why) when the answer is not a 200
// with the expected content.
std::optional<double> Fetch(httplib::Client& c, const Page& p, size_t* bytes) {
  const auto t0 = Clock::now();
  auto res = c.Get(p.path);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!res || res->status != 200 || res->body.find(p.must_contain) == std::string::npos) {
    (void)std::fprintf(stderr, "%s: GET %s gave %d without \"%s\"\n", p.name, p.path.c_str(),
                       res ? res->status : -1, p.must_contain.c_str());
    return std::nullopt;
  }
  *bytes = res->body.size();
  return ms;
}

// Publishes `generations` runs of the sample dashboard into a new
// repository at `root`, writing each source under `dir`. False (said why)
// on any error.
bool Build(const std::string& dir, const std::string& root, int generations, int rows) {
  auto repo = txdir::Repository::Init(root);
  if (!repo) {
    (void)std::fprintf(stderr, "init: %s\n", repo.error().ToString().c_str());
    return false;
  }
  for (int g = 1; g <= generations; ++g) {
    const std::string src = dir + "/src";
    std::string error;
    if (!txdir::sample::WriteDashboard(
            src, {.seed = 7, .run = static_cast<uint64_t>(g), .rows = static_cast<size_t>(rows)},
            &error)) {
      (void)std::fprintf(stderr, "sample: %s\n", error.c_str());
      return false;
    }
    auto gen = (*repo)->Publish(src, {.message = "dashboard run " + std::to_string(g)});
    if (!gen) {
      (void)std::fprintf(stderr, "publish %d: %s\n", g, gen.error().ToString().c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-serve-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Render times of the web view's pages over a long history";
  int generations = 1000, runs = 10, rows = static_cast<int>(txdir::sample::kDefaultRows);
  bool quick = false;
  std::string keep, existing, only;
  app.Add("--generations", &generations, "Generations published").Range(2, 100000);
  app.Add("--runs", &runs, "Warm requests per page").Range(1, 10000);
  app.Add("--rows", &rows, "Rows scale of the sample dashboard").Range(1, 100000);
  app.Flag("--quick", &quick, "20 generations, content checks only, no timing");
  app.Add("--keep", &keep, "Build the repository in DIR and leave it there");
  app.Add("--repo", &existing, "Time the pages of DIR, a repository --keep built");
  app.Add("--page", &only, "Time only the pages whose name contains NAME");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;
  if (quick) {
    generations = 20;
    runs = 1;
  }

  std::string dir, root;
  if (!existing.empty()) {
    root = existing;
    auto repo = txdir::Repository::Open(root);
    if (!repo) {
      (void)std::fprintf(stderr, "%s\n", repo.error().ToString().c_str());
      return 1;
    }
    auto log = (*repo)->Log(1);
    if (!log || log->empty()) {
      (void)std::fprintf(stderr, "%s: %s\n", root.c_str(),
                         log ? "nothing published" : log.error().ToString().c_str());
      return 1;
    }
    generations = static_cast<int>(log->front().number);
    std::printf("repository: %s, %d generations\n", root.c_str(), generations);
  } else {
    if (!keep.empty()) {
      dir = keep;
    } else {
      char tmpl[] = "/tmp/txdir-serve-bench-XXXXXX";
      if (!::mkdtemp(tmpl)) return 1;
      dir = tmpl;
    }
    root = dir + "/repo";
    const auto build0 = Clock::now();
    if (!Build(dir, root, generations, rows)) return 1;
    const double build_s = std::chrono::duration<double>(Clock::now() - build0).count();
    std::printf(
        "repository: %d generations of the 11-table sample dashboard (rows %d), built in "
        "%.1f s; file system %s\n",
        generations, rows, build_s, txdir::bench::FsName(dir).c_str());
  }
  const std::string live = std::to_string(generations);

  const std::vector<Page> pages = {
      {"history", "/history", "<tr class=\"gen\" data-gen=\"1\">"},
      {"trend todos by status", "/trends/todos.sdn?table=todos&by=status",
       "<rect class=\"hit\" data-gen=\"1\""},
      {"trend coverage rows", "/trends/coverage.sdn?table=coverage",
       "<rect class=\"hit\" data-gen=\"" + live + "\""},
      {"generation page", "/gen/" + live, "<tr class=\"tablecount\""},
      {"table page (todos)", "/table/" + live + "/todos.sdn", "<table class=\"sdn browse\""},
      {"record history", "/record/todos.sdn?table=todos&id=12", "<tr class=\"event added\""},
      {"file versions", "/versions/todos.sdn", "<tr class=\"version added\" data-gen=\"1\">"},
      {"diff with parent", "/diff/" + std::to_string(generations - 1) + "/" + live,
       "unchanged records"},
  };
  std::printf("%-24s %9s %9s %9s %9s %9s\n", "page", "start ms", "cold ms", "warm ms", "warm p90",
              "bytes");
  for (const Page& p : pages) {
    if (!only.empty() && std::string(p.name).find(only) == std::string::npos) continue;
    double start_ms = 0;
    auto running = Start(root, &start_ms);
    if (!running) return 1;
    size_t bytes = 0;
    const auto cold = Fetch(*running->client, p, &bytes);
    if (!cold) return 1;
    std::vector<double> warm;
    warm.reserve(static_cast<size_t>(runs));
    for (int i = 0; i < runs; ++i) {
      const auto ms = Fetch(*running->client, p, &bytes);
      if (!ms) return 1;
      warm.push_back(*ms);
    }
    if (quick) {
      std::printf("%-24s %9s %9s %9s %9s %9zu\n", p.name, "ok", "ok", "ok", "ok", bytes);
      continue;
    }
    std::printf("%-24s %9.1f %9.1f %9.1f %9.1f %9zu\n", p.name, start_ms, *cold,
                txdir::bench::Quantile(warm, 0.5), txdir::bench::Quantile(warm, 0.9), bytes);
  }
  if (existing.empty() && keep.empty()) txdir::bench::RemoveTree(dir);
  return 0;
}
