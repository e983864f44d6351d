// StoreReader (txdir/store_reader.h): the store read by immutable id, the
// public API `txdir serve` is built on. Ids are checked like any input, and
// what the reader returns agrees with git's own view of the store.
#include "txdir/store_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "tests/history/history_test_util.h"
#include "txdir/retention.h"

namespace txdir::testing {
namespace {

class StoreReaderTest : public ::testing::Test {
 protected:
  // gen 1: a.txt, b.txt; gen 2: a.txt changed, b.txt removed, c/d.txt and a
  // link added; gen 3: rollback to 1.
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a.txt", "one\n"}, {"b.txt", "bee\n"}}, "first"), 1u);
    MakeTree(f_.src, {{"a.txt", "two\n"}, {"c/d.txt", "deep\n"}});
    ASSERT_EQ(::symlink("a.txt", (f_.src + "/link").c_str()), 0);
    auto g2 = f_.repo->Publish(f_.src, PublishOptions{.message = "second"});
    ASSERT_TRUE(g2) << g2.error().ToString();
    ASSERT_TRUE(f_.repo->Rollback(1));
    auto r = StoreReader::Open(*f_.repo);
    ASSERT_TRUE(r) << r.error().ToString();
    reader_ = std::move(*r);
  }
  // `git --git-dir=<store> ARGS`, its output without the final newline.
  std::string Git(const std::string& args) {
    std::string out;
    EXPECT_EQ(RunShell("git --git-dir=" + f_.root + "/.txdir/store.git " + args, &out), 0)
        << args << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::vector<GenerationInfo> Walk(const std::string& from) {
    std::vector<GenerationInfo> seen;
    auto s = reader_->ForEachGeneration(from, [&](const GenerationInfo& g) {
      seen.push_back(g);
      return true;
    });
    EXPECT_TRUE(s) << s.error().ToString();
    return seen;
  }

  RepoFixture f_;
  std::unique_ptr<StoreReader> reader_;
};

TEST_F(StoreReaderTest, HeadAndEveryGenerationNewestFirstAsGitSeesThem) {
  auto head = reader_->Head();
  ASSERT_TRUE(head && *head) << (head ? "no head" : head.error().ToString());
  EXPECT_EQ(**head, Git("rev-parse refs/heads/main"));
  auto gens = Walk(**head);
  ASSERT_EQ(gens.size(), 3u);
  EXPECT_EQ(gens[0].number, 3u);
  EXPECT_EQ(gens[0].kind, "rollback");
  EXPECT_EQ(gens[0].restores, std::optional<uint64_t>(1));
  EXPECT_EQ(gens[0].parent, std::optional<uint64_t>(2));
  EXPECT_EQ(gens[1].message, "second");
  EXPECT_EQ(gens[2].number, 1u);
  EXPECT_EQ(gens[2].parent, std::nullopt);
  EXPECT_FALSE(gens[2].history_pruned);
  // The same commits and trees as git's first-parent log.
  EXPECT_EQ(gens[0].commit + "\n" + gens[1].commit + "\n" + gens[2].commit,
            Git("rev-list --first-parent refs/heads/main"));
  for (const auto& g : gens) EXPECT_EQ(g.tree, Git("rev-parse " + g.commit + "^{tree}"));
  // The same as the repository's own description.
  auto g2 = f_.repo->Generation(2);
  ASSERT_TRUE(g2);
  EXPECT_EQ(gens[1].commit, g2->commit);
  EXPECT_EQ(gens[1].time_ms, g2->time_ms);
  EXPECT_EQ(gens[1].author, g2->author);
}

TEST_F(StoreReaderTest, AWalkStopsWhenAskedAndStartsAnywhere) {
  auto gens = Walk(**reader_->Head());
  size_t calls = 0;
  ASSERT_TRUE(reader_->ForEachGeneration(gens[0].commit, [&](const GenerationInfo&) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1u);
  auto from2 = Walk(gens[1].commit);
  ASSERT_EQ(from2.size(), 2u);
  EXPECT_EQ(from2[0].number, 2u);
  EXPECT_EQ(from2[1].number, 1u);
}

TEST_F(StoreReaderTest, TreesFilesAndBlobsAreWhatGitHolds) {
  auto gens = Walk(**reader_->Head());
  const std::string tree2 = gens[1].tree;
  auto files = reader_->ListTree(tree2);
  ASSERT_TRUE(files) << files.error().ToString();
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "a.txt");
  EXPECT_EQ((*files)[1].path, "c/d.txt");
  EXPECT_EQ((*files)[2].path, "link");
  EXPECT_EQ((*files)[0].mode, 0100644u);
  EXPECT_EQ((*files)[2].mode, 0120000u);
  for (const auto& f : *files) EXPECT_EQ(f.blob, Git("rev-parse " + tree2 + ":" + f.path));

  auto deep = reader_->FindFile(tree2, "c/d.txt");
  ASSERT_TRUE(deep && *deep);
  EXPECT_EQ((*deep)->blob, (*files)[1].blob);
  auto text = reader_->ReadBlob((*deep)->blob);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "deep\n");
  auto target = reader_->ReadBlob((*files)[2].blob);
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, "a.txt");
  // No such file, and a directory: nothing there, no error.
  auto missing = reader_->FindFile(tree2, "b.txt");
  ASSERT_TRUE(missing) << missing.error().ToString();
  EXPECT_FALSE(*missing);
  auto dir = reader_->FindFile(tree2, "c");
  ASSERT_TRUE(dir) << dir.error().ToString();
  EXPECT_FALSE(*dir);
}

