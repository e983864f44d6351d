// serve: a read-only web view of a transactional directory. The options
// are parsed here, with every other command's; the server itself runs in
// txdir-serve (tools/serve/serve_main.cc), see ServeRunner in cli.h.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tools/txdir/cli.h"

namespace txdir::cli {

namespace {

// The txdir-serve program next to this executable (a build tree and an
// install both put them side by side): never looked up in PATH, so the
// txdir that parsed the options is the one whose server runs.
std::string HelperPath() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "txdir-serve";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "txdir-serve";
}

// The command line txdir-serve parses again: the global options that apply
// to serve, then the serve command as parsed here.
std::vector<std::string> HelperArgs(const ServeArgs& a, const Globals& g) {
  std::vector<std::string> args{"txdir-serve"};
  for (int i = 0; i < g.verbose; ++i) args.emplace_back("-v");
  if (g.quiet) args.emplace_back("-q");
  args.insert(args.end(),
              {"serve", a.dir, "--addr", a.addr, "--threads", std::to_string(a.limits.threads),
               "--max-per-client", std::to_string(a.limits.max_connections_per_client)});
  if (a.allow_public) args.emplace_back("--public");
  return args;
}

int ExecHelper(const ServeArgs& a, const Globals& g) {
  const std::string helper = HelperPath();
  std::vector<std::string> args = HelperArgs(a, g);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::execv(helper.c_str(), argv.data());
  return Fail(Error{.code = Code::kNotFound,
                    .message = "cannot run the web server program (txdir-serve is installed "
                               "next to txdir)",
                    .path = helper,
                    .sys_errno = errno});
}

ServeRunner g_runner = &ExecHelper;

}  // namespace

void SetServeRunner(ServeRunner runner) { g_runner = runner; }

void AddServeCommands(Commands* out, Globals& g) {
  cmdline::Command c{"serve",
                     "Serve the generations read-only over HTTP (history, files, diffs, tables)"};
  auto a = std::make_shared<ServeArgs>();
  c.Add("DIR", &a->dir, "The transactional directory").Required();
  c.Add("--addr", &a->addr,
        "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free port)")
      .ShowDefault();
  c.Flag("--public", &a->allow_public, "Allow a non-loopback address (there is no authentication)");
  c.Add("--threads", &a->limits.threads, "Connections served at once").Range(1, 1024).ShowDefault();
  c.Add("--max-per-client", &a->limits.max_connections_per_client,
        "Connections served at once for one client address (0: no cap)")
      .Range(0, 1024)
      .ShowDefault();
  c.run = [=, &g] { return g_runner(*a, g); };
  out->push_back(std::move(c));
}

}  // namespace txdir::cli
