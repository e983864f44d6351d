// WaitForGeneration: returns the newer generation once it is live, blocks
// until then, times out with kTimeout. Run with inotify and with the polling
// fallback (TXDIR_WAIT_POLL=1).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "tests/core/test_util.h"
#include "txdir/history.h"

namespace txdir::testing {
namespace {

using std::chrono::milliseconds;

class WaitTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam())
      ::setenv("TXDIR_WAIT_POLL", "1", 1);
    else
      ::unsetenv("TXDIR_WAIT_POLL");
  }
  void TearDown() override { ::unsetenv("TXDIR_WAIT_POLL"); }

  // Publishes one generation from another thread (its own Repository) after
  // `delay`; returns its number through the future.
  std::future<uint64_t> PublishLater(milliseconds delay, const std::string& content) {
    return std::async(std::launch::async, [this, delay, content]() -> uint64_t {
      std::this_thread::sleep_for(delay);
      auto repo = Repository::Open(f_.root);
      if (!repo) return 0;
      const std::string src = f_.tmp / ("src-" + content);
      MakeTree(src, {{"a.txt", content}});
      auto g = (*repo)->Publish(src);
      return g ? g->number : 0;
    });
  }

  RepoFixture f_;
};

TEST_P(WaitTest, ReturnsAtOnceWhenANewerGenerationIsLive) {
  f_.Publish({{"a.txt", "1"}});
  f_.Publish({{"a.txt", "2"}});
  auto g = WaitForGeneration(f_.root, 1, milliseconds(5000));
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(*g, 2u);
  // after = 0: any generation.
  EXPECT_EQ(WaitForGeneration(f_.root, 0, milliseconds(5000)).value_or(0), 2u);
}

TEST_P(WaitTest, BlocksUntilTheNextPublishAfterTheLiveOne) {
  f_.Publish({{"a.txt", "1"}});
  auto start = std::chrono::steady_clock::now();
  auto later = PublishLater(milliseconds(200), "2");
  // after = the live generation, explicitly: a nullopt read after the
  // publish would wait for gen 3.
  auto g = WaitForGeneration(f_.root, 1, milliseconds(30000));
  auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  uint64_t published = later.get();
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(published, 2u);
  EXPECT_EQ(*g, 2u);  // gen 2 exists only after the publish: the wait blocked until then
  std::printf("[ wait %s ] returned after %lld ms (publish started at 200 ms)\n",
              GetParam() ? "poll" : "inotify", static_cast<long long>(waited.count()));
}

TEST_P(WaitTest, WaitsForTheFirstGeneration) {
  auto later = PublishLater(milliseconds(100), "1");
  auto g = WaitForGeneration(f_.root, 0, milliseconds(30000));
  EXPECT_EQ(later.get(), 1u);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(*g, 1u);
}

TEST_P(WaitTest, TimesOutWithKTimeout) {
  f_.Publish({{"a.txt", "1"}});
  auto g = WaitForGeneration(f_.root, 1, milliseconds(250));
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kTimeout);
  auto zero = WaitForGeneration(f_.root, 1, milliseconds(0));
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, Code::kTimeout);
  // nullopt: newer than the live generation (1), so nothing comes.
  auto live = WaitForGeneration(f_.root, std::nullopt, milliseconds(150));
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, Code::kTimeout);
}

TEST_P(WaitTest, NotARepository) {
  auto g = WaitForGeneration(f_.tmp / "nothing", std::nullopt, milliseconds(100));
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Modes, WaitTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Poll" : "Inotify"; });

}  // namespace
}  // namespace txdir::testing
