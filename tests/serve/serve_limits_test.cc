// Slow and greedy clients cannot take `txdir serve` from everyone else, and
// a stop is prompt whatever the clients do: an in-process server on a free
// loopback port, "slow" clients that open raw connections (from 127.0.0.2
// and up, to 127.0.0.1: still loopback) and trickle a request's headers a
// byte at a time, and a normal client that must get its page meanwhile.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "tests/core/test_util.h"
#include "tests/serve/slow_clients.h"
#include "tools/serve/serve.h"
#include "txdir/repository.h"

namespace txdir::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class ServeLimitsTest : public ::testing::Test {
 protected:
  void Start(const serve::ServeOptions& options = {.host = "127.0.0.1", .port = 0}) {
    auto repo = Repository::Init(root_);
    ASSERT_TRUE(repo) << repo.error().ToString();
    MakeTree(tmp_ / "src", {{"a.txt", "one"}});
    auto g = (*repo)->Publish(tmp_ / "src", {.message = "m"});
    ASSERT_TRUE(g) << g.error().ToString();
    auto server = serve::Server::Open(root_, options);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    auto port = server_->Bind();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
    thread_ = std::thread([this] {
      (void)server_->Run();
      returned_ = true;
    });
    httplib::Client c("127.0.0.1", port_);
    for (int i = 0; i < 500 && !c.Get("/history"); ++i)
      std::this_thread::sleep_for(milliseconds(10));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  // A normal client's GET of a file, with a bound on its wait: how long it
  // took, or nullopt if it got no 200 "one" within `limit`.
  std::optional<milliseconds> TimedGet(milliseconds limit) {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(limit).count(), 0);
    c.set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(limit).count(), 0);
    const auto start = Clock::now();
    auto r = c.Get("/g/1/a.txt");
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (!r || r->status != 200 || r->body != "one" || took > limit) return std::nullopt;
    return took;
  }

  TempDir tmp_;
  std::string root_ = tmp_ / "repo";
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
  int port_ = -1;
};

TEST_F(ServeLimitsTest, ManySlowConnectionsFromOneAddressLeaveRoomForOthers) {
  ASSERT_NO_FATAL_FAILURE(Start());
  // More slow connections than the server has threads, all from one
  // address: only its share is served, the rest are refused at once.
  SlowClients slow(port_, 40, "127.0.0.2");
  std::this_thread::sleep_for(milliseconds(300));  // let them all be accepted
  auto took = TimedGet(milliseconds(3000));
  ASSERT_TRUE(took) << "a normal client got no page while slow clients held the server";
  EXPECT_LT(took->count(), 2000);
  // The refused ones were answered and closed, not left waiting; the
  // address's share (8) is still being served.
  EXPECT_EQ(slow.WaitClosed(40 - 8, milliseconds(2000)), 40 - 8);
}

TEST_F(ServeLimitsTest, HeadersMustArriveWithinTheRequestTimeout) {
  serve::ServeOptions o{.host = "127.0.0.1", .port = 0};
  o.limits.threads = 4;
  o.limits.max_connections_per_client = 0;  // no cap: only the timeout helps here
  o.limits.request_timeout = milliseconds(1000);
  ASSERT_NO_FATAL_FAILURE(Start(o));
  // Every thread taken by a connection that never finishes its headers.
  SlowClients slow(port_, 4, "127.0.0.3");
  std::this_thread::sleep_for(milliseconds(200));
  const auto start = Clock::now();
  auto took = TimedGet(milliseconds(4000));
  ASSERT_TRUE(took) << "the slow connections were never dropped";
  EXPECT_LT(took->count(), 3000);
  EXPECT_GE(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count(), 500)
      << "served before the slow connections timed out: were they all being served?";
  EXPECT_EQ(slow.WaitClosed(4, milliseconds(2000)), 4);
}

TEST_F(ServeLimitsTest, StopIsPromptWhileSlowClientsAreConnected) {
  ASSERT_NO_FATAL_FAILURE(Start());
  SlowClients slow(port_, 8, "127.0.0.4");
  // A kept-alive connection that has had its answer and now idles.
  httplib::Client keep("127.0.0.1", port_);
  keep.set_keep_alive(true);
  ASSERT_TRUE(keep.Get("/g/1/a.txt"));
  std::this_thread::sleep_for(milliseconds(300));
  const auto start = Clock::now();
  server_->Stop();
  for (int i = 0; i < 300 && !returned_; ++i) std::this_thread::sleep_for(milliseconds(10));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_TRUE(returned_) << "Run did not return within 3 s of Stop";
  EXPECT_LT(took.count(), 1000);
}

}  // namespace
}  // namespace txdir::testing
