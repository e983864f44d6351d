// libssh2 on demand (TXDIR_STATIC_DEPS; docs/performance.md, "Process
// start-up").
//
// Debian's libssh2 is built on OpenSSL's libcrypto, so linking it into
// `txdir` links libcrypto too: 340 KB of pointer tables that the loader
// relocates, page by page, at every start of every command, though only an
// ssh:// remote uses them. So libssh2 is not linked at all. The functions
// libgit2 calls are defined here; the first session libgit2 opens loads
// libssh2.so.1 (which brings libcrypto.so.3) and every call forwards to it.
// Without that library, opening a session fails and libgit2 reports "failed
// to initialize SSH session"; nothing else is reached without a session.
//
// libssh2_init, which git_libgit2_init() calls at start, only records its
// flags: the real one runs just before the first session (it makes OpenSSL
// load its built-in engines, which costs even when loaded on demand).
//
// The definitions must keep the exact prototypes of libssh2.h (included,
// so the compiler checks them). libssh2.so.1 is opened RTLD_LOCAL, and the
// executable does not export these names, so the library's calls to its own
// functions stay inside it.
//
// Thread safety: the library is opened once (a function-local static), each
// function looked up once, libssh2_init run under a once flag.
#include <dlfcn.h>
#include <libssh2.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "store/libgit2_static.h"

namespace {

// What a call returns when libssh2.so.1 could not be loaded.
constexpr int kUnavailable = LIBSSH2_ERROR_ALLOC;

// Why libssh2.so.1 could not be loaded (dlerror), for the error a remote
// operation reports; empty until a load failed.
std::mutex load_error_mu;
std::string& LoadError() {
  static auto* const error = new std::string;  // read until exit handlers run
  return *error;
}

void* OpenLibrary() {
  const char* name = "libssh2.so.1";
#ifdef TXDIR_TESTING
  // Tests name a library that is not there, to see what a machine without
  // libssh2 reports.
  if (const char* n = std::getenv("TXDIR_TEST_LIBSSH2"); n != nullptr && *n != '\0') name = n;
#endif
  void* lib = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    std::lock_guard<std::mutex> guard(load_error_mu);
    LoadError() = why != nullptr ? why : std::string(name) + ": cannot be loaded";
  }
  return lib;
}

void* SshLibrary() {
  static void* const lib = OpenLibrary();
  return lib;
}

template <typename Fn>
Fn Ssh(const char* name) {
  void* lib = SshLibrary();
  return lib != nullptr ? reinterpret_cast<Fn>(::dlsym(lib, name)) : nullptr;
}

std::once_flag ssh_once;
std::atomic<bool> ssh_started{false};
std::atomic<int> ssh_flags{0};

}  // namespace

namespace txdir::store::internal {
bool Libssh2Started() { return ssh_started.load(); }
std::string Libssh2LoadError() {
  std::lock_guard<std::mutex> guard(load_error_mu);
  return LoadError();
}
}  // namespace txdir::store::internal

