// Reading the live link races with writers (readers take no lock): the link
// may move, and gc remove the generation it pointed at, between the readlink
// and the checks. That must read as the new generation, never as corruption;
// a link that stays wrong must still be reported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "test_util.h"
#include "txn/src/layout.h"
#include "txn/src/repo_impl.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;

// Plays a concurrent writer: on the first stat through the live link, moves
// the link on to `next` and renames the generation it pointed at away.
class MovingWriterEnv : public EnvWrapper {
 public:
  MovingWriterEnv(const internal::Layout& l, uint64_t old_gen, uint64_t next)
      : EnvWrapper(Env::Default()), l_(l), old_(old_gen), next_(next) {}

  Result<struct stat> StatAt(int dir, const std::string& path, bool follow) override {
    if (follow && path == l_.live && !moved_) {
      moved_ = true;
      const std::string tmp = l_.live + ".moving";
      stdfs::create_symlink(".txdir/gens/" + std::to_string(next_), tmp);
      stdfs::rename(tmp, l_.live);
      stdfs::rename(l_.GenDir(old_), l_.gens + "/.trash-moved");
    }
    return EnvWrapper::StatAt(dir, path, follow);
  }
  bool moved() const { return moved_; }

 private:
  internal::Layout l_;
  uint64_t old_, next_;
  bool moved_ = false;
};

TEST(LiveLink, ALinkThatMovesWhileBeingReadResolvesToTheNewGeneration) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"a", "1"}});
  f.Publish({{"a", "2"}});
  const auto l = internal::Layout::For(f.root);
  MovingWriterEnv env(l, /*old_gen=*/2, /*next=*/1);
  auto live = internal::ReadLiveGeneration(&env, l);
  EXPECT_TRUE(env.moved());
  ASSERT_TRUE(live) << live.error().ToString();
  EXPECT_EQ(*live, std::optional<uint64_t>(1));
}

TEST(LiveLink, ALinkAtAMissingGenerationIsCorruption) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"a", "1"}});
  const auto l = internal::Layout::For(f.root);
  stdfs::rename(l.GenDir(1), l.gens + "/.elsewhere");
  auto live = internal::ReadLiveGeneration(Env::Default(), l);
  ASSERT_FALSE(live);
  EXPECT_EQ(live.error().code, Code::kCorruption);
  EXPECT_NE(live.error().message.find("missing directory"), std::string::npos)
      << live.error().ToString();
}

// Observes the repository from a second handle at the moment the writer
// swaps the live link: the head has moved, the link not yet.
class SwapObserverEnv : public EnvWrapper {
 public:
  SwapObserverEnv(std::string root, std::string live)
      : EnvWrapper(Env::Default()), root_(std::move(root)), live_(std::move(live)) {}

  Status RenameAt(int from_dir, const std::string& from, int to_dir,
                  const std::string& to) override {
    if (!seen_ && stdfs::path(live_).filename() == to) {
      auto observer = Repository::Open(root_);
      if (observer) seen_ = (*observer)->Status();
    }
    return EnvWrapper::RenameAt(from_dir, from, to_dir, to);
  }
  std::optional<Result<RepoStatus>> seen_;

 private:
  std::string root_, live_;
};

TEST(LiveLink, StatusDuringTheSwapReportsAPublishInProgressNotDamage) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"a", "1"}});
  SwapObserverEnv env(f.root, f.live());
  OpenOptions o;
  o.env = &env;
  auto writer = Repository::Open(f.root, o);
  ASSERT_TRUE(writer) << writer.error().ToString();
  testing::MakeTree(f.src, {{"a", "2"}});
  auto g = (*writer)->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  ASSERT_TRUE(env.seen_.has_value()) << "the live link was never renamed into place";
  const Result<RepoStatus>& s = *env.seen_;
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->committed, std::optional<uint64_t>(2));
  EXPECT_EQ(s->live, std::optional<uint64_t>(1));
  EXPECT_FALSE(s->consistent);
  EXPECT_TRUE(s->publish_in_progress);
  ASSERT_TRUE(s->lock_holder.has_value());
  EXPECT_EQ(s->lock_holder->pid, static_cast<int64_t>(::getpid()));

  auto after = f.repo->Status();
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->consistent);
  EXPECT_FALSE(after->publish_in_progress);
  EXPECT_EQ(after->live, std::optional<uint64_t>(2));
}

}  // namespace
}  // namespace txdir
