// Named crash points and deliberately broken protocol variants, compiled in
// only in a testing build (TXDIR_TESTING). In a release build both macros
// are constants and cost nothing.
//
// TXDIR_FAILPOINT("publish.after_commit") kills the process with SIGKILL
// when the environment selects that point:
//   TXDIR_CRASH_AT=<name>        the first time <name> is reached
//   TXDIR_CRASH_AT=<name>#<k>    the k-th time (1-based)
//   TXDIR_CRASH_AT=#<k>          the k-th failpoint reached, whatever its name
//   TXDIR_FAILPOINT_LOG=<file>   append each reached name to <file> (how a
//                                harness enumerates the points of a run)
//
// TXDIR_BROKEN("no-file-fsync") is true when TXDIR_BROKEN=<list> names the
// variant; the power-loss self-test uses these to prove it catches bugs.
#pragma once

namespace txdir::internal {
void Failpoint(const char* name);
bool Broken(const char* variant);
}  // namespace txdir::internal

#ifdef TXDIR_TESTING
#define TXDIR_FAILPOINT(name) ::txdir::internal::Failpoint(name)
#define TXDIR_BROKEN(variant) ::txdir::internal::Broken(variant)
#else
#define TXDIR_FAILPOINT(name) ((void)0)
#define TXDIR_BROKEN(variant) false
#endif
