// Errors as values. Every fallible call in the public API returns
// Result<T> (tl::expected<T, Error>); no exception crosses the API.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace txdir {

// The few codes a caller acts on. The CLI maps each to a documented exit
// code (see docs/cli.md); keep the two in step.
enum class Code {
  kInvalidArgument = 1,  // bad input from the caller: a path, a name, a value
  kNotFound,             // no such generation, file, or repository
  kLocked,               // the writer lock was not acquired within the timeout
  kConflict,             // a concurrent writer moved the head; nothing published
  kCorruption,           // the store or a materialized generation is damaged
  kIo,                   // the operating system refused an I/O call
  kExists,               // the thing to be created is already there
  kInternal,             // a bug: an invariant of txdir itself did not hold
  kTimeout,              // a wait for an event (not a lock) ran out of time
};

const char* CodeName(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string message;  // what failed, in words a user can act on
  std::string path;     // the file or directory involved, if any
  int sys_errno = 0;    // errno of the failing system call, if any

  // "message: path: strerror(errno)" with the empty parts left out.
  std::string ToString() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(Code code, std::string message, std::string path = {},
                                       int sys_errno = 0) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(path), sys_errno});
}

// An I/O error from errno. ENOENT becomes kNotFound, EEXIST kExists; the rest kIo.
tl::unexpected<Error> ErrnoError(std::string message, std::string path, int err);

inline Status Ok() { return {}; }

}  // namespace txdir

// Propagates the error of a Result-returning expression; yields its value.
// (GNU statement expression: g++ and clang both support it.)
#define TXDIR_TRY(expr)                                                                \
  ({                                                                                   \
    auto _txdir_r = (expr);                                                            \
    if (!_txdir_r) return tl::unexpected<::txdir::Error>(std::move(_txdir_r).error()); \
    std::move(_txdir_r).value();                                                       \
  })

#define TXDIR_CHECK(expr)                                                              \
  do {                                                                                 \
    auto _txdir_s = (expr);                                                            \
    if (!_txdir_s) return tl::unexpected<::txdir::Error>(std::move(_txdir_s).error()); \
  } while (0)
