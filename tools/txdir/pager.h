// Long output on a terminal goes through a pager, and diffs are coloured,
// as git does it: only when standard output is a terminal, never for
// scripts. docs/cli.md, "Output".
#pragma once

#include <sys/types.h>

#include <string>

namespace txdir::cli {

// Whether output written to fd 1 may carry colour: fd 1 is a terminal,
// NO_COLOR is unset or empty, and TERM is not "dumb". Decided once, before
// a pager takes fd 1.
bool ColorWanted();

// The pager command: $TXDIR_PAGER, else $PAGER, else `less` when it is on
// PATH; empty (no pager) when the chosen one is empty or "cat".
std::string PagerCommand();

// While alive, fd 1 is a pipe into the pager (`sh -c COMMAND`, with LESS=FRX
// unless LESS is set, so that output shorter than a screen is printed and
// the pager exits at once, colours kept). Start does nothing unless fd 1 is
// a terminal. Finish (or the destructor) closes the pipe, so the pager sees
// the end, and waits for it: the command ends after the user quits it.
class Pager {
 public:
  Pager() = default;
  ~Pager() { Finish(); }
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  // False when the pager could not be started (output stays on fd 1).
  bool Start(const std::string& command);
  void Finish();

 private:
  pid_t pid_ = -1;
};

// `text` (unified diff lines) with git's colours: headers bold, hunk
// headers cyan, added lines green, removed lines red.
std::string ColorizePatch(const std::string& text);

}  // namespace txdir::cli
