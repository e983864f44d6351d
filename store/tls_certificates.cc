#include "store/tls_certificates.h"

#include <git2.h>

#include <mutex>

#include "store/git_store.h"

namespace txdir::store {

namespace {

struct Deferral {
  std::mutex mu;
  bool deferring = false;  // inside git_libgit2_init()
  bool done = false;       // loaded, or superseded by a program's own load
  std::optional<std::string> file, dir;
};

Deferral& State() {
  static Deferral d;
  return d;
}

}  // namespace

namespace internal {

bool DeferTlsLoad(bool directory, const char* path) {
  Deferral& d = State();
  std::lock_guard<std::mutex> lock(d.mu);
  if (!d.deferring) {
    d.done = true;
    return false;
  }
  (directory ? d.dir : d.file) = path != nullptr ? std::optional<std::string>(path) : std::nullopt;
  return true;
}

void BeginTlsDeferral() {
  std::lock_guard<std::mutex> lock(State().mu);
  State().deferring = true;
}

void EndTlsDeferral() {
  std::lock_guard<std::mutex> lock(State().mu);
  State().deferring = false;
}

std::optional<std::string> DeferredTlsFile() {
  std::lock_guard<std::mutex> lock(State().mu);
  return State().file;
}

}  // namespace internal

Status LoadTlsCertificates() {
  EnsureLibgit2();
  Deferral& d = State();
  std::optional<std::string> file, dir;
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.done) return Ok();
    d.done = true;
    file = d.file;
    dir = d.dir;
  }
  if (!file && !dir) return Ok();  // nothing was deferred (an OpenSSL libgit2)
  if (int rc = git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file ? file->c_str() : nullptr,
                                dir ? dir->c_str() : nullptr);
      rc < 0)
    return GitError(rc, "cannot load the TLS CA certificates", Code::kIo);
  return Ok();
}

}  // namespace txdir::store

#ifdef TXDIR_STATIC_DEPS
// A static libgit2 is linked with --wrap for these two names (see the
// header): libgit2's calls reach __wrap_*, and __real_* is mbedTLS's own.
// The chain argument is an mbedtls_x509_crt*, untouched when deferred.
// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" int __real_mbedtls_x509_crt_parse_file(void* chain, const char* path);
extern "C" int __real_mbedtls_x509_crt_parse_path(void* chain, const char* path);

extern "C" int __wrap_mbedtls_x509_crt_parse_file(void* chain, const char* path) {
  if (txdir::store::internal::DeferTlsLoad(/*directory=*/false, path)) return 0;
  return __real_mbedtls_x509_crt_parse_file(chain, path);
}

extern "C" int __wrap_mbedtls_x509_crt_parse_path(void* chain, const char* path) {
  if (txdir::store::internal::DeferTlsLoad(/*directory=*/true, path)) return 0;
  return __real_mbedtls_x509_crt_parse_path(chain, path);
}
// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#else
#include <dlfcn.h>

// The interposed mbedTLS entry points of a dynamically linked libgit2 (see
// the header; a static one reaches the __wrap_ functions above instead).
// The chain argument is an mbedtls_x509_crt*, left untouched when deferred:
// libgit2 initialized it empty, so until the load nothing is trusted.
namespace txdir::store {
namespace {
// mbedTLS's own definition of `name`, the next one after ours.
template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

constexpr int kFileIoError = -0x2900;  // MBEDTLS_ERR_X509_FILE_IO_ERROR
}  // namespace
}  // namespace txdir::store

extern "C" int mbedtls_x509_crt_parse_file(void* chain, const char* path) {
  if (txdir::store::internal::DeferTlsLoad(/*directory=*/false, path)) return 0;
  static const auto real =
      txdir::store::Real<int (*)(void*, const char*)>("mbedtls_x509_crt_parse_file");
  return real != nullptr ? real(chain, path) : txdir::store::kFileIoError;
}

extern "C" int mbedtls_x509_crt_parse_path(void* chain, const char* path) {
  if (txdir::store::internal::DeferTlsLoad(/*directory=*/true, path)) return 0;
  static const auto real =
      txdir::store::Real<int (*)(void*, const char*)>("mbedtls_x509_crt_parse_path");
  return real != nullptr ? real(chain, path) : txdir::store::kFileIoError;
}
#endif
