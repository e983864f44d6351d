// Generation references (N, live, live~K, N~K, N^): the grammar, their
// resolution along the store's parent links, and every command that takes
// a generation, run through the built binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/history/history_test_util.h"
#include "txdir/history.h"
#include "txdir/retention.h"

namespace txdir::testing {
namespace {

using nlohmann::json;

TEST(GenerationRefGrammar, AcceptsNumbersLiveAndStepsBack) {
  struct Case {
    const char* text;
    std::optional<uint64_t> number;
    uint64_t back;
  };
  for (const Case& c :
       {Case{"7", 7, 0}, Case{"live", std::nullopt, 0}, Case{"live~1", std::nullopt, 1},
        Case{"live~", std::nullopt, 1}, Case{"12^", 12, 1}, Case{"12^^", 12, 2},
        Case{"12~3^", 12, 4}, Case{"live~10~2", std::nullopt, 12}, Case{"007", 7, 0}}) {
    auto r = ParseGenerationRef(c.text);
    ASSERT_TRUE(r) << c.text << ": " << r.error().ToString();
    EXPECT_EQ(r->number, c.number) << c.text;
    EXPECT_EQ(r->back, c.back) << c.text;
  }
}

TEST(GenerationRefGrammar, RefusesAnythingElseNamingTheText) {
  for (const char* bad :
       {"", "0", "0~1", "-1", "abc", "live2", "lives", "7x", "~1", "^", "live^2", "7~x",
        "99999999999999999999", "live~99999999999999999999", "7 ", " 7", "LIVE", "7~-1"}) {
    auto r = ParseGenerationRef(bad);
    ASSERT_FALSE(r) << "'" << bad << "' was accepted";
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message.find("'" + std::string(bad) + "'"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("live~1"), std::string::npos)
        << "states the grammar: " << r.error().message;
  }
}

class GenerationRefTest : public ::testing::Test {
 protected:
  // 1, 2, 3 published; 4 is a rollback to 1 (its parent is 3, not 1).
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a.txt", "v1\n"}}, "one"), 1u);
    ASSERT_EQ(f_.Publish({{"a.txt", "v2\n"}, {"b.txt", "b"}}, "two"), 2u);
    ASSERT_EQ(f_.Publish({{"a.txt", "v3\n"}, {"b.txt", "b"}}, "three"), 3u);
    auto rb = f_.repo->Rollback(1);
    ASSERT_TRUE(rb) << rb.error().ToString();
    ASSERT_EQ(rb->number, 4u);
  }
  uint64_t Resolve(const std::string& ref) {
    auto r = ResolveGenerationRef(*f_.repo, ref);
    EXPECT_TRUE(r) << ref << ": " << r.error().ToString();
    return r ? *r : 0;
  }
  RepoFixture f_;
};

TEST_F(GenerationRefTest, StepsBackFollowTheParentNotTheRestoredGeneration) {
  EXPECT_EQ(Resolve("live"), 4u);
  EXPECT_EQ(Resolve("live~1"), 3u);
  EXPECT_EQ(Resolve("live^"), 3u);
  EXPECT_EQ(Resolve("live^^"), 2u);
  EXPECT_EQ(Resolve("live~3"), 1u);
  EXPECT_EQ(Resolve("3~2"), 1u);
  EXPECT_EQ(Resolve("2^"), 1u);
  EXPECT_EQ(Resolve("4~0"), 4u);
  auto g = f_.repo->Generation(4);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->parent, std::optional<uint64_t>(3));
  EXPECT_FALSE(g->history_pruned);
  g = f_.repo->Generation(1);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->parent, std::nullopt);
  EXPECT_FALSE(g->history_pruned) << "the first generation has no parent by birth";
}

TEST_F(GenerationRefTest, PastTheOldestIsNotFoundAndSaysWhereHistoryEnds) {
  auto r = ResolveGenerationRef(*f_.repo, "live~4");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find("past generation 1"), std::string::npos) << r.error().message;
  r = ResolveGenerationRef(*f_.repo, "9^");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound) << r.error().ToString();
}

TEST_F(GenerationRefTest, AfterPruningTheOldestKeptHasNoParentAndSaysWhy) {
  auto gc = CollectGarbage(*f_.repo, {.keep = 2, .prune_history = true});
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_EQ(Resolve("live~1"), 3u);
  auto r = ResolveGenerationRef(*f_.repo, "live~2");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("past generation 3"), std::string::npos) << r.error().message;
  auto g = f_.repo->Generation(3);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->parent, std::nullopt);
  EXPECT_TRUE(g->history_pruned);
}

