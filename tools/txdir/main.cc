// txdir: the command-line tool. Every command takes the transactional
// directory DIR as its first argument. See docs/cli.md.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "store/gen_meta.h"
#include "tools/txdir/cli.h"

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

int Fail(const Error& e) {
  std::fprintf(stderr, "txdir: error: %s (%s)\n", e.ToString().c_str(), CodeName(e.code));
  return ExitCodeFor(e.code);
}

int UsageError(const std::string& message) {
  std::fprintf(stderr, "txdir: usage error: %s\n", message.c_str());
  return kExitUsage;
}

Result<std::unique_ptr<Repository>> OpenRepo(const std::string& dir, const Globals& g) {
  OpenOptions o;
  if (g.timeout_s >= 0)
    o.lock_timeout = std::chrono::milliseconds(static_cast<int64_t>(g.timeout_s * 1000));
  return Repository::Open(dir, o);
}

Result<uint64_t> ParseGeneration(const std::string& s) {
  uint64_t n = 0;
  bool ok = !s.empty() && s.size() <= 19;
  for (char c : s) {
    if (c < '0' || c > '9') ok = false;
    if (ok) n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || n == 0)
    return MakeError(Code::kInvalidArgument,
                     "'" + s + "' is not a generation number (a positive integer)");
  return n;
}

void Out(const Globals& g, const std::string& line) {
  if (!g.quiet) std::cout << line << "\n";
}

std::string FormatTimeMs(int64_t ms) { return store::FormatTime(ms); }

}  // namespace txdir::cli

int main(int argc, char** argv) {
  using namespace txdir::cli;
  CLI::App app{
      "txdir: a transactional directory — publish whole generations of files "
      "atomically, with history and rollback"};
  app.require_subcommand(1);
  // Global options work before or after the command name.
  app.fallthrough();
  app.set_version_flag("--version", "txdir 0.1.0");
  Globals g;
  app.add_flag("-v,--verbose", g.verbose, "Log what txdir does (repeat for more)");
  app.add_flag("-q,--quiet", g.quiet, "Print nothing but errors");
  app.add_option("--timeout", g.timeout_s,
                 "Seconds to wait for the writer lock (default: the repository's, 10; 0 = "
                 "fail at once)")
      ->check(CLI::NonNegativeNumber);
  Runner run;
  AddCoreCommands(app, g, &run);
  AddTxCommands(app, g, &run);
  AddHistoryCommands(app, g, &run);
  AddRetentionCommands(app, g, &run);
  AddServeCommands(app, g, &run);
  AddRemoteCommands(app, g, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  spdlog::set_level(g.verbose >= 2   ? spdlog::level::trace
                    : g.verbose == 1 ? spdlog::level::debug
                                     : spdlog::level::warn);
  if (!run) return UsageError("no command given");
  return run();
}
