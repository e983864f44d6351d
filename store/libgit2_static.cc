// What a statically linked libgit2 needs from us (TXDIR_STATIC_LIBGIT2;
// docs/performance.md, "Process start-up").
//
// GSS-API on demand. Debian's libgit2 authenticates HTTP remotes with
//    Negotiate (Kerberos) through libgssapi_krb5, which with its own
//    dependencies is seven shared libraries that every process would load
//    at start. The eight GSS-API functions and the one OID libgit2 uses are
//    defined here; the first call opens libgssapi_krb5.so.2 and forwards to
//    it. Without that library a call fails with GSS_S_UNAVAILABLE, and
//    libgit2 reports the authentication as failed.
// (The TLS deferral's --wrap functions live in tls_certificates.cc, beside
// the state they use.)
//
// Thread safety: the library is opened once (a function-local static).
#include <dlfcn.h>
#include <gssapi/gssapi.h>

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
