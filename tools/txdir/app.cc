// The txdir app: shared helpers of the commands, building the CLI11 app, and
// parsing argv without running anything (app.h). See docs/cli.md.
#include "tools/txdir/app.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>

#include "store/gen_meta.h"
#include "tools/txdir/output.h"

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

CLI::Validator Seconds(bool positive) {
  return CLI::Validator(
      [positive](std::string& text) -> std::string {
        double v = 0;
        const char* b = text.data();
        auto [p, ec] = std::from_chars(b, b + text.size(), v);
        bool number = ec == std::errc() && p == b + text.size() && std::isfinite(v);
        if (!number || v < 0 || (positive && v == 0) || v > kMaxSeconds)
          return "'" + text + "' is not a number of seconds " + (positive ? "above 0" : "from 0") +
                 " to " + std::to_string(static_cast<int>(kMaxSeconds)) + " (one week)";
        return "";
      },
      positive ? "SECONDS>0" : "SECONDS");
}

CLI::Validator Count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int64_t v = 0;
        const char* b = text.data();
        auto [p, ec] = std::from_chars(b, b + text.size(), v);
        if (ec != std::errc() || p != b + text.size() || v < 1)
          return "'" + text + "' is not a positive integer (1 to " +
                 std::to_string(std::numeric_limits<int64_t>::max()) + ")";
        return "";
      },
      "N>0");
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

namespace {

// Optimal string alignment distance: typos are mostly one insertion,
// deletion, substitution or swap of neighbours.
size_t EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

bool LooksLikeNumber(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Every spelling of the options of `app` ("-n", "--max-count", ...).
void OptionNames(const CLI::App* app, std::vector<std::string>* out) {
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) out->push_back("--" + l);
    for (const auto& s : o->get_snames()) out->push_back("-" + s);
  }
}

bool IsGlobalWithValue(const std::string& arg) { return arg == "--timeout"; }

// Names the first unknown command or option in argv with the closest valid
// spelling. CLI11's own messages do not suggest anything, and for an
// unknown command name it only says that a command is required. Empty when
// argv has no unknown command or option (the error is about something else).
std::string DiagnoseUnknown(const CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> globals;
  OptionNames(&app, &globals);
  auto known = [](const std::vector<std::string>& names, const std::string& arg) {
    std::string name = arg.substr(0, arg.find('='));
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
    // A cluster of short flags or a short option with its value attached
    // ("-vv", "-n5"): CLI11 reads the first letter as the option.
    return arg.size() > 2 && arg[1] != '-' &&
           std::find(names.begin(), names.end(), arg.substr(0, 2)) != names.end();
  };
  // `command` is empty for an option before any command name.
  auto unknown_option = [](const std::string& arg, const std::vector<std::string>& names,
                           const std::string& command) {
    std::string name = arg.substr(0, arg.find('='));
    std::string msg = "unknown option '" + name + "'";
    if (!command.empty()) msg += " for '" + command + "'";
    std::string best = ClosestMatch(name, names);
    if (!best.empty()) return msg + "; did you mean '" + best + "'?";
    return msg + "; see 'txdir " + (command.empty() ? "" : command + " ") + "--help'";
  };
  const CLI::App* cmd = nullptr;
  std::vector<std::string> local;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;  // what follows is a command's own argv (exec, run)
    bool option = a.size() > 1 && a[0] == '-' && !LooksLikeNumber(a);
    if (!option) {
      if (cmd) continue;  // a positional argument of the command
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands({})) {
        if (sub->get_name() == a) cmd = sub;
        names.push_back(sub->get_name());
      }
      if (cmd) {
        OptionNames(cmd, &local);
        continue;
      }
      std::string best = ClosestMatch(a, names);
      if (!best.empty()) return "unknown command '" + a + "'; did you mean '" + best + "'?";
      return "unknown command '" + a + "'; see 'txdir --help' for the commands";
    }
    if (known(globals, a)) {
      if (IsGlobalWithValue(a)) ++i;
      continue;
    }
    if (cmd && known(local, a)) continue;
    if (!cmd) return unknown_option(a, globals, "");
    std::vector<std::string> all = local;
    all.insert(all.end(), globals.begin(), globals.end());
    return unknown_option(a, all, cmd->get_name());
  }
  return "";
}

}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  // Compare without the leading dashes, so that "-json" finds "--json" and
  // a short option is not suggested for a long word.
  auto core = [](const std::string& s) {
    return s.substr(std::min(s.find_first_not_of('-'), s.size()));
  };
  const std::string w = core(word);
  std::string best;
  size_t best_d = 3;  // at most 2 edits
  for (const auto& c : candidates) {
    size_t d = EditDistance(w, core(c));
    if (d < best_d && d < w.size() && d < core(c).size()) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Cli::Cli()
    : app("txdir: a transactional directory — publish whole generations of files atomically, "
          "with history and rollback") {
  app.require_subcommand(1);
  // Global options work before or after the command name.
  app.fallthrough();
  app.set_version_flag("--version", "txdir 0.1.0");
  app.add_flag("-v,--verbose", globals.verbose, "Log what txdir does (repeat for more)");
  app.add_flag("-q,--quiet", globals.quiet, "Print nothing but errors");
  app.add_option("--timeout", globals.timeout_s,
                 "Seconds to wait for the writer lock (default: the repository's, 10; 0 = "
                 "fail at once)")
      ->check(Seconds(/*positive=*/false));
  AddCoreCommands(app, globals, &run);
  AddTxCommands(app, globals, &run);
  AddHistoryCommands(app, globals, &run);
  AddRetentionCommands(app, globals, &run);
  AddServeCommands(app, globals, &run);
  AddRemoteCommands(app, globals, &run);
}

std::unique_ptr<Cli> MakeApp() { return std::make_unique<Cli>(); }

std::optional<int> ParseOnly(Cli& cli, int argc, const char* const* argv, std::ostream& out,
                             std::ostream& err) {
  // CLI11 runs the callbacks (which only choose `run`) before it checks
  // for help and for extra arguments: forget the choice on every early exit.
  try {
    cli.app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    cli.run = nullptr;
    return cli.app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    cli.run = nullptr;
    return cli.app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    cli.run = nullptr;
    return cli.app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    std::string unknown = DiagnoseUnknown(cli.app, args);
    if (!unknown.empty())
      err << "txdir: usage error: " << unknown << "\n";
    else
      cli.app.exit(e, out, err);
    cli.run = nullptr;
    return static_cast<int>(kExitUsage);
  }
  if (!cli.run) {
    err << "txdir: usage error: no command given\n";
    return static_cast<int>(kExitUsage);
  }
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
  // Log lines go to stderr: spdlog's default logger writes to stdout, where
  // they would end up inside `cat`'s or `--json`'s output.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
  auto cli = MakeApp();
  // Help and version go to std::cout too: they end through FinishOutput.
  if (auto code = ParseOnly(*cli, argc, argv, std::cout, std::cerr)) return FinishOutput(*code);
  const int v = cli->globals.verbose;
  spdlog::set_level(v >= 2   ? spdlog::level::trace
                    : v == 1 ? spdlog::level::debug
                             : spdlog::level::warn);
  // Every command returns here: the one place a failed write to standard
  // output becomes exit 7.
  return FinishOutput(cli->run());
}

}  // namespace txdir::cli
