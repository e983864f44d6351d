// The happy path of every txdir command, run as a separate process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

using nlohmann::json;

// A repository with two publishes: a = "one", b = "bee"; then a = "two".
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a", "one"}, {"dir/b", "bee"}}, "first publish").exit, 0);
    ASSERT_EQ(f_.Publish({{"a", "two"}, {"dir/b", "bee"}}, "second publish").exit, 0);
  }
  CliFixture f_;
};

TEST(CliInitTest, InitReportsRootAndLivePath) {
  TempDir tmp;
  CliResult r = RunCli({"init", tmp / "r"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "initialized txdir repository in " + (tmp / "r"))) << r;
  EXPECT_TRUE(Has(r.out, "live path: " + (tmp / "r/current"))) << r;
  EXPECT_TRUE(std::filesystem::is_directory(tmp / "r/.txdir"));
}

TEST(CliInitTest, InitWithLiveAdoptsExistingDirectory) {
  TempDir tmp;
  MakeTree(tmp / "site/tables", {{"t.sdn", "table"}});
  CliResult r = RunCli({"init", tmp / "r", "--live", tmp / "site/tables"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "adopted existing files as generation 1")) << r;
  EXPECT_TRUE(std::filesystem::is_symlink(tmp / "site/tables"));
  CliResult cat = RunCli({"cat", tmp / "r", "t.sdn"});
  EXPECT_EQ(cat.exit, 0) << cat;
  EXPECT_EQ(cat.out, "table");
}

TEST(CliInitTest, PublishPrintsTheGeneration) {
  CliFixture f;
  CliResult r = f.Publish({{"x", "1"}}, "hello");
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "published generation 1 (commit ")) << r;
  EXPECT_EQ(ReadFile(f.root + "/current/x"), "1");
  EXPECT_EQ(r.err, "");
}

