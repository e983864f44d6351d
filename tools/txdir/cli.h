// Shared pieces of the txdir command-line tool.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tools/cmdline/cmdline.h"
#include "tools/serve/serve.h"
#include "txdir/error.h"
#include "txdir/repository.h"

namespace txdir::cli {

// Exit codes (docs/cli.md). Scripts rely on them: never renumber.
enum Exit : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitUsage = 2,
  kExitNotFound = 3,
  kExitLocked = 4,
  kExitConflict = 5,
  kExitCorruption = 6,
  kExitIo = 7,
  kExitInvalidInput = 8,
  kExitExists = 9,
  kExitCommandFailed = 10,  // exec: the program failed; nothing published
  kExitTimeout = 11,        // wait: no new generation within --timeout
  kExitNotLive = 12,        // committed (published), but the live link did not move
};

int ExitCodeFor(Code code);

struct Globals {
  int verbose = 0;
  bool quiet = false;
  double timeout_s = -1;  // writer-lock timeout; negative: repository default
  bool no_pager = false;  // --no-pager
  bool color = false;     // fd 1 is a terminal that wants colour (pager.h)
};

// Prints "txdir: error: ..." and returns the exit code for `e`.
int Fail(const Error& e);
// The outcome of a write that passed its commit point: kExitOk, or, when
// the live link could not be moved to the new generation, a warning naming
// the generation and the reason, and kExitNotLive. Never a failure code:
// the generation is published and a caller must not publish it again.
// After it, names what gc.auto removed (unless -q).
int CommittedExit(const GenerationInfo& gi, const Globals& g);
// "3 4 7", or "none".
// "1-5 8 10 11": generation numbers in order, runs of three or more as
// first-last; "none" when empty.
std::string GenerationList(const std::vector<uint64_t>& gens);
// "1234567 bytes (1.2 MiB)".
std::string ByteCount(uint64_t bytes);
// Usage error: message, exit 2.
int UsageError(const std::string& message);

Result<std::unique_ptr<Repository>> OpenRepo(const std::string& dir, const Globals& g);

// A generation argument in ResolveGenerationRef's grammar (7, live,
// live~1, 7^), resolved in `repo`.
Result<uint64_t> ResolveGen(Repository& repo, const std::string& ref);
// The exit for a failed ResolveGen: a usage error (2) for a malformed
// reference, otherwise as Fail.
int GenFail(const Error& e);

// Output helpers honouring -q.
void Out(const Globals& g, const std::string& line);

// A chosen command, ready to run; returns the exit code.
using Runner = std::function<int()>;

// Each command file declares its commands as table entries (cmdline.h):
// options bound to variables its `run` reads. `g` is filled by the parse
// before any `run` is called.
using Commands = std::vector<cmdline::Command>;
// init, publish, status, log, cat, show, rollback, recover (commands_core.cc)
void AddCoreCommands(Commands* out, Globals& g);
// exec, db (commands_tx.cc)
void AddTxCommands(Commands* out, Globals& g);
// diff, checkout, run, wait (commands_history.cc)
void AddHistoryCommands(Commands* out, Globals& g);
// gc, config, fsck (commands_retention.cc)
void AddRetentionCommands(Commands* out, Globals& g);
// serve (commands_serve.cc)
void AddServeCommands(Commands* out, Globals& g);

// `serve`'s parsed command line.
struct ServeArgs {
  std::string dir;
  std::string addr = "127.0.0.1:8080";
  bool allow_public = false;
  serve::ServeLimits limits;
};
// How a parsed `serve` runs. The HTTP server (cpp-httplib, which brings
// OpenSSL and brotli) is linked into a program of its own, txdir-serve, so
// that the other commands do not pay for loading it at every start: by
// default `serve` replaces the txdir process with the txdir-serve next to
// it, passing the same command line; txdir-serve's main sets the runner
// that serves in-process.
using ServeRunner = int (*)(const ServeArgs&, const Globals&);
void SetServeRunner(ServeRunner runner);
// remote, push, pull, clone (commands_remote.cc)
void AddRemoteCommands(Commands* out, Globals& g);

std::string FormatTimeMs(int64_t ms);

// How JSON output treats text that is not valid UTF-8 (a commit message or
// author from another repository, a file name in an old generation): each
// invalid byte becomes U+FFFD, so the output is always valid JSON and never
// an exception. Paths txdir publishes itself are always valid UTF-8.
inline constexpr auto kJsonReplace = nlohmann::json::error_handler_t::replace;
std::string JsonGeneration(const GenerationInfo& g);  // one JSON object

}  // namespace txdir::cli
