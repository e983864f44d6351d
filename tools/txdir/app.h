// The txdir command-line app, declared and parsed apart from running it, so
// that tests and the argument fuzzer can parse any argv without a command
// ever touching a repository. main.cc parses, then runs.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/txdir/cli.h"

namespace txdir::cli {

// The app with every command declared (cmdline.h). Parsing fills `globals`
// and the commands' bound variables and, for a valid command line, sets
// `run` to the chosen command; nothing else happens.
struct Cli {
  cmdline::Program program;
  Globals globals;
  Runner run;
  std::string command;  // the chosen command's name
  Cli();
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;
};

std::unique_ptr<Cli> MakeApp();

// Parses argv (argv[0] is the program name). Never runs a command. Returns
// std::nullopt when `cli.run` holds the command to run; otherwise the exit
// code to end with (0 after --help/--version, kExitUsage after a usage
// error), having printed help, version or the error to `out`/`err`.
std::optional<int> ParseOnly(Cli& cli, int argc, const char* const* argv, std::ostream& out,
                             std::ostream& err);
std::optional<int> ParseOnly(Cli& cli, const std::vector<std::string>& argv, std::ostream& out,
                             std::ostream& err);

// The whole process of txdir and txdir-serve: guards the standard fds,
// routes log lines to stderr, parses argv, runs the chosen command and turns
// a failed write to standard output into exit 7 (output.h). Returns the
// process's exit code.
int RunMain(int argc, char** argv);

using cmdline::ClosestMatch;

}  // namespace txdir::cli