// The names and prototypes are libssh2's (libssh2.h), defined for libgit2.
// NOLINTBEGIN(readability-identifier-naming,readability-inconsistent-declaration-parameter-name)
extern "C" {

int libssh2_init(int flags) {
  ssh_flags = flags;  // libgit2 calls it once, from git_libgit2_init
  return 0;
}

void libssh2_exit(void) {
  if (!ssh_started.load()) return;
  static const auto real = Ssh<decltype(&libssh2_exit)>("libssh2_exit");
  if (real != nullptr) real();
}

LIBSSH2_SESSION* libssh2_session_init_ex(LIBSSH2_ALLOC_FUNC((*my_alloc)),
                                         LIBSSH2_FREE_FUNC((*my_free)),
                                         LIBSSH2_REALLOC_FUNC((*my_realloc)), void* abstract) {
  std::call_once(ssh_once, [] {
    static const auto init = Ssh<decltype(&libssh2_init)>("libssh2_init");
    if (init != nullptr && init(ssh_flags.load()) == 0) ssh_started = true;
  });
  if (!ssh_started) return nullptr;  // libgit2 reports "failed to initialize SSH session"
  static const auto real = Ssh<decltype(&libssh2_session_init_ex)>("libssh2_session_init_ex");
  return real != nullptr ? real(my_alloc, my_free, my_realloc, abstract) : nullptr;
}

int libssh2_agent_connect(LIBSSH2_AGENT* agent) {
  static const auto real = Ssh<decltype(&libssh2_agent_connect)>("libssh2_agent_connect");
  return real != nullptr ? real(agent) : kUnavailable;
}

int libssh2_agent_disconnect(LIBSSH2_AGENT* agent) {
  static const auto real = Ssh<decltype(&libssh2_agent_disconnect)>("libssh2_agent_disconnect");
  return real != nullptr ? real(agent) : kUnavailable;
}

void libssh2_agent_free(LIBSSH2_AGENT* agent) {
  static const auto real = Ssh<decltype(&libssh2_agent_free)>("libssh2_agent_free");
  if (real != nullptr) real(agent);
}

int libssh2_agent_get_identity(LIBSSH2_AGENT* agent, struct libssh2_agent_publickey** store,
                               struct libssh2_agent_publickey* prev) {
  static const auto real = Ssh<decltype(&libssh2_agent_get_identity)>("libssh2_agent_get_identity");
  return real != nullptr ? real(agent, store, prev) : kUnavailable;
}

LIBSSH2_AGENT* libssh2_agent_init(LIBSSH2_SESSION* session) {
  static const auto real = Ssh<decltype(&libssh2_agent_init)>("libssh2_agent_init");
  return real != nullptr ? real(session) : nullptr;
}

int libssh2_agent_list_identities(LIBSSH2_AGENT* agent) {
  static const auto real =
      Ssh<decltype(&libssh2_agent_list_identities)>("libssh2_agent_list_identities");
  return real != nullptr ? real(agent) : kUnavailable;
}

int libssh2_agent_userauth(LIBSSH2_AGENT* agent, const char* username,
                           struct libssh2_agent_publickey* identity) {
  static const auto real = Ssh<decltype(&libssh2_agent_userauth)>("libssh2_agent_userauth");
  return real != nullptr ? real(agent, username, identity) : kUnavailable;
}

int libssh2_channel_close(LIBSSH2_CHANNEL* channel) {
  static const auto real = Ssh<decltype(&libssh2_channel_close)>("libssh2_channel_close");
  return real != nullptr ? real(channel) : kUnavailable;
}

int libssh2_channel_free(LIBSSH2_CHANNEL* channel) {
  static const auto real = Ssh<decltype(&libssh2_channel_free)>("libssh2_channel_free");
  return real != nullptr ? real(channel) : kUnavailable;
}

LIBSSH2_CHANNEL* libssh2_channel_open_ex(LIBSSH2_SESSION* session, const char* channel_type,
                                         unsigned int channel_type_len, unsigned int window_size,
                                         unsigned int packet_size, const char* message,
                                         unsigned int message_len) {
  static const auto real = Ssh<decltype(&libssh2_channel_open_ex)>("libssh2_channel_open_ex");
  return real != nullptr ? real(session, channel_type, channel_type_len, window_size, packet_size,
                                message, message_len)
                         : nullptr;
}

int libssh2_channel_process_startup(LIBSSH2_CHANNEL* channel, const char* request,
                                    unsigned int request_len, const char* message,
                                    unsigned int message_len) {
  static const auto real =
      Ssh<decltype(&libssh2_channel_process_startup)>("libssh2_channel_process_startup");
  return real != nullptr ? real(channel, request, request_len, message, message_len) : kUnavailable;
}

ssize_t libssh2_channel_read_ex(LIBSSH2_CHANNEL* channel, int stream_id, char* buf, size_t buflen) {
  static const auto real = Ssh<decltype(&libssh2_channel_read_ex)>("libssh2_channel_read_ex");
  return real != nullptr ? real(channel, stream_id, buf, buflen) : kUnavailable;
}

void libssh2_channel_set_blocking(LIBSSH2_CHANNEL* channel, int blocking) {
  static const auto real =
      Ssh<decltype(&libssh2_channel_set_blocking)>("libssh2_channel_set_blocking");
  if (real != nullptr) real(channel, blocking);
}

ssize_t libssh2_channel_write_ex(LIBSSH2_CHANNEL* channel, int stream_id, const char* buf,
                                 size_t buflen) {
  static const auto real = Ssh<decltype(&libssh2_channel_write_ex)>("libssh2_channel_write_ex");
  return real != nullptr ? real(channel, stream_id, buf, buflen) : kUnavailable;
}

const char* libssh2_hostkey_hash(LIBSSH2_SESSION* session, int hash_type) {
  static const auto real = Ssh<decltype(&libssh2_hostkey_hash)>("libssh2_hostkey_hash");
  return real != nullptr ? real(session, hash_type) : nullptr;
}

int libssh2_knownhost_checkp(LIBSSH2_KNOWNHOSTS* hosts, const char* host, int port, const char* key,
                             size_t keylen, int typemask, struct libssh2_knownhost** knownhost) {
  static const auto real = Ssh<decltype(&libssh2_knownhost_checkp)>("libssh2_knownhost_checkp");
  return real != nullptr ? real(hosts, host, port, key, keylen, typemask, knownhost) : kUnavailable;
}

void libssh2_knownhost_free(LIBSSH2_KNOWNHOSTS* hosts) {
  static const auto real = Ssh<decltype(&libssh2_knownhost_free)>("libssh2_knownhost_free");
  if (real != nullptr) real(hosts);
}

LIBSSH2_KNOWNHOSTS* libssh2_knownhost_init(LIBSSH2_SESSION* session) {
  static const auto real = Ssh<decltype(&libssh2_knownhost_init)>("libssh2_knownhost_init");
  return real != nullptr ? real(session) : nullptr;
}

int libssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS* hosts, const char* filename, int type) {
  static const auto real = Ssh<decltype(&libssh2_knownhost_readfile)>("libssh2_knownhost_readfile");
  return real != nullptr ? real(hosts, filename, type) : kUnavailable;
}

