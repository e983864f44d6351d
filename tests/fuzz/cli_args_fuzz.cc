// libFuzzer target for the CLI's argument handling (tools/txdir/app.h). The
// input is split on NUL into arguments after "txdir". Parsing any argv must
// never crash, throw or run a command: ParseOnly either chooses a command
// (run is set) or ends with 0 (help, version) or the usage exit code and a
// message, and nothing is ever written (the working directory, an empty
// folder of its own, stays empty). Built by run_fuzz.sh (clang only).
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tools/txdir/app.h"

namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cli_args_fuzz: %s\n", what);
    std::abort();
  }
}

bool CwdIsEmpty() {
  DIR* d = ::opendir(".");
  if (!d) return false;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  return empty;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Relative paths in the fuzzed argv resolve here; a command that ran
  // would leave something behind.
  char tmpl[] = "/tmp/txdir-cli-fuzz-XXXXXX";
  Require(::mkdtemp(tmpl) != nullptr, "mkdtemp");
  Require(::chdir(tmpl) == 0, "chdir");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> argv = {"txdir"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      argv.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (size > 0) argv.push_back(cur);
  auto cli = txdir::cli::MakeApp();
  std::ostringstream out, err;
  std::optional<int> code;
  try {
    code = txdir::cli::ParseOnly(*cli, argv, out, err);
  } catch (...) {
    Require(false, "ParseOnly threw");
  }
  if (code) {
    Require(*code == txdir::cli::kExitOk || *code == txdir::cli::kExitUsage,
            "unexpected exit code");
    Require(!cli->run, "a command was chosen although parsing ended");
    if (*code == txdir::cli::kExitUsage)
      Require(!err.str().empty(), "usage error without a message");
  } else {
    Require(static_cast<bool>(cli->run), "parsed, but no command chosen");
  }
  Require(CwdIsEmpty(), "parsing wrote to the working directory");
  return 0;
}
