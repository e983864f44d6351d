// The txdir app: shared helpers of the commands, the program's table of
// commands, and parsing argv without running anything (app.h). See
// docs/cli.md.
#include "tools/txdir/app.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "tools/txdir/output.h"
#include "tools/txdir/pager.h"
#include "txdir/history.h"
#include "txdir/log.h"

namespace txdir::cli {

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return kExitInvalidInput;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kLocked:
      return kExitLocked;
    case Code::kConflict:
      return kExitConflict;
    case Code::kCorruption:
      return kExitCorruption;
    case Code::kIo:
      return kExitIo;
    case Code::kExists:
      return kExitExists;
    case Code::kInternal:
      return kExitInternal;
    case Code::kTimeout:
      return kExitTimeout;
  }
  return kExitInternal;
}

// A failed write to stderr has nowhere to be reported: the exit code still is.
int Fail(const Error& e) {
  (void)std::fprintf(stderr, "txdir: error: %s (%s)\n", e.ToString().c_str(), CodeName(e.code));
  return ExitCodeFor(e.code);
}

int UsageError(const std::string& message) {
  (void)std::fprintf(stderr, "txdir: usage error: %s\n", message.c_str());
  return kExitUsage;
}

Result<std::unique_ptr<Repository>> OpenRepo(const std::string& dir, const Globals& g) {
  OpenOptions o;
  if (g.timeout_s >= 0)
    o.lock_timeout = std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000));
  return Repository::Open(dir, o);
}

Result<uint64_t> ResolveGen(Repository& repo, const std::string& ref) {
  return ResolveGenerationRef(repo, ref);
}

int GenFail(const Error& e) {
  return e.code == Code::kInvalidArgument ? UsageError(e.message) : Fail(e);
}

std::string GenerationList(const std::vector<uint64_t>& gens) {
  if (gens.empty()) return "none";
  std::vector<uint64_t> sorted = gens;
  std::sort(sorted.begin(), sorted.end());
  std::string s;
  // Runs of consecutive numbers as "first-last": a gc that removed 996
  // generations is one line.
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    if (!s.empty()) s += ' ';
    s += std::to_string(sorted[i]);
    if (j > i) s += (j == i + 1 ? " " : "-") + std::to_string(sorted[j]);
    i = j + 1;
  }
  return s;
}

std::string ByteCount(uint64_t b) {
  std::string s = std::to_string(b) + " bytes";
  if (b < 1024) return s;
  const bool mib = b >= (1u << 20);
  const double v = static_cast<double>(b) / (mib ? (1 << 20) : 1024);
  char buf[32];  // "%.1f" of at most 2^64 / 1024
  const int n = std::snprintf(buf, sizeof buf, "%.1f", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return s;
  return s + " (" + std::string(buf, static_cast<size_t>(n)) + (mib ? " MiB)" : " KiB)");
}

void Out(const Globals& g, const std::string& line) {
  if (!g.quiet) std::cout << line << "\n";
}

std::string FormatTimeMs(int64_t ms) { return FormatTime(ms); }

Cli::Cli() {
  program.name = "txdir";
  program.version = "txdir 0.1.0";
  cmdline::Command& top = program.globals;
  top.help =
      "txdir: a transactional directory — publish whole generations of files atomically, "
      "with history and rollback";
  top.Flag("-v,--verbose", &globals.verbose, "Log what txdir does (repeat for more)");
  top.Flag("-q,--quiet", &globals.quiet, "Print nothing but errors");
  top.Flag("--no-pager", &globals.no_pager,
           "Do not page the output of log, show, diff and blame on a terminal");
  top.Add("--timeout", &globals.timeout_s,
          "Seconds to wait for the writer lock (default: the repository's, 10; 0 = fail at "
          "once)")
      .Seconds();
  AddCoreCommands(&program.commands, globals);
  AddTxCommands(&program.commands, globals);
  AddHistoryCommands(&program.commands, globals);
  AddRetentionCommands(&program.commands, globals);
  AddServeCommands(&program.commands, globals);
  AddRemoteCommands(&program.commands, globals);
}

std::unique_ptr<Cli> MakeApp() { return std::make_unique<Cli>(); }

std::optional<int> ParseOnly(Cli& cli, int argc, const char* const* argv, std::ostream& out,
                             std::ostream& err) {
  cli.run = nullptr;
  const cmdline::Command* chosen = nullptr;
  if (auto code = cmdline::Parse(cli.program, argc, argv, out, err, &chosen, kExitUsage))
    return code;
  if (!chosen) {
    err << "txdir: usage error: no command given\n";
    return static_cast<int>(kExitUsage);
  }
  cli.run = chosen->run;
  cli.command = chosen->name;
  return std::nullopt;
}

std::optional<int> ParseOnly(Cli& cli, const std::vector<std::string>& argv, std::ostream& out,
                             std::ostream& err) {
  std::vector<const char*> ptrs;
  ptrs.reserve(argv.size());
  for (const auto& a : argv) ptrs.push_back(a.c_str());
  return ParseOnly(cli, static_cast<int>(ptrs.size()), ptrs.data(), out, err);
}

int RunMain(int argc, char** argv) {
  // Before anything opens a file (output.h).
  if (!GuardStandardFds()) {
    (void)std::fprintf(stderr,
                       "txdir: error: a standard fd is closed and /dev/null cannot "
                       "stand in for it\n");
    return kExitIo;
  }
  InstallStdout();
  auto cli = MakeApp();
  // Help and version go to std::cout too: they end through FinishOutput.
  if (auto code = ParseOnly(*cli, argc, argv, std::cout, std::cerr)) return FinishOutput(*code);
  // Log lines go to stderr: spdlog's default logger writes to stdout, where
  // they would end up inside `cat`'s or `--json`'s output.
  const int v = cli->globals.verbose;
  LogToStderr(v >= 2 ? LogLevel::kTrace : v == 1 ? LogLevel::kDebug : LogLevel::kWarning);
  // Colour and paging are for a terminal only, decided before the pager
  // takes fd 1 (pager.h).
  cli->globals.color = ColorWanted();
  Pager pager;
  const bool long_output = cli->command == "log" || cli->command == "show" ||
                           cli->command == "diff" || cli->command == "blame";
  if (long_output && !cli->globals.no_pager && !cli->globals.quiet)
    (void)pager.Start(PagerCommand());
  // Every command returns here: the one place a failed write to standard
  // output becomes exit 7.
  const int code = FinishOutput(cli->run());
  pager.Finish();
  return code;
}

}  // namespace txdir::cli
