// What the statically linked libgit2's start defers (libgit2_static.cc,
// ssh_on_demand.cc), for the tests that check it and for the errors that
// name a library that could not be loaded. Only in a TXDIR_STATIC_DEPS build.
#pragma once

#include <string>

namespace txdir::store::internal {

// Random generators libgit2 asked to seed that have not drawn a byte yet:
// 1 after git_libgit2_init(), 0 after the first TLS handshake.
int DeferredRandomSeeds();

// Whether libssh2 (and through it OpenSSL's engines) has been initialized:
// false until libgit2 opens its first SSH session.
bool Libssh2Started();

// Why libssh2.so.1 could not be loaded (dlerror's words); empty when it
// was, or no SSH session was asked for yet.
std::string Libssh2LoadError();

}  // namespace txdir::store::internal
