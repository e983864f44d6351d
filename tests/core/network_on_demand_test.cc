// With libgit2 linked statically, git_libgit2_init() neither seeds mbedTLS's
// random generator nor loads and starts libssh2 (and OpenSSL's engines):
// both happen on first use, and a TLS or SSH connection still gets what it
// needs (store/libgit2_static.cc, store/ssh_on_demand.cc). Each test runs in its own process
// (ctest), so "not started" is checked against a fresh start. The ENGINE API is deprecated in
// OpenSSL 3 but is what libssh2 starts.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <arpa/inet.h>
#include <dlfcn.h>
#include <git2.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/engine.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "store/git_store.h"
#include "store/libgit2_static.h"
#include "test_util.h"
#include "txdir/replication.h"

namespace txdir::store {
namespace {

// A listening socket on 127.0.0.1 with a port of the kernel's choosing.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd_, 4) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }

  // The next connection, or -1 after 20 s without one.
  int Accept() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Reads exactly n bytes (fewer if the peer closes or 20 s pass).
std::string ReadN(int fd, size_t n) {
  std::string out;
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) break;
    char buf[512];
    ssize_t got = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (got <= 0) break;
    out.append(buf, size_t(got));
  }
  return out;
}

// Whether libssh2.so.1 is mapped into this process (not linked: loaded by
// store/ssh_on_demand.cc on the first SSH session).
bool Libssh2Loaded() {
  void* lib = ::dlopen("libssh2.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) return false;
  ::dlclose(lib);
  return true;
}

// Whether OpenSSL has loaded its built-in engines, which libssh2_init does:
// the effect of starting libssh2 that is seen from outside it.
bool OpenSslEnginesLoaded() {
  ENGINE* e = ENGINE_get_first();
  if (e == nullptr) return false;
  ENGINE_free(e);
  return true;
}

// Asks libgit2 to connect to `url` for a fetch; the peer is the test's own
// server, which never completes the protocol, so the connection fails.
// libgit2 1.5's SSH transport (_git_ssh_setup_conn) does not free the host
// and path it split the URL into when the connection fails before
// authentication: what it allocates here is not the leak checker's business
// (libgit2 has no frame pointers, so a suppression by function cannot see it).
void ConnectAndFail(const std::string& url) {
#ifdef __SANITIZE_ADDRESS__
  __lsan::ScopedDisabler not_ours;
#endif
  git_remote* remote = nullptr;
  ASSERT_EQ(git_remote_create_anonymous(&remote, nullptr, url.c_str()), 0);
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  EXPECT_LT(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr), 0);
  git_remote_free(remote);
}

TEST(NetworkOnDemand, InitNeitherSeedsTheRandomGeneratorNorStartsLibssh2) {
  EnsureLibgit2();
  EXPECT_EQ(internal::DeferredRandomSeeds(), 1) << "libgit2's generator was seeded at init";
  EXPECT_FALSE(internal::Libssh2Started()) << "libssh2 was started at init";
  EXPECT_FALSE(Libssh2Loaded()) << "libssh2.so.1 was loaded at init";
  EXPECT_FALSE(OpenSslEnginesLoaded()) << "OpenSSL's engines were loaded at init";
}

// A TLS client's first message, ClientHello, carries 32 bytes from the
// generator: mbedTLS puts the time in the first 4 and random bytes in 28.
TEST(NetworkOnDemand, ATlsHandshakeSeedsTheGeneratorOnceAndSendsFreshRandomBytes) {
  EnsureLibgit2();
  ASSERT_EQ(internal::DeferredRandomSeeds(), 1);
  Listener listener;
  std::vector<std::string> randoms;
  std::thread server([&] {
    for (int i = 0; i < 2; ++i) {
      int fd = listener.Accept();
      if (fd < 0) return;
      // Record header (5 bytes), handshake header (4), version (2), random (32).
      std::string hello = ReadN(fd, 43);
      ::close(fd);
      if (hello.size() == 43 && hello[0] == 0x16 && hello[5] == 0x01)
        randoms.push_back(hello.substr(11 + 4, 28));
    }
  });
  const std::string url = "https://127.0.0.1:" + std::to_string(listener.port()) + "/r.git";
  ConnectAndFail(url);
  ConnectAndFail(url);
  server.join();
  ASSERT_EQ(randoms.size(), 2u) << "the server did not receive two TLS ClientHellos";
  EXPECT_NE(randoms[0], randoms[1]) << "two handshakes sent the same random bytes";
  EXPECT_NE(randoms[0], std::string(28, '\0'));
  EXPECT_EQ(internal::DeferredRandomSeeds(), 0);
}

// An SSH client sends its banner, reads the server's, then sends KEXINIT
// (message 20), whose random cookie comes from OpenSSL through libssh2.
TEST(NetworkOnDemand, AnSshConnectionStartsLibssh2AndReachesKeyExchange) {
  EnsureLibgit2();
  ASSERT_FALSE(internal::Libssh2Started());
  ASSERT_FALSE(Libssh2Loaded());
  ASSERT_FALSE(OpenSslEnginesLoaded());
  Listener listener;
  std::string banner, packet;
  std::thread server([&] {
    int fd = listener.Accept();
    if (fd < 0) return;
    while (banner.find("\r\n") == std::string::npos && banner.size() < 256) {
      std::string c = ReadN(fd, 1);
      if (c.empty()) break;
      banner += c;
    }
    const std::string ours = "SSH-2.0-OpenSSH_9.2\r\n";
    if (::write(fd, ours.data(), ours.size()) == ssize_t(ours.size()))
      packet = ReadN(fd, 6);  // length (4), padding length (1), message type
    ::close(fd);
  });
  ConnectAndFail("ssh://git@127.0.0.1:" + std::to_string(listener.port()) + "/r.git");
  server.join();
  EXPECT_EQ(banner.rfind("SSH-2.0-libssh2", 0), 0u) << banner;
  ASSERT_EQ(packet.size(), 6u) << "no packet after the banners";
  EXPECT_EQ(static_cast<unsigned char>(packet[5]), 20u) << "the first packet is not KEXINIT";
  EXPECT_TRUE(internal::Libssh2Started());
  EXPECT_TRUE(Libssh2Loaded());
  EXPECT_TRUE(OpenSslEnginesLoaded());
}

// A machine without libssh2.so.1 (named by the test as a library that does
// not exist): a clone from an SSH remote fails, and its error says what is
// missing instead of libgit2's bare "failed to initialize SSH session".
TEST(NetworkOnDemand, WithoutLibssh2AnSshRemoteFailsNamingTheMissingLibrary) {
  ASSERT_EQ(::setenv("TXDIR_TEST_LIBSSH2", "libtxdir-test-no-such-library.so.1", 1), 0);
  Listener listener;  // the connection is made; the session is what fails
  txdir::testing::TempDir tmp;
  auto cloned = txdir::Clone("ssh://git@127.0.0.1:" + std::to_string(listener.port()) + "/r.git",
                             tmp / "clone");
  ::unsetenv("TXDIR_TEST_LIBSSH2");
  ASSERT_FALSE(cloned);
  const std::string message = cloned.error().ToString();
  EXPECT_NE(message.find("libssh2-1"), std::string::npos) << message;
  EXPECT_NE(message.find("libtxdir-test-no-such-library.so.1"), std::string::npos) << message;
  EXPECT_FALSE(Libssh2Loaded());
  EXPECT_FALSE(internal::Libssh2Started());
}

}  // namespace
}  // namespace txdir::store
