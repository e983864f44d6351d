// `txdir log` (changes, --since, --path, --json), `txdir diff` and
// `txdir wait`, run through the built binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tests/history/history_test_util.h"

namespace txdir::testing {
namespace {

using nlohmann::json;

std::string Bin(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// --- log

class LogCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a.txt", "hello\n"}, {"b.txt", "12345"}}, "one").exit, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));  // distinct times (ms)
    ASSERT_EQ(f_.Publish({{"a.txt", "hello world\n"}, {"c/d.txt", "xyz"}}, "two\x1b[31m red").exit,
              0);
  }
  CliFixture f_;
};

TEST_F(LogCliTest, TextShowsChangesAndSizesAndEscapesControlCharacters) {
  CliResult r = RunCli({"log", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "generation 2 (live)")) << r;
  EXPECT_TRUE(HasLine(r.out, "  changes: 1 added, 1 modified, 1 removed; +15 -11 bytes")) << r;
  EXPECT_TRUE(HasLine(r.out, "  size:   2 files, 15 bytes")) << r;
  EXPECT_TRUE(HasLine(r.out, "  changes: 2 added, 0 modified, 0 removed; +11 -0 bytes")) << r;
  EXPECT_TRUE(HasLine(r.out, "  size:   2 files, 11 bytes")) << r;
  EXPECT_TRUE(HasLine(r.out, "    two\\x1b[31m red")) << r;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r;
}

TEST_F(LogCliTest, OnelineIsOneLinePerGenerationWithCountsAndFirstMessageLine) {
  ASSERT_EQ(
      f_.Publish({{"a.txt", "hello world\n"}, {"c/d.txt", "xyz"}, {"e", "1"}}, "three\nsecond line")
          .exit,
      0);
  CliResult r = RunCli({"log", f_.root, "--oneline"});
  ASSERT_EQ(r.exit, 0) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r;
  EXPECT_EQ(lines[0].rfind("3 (live)  20", 0), 0u) << r;
  EXPECT_TRUE(Has(lines[0], "  publish  +1 ~0 -0  three")) << r;
  EXPECT_FALSE(Has(r.out, "second line")) << r;
  EXPECT_TRUE(Has(lines[1], "  publish  +1 ~1 -1  two\\x1b[31m red")) << r;
  EXPECT_EQ(lines[2].rfind("1  20", 0), 0u) << r;
  EXPECT_TRUE(Has(lines[2], "+2 ~0 -0  one")) << r;
}

TEST_F(LogCliTest, StatListsChangedFilesAndRecordsOfSdnTables) {
  const std::string t1 = "todos |id, status|\n    1, open\n    2, open\n";
  const std::string t2 = "todos |id, status|\n    1, done\n    3, open\n";
  ASSERT_EQ(f_.Publish({{"a.txt", "x"}, {"t.sdn", t1}}, "tables").exit, 0);
  ASSERT_EQ(f_.Publish({{"a.txt", "x"}, {"t.sdn", t2}, {"bad.sdn", "|unterminated"}}, "edit").exit,
            0);
  CliResult r = RunCli({"log", f_.root, "--oneline", "--stat", "-n", "2"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "    M t.sdn  records: 1 changed, 1 added, 1 removed")) << r;
  EXPECT_TRUE(HasLine(r.out, "    A bad.sdn  records: not comparable (not valid SDN)")) << r;
  EXPECT_TRUE(HasLine(r.out, "    A t.sdn  records: 2 added")) << r;
  EXPECT_TRUE(HasLine(r.out, "    M a.txt")) << r;
  EXPECT_TRUE(HasLine(r.out, "    D c/d.txt")) << r;

  r = RunCli({"log", f_.root, "--stat", "--json", "-n", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  ASSERT_EQ(j[0]["changed"].size(), 2u) << r;
  EXPECT_EQ(j[0]["changed"][1], json({{"status", "M"},
                                      {"path", "t.sdn"},
                                      {"records", "records: 1 changed, 1 added, 1 removed"}}));
}

TEST_F(LogCliTest, OldestKeptAfterPruningIsNotShownAsAddingEveryFile) {
  ASSERT_EQ(f_.Publish({{"a.txt", "3"}}, "three").exit, 0);
  CliResult r = RunCli({"gc", f_.root, "--keep", "2", "--prune-history"});
  ASSERT_EQ(r.exit, 0) << r;
  r = RunCli({"log", f_.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(HasLine(r.out, "  changes: unknown: older generations removed by gc --prune-history"))
      << r;
  EXPECT_FALSE(Has(r.out, "2 added")) << r;
  r = RunCli({"show", f_.root, "2"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(
      HasLine(r.out, "parent:  none (older generations were removed by gc --prune-history)"))
      << r;
}

TEST_F(LogCliTest, JsonCarriesTheChanges) {
  CliResult r = RunCli({"log", f_.root, "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["generation"], 2);
  EXPECT_EQ(j[0]["live"], true);
  EXPECT_EQ(j[0]["message"], "two\x1b[31m red");  // JSON escapes it itself
  EXPECT_EQ(j[0]["changes"], json({{"added", 1},
                                   {"modified", 1},
                                   {"removed", 1},
                                   {"files", 2},
                                   {"bytes", 15},
                                   {"bytes_added", 15},
                                   {"bytes_removed", 11},
                                   {"bytes_changed", 26}}));
  EXPECT_EQ(j[1]["changes"]["added"], 2);
  EXPECT_EQ(j[1]["changes"]["bytes"], 11);
}

std::vector<int> Gens(const CliResult& r) {
  std::vector<int> out;
  if (r.exit != 0) return {-1};
  for (const auto& e : json::parse(r.out)) out.push_back(e["generation"].get<int>());
  return out;
}

TEST_F(LogCliTest, PathAndSinceFilter) {
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--path", "c"})), (std::vector<int>{2}));
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--path", "b.txt"})), (std::vector<int>{2, 1}));
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--path", "nothing/here"})),
            (std::vector<int>{}));
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--since", "1h"})), (std::vector<int>{2, 1}));
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--since", "2999-01-01"})),
            (std::vector<int>{}));
  // Since generation 2's own time, as log prints it: 2 only.
  json j = json::parse(RunCli({"log", f_.root, "--json"}).out);
  std::string t2 = j[0]["time"];
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--since", t2})), (std::vector<int>{2}));
  EXPECT_EQ(Gens(RunCli({"log", f_.root, "--json", "--since", "1h", "--path", "c", "-n", "1"})),
            (std::vector<int>{2}));

  CliResult bad = RunCli({"log", f_.root, "--since", "last tuesday"});
  EXPECT_EQ(bad.exit, 2) << bad;
  EXPECT_NE(bad.err.find("--since"), std::string::npos) << bad;
  EXPECT_EQ(RunCli({"log", f_.root, "--path", "/abs"}).exit, 8);
}

// --- diff

class DiffCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"notes.txt", "line1\nline2\nline3\n"},
                          {"old.txt", "old\n"},
                          {"img.bin", Bin({0, 1, 2, 'B', 'I', 'N'})},
                          {"tables/todos.sdn",
                           "todos |id, keyword, status, line|\n"
                           "    1, TODO, open, 10\n"
                           "    2, FIXME, open, 20\n"
                           "    3, TODO, open, 30\n"}})
                  .exit,
              0);
    ASSERT_EQ(f_.Publish({{"notes.txt", "line1\nLINE2\nline3\nline4\n"},
                          {"new.txt", "new\n"},
                          {"img.bin", Bin({0, 1, 3, 'B', 'I', 'N', '!'})},
                          {"tables/todos.sdn",
                           "todos |id, keyword, status, line|\n"
                           "    1, TODO, open, 10\n"
                           "    3, TODO, done, 31\n"
                           "    4, TODO, open, 40\n"}})
                  .exit,
              0);
  }
  CliFixture f_;
};

TEST_F(DiffCliTest, NameStatus) {
  CliResult r = RunCli({"diff", f_.root, "1", "2", "--name-status"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out,
            "M\timg.bin\n"
            "A\tnew.txt\n"
            "M\tnotes.txt\n"
            "D\told.txt\n"
            "M\ttables/todos.sdn\n");
  // Reversed, and `live` for the live generation.
  CliResult back = RunCli({"diff", f_.root, "live", "1", "--name-status"});
  ASSERT_EQ(back.exit, 0) << back;
  EXPECT_EQ(back.out,
            "M\timg.bin\n"
            "D\tnew.txt\n"
            "M\tnotes.txt\n"
            "A\told.txt\n"
            "M\ttables/todos.sdn\n");
  EXPECT_EQ(RunCli({"diff", f_.root, "2", "2", "--name-status"}).out, "");
}

TEST_F(DiffCliTest, Stat) {
  CliResult r = RunCli({"diff", f_.root, "1", "2", "--stat"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out,
            " img.bin          | binary, 6 -> 7 bytes\n"
            " new.txt          | +1 -0\n"
            " notes.txt        | +2 -1\n"
            " old.txt          | +0 -1\n"
            " tables/todos.sdn | +2 -2\n"
            " 5 files changed, 5 insertions(+), 4 deletions(-)\n");
}

TEST_F(DiffCliTest, UnifiedPatch) {
  CliResult r = RunCli({"diff", f_.root, "1", "2"});
  ASSERT_EQ(r.exit, 0) << r;
  for (const char* line : {"diff --git a/notes.txt b/notes.txt",
                           "--- a/notes.txt",
                           "+++ b/notes.txt",
                           "@@ -1,3 +1,4 @@",
                           " line1",
                           "-line2",
                           "+LINE2",
                           " line3",
                           "+line4",
                           "diff --git a/old.txt b/old.txt",
                           "deleted file mode 100644",
                           "+++ /dev/null",
                           "-old",
                           "diff --git a/new.txt b/new.txt",
                           "new file mode 100644",
                           "+new",
                           "diff --git a/img.bin b/img.bin",
                           "binary files differ",
                           "diff --git a/tables/todos.sdn b/tables/todos.sdn",
                           "-    2, FIXME, open, 20",
                           "+    4, TODO, open, 40"})
    EXPECT_TRUE(HasLine(r.out, line)) << "missing line: " << line << "\n" << r;
  EXPECT_EQ(r.out.find("Binary files"), std::string::npos) << r;
}

TEST_F(DiffCliTest, PathLimitsToAFileOrDirectory) {
  CliResult dir = RunCli({"diff", f_.root, "1", "2", "--name-status", "tables"});
  ASSERT_EQ(dir.exit, 0) << dir;
  EXPECT_EQ(dir.out, "M\ttables/todos.sdn\n");
  CliResult file = RunCli({"diff", f_.root, "1", "2", "notes.txt"});
  ASSERT_EQ(file.exit, 0) << file;
  EXPECT_TRUE(HasLine(file.out, "+LINE2")) << file;
  EXPECT_FALSE(HasLine(file.out, "-old")) << file;
  EXPECT_EQ(Lines(file.out).front(), "diff --git a/notes.txt b/notes.txt");
  CliResult stat = RunCli({"diff", f_.root, "1", "2", "--stat", "notes.txt"});
  EXPECT_EQ(stat.out,
            " notes.txt | +2 -1\n"
            " 1 file changed, 2 insertions(+), 1 deletion(-)\n");
}

TEST_F(DiffCliTest, RecordsOfSdnTables) {
  CliResult r = RunCli({"diff", f_.root, "1", "2", "--records"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out,
            "== tables/todos.sdn\n"
            "table todos: 1 added, 1 removed, 1 changed\n"
            "  removed 2\n"
            "  changed 3: status: \"open\" -> \"done\", line: \"30\" -> \"31\"\n"
            "  added 4\n"
            "M\timg.bin (not an SDN table)\n"
            "A\tnew.txt (not an SDN table)\n"
            "M\tnotes.txt (not an SDN table)\n"
            "D\told.txt (not an SDN table)\n");
  CliResult only = RunCli({"diff", f_.root, "2", "1", "--records", "tables/"});
  ASSERT_EQ(only.exit, 0) << only;
  EXPECT_EQ(only.out,
            "== tables/todos.sdn\n"
            "table todos: 1 added, 1 removed, 1 changed\n"
            "  changed 3: status: \"done\" -> \"open\", line: \"31\" -> \"30\"\n"
            "  removed 4\n"
            "  added 2\n");
}

TEST_F(DiffCliTest, Errors) {
  EXPECT_EQ(RunCli({"diff", f_.root, "1", "x"}).exit, 2);
  EXPECT_EQ(RunCli({"diff", f_.root, "1", "2", "--stat", "--name-status"}).exit, 2);
  EXPECT_EQ(RunCli({"diff", f_.root, "1", "2", "--stat", "--records"}).exit, 2);
  CliResult missing = RunCli({"diff", f_.root, "1", "9"});
  EXPECT_EQ(missing.exit, 3) << missing;
  EXPECT_EQ(RunCli({"diff", f_.root, "1", "2", "../etc"}).exit, 8);
}

// --- wait

class WaitCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(f_.Publish({{"a.txt", "1"}}).exit, 0); }
  CliFixture f_;
};

TEST_F(WaitCliTest, ReturnsTheNewGenerationSoonAfterAPublish) {
  using Clock = std::chrono::steady_clock;
  BackgroundCli w({"wait", f_.root, "--after", "1", "--timeout", "30"}, f_.tmp / "w.out",
                  f_.tmp / "w.err");
  ASSERT_TRUE(w.started());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it start watching
  auto t0 = Clock::now();
  ASSERT_EQ(f_.Publish({{"a.txt", "2"}}).exit, 0);
  auto t1 = Clock::now();
  CliResult r = w.Wait();
  auto t2 = Clock::now();
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "2\n");
  auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf(
      "[ wait ] publish took %lld ms; wait exited %lld ms after the publish started, %lld "
      "ms after it returned\n",
      ms(t1 - t0), ms(t2 - t0), ms(t2 - t1));
}

TEST_F(WaitCliTest, AfterTheLiveGenerationBlocksUntilTheNext) {
  MakeTree(f_.src, {{"a.txt", "2"}});
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // publishes 200 ms from now
    ::usleep(200 * 1000);
    ::execl(TXDIR_CLI, TXDIR_CLI, "-q", "publish", f_.root.c_str(), "--from", f_.src.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  CliResult r = RunCli({"wait", f_.root, "--after", "1", "--timeout", "30"});
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "2\n");  // generation 2 exists only once the child published it
}

TEST_F(WaitCliTest, ReturnsAtOnceWhenAlreadyNewer) {
  CliResult r = RunCli({"wait", f_.root, "--after", "0"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(WaitCliTest, TimeoutExitsWith11) {
  CliResult r = RunCli({"wait", f_.root, "--timeout", "0.3"});
  EXPECT_EQ(r.exit, 11) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("(timeout)"), std::string::npos) << r;
  // The global --timeout before the command means the same for wait.
  EXPECT_EQ(RunCli({"--timeout", "0.2", "wait", f_.root, "--after", "1"}).exit, 11);
  EXPECT_EQ(RunCli({"wait", f_.root, "--after", "x"}).exit, 2);
  EXPECT_EQ(RunCli({"wait", f_.tmp / "none", "--timeout", "1"}).exit, 3);
}

}  // namespace
}  // namespace txdir::testing
