// Loading libgit2's TLS trust store on first use instead of at start-up.
//
// Debian's libgit2 (TLS through mbedTLS) parses the system's whole CA bundle
// (/etc/ssl/certs/ca-certificates.crt, ~140 certificates) inside
// git_libgit2_init(): about 6 ms of CPU in every txdir process, though only
// a command that talks to an HTTPS remote ever uses it. EnsureLibgit2()
// therefore initializes libgit2 with the bundle's parsing deferred: the
// file libgit2 asks mbedTLS to parse during init is remembered, not parsed,
// and LoadTlsCertificates() parses it, through libgit2's own option
// (GIT_OPT_SET_SSL_CERT_LOCATIONS), before the first network operation.
//
// How: libgit2's calls to mbedtls_x509_crt_parse_file/_path reach our
// definitions, which outside init forward every call to mbedTLS's own
// functions unchanged. With a shared libgit2 this module defines those
// names, and the executable's definitions come first in the dynamic
// linker's lookup order; with a static one (TXDIR_STATIC_DEPS) the
// linker's --wrap sends the calls to this module's __wrap_ functions. Only the calls made while
// EnsureLibgit2() runs git_libgit2_init() are deferred. With a libgit2 built
// on OpenSSL nothing is deferred and LoadTlsCertificates() does nothing.
//
// Thread safety: all functions may be called from any thread.
#pragma once

#include <optional>
#include <string>

#include "txdir/error.h"

namespace txdir::store {

// Parses the CA certificates libgit2's init deferred, once per process; a
// later call, or one after a program set its own locations through
// git_libgit2_opts, does nothing. Call before any operation that may open a
// TLS connection (fetch, push, ls-remote).
// Errors: kIo when the bundle cannot be read or parsed (libgit2's message).
Status LoadTlsCertificates();

namespace internal {
// Called by the mbedTLS entry points libgit2 reaches (a CA file, or with
// `directory` a CA folder): inside the deferral, remembers `path` and
// returns true (the caller returns success without parsing); outside it,
// marks the program's own load and returns false (the caller parses).
bool DeferTlsLoad(bool directory, const char* path);
// Brackets git_libgit2_init() in EnsureLibgit2(): certificate loads between
// the two calls are deferred.
void BeginTlsDeferral();
void EndTlsDeferral();
// The CA file libgit2's init asked for and was deferred, if any (tests).
std::optional<std::string> DeferredTlsFile();
}  // namespace internal

}  // namespace txdir::store
