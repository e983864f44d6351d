// What a statically linked libgit2 needs from us (TXDIR_STATIC_DEPS;
// docs/performance.md, "Process start-up").
//
// GSS-API on demand. Debian's libgit2 authenticates HTTP remotes with
//    Negotiate (Kerberos) through libgssapi_krb5, which with its own
//    dependencies is seven shared libraries that every process would load
//    at start. The eight GSS-API functions and the one OID libgit2 uses are
//    defined here; the first call opens libgssapi_krb5.so.2 and forwards to
//    it. Without that library a call fails with GSS_S_UNAVAILABLE, and
//    libgit2 reports the authentication as failed.
// Randomness on demand. git_libgit2_init() also seeds mbedTLS's random
//    generator, whose entropy context fills HAVEGE's 4 KiB table with
//    timing loops, though only an HTTPS remote needs it. Linked with --wrap
//    (store/CMakeLists.txt), libgit2's calls reach the __wrap_ functions
//    below: the entropy context is initialized and the generator seeded on
//    the generator's first use (a TLS handshake draws its client random
//    before it sends a byte).
// A leak fixed. libgit2 1.5's git_regexp_match returns without freeing its
//    PCRE2 match data when the expression does not match; every remote
//    lookup reaches it, once per config entry, through the url.*.insteadOf
//    scan. Besides the memory, each such process made LeakSanitizer
//    symbolize the leak's stack to match its suppression, about 250 ms per
//    `clone`, `pull` or `push` under ASan. __wrap_git_regexp_match does the
//    same match and always frees.
// (The TLS deferral's --wrap functions live in tls_certificates.cc, beside
// the state they use; libssh2, loaded on demand, in ssh_on_demand.cc.)
//
// Thread safety: the library is opened once (a function-local static); the
// deferred seeds are kept under one mutex.
#include "store/libgit2_static.h"

#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <git2/errors.h>
#include <pcre2.h>

#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

void* GssLibrary() {
  static void* const lib = ::dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_LOCAL);
  return lib;
}

template <typename Fn>
Fn Real(const char* name) {
  void* lib = GssLibrary();
  return lib != nullptr ? reinterpret_cast<Fn>(::dlsym(lib, name)) : nullptr;
}

OM_uint32 Unavailable(OM_uint32* minor) {
  if (minor != nullptr) *minor = 0;
  return GSS_S_UNAVAILABLE;
}

// GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4 (RFC 2744): libgit2
// passes it to gss_import_name, which gets the library's own object.
gss_OID_desc host_based_service = {10,
                                   const_cast<char*>("\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04")};

gss_OID RealOid(gss_OID oid) {
  if (oid != &host_based_service) return oid;
  static gss_OID* const real = Real<gss_OID*>("GSS_C_NT_HOSTBASED_SERVICE");
  return real != nullptr ? *real : oid;
}

}  // namespace

// The names are GSS-API's (RFC 2744), defined for libgit2.
// NOLINTBEGIN(readability-identifier-naming)
extern "C" {

gss_OID GSS_C_NT_HOSTBASED_SERVICE = &host_based_service;

OM_uint32 KRB5_CALLCONV gss_init_sec_context(OM_uint32* minor, gss_cred_id_t cred,
                                             gss_ctx_id_t* ctx, gss_name_t target, gss_OID mech,
                                             OM_uint32 req_flags, OM_uint32 time_req,
                                             gss_channel_bindings_t bindings, gss_buffer_t input,
                                             gss_OID* actual_mech, gss_buffer_t output,
                                             OM_uint32* ret_flags, OM_uint32* time_rec) {
  static const auto real = Real<decltype(&gss_init_sec_context)>("gss_init_sec_context");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, cred, ctx, target, RealOid(mech), req_flags, time_req, bindings, input,
              actual_mech, output, ret_flags, time_rec);
}

OM_uint32 KRB5_CALLCONV gss_delete_sec_context(OM_uint32* minor, gss_ctx_id_t* ctx,
                                               gss_buffer_t output) {
  static const auto real = Real<decltype(&gss_delete_sec_context)>("gss_delete_sec_context");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, ctx, output);
}

OM_uint32 KRB5_CALLCONV gss_display_status(OM_uint32* minor, OM_uint32 status, int type,
                                           gss_OID mech, OM_uint32* message_context,
                                           gss_buffer_t text) {
  static const auto real = Real<decltype(&gss_display_status)>("gss_display_status");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, status, type, RealOid(mech), message_context, text);
}

OM_uint32 KRB5_CALLCONV gss_import_name(OM_uint32* minor, gss_buffer_t name, gss_OID type,
                                        gss_name_t* out) {
  static const auto real = Real<decltype(&gss_import_name)>("gss_import_name");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, name, RealOid(type), out);
}

OM_uint32 KRB5_CALLCONV gss_indicate_mechs(OM_uint32* minor, gss_OID_set* mechs) {
  static const auto real = Real<decltype(&gss_indicate_mechs)>("gss_indicate_mechs");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, mechs);
}

OM_uint32 KRB5_CALLCONV gss_release_buffer(OM_uint32* minor, gss_buffer_t buffer) {
  static const auto real = Real<decltype(&gss_release_buffer)>("gss_release_buffer");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, buffer);
}

