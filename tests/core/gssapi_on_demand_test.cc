// With libgit2 linked statically, GSS-API (Kerberos) is loaded on the first
// call, not at process start, and the calls reach the real library
// (store/libgit2_static.cc).
#include <dlfcn.h>
#include <gssapi/gssapi.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

bool GssLoaded() {
  void* lib = ::dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (lib != nullptr) ::dlclose(lib);
  return lib != nullptr;
}

// One test, in this order: loading happens once per process.
TEST(GssApiOnDemand, NotLoadedAtStartThenEveryCallReachesTheLibrary) {
  EXPECT_FALSE(GssLoaded()) << "libgssapi_krb5 was loaded before any GSS-API call";

  OM_uint32 minor = 0;
  gss_OID_set mechs = GSS_C_NO_OID_SET;
  ASSERT_EQ(gss_indicate_mechs(&minor, &mechs), GSS_S_COMPLETE);
  EXPECT_TRUE(GssLoaded());
  ASSERT_NE(mechs, GSS_C_NO_OID_SET);
  EXPECT_GT(mechs->count, 0u);
  EXPECT_EQ(gss_release_oid_set(&minor, &mechs), GSS_S_COMPLETE);

  // The name type libgit2 uses is the library's own once it reaches it: a
  // host-based service name imports.
  std::string service = "HTTP@git.example.org";
  gss_buffer_desc buf{service.size(), service.data()};
  gss_name_t name = GSS_C_NO_NAME;
  ASSERT_EQ(gss_import_name(&minor, &buf, GSS_C_NT_HOSTBASED_SERVICE, &name), GSS_S_COMPLETE);
  EXPECT_EQ(gss_release_name(&minor, &name), GSS_S_COMPLETE);

  // A status code turns into text through the library.
  OM_uint32 context = 0;
  gss_buffer_desc text{0, nullptr};
  ASSERT_EQ(
      gss_display_status(&minor, GSS_S_BAD_NAME, GSS_C_GSS_CODE, GSS_C_NO_OID, &context, &text),
      GSS_S_COMPLETE);
  EXPECT_GT(text.length, 0u);
  EXPECT_EQ(gss_release_buffer(&minor, &text), GSS_S_COMPLETE);
}

}  // namespace
