// Reading the live link races with writers (readers take no lock): the link
// may move, and gc remove the generation it pointed at, between the readlink
// and the checks. That must read as the new generation, never as corruption;
// a link that stays wrong must still be reported.
#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace txdir