OM_uint32 KRB5_CALLCONV gss_release_name(OM_uint32* minor, gss_name_t* name) {
  static const auto real = Real<decltype(&gss_release_name)>("gss_release_name");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, name);
}

OM_uint32 KRB5_CALLCONV gss_release_oid_set(OM_uint32* minor, gss_OID_set* set) {
  static const auto real = Real<decltype(&gss_release_oid_set)>("gss_release_oid_set");
  if (real == nullptr) return Unavailable(minor);
  return real(minor, set);
}

}  // extern "C"
// NOLINTEND(readability-identifier-naming)

// --- randomness on demand ---------------------------------------------------

namespace {

using EntropyFn = int (*)(void*, unsigned char*, size_t);

// A generator whose seeding libgit2 asked for and that has not been used.
struct PendingSeed {
  mbedtls_ctr_drbg_context* rng;
  EntropyFn entropy_fn;
  void* entropy;
  std::string custom;
};

struct Deferred {
  std::mutex mu;
  std::set<mbedtls_entropy_context*> entropy_not_started;
  std::vector<PendingSeed> seeds;
};

Deferred& Pending() {
  static Deferred* const d = new Deferred();  // used until exit handlers run
  return *d;
}

}  // namespace

namespace txdir::store::internal {

int DeferredRandomSeeds() {
  Deferred& d = Pending();
  std::lock_guard<std::mutex> lock(d.mu);
  return static_cast<int>(d.seeds.size());
}

}  // namespace txdir::store::internal

// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" {
void __real_mbedtls_entropy_init(mbedtls_entropy_context* ctx);
void __real_mbedtls_entropy_free(mbedtls_entropy_context* ctx);
int __real_mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context* rng, EntropyFn entropy_fn, void* entropy,
                                 const unsigned char* custom, size_t len);
int __real_mbedtls_ctr_drbg_random(void* rng, unsigned char* out, size_t len);
void __real_mbedtls_ctr_drbg_free(mbedtls_ctr_drbg_context* rng);

void __wrap_mbedtls_entropy_init(mbedtls_entropy_context* ctx) {
  Deferred& d = Pending();
  std::lock_guard<std::mutex> lock(d.mu);
  d.entropy_not_started.insert(ctx);
}

void __wrap_mbedtls_entropy_free(mbedtls_entropy_context* ctx) {
  Deferred& d = Pending();
  {
    std::lock_guard<std::mutex> lock(d.mu);
    if (d.entropy_not_started.erase(ctx) != 0) return;  // never started: nothing to free
  }
  __real_mbedtls_entropy_free(ctx);
}

int __wrap_mbedtls_ctr_drbg_seed(mbedtls_ctr_drbg_context* rng, EntropyFn entropy_fn, void* entropy,
                                 const unsigned char* custom, size_t len) {
  Deferred& d = Pending();
  std::lock_guard<std::mutex> lock(d.mu);
  d.seeds.push_back(PendingSeed{
      rng, entropy_fn, entropy,
      custom != nullptr ? std::string(reinterpret_cast<const char*>(custom), len) : std::string()});
  return 0;
}

int __wrap_mbedtls_ctr_drbg_random(void* rng, unsigned char* out, size_t len) {
  Deferred& d = Pending();
  {
    std::lock_guard<std::mutex> lock(d.mu);
    for (auto it = d.seeds.begin(); it != d.seeds.end(); ++it) {
      if (it->rng != rng) continue;
      auto* entropy = static_cast<mbedtls_entropy_context*>(it->entropy);
      if (d.entropy_not_started.erase(entropy) != 0) __real_mbedtls_entropy_init(entropy);
      const PendingSeed seed = *it;
      d.seeds.erase(it);
      const auto* custom = reinterpret_cast<const unsigned char*>(seed.custom.data());
      if (int rc = __real_mbedtls_ctr_drbg_seed(seed.rng, seed.entropy_fn, seed.entropy,
                                                seed.custom.empty() ? nullptr : custom,
                                                seed.custom.size());
          rc != 0)
        return rc;
      break;
    }
  }
  return __real_mbedtls_ctr_drbg_random(rng, out, len);
}

void __wrap_mbedtls_ctr_drbg_free(mbedtls_ctr_drbg_context* rng) {
  Deferred& d = Pending();
  {
    std::lock_guard<std::mutex> lock(d.mu);
    std::erase_if(d.seeds, [rng](const PendingSeed& s) { return s.rng == rng; });
  }
  __real_mbedtls_ctr_drbg_free(rng);
}

// libgit2 1.5 built with PCRE2 (Debian's): a git_regexp is a pcre2_code*.
// 0 on a match, GIT_ENOTFOUND on none, GIT_EINVALIDSPEC on a failed match.
int __wrap_git_regexp_match(pcre2_code* const* r, const char* string) {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  if (data == nullptr) {
    git_error_set_oom();
    return -1;
  }
  const int rc = pcre2_match(*r, reinterpret_cast<PCRE2_SPTR>(string), std::strlen(string), 0, 0,
                             data, nullptr);
  pcre2_match_data_free(data);
  if (rc >= 0) return 0;
  return rc == PCRE2_ERROR_NOMATCH ? GIT_ENOTFOUND : GIT_EINVALIDSPEC;
}

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
