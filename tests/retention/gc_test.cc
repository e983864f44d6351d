// gc of generation directories: the policy (keep N, keep-within, both),
// dry run, the live generation, the CLI's output and errors.
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/retention/retention_util.h"

namespace txdir::testing {
namespace {

using std::chrono::milliseconds;

TEST(Gc, KeepNewestNRemovesTheRestAndFreesTheirBytes) {
  RetentionFixture f;
  for (int i = 1; i <= 6; ++i) f.Publish(i);
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 2});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->removed, Seq(1, 4));
  EXPECT_EQ(rep->kept, Seq(5, 6));
  EXPECT_TRUE(rep->pinned.empty());
  EXPECT_EQ(f.Materialized(), Seq(5, 6));
  // a.txt differs per generation, so each removed directory frees at least it.
  EXPECT_GT(rep->bytes_freed, 0u);
  // History stays: gc without --prune-history only removes directories.
  auto old = f.repo->ReadFile(1, "a.txt");
  ASSERT_TRUE(old) << old.error().ToString();
  EXPECT_EQ(*old, "v1\n");
  EXPECT_TRUE(stdfs::exists(f.root + "/.txdir/gens/5/same.txt"));
}

TEST(Gc, DefaultPolicyKeepsTen) {
  RetentionFixture f;
  for (int i = 1; i <= 12; ++i) f.Publish(i);
  auto rep = CollectGarbage(*f.repo, GcOptions{});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->keep, 10u);
  EXPECT_EQ(f.Materialized(), Seq(3, 12));
}

TEST(Gc, DryRunListsButRemovesNothing) {
  RetentionFixture f;
  for (int i = 1; i <= 4; ++i) f.Publish(i);
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 1, .dry_run = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_TRUE(rep->dry_run);
  EXPECT_EQ(rep->removed, Seq(1, 3));
  EXPECT_GT(rep->bytes_freed, 0u);
  EXPECT_EQ(f.Materialized(), Seq(1, 4));
}

TEST(Gc, LiveGenerationIsNeverRemovedEvenAfterRollback) {
  RetentionFixture f;
  for (int i = 1; i <= 3; ++i) f.Publish(i);
  ASSERT_TRUE(f.repo->Rollback(1));  // generation 4 shows generation 1's files
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 1});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->live, 4u);
  EXPECT_EQ(f.Materialized(), std::vector<uint64_t>{4});
  auto snap = f.repo->OpenSnapshot();
  ASSERT_TRUE(snap) << snap.error().ToString();
  EXPECT_EQ(snap->generation(), 4u);
  EXPECT_EQ(*snap->ReadFile("a.txt"), "v1\n");
  auto v = f.repo->VerifyGeneration(4);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
  // The next publish works after its donors' neighbours were removed.
  EXPECT_EQ(f.Publish(5), 5u);
}

// Generations older than the gap are outside keep-within; the cut-off is
// chosen in the middle of a 1.2 s gap, so the test tolerates 600 ms of
// scheduling delay between reading the clock and gc reading it.
TEST(Gc, KeepWithinKeepsTheYoungAndKeepNTheNewestBothRulesKeep) {
  RetentionFixture f;
  for (int i = 1; i <= 3; ++i) f.Publish(i);
  std::this_thread::sleep_for(milliseconds(1200));
  for (int i = 4; i <= 6; ++i) f.Publish(i);
  auto g4 = f.repo->Generation(4);
  ASSERT_TRUE(g4);
  auto within = [&] {
    auto now = std::chrono::duration_cast<milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    return milliseconds(now - g4->time_ms + 600);
  };
  // keep 1 alone would keep only 6; the age rule keeps 4 and 5 too.
  auto dry =
      CollectGarbage(*f.repo, GcOptions{.keep = 1, .keep_within = within(), .dry_run = true});
  ASSERT_TRUE(dry) << dry.error().ToString();
  EXPECT_EQ(dry->removed, Seq(1, 3));
  // keep 5 keeps 2..6 whatever their age: both rules keep.
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 5, .keep_within = within()});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->removed, std::vector<uint64_t>{1});
  EXPECT_EQ(f.Materialized(), Seq(2, 6));
  rep = CollectGarbage(*f.repo, GcOptions{.keep = 1, .keep_within = within()});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(f.Materialized(), Seq(4, 6));
}

TEST(Gc, ConfiguredPolicyIsTheDefaultAndOptionsOverrideIt) {
  RetentionFixture f;
  for (int i = 1; i <= 5; ++i) f.Publish(i);
  ASSERT_TRUE(SetConfig(f.root, "gc.keep", "3"));
  f.Reopen();
  auto rep = CollectGarbage(*f.repo, GcOptions{.dry_run = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->keep, 3u);
  EXPECT_EQ(rep->removed, Seq(1, 2));
  rep = CollectGarbage(*f.repo, GcOptions{.keep = 4, .dry_run = true});
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->removed, std::vector<uint64_t>{1});
}

TEST(Gc, NothingPublishedIsNothingToDo) {
  RetentionFixture f;
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 1});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_TRUE(rep->removed.empty());
}

TEST(GcCli, PrintsWhatItRemovedAndJson) {
  RetentionFixture f;
  for (int i = 1; i <= 4; ++i) f.Publish(i);
  auto r = RunCli({"gc", f.root, "--keep", "3", "--dry-run"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("would remove: 1 ("), std::string::npos) << r;
  EXPECT_NE(r.out.find("kept:    2-4\n"), std::string::npos) << r;  // a run, as first-last
  r = RunCli({"gc", f.root, "--keep", "2", "--dry-run"});
  EXPECT_NE(r.out.find("would remove: 1 2 ("), std::string::npos) << r;  // two: both named
  EXPECT_EQ(f.Materialized(), Seq(1, 4));
  r = RunCli({"gc", f.root, "--keep", "2", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["removed"], nlohmann::json({1, 2}));
  EXPECT_EQ(j["kept"], nlohmann::json({3, 4}));
  EXPECT_EQ(j["live"], 4);
  EXPECT_EQ(f.Materialized(), Seq(3, 4));
}

TEST(GcCli, RejectsBadOptions) {
  RetentionFixture f;
  f.Publish(1);
  auto r = RunCli({"gc", f.root, "--keep", "0"});
  EXPECT_EQ(r.exit, 2) << r;
  r = RunCli({"gc", f.root, "--keep-within", "7 days"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("not a duration"), std::string::npos) << r;
  r = RunCli({"gc", f.root, "--keep-within", "1d12h", "--dry-run"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("younger than 36h"), std::string::npos) << r;
}

TEST(Duration, ParsesUnitsAndRejectsJunk) {
  EXPECT_EQ(ParseDuration("7d")->count(), 7 * 86400000LL);
  EXPECT_EQ(ParseDuration("12h")->count(), 12 * 3600000LL);
  EXPECT_EQ(ParseDuration("30m")->count(), 30 * 60000LL);
  EXPECT_EQ(ParseDuration("45s")->count(), 45000);
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("2w")->count(), 14 * 86400000LL);
  EXPECT_EQ(ParseDuration("1d12h")->count(), 36 * 3600000LL);
  for (const char* bad : {"", "7", "d", "7x", "-1d", "0d", "1.5h", "7 d", "99999999999999d"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
}

}  // namespace
}  // namespace txdir::testing
