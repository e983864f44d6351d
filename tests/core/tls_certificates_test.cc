// libgit2's CA bundle is parsed on first network use, not at start-up
// (store/tls_certificates.h).
#include "store/tls_certificates.h"

#include <dlfcn.h>
#include <git2.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "store/git_store.h"

namespace txdir::store {
namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// One test, in this order, since the deferral is per process.
TEST(TlsCertificates, TheBundleIsDeferredAtInitLoadedOnDemandAndExplicitLoadsPassThrough) {
  EnsureLibgit2();
  const std::optional<std::string> deferred = internal::DeferredTlsFile();
  if (!deferred) {
    // Only a libgit2 without mbedTLS (built on OpenSSL) loads nothing here.
    ASSERT_EQ(::dlsym(RTLD_DEFAULT, "mbedtls_x509_crt_init"), nullptr)
        << "libgit2 uses mbedTLS but its CA load at init was not deferred";
    GTEST_SKIP() << "this libgit2 does not use mbedTLS";
  }
  // What init asked for is the system bundle, and it was not parsed then.
  EXPECT_TRUE(IsRegularFile(*deferred)) << *deferred;

  // The deferred load goes to mbedTLS's real parser and succeeds...
  ASSERT_TRUE(LoadTlsCertificates()) << "the deferred bundle did not parse";
  // ...once: a second call does nothing.
  EXPECT_TRUE(LoadTlsCertificates());

  // After init, a program's own load is not deferred: mbedTLS itself
  // reports the missing file.
  EXPECT_LT(git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, "/nonexistent/ca.pem", nullptr), 0);
  const git_error* e = git_error_last();
  ASSERT_NE(e, nullptr);
  EXPECT_NE(std::string(e->message).find("CA certificates"), std::string::npos) << e->message;
  // And a real one loads.
  EXPECT_EQ(git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, deferred->c_str(), nullptr), 0);
}

}  // namespace
}  // namespace txdir::store
