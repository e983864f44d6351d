// `txdir serve` exits promptly on SIGTERM and SIGINT with requests in
// flight: requests for a damaged object (which once spun forever and held
// every thread), slow clients trickling their headers and an idle
// kept-alive connection.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>

#include "tests/serve/serve_test_util.h"
#include "tests/serve/slow_clients.h"
#include "txdir/repository.h"

namespace txdir::testing {
namespace {

using std::chrono::milliseconds;

// Sends a whole GET for `target` on a new connection and leaves it open,
// not reading the answer. The fd, or -1.
int SendRequest(int port, const std::string& target) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  return fd;
}

class ServeStopTest : public ::testing::TestWithParam<int> {};

TEST_P(ServeStopTest, ExitsPromptlyWithRequestsInFlight) {
  TempDir tmp;
  const std::string root = tmp / "repo";
  {
    auto repo = Repository::Init(root);
    ASSERT_TRUE(repo) << repo.error().ToString();
    std::string big;
    for (int i = 0; i < 2000; ++i) big += "row " + std::to_string(i) + "\n";
    MakeTree(tmp / "src", {{"a.txt", "one"}, {"big.txt", big}});
    ASSERT_TRUE((*repo)->Publish(tmp / "src", {.message = "m"}));
    // big.txt's object, truncated: reading it once never returned.
    auto files = (*repo)->ListFiles(1);
    ASSERT_TRUE(files);
    std::string blob;
    for (const auto& f : *files)
      if (f.path == "big.txt") blob = f.blob;
    const std::string obj =
        root + "/.txdir/store.git/objects/" + blob.substr(0, 2) + "/" + blob.substr(2);
    const std::string good = ReadFile(obj);
    ASSERT_EQ(::chmod(obj.c_str(), 0644), 0);
    WriteFile(obj, good.substr(0, good.size() / 2));
  }
  ServeProcess server(root, tmp.path());
  ASSERT_GT(server.port, 0);

  // A kept-alive connection that has had its answer and now idles.
  httplib::Client keep("127.0.0.1", server.port);
  keep.set_keep_alive(true);
  auto r = keep.Get("/g/1/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  std::vector<int> in_flight;
  for (int i = 0; i < 8; ++i) in_flight.push_back(SendRequest(server.port, "/g/1/big.txt"));
  SlowClients slow(server.port, 8, "127.0.0.6");
  std::this_thread::sleep_for(milliseconds(300));

  const int sig = GetParam();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(server.child->Running());
  server.child->Signal(sig);
  auto code = server.child->Wait(std::chrono::seconds(2));
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  for (int fd : in_flight)
    if (fd >= 0) ::close(fd);
  ASSERT_TRUE(code) << "still running 2 s after signal " << sig << "\n" << server.child->err();
  EXPECT_EQ(*code, 0) << server.child->err();
  EXPECT_LT(took.count(), 2000);
}

INSTANTIATE_TEST_SUITE_P(Signals, ServeStopTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const auto& info) {
                           return std::string(info.param == SIGTERM ? "SIGTERM" : "SIGINT");
                         });

}  // namespace
}  // namespace txdir::testing
