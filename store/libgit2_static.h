// What the statically linked libgit2's start defers (libgit2_static.cc),
// for the tests that check it. Only in a TXDIR_STATIC_DEPS build.
#pragma once

namespace txdir::store::internal {

// Random generators libgit2 asked to seed that have not drawn a byte yet:
// 1 after git_libgit2_init(), 0 after the first TLS handshake.
int DeferredRandomSeeds();

// Whether libssh2 (and through it OpenSSL's engines) has been initialized:
// false until libgit2 opens its first SSH session.
bool Libssh2Started();

}  // namespace txdir::store::internal