void** libssh2_session_abstract(LIBSSH2_SESSION* session) {
  static const auto real = Ssh<decltype(&libssh2_session_abstract)>("libssh2_session_abstract");
  return real != nullptr ? real(session) : nullptr;
}

int libssh2_session_disconnect_ex(LIBSSH2_SESSION* session, int reason, const char* description,
                                  const char* lang) {
  static const auto real =
      Ssh<decltype(&libssh2_session_disconnect_ex)>("libssh2_session_disconnect_ex");
  return real != nullptr ? real(session, reason, description, lang) : kUnavailable;
}

int libssh2_session_free(LIBSSH2_SESSION* session) {
  static const auto real = Ssh<decltype(&libssh2_session_free)>("libssh2_session_free");
  return real != nullptr ? real(session) : kUnavailable;
}

int libssh2_session_handshake(LIBSSH2_SESSION* session, libssh2_socket_t sock) {
  static const auto real = Ssh<decltype(&libssh2_session_handshake)>("libssh2_session_handshake");
  return real != nullptr ? real(session, sock) : kUnavailable;
}

const char* libssh2_session_hostkey(LIBSSH2_SESSION* session, size_t* len, int* type) {
  static const auto real = Ssh<decltype(&libssh2_session_hostkey)>("libssh2_session_hostkey");
  return real != nullptr ? real(session, len, type) : nullptr;
}

int libssh2_session_last_error(LIBSSH2_SESSION* session, char** errmsg, int* errmsg_len,
                               int want_buf) {
  static const auto real = Ssh<decltype(&libssh2_session_last_error)>("libssh2_session_last_error");
  return real != nullptr ? real(session, errmsg, errmsg_len, want_buf) : kUnavailable;
}

