// Common mistakes get an error that says what to do instead, and leave
// nothing behind: a live path whose directory is missing, a checkout into
// the metadata folder, a clone from nowhere, a misspelt config key, and a
// repository named by its live link or by a path inside .txdir.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

namespace stdfs = std::filesystem;

class CliMistakesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(f_.Publish({{"a.txt", "one\n"}}).exit, 0); }
  CliFixture f_;
};

TEST_F(CliMistakesTest, InitRefusesALivePathWhoseDirectoryDoesNotExist) {
  const std::string root = f_.tmp / "r2", missing = f_.tmp / "no/such";
  CliResult r = RunCli({"init", root, "--live", missing + "/tables"});
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_TRUE(Has(r.err, "the live path's directory does not exist")) << r;
  EXPECT_TRUE(Has(r.err, missing)) << r;
  EXPECT_FALSE(stdfs::exists(root)) << "nothing created";
  EXPECT_FALSE(stdfs::exists(f_.tmp / "no"));
  // Inside the repository, init creates what it needs, as before.
  r = RunCli({"init", root, "--live", root + "/site/current"});
  EXPECT_EQ(r.exit, 0) << r;
}

TEST_F(CliMistakesTest, CheckoutIntoTheMetadataFolderIsRefusedHoweverItIsSpelt) {
  ASSERT_EQ(::symlink((f_.root + "/.txdir").c_str(), (f_.tmp / "meta").c_str()), 0);
  for (const std::string& to : {f_.root + "/.txdir/x", f_.root + "/.txdir/gens/x",
                                f_.tmp / "meta/tmp/x", f_.root + "/./.txdir//y"}) {
    CliResult r = RunCli({"checkout", f_.root, "1", "--to", to});
    EXPECT_EQ(r.exit, 8) << to << "\n" << r;
    EXPECT_TRUE(Has(r.err, "inside the repository's metadata folder")) << r;
  }
  for (const auto& e : stdfs::directory_iterator(f_.root + "/.txdir"))
    EXPECT_NE(e.path().filename().string().rfind("x", 0), 0u) << e.path();
  EXPECT_FALSE(stdfs::exists(f_.root + "/.txdir/gens/x"));
  CliResult r = RunCli({"fsck", f_.root});
  EXPECT_EQ(r.exit, 0) << r;
}

TEST_F(CliMistakesTest, FailedCloneLeavesNothingBehindAndNamesAMissingPath) {
  const std::string dest = f_.tmp / "c2";
  CliResult r = RunCli({"clone", f_.tmp / "nowhere/r.git", dest});
  EXPECT_EQ(r.exit, 3) << r;
  EXPECT_TRUE(Has(r.err, "no repository at this path")) << r;
  EXPECT_FALSE(stdfs::exists(dest));
  // A path that exists but is no repository: the fetch fails after init.
  stdfs::create_directories(f_.tmp / "plain");
  r = RunCli({"clone", f_.tmp / "plain", dest});
  EXPECT_NE(r.exit, 0) << r;
  EXPECT_FALSE(stdfs::exists(dest)) << "the half-made clone is removed";
  // Into an empty folder that was there: the folder stays, empty.
  stdfs::create_directories(dest);
  r = RunCli({"clone", f_.tmp / "plain", dest});
  EXPECT_NE(r.exit, 0) << r;
  ASSERT_TRUE(stdfs::is_directory(dest));
  EXPECT_TRUE(stdfs::is_empty(dest));
  // And the retry that works.
  r = RunCli({"clone", f_.root + "/.txdir/store.git", dest});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(RunCli({"cat", dest, "a.txt"}).out, "one\n");
}

TEST_F(CliMistakesTest, CloneOfARepositoryFolderFetchesItsStoreAndRemembersItAbsolute) {
  const std::string dest = f_.tmp / "copy";
  // Both paths relative, as a user types them: the remote is stored as the
  // absolute path of the repository's store, so a pull from anywhere finds it.
  const auto cwd = stdfs::current_path();
  stdfs::current_path(f_.tmp.path());
  CliResult r = RunCli({"clone", "repo", "copy"});
  stdfs::current_path(cwd);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(RunCli({"cat", dest, "a.txt"}).out, "one\n");
  r = RunCli({"remote", dest, "list"});
  EXPECT_TRUE(Has(r.out, f_.root + "/.txdir/store.git")) << r;
  ASSERT_EQ(f_.Publish({{"a.txt", "two\n"}}).exit, 0);
  r = RunCli({"pull", dest});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(RunCli({"cat", dest, "a.txt"}).out, "two\n");
}

TEST_F(CliMistakesTest, MisspeltConfigKeyGetsASuggestion) {
  CliResult r = RunCli({"config", f_.root, "gc.kep", "3"});
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_TRUE(Has(r.err, "unknown config key 'gc.kep'; did you mean 'gc.keep'?")) << r;
  r = RunCli({"config", f_.root, "nothing.like.it"});
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_FALSE(Has(r.err, "did you mean")) << r;
  EXPECT_TRUE(Has(r.err, "(known: lock_timeout_ms")) << r;
}

TEST_F(CliMistakesTest, LiveLinkOrMetadataPathInsteadOfTheRepositoryGetsAHint) {
  for (const std::string& wrong :
       {f_.root + "/current", f_.root + "/.txdir", f_.root + "/.txdir/gens/1"}) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"status", wrong},
                                               {"log", wrong},
                                               {"cat", wrong, "a.txt"},
                                               {"wait", wrong, "--timeout", "0"}}) {
      CliResult r = RunCli(args);
      EXPECT_EQ(r.exit, 3) << ::testing::PrintToString(args) << "\n" << r;
      EXPECT_TRUE(Has(r.err, "not a txdir repository but ")) << r;
      EXPECT_TRUE(Has(r.err, "(give " + f_.root + " instead)")) << r;
    }
  }
  CliResult r = RunCli({"status", f_.tmp / "elsewhere"});
  EXPECT_EQ(r.exit, 3) << r;
  EXPECT_TRUE(Has(r.err, "not a txdir repository (no .txdir folder)")) << r;
}

TEST_F(CliMistakesTest, RollbackAfterPruningSaysWhichGenerationItNeedsAndWhy) {
  ASSERT_EQ(f_.Publish({{"a.txt", "two\n"}}).exit, 0);
  ASSERT_EQ(f_.Publish({{"a.txt", "three\n"}}).exit, 0);
  ASSERT_EQ(RunCli({"gc", f_.root, "--keep", "1", "--prune-history"}).exit, 0);
  CliResult r = RunCli({"rollback", f_.root});
  EXPECT_EQ(r.exit, 3) << r;
  EXPECT_TRUE(Has(r.err,
                  "cannot step back to generation 2 (the one before what the live "
                  "generation shows): it is no longer in the history"))
      << r;
  r = RunCli({"rollback", f_.root, "2"});
  EXPECT_EQ(r.exit, 3) << r;
  EXPECT_TRUE(Has(r.err, "no generation 2")) << "a named one keeps the plain message: " << r;
}

}  // namespace
}  // namespace txdir::testing
