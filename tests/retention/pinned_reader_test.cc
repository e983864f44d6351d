// A reader pinned inside generation N (a child process holding a Snapshot)
// while `txdir gc --keep 1` runs: N survives, is reported pinned, and the
// reader still reads it byte for byte; once the reader leaves, the next gc
// removes it. Synchronised with pipes, not sleeps.
#include <gmock/gmock.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/retention/retention_util.h"
#include "txdir/snapshot.h"

namespace txdir::testing {
namespace {

// The child: pin the live generation, report its number, wait for the
// word, read everything again through the pin. Exit 0 when every byte is
// what it was.
[[noreturn]] void Reader(const std::string& root, int ready_fd, int go_fd) {
  auto snap = Snapshot::OpenLive(root);
  if (!snap) ::_exit(10);
  std::map<std::string, std::string> before;
  auto listed = snap->ListFiles();
  if (!listed) ::_exit(9);
  for (const auto& p : *listed) before[p] = *snap->ReadFile(p);
  uint64_t gen = snap->generation();
  if (::write(ready_fd, &gen, sizeof gen) != sizeof gen) ::_exit(11);
  char c;
  if (::read(go_fd, &c, 1) != 1) ::_exit(12);
  auto files = snap->ListFiles();
  if (!files) ::_exit(13);
  std::map<std::string, std::string> after;
  for (const auto& p : *files) {
    auto data = snap->ReadFile(p);
    if (!data) ::_exit(14);
    after[p] = *data;
  }
  ::_exit(after == before && !before.empty() ? 0 : 15);
}

nlohmann::json Gc(const std::string& root) {
  auto r = RunCli({"gc", root, "--keep", "1", "--json"});
  EXPECT_EQ(r.exit, 0) << r;
  return nlohmann::json::parse(r.out, nullptr, false);
}

TEST(PinnedReader, GcSkipsAPinnedGenerationUntilTheReaderLeaves) {
  RetentionFixture f;
  for (int i = 1; i <= 3; ++i) f.Publish(i, {{"big.txt", std::string(100000, 'a' + i)}});
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    Reader(f.root, ready[1], go[0]);
  }
  ::close(ready[1]);
  ::close(go[0]);
  uint64_t pinned = 0;
  if (::read(ready[0], &pinned, sizeof pinned) != static_cast<ssize_t>(sizeof pinned)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    FAIL() << "the reader did not start: status " << status;
  }
  ASSERT_EQ(pinned, 3u);
  f.Publish(4);
  f.Publish(5);

  auto j = Gc(f.root);
  EXPECT_EQ(j["pinned"], nlohmann::json({3})) << j.dump();
  EXPECT_EQ(j["removed"], nlohmann::json({1, 2, 4})) << j.dump();
  EXPECT_EQ(f.Materialized(), (std::vector<uint64_t>{3, 5}));
  // Still pinned: still skipped, and the text output says so.
  auto r = RunCli({"gc", f.root, "--keep", "1"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("pinned:  3"), std::string::npos) << r;
  EXPECT_EQ(f.Materialized(), (std::vector<uint64_t>{3, 5}));

  // The reader reads generation 3 again, byte for byte, then leaves.
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the pinned reader saw its generation change";
  ::close(ready[0]);
  ::close(go[1]);

  j = Gc(f.root);
  EXPECT_EQ(j["removed"], nlohmann::json({3})) << j.dump();
  EXPECT_TRUE(j["pinned"].empty()) << j.dump();
  EXPECT_EQ(f.Materialized(), std::vector<uint64_t>{5});
}

// A pull that replaces local generations renames their directories to
// gens/.trash-* (a rename, so a reader inside keeps its files); recovery
// must not delete such a directory while a reader still pins it.
TEST(PinnedReader, RecoveryKeepsARetiredDirectoryWhileAReaderIsInside) {
  RetentionFixture f;
  for (int i = 1; i <= 2; ++i) f.Publish(i);
  auto snap = Snapshot::OpenGeneration(f.root, 1);
  ASSERT_TRUE(snap) << snap.error().ToString();
  const std::string gens = f.root + "/.txdir/gens";
  ASSERT_EQ(::rename((gens + "/1").c_str(), (gens + "/.trash-1-test").c_str()), 0);

  auto rep = f.repo->Recover();
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_THAT(rep->actions,
              ::testing::Contains("kept gens/.trash-1-test: a reader still has it pinned"));
  EXPECT_TRUE(stdfs::exists(gens + "/.trash-1-test"));
  EXPECT_EQ(*snap->ReadFile("a.txt"), "v1\n");

  snap = Snapshot::OpenGeneration(f.root, 2);  // releases the pin on 1
  ASSERT_TRUE(snap) << snap.error().ToString();
  rep = f.repo->Recover();
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_THAT(rep->actions, ::testing::Contains("removed gens/.trash-1-test"));
  EXPECT_FALSE(stdfs::exists(gens + "/.trash-1-test"));
  EXPECT_EQ(f.Materialized(), (std::vector<uint64_t>{2}));
}

// A Snapshot in this very process pins too (flock is per open file).
TEST(PinnedReader, PinnedGenerationStaysInHistoryUnderPruneHistory) {
  RetentionFixture f;
  for (int i = 1; i <= 2; ++i) f.Publish(i);
  auto snap = Snapshot::OpenGeneration(f.root, 1);
  ASSERT_TRUE(snap) << snap.error().ToString();
  for (int i = 3; i <= 4; ++i) f.Publish(i);
  auto rep = CollectGarbage(*f.repo, GcOptions{.keep = 1, .prune_history = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->pinned, std::vector<uint64_t>{1});
  EXPECT_EQ(rep->history_pruned, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(*snap->ReadFile("a.txt"), "v1\n");
  EXPECT_EQ(*f.repo->ReadFile(1, "a.txt"), "v1\n");
  EXPECT_FALSE(f.repo->ReadFile(2, "a.txt"));
  snap = Snapshot::OpenGeneration(f.root, 4);  // releases the pin on 1
  rep = CollectGarbage(*f.repo, GcOptions{.keep = 1, .prune_history = true});
  ASSERT_TRUE(rep) << rep.error().ToString();
  EXPECT_EQ(rep->removed, std::vector<uint64_t>{1});
  EXPECT_EQ(rep->history_pruned, std::vector<uint64_t>{1});
  EXPECT_EQ(f.Materialized(), std::vector<uint64_t>{4});
  auto fsck = Fsck(*f.repo);
  ASSERT_TRUE(fsck);
  EXPECT_TRUE(fsck->clean());
}

}  // namespace
}  // namespace txdir::testing