TEST(GenerationRefEmpty, LiveBeforeTheFirstPublishIsNotFound) {
  RepoFixture f;
  auto r = ResolveGenerationRef(*f.repo, "live~1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find("nothing has been published"), std::string::npos);
}

// --- every command that takes a generation

class GenerationRefCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a.txt", "v1\n"}}, "one").exit, 0);
    ASSERT_EQ(f_.Publish({{"a.txt", "v2\n"}, {"b.txt", "b\n"}}, "two").exit, 0);
    ASSERT_EQ(f_.Publish({{"a.txt", "v3\n"}, {"b.txt", "b\n"}}, "three").exit, 0);
  }
  CliFixture f_;
};

TEST_F(GenerationRefCliTest, ShowPrintsTheGenerationAndItsDiffAgainstItsParent) {
  CliResult r = RunCli({"show", f_.root, "live~1"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "generation 2")) << r;
  EXPECT_TRUE(HasLine(r.out, "parent:  1")) << r;
  EXPECT_TRUE(HasLine(r.out, "message: two")) << r;
  EXPECT_TRUE(HasLine(r.out, "-v1")) << r;
  EXPECT_TRUE(HasLine(r.out, "+v2")) << r;
  EXPECT_TRUE(HasLine(r.out, "+++ b/b.txt")) << r;

  r = RunCli({"show", f_.root, "3^", "--name-status"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "M\ta.txt")) << r;
  EXPECT_TRUE(HasLine(r.out, "A\tb.txt")) << r;

  r = RunCli({"show", f_.root, "live", "--stat"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, " a.txt | +1 -1")) << r;
  EXPECT_TRUE(HasLine(r.out, " 1 file changed, 1 insertion(+), 1 deletion(-)")) << r;

  // The first generation: everything added, and said so.
  r = RunCli({"show", f_.root, "1", "--name-status"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "parent:  none (the first generation)")) << r;
  EXPECT_TRUE(HasLine(r.out, "A\ta.txt")) << r;

  r = RunCli({"show", f_.root, "live^", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  EXPECT_EQ(j["generation"], 2);
  EXPECT_EQ(j["parent"], 1);
  ASSERT_EQ(j["changes"].size(), 2u) << j.dump();
  EXPECT_EQ(j["changes"][0],
            json({{"status", "M"}, {"path", "a.txt"}, {"old_size", 3}, {"new_size", 3}}));
  EXPECT_EQ(j["files"].size(), 2u);

  r = RunCli({"show", f_.root, "live~2:a.txt"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "v1\n");
}

TEST_F(GenerationRefCliTest, EveryCommandTakingAGenerationTakesAReference) {
  CliResult r = RunCli({"cat", f_.root, "a.txt", "--gen", "live~2"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "v1\n");

  r = RunCli({"diff", f_.root, "live~2", "live", "--name-status"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "M\ta.txt\nA\tb.txt\n");

  r = RunCli({"checkout", f_.root, "3~1", "--to", f_.tmp / "out"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(ReadFile(f_.tmp / "out/a.txt"), "v2\n");

  r = RunCli({"run", f_.root, "--gen", "live^", "--", "cat", "a.txt"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "v2\n");

  r = RunCli({"wait", f_.root, "--after", "live^", "--timeout", "5"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "3\n");

  r = RunCli({"rollback", f_.root, "live~2"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "restores generation 1")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a.txt"}).out, "v1\n");
}

TEST_F(GenerationRefCliTest, BadReferencesAreUsageErrorsAndPastTheOldestIsNotFound) {
  for (const std::string bad : {"live^2", "~1", "7x", "live2"}) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"show", f_.root, bad},
                                               {"cat", f_.root, "a.txt", "--gen", bad},
                                               {"diff", f_.root, bad, "live"},
                                               {"checkout", f_.root, bad, "--to", f_.tmp / "x"},
                                               {"run", f_.root, "--gen", bad, "--", "true"},
                                               {"wait", f_.root, "--after", bad, "--timeout", "1"},
                                               {"rollback", f_.root, bad}}) {
      CliResult r = RunCli(args);
      EXPECT_EQ(r.exit, 2) << ::testing::PrintToString(args) << "\n" << r;
      EXPECT_TRUE(Has(r.err, "'" + bad + "' is not a generation reference")) << r;
    }
  }
  for (const auto& args : std::vector<std::vector<std::string>>{{"show", f_.root, "live~3"},
                                                                {"diff", f_.root, "live~5", "live"},
                                                                {"rollback", f_.root, "1^"}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, 3) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_TRUE(Has(r.err, "the oldest in the history")) << r;
  }
  EXPECT_EQ(RunCli({"cat", f_.root, "a.txt"}).out, "v3\n") << "nothing was published";
}

TEST_F(GenerationRefCliTest, WaitPastTheNewestWarns) {
  CliResult r = RunCli({"wait", f_.root, "--after", "999", "--timeout", "0.2"});
  EXPECT_NE(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.err, "generation 999 is not published yet (the newest is 3)")) << r;
  r = RunCli({"wait", f_.root, "--after", "2", "--timeout", "5"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.err, "") << "no warning for a published generation";
}

}  // namespace
}  // namespace txdir::testing
