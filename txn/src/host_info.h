// Facts about this process recorded in generations and lock files.
#pragma once

#include <string>

#include "txdir/repository.h"

namespace txdir::internal {

std::string HostName();
std::string CommandLine();    // /proc/self/cmdline, space-joined
std::string DefaultAuthor();  // $TXDIR_AUTHOR, else the login name, else "txdir"
LockHolder SelfAsHolder();    // this process, now

}  // namespace txdir::internal