TEST(CliInitTest, QuietPrintsNothing) {
  CliFixture f;
  MakeTree(f.src, {{"x", "1"}});
  CliResult r = RunCli({"-q", "publish", f.root, "--from", f.src});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, QuietStillPrintsData) {
  CliResult r = RunCli({"-q", "cat", f_.root, "a"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "two");
  r = RunCli({"-q", "log", f_.root, "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(nlohmann::json::parse(r.out, nullptr, false).is_array()) << r;
}

TEST_F(CliTest, Status) {
  CliResult r = RunCli({"status", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "live:        generation 2")) << r;
  EXPECT_TRUE(Has(r.out, "committed:   generation 2")) << r;
  EXPECT_TRUE(Has(r.out, "state:       consistent")) << r;
  EXPECT_TRUE(Has(r.out, "writer lock: free")) << r;
}

TEST_F(CliTest, StatusJsonParses) {
  CliResult r = RunCli({"status", f_.root, "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r;
  EXPECT_EQ(j["live"], 2);
  EXPECT_EQ(j["committed"], 2);
  EXPECT_EQ(j["consistent"], true);
  EXPECT_TRUE(j["lock_holder"].is_null());
  EXPECT_EQ(j["root"], f_.root);
  EXPECT_EQ(j["live_path"], f_.root + "/current");
  EXPECT_TRUE(j["awaiting_recovery"].is_null());
}

// Single-flush mode: a publish killed after its one flush, before the head
// moved (the state a power loss leaves when it undoes both renames). Status
// names the generation that recovery will complete; `recover` completes it.
TEST_F(CliTest, StatusNamesAGenerationAwaitingRecoveryAndRecoverCompletesIt) {
  ASSERT_EQ(RunCli({"config", f_.root, "sync", "single-flush"}).exit, 0);
  MakeTree(f_.src, {{"a", "three"}, {"dir/b", "bee"}});
  ::setenv("TXDIR_CRASH_AT", "store.sethead.before_rename", 1);
  CliResult killed = RunCli({"publish", f_.root, "--from", f_.src});
  ::unsetenv("TXDIR_CRASH_AT");
  ASSERT_EQ(killed.exit, -1) << "the failpoint must kill the publish: " << killed;

  CliResult r = RunCli({"status", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "committed:   generation 2")) << r;
  EXPECT_TRUE(Has(r.out, "awaiting:    generation 3, published in single-flush mode")) << r;
  json j = json::parse(RunCli({"status", f_.root, "--json"}).out, nullptr, false);
  EXPECT_EQ(j["awaiting_recovery"], 3);
  EXPECT_EQ(ReadFile(f_.root + "/current/a"), "two");

  r = RunCli({"recover", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "completed the commit of generation 3")) << r;
  EXPECT_EQ(ReadFile(f_.root + "/current/a"), "three");
  r = RunCli({"status", f_.root});
  EXPECT_TRUE(Has(r.out, "committed:   generation 3")) << r;
  EXPECT_FALSE(Has(r.out, "awaiting:")) << r;
}

TEST_F(CliTest, LogListsNewestFirst) {
  CliResult r = RunCli({"log", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  size_t g2 = r.out.find("generation 2 (live)"), g1 = r.out.find("generation 1\n");
  ASSERT_NE(g2, std::string::npos) << r;
  ASSERT_NE(g1, std::string::npos) << r;
  EXPECT_LT(g2, g1);
  EXPECT_TRUE(Has(r.out, "second publish")) << r;
  EXPECT_TRUE(Has(r.out, "first publish")) << r;
  EXPECT_TRUE(Has(r.out, "kind:   publish")) << r;
}

TEST_F(CliTest, LogLimit) {
  CliResult r = RunCli({"log", f_.root, "-n", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "generation 2")) << r;
  EXPECT_FALSE(Has(r.out, "generation 1")) << r;
}

TEST_F(CliTest, LogJsonParses) {
  CliResult r = RunCli({"log", f_.root, "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r;
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["generation"], 2);
  EXPECT_EQ(j[0]["live"], true);
  EXPECT_EQ(j[0]["message"], "second publish");
  EXPECT_EQ(j[0]["kind"], "publish");
  EXPECT_EQ(j[1]["generation"], 1);
  EXPECT_EQ(j[1]["live"], false);
  EXPECT_EQ(j[1]["commit"].get<std::string>().size(), 40u);
}

TEST_F(CliTest, ShowGenerationFiles) {
  CliResult r = RunCli({"show", f_.root, "1", "--files"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "generation 1")) << r;
  EXPECT_TRUE(Has(r.out, "message: first publish")) << r;
  EXPECT_TRUE(Has(r.out, "2 files:")) << r;
  EXPECT_TRUE(Has(r.out, "  a\n")) << r;
  EXPECT_TRUE(Has(r.out, "  dir/b\n")) << r;
}

TEST_F(CliTest, ShowGenerationJson) {
  CliResult r = RunCli({"show", f_.root, "2", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r;
  EXPECT_EQ(j["generation"], 2);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["path"], "a");
  EXPECT_EQ(j["files"][0]["size"], 3);
}

TEST_F(CliTest, ShowFileOfGeneration) {
  CliResult r = RunCli({"show", f_.root, "1:a"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "one");
  r = RunCli({"show", f_.root, "2:dir/b"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "bee");
}

TEST_F(CliTest, CatLiveAndGivenGeneration) {
  CliResult r = RunCli({"cat", f_.root, "a"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "two");
  r = RunCli({"cat", f_.root, "a", "--gen", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "one");
}

TEST_F(CliTest, CatIsBinarySafe) {
  std::string bytes("\0\x01\xff\n\r", 5);
  ASSERT_EQ(f_.Publish({{"bin", bytes}}).exit, 0);
  CliResult r = RunCli({"cat", f_.root, "bin"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, bytes);
}

TEST_F(CliTest, RecoverNothingThenLeftovers) {
  CliResult r = RunCli({"recover", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "nothing to recover")) << r;
  EXPECT_TRUE(Has(r.out, "live: generation 2")) << r;
  WriteFile(f_.root + "/.txdir/tmp/stage-9-leftover/x", "x");
  WriteFile(f_.root + "/.txdir/store.git/refs/heads/main.lock", "stale");
  r = RunCli({"recover", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "removed staging leftover tmp/stage-9-leftover")) << r;
  EXPECT_TRUE(Has(r.out, "refs/heads/main.lock")) << r;
  r = RunCli({"recover", f_.root});
  EXPECT_TRUE(Has(r.out, "nothing to recover")) << r;
}

TEST_F(CliTest, RollbackStepsBackAndToAGeneration) {
  CliResult r = RunCli({"rollback", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "published generation 3 (rollback: restores generation 1)")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "one");
  r = RunCli({"rollback", f_.root, "2", "-m", "undo"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "published generation 4 (rollback: restores generation 2)")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "two");
  CliResult log = RunCli({"log", f_.root, "--json"});
  json j = json::parse(log.out, nullptr, false);
  ASSERT_EQ(j.size(), 4u) << log;
  EXPECT_EQ(j[0]["kind"], "rollback");
  EXPECT_EQ(j[0]["restores"], 2);
  EXPECT_EQ(j[0]["message"], "undo");
  EXPECT_EQ(j[1]["restores"], 1);
}

TEST(CliHelpTest, EveryCommandHasHelp) {
  for (const char* cmd :
       {"init", "publish", "status", "log", "show", "cat", "recover", "rollback"}) {
    CliResult r = RunCli({cmd, "--help"});
    EXPECT_EQ(r.exit, 0) << cmd << ": " << r;
    EXPECT_TRUE(Has(r.out, "DIR")) << cmd << ": " << r;
  }
  CliResult top = RunCli({"--help"});
  EXPECT_EQ(top.exit, 0) << top;
  for (const char* cmd : {"init", "publish", "status", "log", "show", "cat", "recover", "rollback"})
    EXPECT_TRUE(Has(top.out, cmd)) << cmd;
  CliResult version = RunCli({"--version"});
  EXPECT_EQ(version.exit, 0) << version;
  EXPECT_TRUE(Has(version.out, "txdir")) << version;
}

}  // namespace
}  // namespace txdir::testing
