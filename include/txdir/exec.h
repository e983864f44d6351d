// Running any program as a transaction: the program edits a private,
// writable copy of the head generation, and its result is committed as one
// generation if it succeeds. This is how a generator written in any language
// publishes many files atomically (`txdir exec`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "txdir/repository.h"
#include "txdir/transaction.h"

namespace txdir {

struct ExecResult {
  // The program's exit status (0..255), or 128 + signal if a signal ended it.
  int exit_status = 0;
  // Set when the program exited 0 and its result was committed (or found
  // unchanged: commit->published == false).
  std::optional<CommitResult> commit;
};

// Copies the head generation into a fresh stage directory under
// <root>/.txdir/tmp (held with flock so recovery leaves it alone while the
// program runs), runs argv[0] (searched in PATH; a name with a '/' is taken
// relative to the stage) in that directory, with TXDIR_STAGE set to it and
// TXDIR_BASE_GENERATION to the base generation, then:
// exit 0 — commits the stage's complete contents as one transaction with
// `options` (the strategy resolves concurrent publishes); otherwise discards
// it. The stage is removed in every case.
// Errors: InvalidArgument (empty argv; the stage holds something that cannot
// be published), NotFound (program not found), Conflict, Locked, Io.
Result<ExecResult> ExecTransaction(Repository& repo, const std::vector<std::string>& argv,
                                   const CommitOptions& options);

}  // namespace txdir
