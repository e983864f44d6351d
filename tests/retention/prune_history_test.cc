// gc --prune-history on 200 generations of the 11-table sample dashboard:
// every retained generation reads back byte for byte (from the store with
// `txdir show`, and through a pinned Snapshot), fsck and `git fsck` are
// clean, pruned generations are NotFound everywhere, metadata is unchanged,
// and the store shrinks. Prints the PRUNE figures.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/retention/retention_util.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/snapshot.h"

namespace txdir::testing {
namespace {

constexpr int kGenerations = 200;
constexpr int kKeep = 10;

TEST(PruneHistory, TwoHundredDashboardGenerationsKeepTen) {
  RetentionFixture f;
  for (int run = 1; run <= kGenerations; ++run) {
    std::string error;
    ForceRemoveAll(f.src);
    ASSERT_TRUE(
        sample::WriteDashboard(f.src, {.seed = 7, .run = static_cast<uint64_t>(run)}, &error))
        << error;
    auto g = f.repo->Publish(f.src, PublishOptions{.message = "refresh " + std::to_string(run)});
    ASSERT_TRUE(g) << g.error().ToString();
    ASSERT_EQ(g->number, static_cast<uint64_t>(run));
  }
  auto log_before = f.repo->Log(kKeep);
  ASSERT_TRUE(log_before);

  auto r = RunCli({"gc", f.root, "--keep", std::to_string(kKeep), "--prune-history", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  auto j = nlohmann::json::parse(r.out);
  const uint64_t before = j["history"]["store_bytes_before"];
  const uint64_t after = j["history"]["store_bytes_after"];
  const uint64_t kept = j["history"]["kept"];
  std::printf("PRUNE generations=%d kept=%llu store_bytes_before=%llu store_bytes_after=%llu\n",
              kGenerations, static_cast<unsigned long long>(kept),
              static_cast<unsigned long long>(before), static_cast<unsigned long long>(after));
  EXPECT_EQ(kept, static_cast<uint64_t>(kKeep));
  EXPECT_EQ(j["history"]["pruned"].size(), static_cast<size_t>(kGenerations - kKeep));
  EXPECT_LT(after * 4, before) << "the store did not shrink to under a quarter";
  EXPECT_EQ(f.Materialized(), Seq(kGenerations - kKeep + 1, kGenerations));

  // Every retained generation, byte for byte, from the store and from its
  // directory.
  f.Reopen();
  for (int run = kGenerations - kKeep + 1; run <= kGenerations; ++run) {
    auto snap = Snapshot::OpenGeneration(f.root, run);
    ASSERT_TRUE(snap) << snap.error().ToString();
    for (size_t t = 0; t < sample::kTableCount; ++t) {
      const std::string want =
          sample::RenderTable(t, {.seed = 7, .run = static_cast<uint64_t>(run)});
      auto show = RunCli({"show", f.root, std::to_string(run) + ":" + sample::FileName(t)});
      ASSERT_EQ(show.exit, 0) << show;
      EXPECT_TRUE(show.out == want) << "generation " << run << " " << sample::FileName(t);
      EXPECT_EQ(*snap->ReadFile(sample::FileName(t)), want);
    }
  }
  // Metadata unchanged, generation numbers unchanged; only commit ids differ.
  auto log_after = f.repo->Log();
  ASSERT_TRUE(log_after);
  ASSERT_EQ(log_after->size(), static_cast<size_t>(kKeep));
  for (size_t i = 0; i < log_after->size(); ++i) {
    const auto &a = (*log_before)[i], &b = (*log_after)[i];
    EXPECT_EQ(a.number, b.number);
    EXPECT_EQ(a.message, b.message);
    EXPECT_EQ(a.time_ms, b.time_ms);
    EXPECT_EQ(a.author, b.author);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.tree, b.tree);
  }
  // Pruned generations are gone everywhere.
  for (uint64_t gone : {1, 100, kGenerations - kKeep}) {
    EXPECT_EQ(f.repo->Generation(gone).error().code, Code::kNotFound);
    EXPECT_EQ(f.repo->ReadFile(gone, sample::FileName(0)).error().code, Code::kNotFound);
    EXPECT_EQ(f.repo->Rollback(gone).error().code, Code::kNotFound);
  }
  EXPECT_EQ(RunCli({"show", f.root, "5:" + sample::FileName(0)}).exit, 3);

  // fsck and git fsck are clean; the store is one pack and no loose objects.
  auto fsck = RunCli({"fsck", f.root});
  EXPECT_EQ(fsck.exit, 0) << fsck;
  std::string out;
  if (::access("/usr/bin/git", X_OK) == 0) {
    EXPECT_EQ(RunShell("git --git-dir=" + f.root + "/.txdir/store.git fsck --full --strict", &out),
              0)
        << out;
  }
  size_t packs = 0, loose = 0;
  for (const auto& e : stdfs::recursive_directory_iterator(f.root + "/.txdir/store.git/objects")) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".pack") ++packs;
    if (e.is_regular_file() && e.path().parent_path().filename().string().size() == 2) ++loose;
  }
  EXPECT_EQ(packs, 1u);
  EXPECT_EQ(loose, 0u);

  // Writing goes on: the next publish and a rollback to a retained generation.
  std::string error;
  ASSERT_TRUE(sample::WriteDashboard(f.src, {.seed = 7, .run = kGenerations + 1}, &error));
  auto g = f.repo->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->number, static_cast<uint64_t>(kGenerations + 1));
  auto rb = f.repo->Rollback(kGenerations - 1);
  ASSERT_TRUE(rb) << rb.error().ToString();
  auto v = f.repo->VerifyGeneration(rb->number);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok());
  // A second prune with nothing new to drop only repacks what was added.
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 20, .prune_history = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_TRUE(rep->history_pruned.empty());
  fsck = RunCli({"fsck", f.root});
  EXPECT_EQ(fsck.exit, 0) << fsck;
}

TEST(PruneHistory, DryRunChangesNothing) {
  RetentionFixture f;
  for (int i = 1; i <= 5; ++i) f.Publish(i);
  auto head = f.repo->Generation(5);
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 2, .dry_run = true, .prune_history = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->history_pruned, Seq(1, 3));
  EXPECT_EQ(rep->history_kept, 2u);
  EXPECT_EQ(f.repo->Generation(5)->commit, head->commit);
  EXPECT_TRUE(f.repo->Generation(1));
  EXPECT_EQ(f.Materialized(), Seq(1, 5));
}

}  // namespace
}  // namespace txdir::testing
