// Facts about this process recorded in generations and lock files.
#pragma once

#include <string>

#include "txdir/repository.h"

namespace txdir::internal {

std::string HostName();
std::string CommandLine();  // /proc/self/cmdline, space-joined
// The same from another file; "unknown" when it cannot be read (never throws).
std::string CommandLineFrom(const char* path);
std::string DefaultAuthor();  // $TXDIR_AUTHOR, else the login name, else "txdir"
LockHolder SelfAsHolder();    // this process, now

}  // namespace txdir::internal
