// txdir: the command-line tool. Every command takes the transactional
// directory DIR as its first argument. See docs/cli.md.
#include <spdlog/spdlog.h>

#include <iostream>

#include "tools/txdir/app.h"

int main(int argc, char** argv) {
  using namespace txdir::cli;
  auto cli = MakeApp();
  if (auto code = ParseOnly(*cli, argc, argv, std::cout, std::cerr)) return *code;
  const int v = cli->globals.verbose;
  spdlog::set_level(v >= 2   ? spdlog::level::trace
                    : v == 1 ? spdlog::level::debug
                             : spdlog::level::warn);
  return cli->run();
}