TEST_F(StoreReaderTest, IdsAreCheckedLikeAnyInput) {
  auto gens = Walk(**reader_->Head());
  const std::string blob = (*reader_->FindFile(gens[0].tree, "a.txt"))->blob;
  const std::string unknown(40, 'e');
  // Not an id at all.
  for (const std::string& bad : std::vector<std::string>{
           "", "abc", std::string(40, 'g'), std::string(41, 'a'), "../../etc/passwd",
           std::string("\x1b[2J") + std::string(36, 'a')}) {
    auto b = reader_->ReadBlob(bad);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, Code::kInvalidArgument) << b.error().ToString();
    EXPECT_EQ(b.error().ToString().find('\x1b'), std::string::npos);
    EXPECT_EQ(reader_->ListTree(bad).error().code, Code::kInvalidArgument);
    EXPECT_EQ(
        reader_->ForEachGeneration(bad, [](const GenerationInfo&) { return true; }).error().code,
        Code::kInvalidArgument);
  }
  // Not in the store.
  EXPECT_EQ(reader_->ReadBlob(unknown).error().code, Code::kNotFound);
  EXPECT_EQ(reader_->ListTree(unknown).error().code, Code::kNotFound);
  EXPECT_EQ(reader_->FindFile(unknown, "a.txt").error().code, Code::kNotFound);
  // The wrong kind of object.
  auto as_tree = reader_->ListTree(blob);
  ASSERT_FALSE(as_tree);
  EXPECT_EQ(as_tree.error().code, Code::kInvalidArgument);
  EXPECT_NE(as_tree.error().ToString().find("is a blob, not a tree"), std::string::npos)
      << as_tree.error().ToString();
  EXPECT_EQ(reader_->ReadBlob(gens[0].tree).error().code, Code::kInvalidArgument);
  EXPECT_EQ(reader_->FindFile(gens[0].commit, "a.txt").error().code, Code::kInvalidArgument);
  EXPECT_EQ(reader_->ForEachGeneration(gens[0].tree, [](const GenerationInfo&) { return true; })
                .error()
                .code,
            Code::kInvalidArgument);
  // A path that could not be in a tree.
  for (const std::string& bad : std::vector<std::string>{"../a.txt", "/a.txt", "a//b", ""})
    EXPECT_EQ(reader_->FindFile(gens[0].tree, bad).error().code, Code::kInvalidArgument) << bad;
}

TEST_F(StoreReaderTest, LiveGenerationFollowsTheLink) {
  auto live = reader_->LiveGeneration();
  ASSERT_TRUE(live && *live);
  EXPECT_EQ(**live, 3u);
  // A reader opened before a publish sees it at its next Head().
  ASSERT_EQ(f_.Publish({{"a.txt", "four\n"}}), 4u);
  EXPECT_EQ(**reader_->LiveGeneration(), 4u);
  auto gens = Walk(**reader_->Head());
  EXPECT_EQ(gens.front().number, 4u);
}

TEST_F(StoreReaderTest, ReadersOnTheirOwnThreadsAgree) {
  auto gens = Walk(**reader_->Head());
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      auto r = StoreReader::Open(*f_.repo);
      if (!r) return;
      for (int i = 0; i < 50; ++i) {
        auto f = (*r)->FindFile(gens[1].tree, "c/d.txt");
        if (!f || !*f) return;
        auto text = (*r)->ReadBlob((**f).blob);
        if (!text) return;
        got[t] = *text;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, "deep\n");
}

TEST_F(StoreReaderTest, APrunedHistoryEndsAtTheOldestKeptAndItsOldIdsAreGone) {
  auto before = Walk(**reader_->Head());
  auto gc = CollectGarbage(*f_.repo, GcOptions{.keep = 1, .prune_history = true});
  ASSERT_TRUE(gc) << gc.error().ToString();
  auto after = Walk(**reader_->Head());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].number, 3u);
  EXPECT_TRUE(after[0].history_pruned);
  EXPECT_EQ(after[0].parent, std::nullopt);
  EXPECT_EQ(after[0].tree, before[0].tree);  // same files, rewritten commit
  EXPECT_NE(after[0].commit, before[0].commit);
  // Generation 2's commit was pruned: its id is no longer in the store (a
  // reader opened before may still answer from its cache: ids are
  // immutable, so what it answers is right).
  auto fresh = StoreReader::Open(*f_.repo);
  ASSERT_TRUE(fresh);
  auto gone =
      (*fresh)->ForEachGeneration(before[1].commit, [](const GenerationInfo&) { return true; });
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::kNotFound) << gone.error().ToString();
}

TEST(StoreReaderEmpty, NoHeadBeforeTheFirstPublish) {
  RepoFixture f;
  auto r = StoreReader::Open(*f.repo);
  ASSERT_TRUE(r) << r.error().ToString();
  auto head = (*r)->Head();
  ASSERT_TRUE(head);
  EXPECT_FALSE(*head);
  auto live = (*r)->LiveGeneration();
  ASSERT_TRUE(live);
  EXPECT_FALSE(*live);
}

}  // namespace
}  // namespace txdir::testing
