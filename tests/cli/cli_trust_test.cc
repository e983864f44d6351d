// The trust model at the command line (docs/security.md): a repository
// owned by another user is read but not written to and its hook never run
// unless TXDIR_SAFE_DIRECTORIES names it; the live path and the metadata
// folder's links are refused with their documented exit codes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

constexpr int kCorruption = 6;
constexpr int kInvalidInput = 8;
constexpr uid_t kNobody = 65534;

// Gives everything under `path` (not following links) to `uid`.
void ChownTree(const std::string& path, uid_t uid) {
  ASSERT_EQ(::lchown(path.c_str(), uid, static_cast<gid_t>(-1)), 0) << path;
  for (auto it = std::filesystem::recursive_directory_iterator(path);
       it != std::filesystem::recursive_directory_iterator(); ++it)
    ASSERT_EQ(::lchown(it->path().c_str(), uid, static_cast<gid_t>(-1)), 0) << it->path();
}

class ForeignRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "needs root to give a repository to another user (uid 65534); "
                      "core.ForeignOwnerTest covers the rule for every user";
    ::unsetenv("TXDIR_SAFE_DIRECTORIES");
    ASSERT_EQ(f_.Publish({{"a", "one"}}).exit, 0);
    CliResult r = RunCli({"config", f_.root, "hooks.pre_publish", "touch '" + marker_ + "'"});
    ASSERT_EQ(r.exit, 0) << r;
    ChownTree(f_.root, kNobody);
    MakeTree(f_.src, {{"a", "two"}});
  }
  void TearDown() override { ::unsetenv("TXDIR_SAFE_DIRECTORIES"); }

  CliFixture f_;
  std::string marker_ = f_.tmp / "hook-ran";
};

TEST_F(ForeignRepositoryTest, RootReadsButDoesNotWriteOrRunTheHook) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"publish", f_.root, "--from", f_.src},
                                             {"recover", f_.root},
                                             {"rollback", f_.root},
                                             {"gc", f_.root, "--keep", "1"},
                                             {"fsck", f_.root, "--repair"},
                                             {"exec", f_.root, "--", "true"},
                                             {"config", f_.root, "hooks.pre_publish", "true"}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kInvalidInput) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_TRUE(Has(r.err, "owned by another user (uid 65534, not uid 0)")) << r;
    EXPECT_TRUE(Has(r.err, "TXDIR_SAFE_DIRECTORIES=" + f_.root)) << r;
  }
  EXPECT_FALSE(std::filesystem::exists(marker_)) << "root ran another user's hook";
  CliResult cat = RunCli({"cat", f_.root, "a"});
  EXPECT_EQ(cat.exit, 0) << cat;
  EXPECT_EQ(cat.out, "one");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", f_.root}, {"log", f_.root}, {"show", f_.root, "1"}, {"config", f_.root}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, 0) << ::testing::PrintToString(args) << "\n" << r;
  }
}

TEST_F(ForeignRepositoryTest, OptedInRootWritesAndRunsTheHook) {
  ::setenv("TXDIR_SAFE_DIRECTORIES", f_.root.c_str(), 1);
  CliResult r = RunCli({"publish", f_.root, "--from", f_.src});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(std::filesystem::exists(marker_));
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "two");
}

TEST(CliTrustTest, RecoverRefusesARegularFileAtTheLivePath) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"a", "one"}}).exit, 0);
  std::filesystem::remove(f.root + "/current");
  WriteFile(f.root + "/current", "mine");
  CliResult r = RunCli({"recover", f.root});
  EXPECT_EQ(r.exit, kCorruption) << r;
  EXPECT_TRUE(Has(r.err, "live path is a regular file")) << r;
  EXPECT_TRUE(Has(r.err, f.root + "/current")) << r;
  EXPECT_EQ(ReadFile(f.root + "/current"), "mine");
}

TEST(CliTrustTest, LinkedTmpIsRefusedAndItsTargetKept) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"a", "one"}}).exit, 0);
  MakeTree(f.tmp / "victim", {{"keep", "1"}});
  std::filesystem::remove_all(f.root + "/.txdir/tmp");
  std::filesystem::create_symlink(f.tmp / "victim", f.root + "/.txdir/tmp");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"recover", f.root}, {"publish", f.root, "--from", f.src}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kCorruption) << r;
    EXPECT_TRUE(Has(r.err, f.root + "/.txdir/tmp")) << r;
    EXPECT_TRUE(Has(r.err, "txdir does not follow links inside .txdir")) << r;
  }
  EXPECT_EQ(ReadFile(f.tmp / "victim/keep"), "1");
}

// Single-flush mode writes an ack record in .txdir: a link in its place is
// never followed. The publish fails naming it, publishes nothing, and
// leaves the link's target as it was.
TEST(CliTrustTest, ALinkedAckRecordFailsThePublishAndItsTargetIsKept) {
  CliFixture f;
  ASSERT_EQ(f.Publish({{"a", "one"}}).exit, 0);
  ASSERT_EQ(RunCli({"config", f.root, "sync", "single-flush"}).exit, 0);
  WriteFile(f.tmp / "victim", "keep");
  std::filesystem::create_symlink(f.tmp / "victim", f.root + "/.txdir/ack.0");
  CliResult r = f.Publish({{"a", "two"}});
  EXPECT_NE(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.err, f.root + "/.txdir/ack.0")) << r;
  EXPECT_EQ(ReadFile(f.tmp / "victim"), "keep");
  EXPECT_EQ(ReadFile(f.root + "/current/a"), "one");
  EXPECT_TRUE(Has(RunCli({"status", f.root}).out, "committed:   generation 1"));
}

TEST(CliTrustTest, InitRefusesALivePathInsideTheMetadataFolder) {
  TempDir tmp;
  CliResult r = RunCli({"init", tmp / "r", "--live", tmp / "r/.txdir/gens/x"});
  EXPECT_EQ(r.exit, kInvalidInput) << r;
  EXPECT_FALSE(std::filesystem::exists(tmp / "r/.txdir"));
}

}  // namespace
}  // namespace txdir::testing
