// Standard output of the txdir tool, with its failures made visible.
//
// Every command writes its output to std::cout. main() installs a buffer
// behind std::cout that writes to fd 1 and remembers the first failed write,
// and every command returns through FinishOutput, which flushes and turns a
// failed write into `txdir: cannot write to standard output: REASON` and
// exit 7 (docs/cli.md, "Output").
#pragma once

namespace txdir::cli {

// Gives each closed standard fd (0, 1, 2) a stand-in, before anything else
// opens a file, so that no file txdir opens (a lock, an object, a
// generation's file) can become fd 1 or 2 and receive output or error
// messages. The stand-in is /dev/null opened in the direction the fd is not
// used (fd 0 write-only, fds 1 and 2 read-only), so that reading or writing
// it still fails with EBADF, as on the closed fd. False when a stand-in
// cannot be opened; nothing is safe to run then.
bool GuardStandardFds();

// Points std::cout at fd 1 through a buffer that records the first write
// error; later output is discarded. On a terminal every output operation is
// flushed at once, as line-buffered stdio would. Call once, before any
// output.
void InstallStdout();

// Flushes std::cout. When a write to standard output failed, prints
// `txdir: cannot write to standard output: REASON` to stderr and returns
// kExitIo if `code` is kExitOk; a failed command keeps its own code (it
// reported its error already). Otherwise returns `code`.
//
// A write that fails with EPIPE (the reader went away while SIGPIPE was
// ignored or blocked) never gets here: the process ends by SIGPIPE then, as
// it does with the default disposition.
int FinishOutput(int code);

}  // namespace txdir::cli