int libssh2_session_method_pref(LIBSSH2_SESSION* session, int method_type, const char* prefs) {
  static const auto real =
      Ssh<decltype(&libssh2_session_method_pref)>("libssh2_session_method_pref");
  return real != nullptr ? real(session, method_type, prefs) : kUnavailable;
}

void libssh2_session_set_blocking(LIBSSH2_SESSION* session, int blocking) {
  static const auto real =
      Ssh<decltype(&libssh2_session_set_blocking)>("libssh2_session_set_blocking");
  if (real != nullptr) real(session, blocking);
}

int libssh2_userauth_authenticated(LIBSSH2_SESSION* session) {
  static const auto real =
      Ssh<decltype(&libssh2_userauth_authenticated)>("libssh2_userauth_authenticated");
  return real != nullptr ? real(session) : kUnavailable;
}

int libssh2_userauth_keyboard_interactive_ex(
    LIBSSH2_SESSION* session, const char* username, unsigned int username_len,
    LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC((*response_callback))) {
  static const auto real = Ssh<decltype(&libssh2_userauth_keyboard_interactive_ex)>(
      "libssh2_userauth_keyboard_interactive_ex");
  return real != nullptr ? real(session, username, username_len, response_callback) : kUnavailable;
}

char* libssh2_userauth_list(LIBSSH2_SESSION* session, const char* username,
                            unsigned int username_len) {
  static const auto real = Ssh<decltype(&libssh2_userauth_list)>("libssh2_userauth_list");
  return real != nullptr ? real(session, username, username_len) : nullptr;
}

int libssh2_userauth_password_ex(LIBSSH2_SESSION* session, const char* username,
                                 unsigned int username_len, const char* password,
                                 unsigned int password_len,
                                 LIBSSH2_PASSWD_CHANGEREQ_FUNC((*passwd_change_cb))) {
  static const auto real =
      Ssh<decltype(&libssh2_userauth_password_ex)>("libssh2_userauth_password_ex");
  return real != nullptr
             ? real(session, username, username_len, password, password_len, passwd_change_cb)
             : kUnavailable;
}

int libssh2_userauth_publickey(LIBSSH2_SESSION* session, const char* username,
                               const unsigned char* pubkeydata, size_t pubkeydata_len,
                               LIBSSH2_USERAUTH_PUBLICKEY_SIGN_FUNC((*sign_callback)),
                               void** abstract) {
  static const auto real = Ssh<decltype(&libssh2_userauth_publickey)>("libssh2_userauth_publickey");
  return real != nullptr
             ? real(session, username, pubkeydata, pubkeydata_len, sign_callback, abstract)
             : kUnavailable;
}

int libssh2_userauth_publickey_fromfile_ex(LIBSSH2_SESSION* session, const char* username,
                                           unsigned int username_len, const char* publickey,
                                           const char* privatekey, const char* passphrase) {
  static const auto real = Ssh<decltype(&libssh2_userauth_publickey_fromfile_ex)>(
      "libssh2_userauth_publickey_fromfile_ex");
  return real != nullptr ? real(session, username, username_len, publickey, privatekey, passphrase)
                         : kUnavailable;
}

int libssh2_userauth_publickey_frommemory(LIBSSH2_SESSION* session, const char* username,
                                          size_t username_len, const char* publickeyfiledata,
                                          size_t publickeyfiledata_len,
                                          const char* privatekeyfiledata,
                                          size_t privatekeyfiledata_len, const char* passphrase) {
  static const auto real = Ssh<decltype(&libssh2_userauth_publickey_frommemory)>(
      "libssh2_userauth_publickey_frommemory");
  return real != nullptr
             ? real(session, username, username_len, publickeyfiledata, publickeyfiledata_len,
                    privatekeyfiledata, privatekeyfiledata_len, passphrase)
             : kUnavailable;
}
}  // extern "C"
// NOLINTEND(readability-identifier-naming,readability-inconsistent-declaration-parameter-name)
