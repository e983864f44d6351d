// txdir: the command-line tool. Every command takes the transactional
// directory DIR as its first argument. See docs/cli.md.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "tools/txdir/app.h"
#include "tools/txdir/output.h"

int main(int argc, char** argv) {
  using namespace txdir::cli;
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
