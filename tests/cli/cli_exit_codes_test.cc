// The CLI's errors: documented exit codes (tools/txdir/cli.h) and messages
// that name the offending path or value.
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <chrono>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

constexpr int kUsage = 2, kNotFound = 3, kLocked = 4, kInvalidInput = 8, kExists = 9;

class CliErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(f_.Publish({{"a", "one"}}).exit, 0); }
  CliFixture f_;
};

TEST_F(CliErrorTest, MissingRequiredArgumentsAreUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {},                    // no command
      {"init"},              // no DIR
      {"publish", f_.root},  // no --from
      {"publish", "--from", f_.src},
      {"status"},
      {"log"},
      {"show", f_.root},  // no GEN
      {"cat", f_.root},   // no PATH
      {"recover"},
      {"rollback"},
  };
  for (const auto& args : cases) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kUsage) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_FALSE(r.err.empty()) << ::testing::PrintToString(args);
  }
}

TEST_F(CliErrorTest, UnknownOptionsAndCommandsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"log", f_.root, "--bogus"},
           {"status", f_.root, "--frobnicate"},
           {"frobnicate", f_.root},
           {"publish", f_.root, "--from", f_.src, "--symlinks", "follow"},
           {"log", f_.root, "-n", "0"},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kUsage) << ::testing::PrintToString(args) << "\n" << r;
  }
  CliResult r = RunCli({"log", f_.root, "--bogus"});
  EXPECT_TRUE(Has(r.err, "--bogus")) << r;
}

TEST_F(CliErrorTest, ExtraArgumentsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", f_.root, "extra"},
           {"log", f_.root, "extra"},
           {"recover", f_.root, "extra"},
           {"init", f_.tmp / "new", "extra"},
           {"rollback", f_.root, "1", "2"},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kUsage) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_TRUE(Has(r.err, args.back())) << "names the extra argument: " << r;
  }
}

TEST_F(CliErrorTest, BadGenerationNumbersAreUsageErrors) {
  for (const std::string bad : {"0", "-1", "abc", "99999999999999999999", "1x", ""}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"show", f_.root, bad},
             {"show", f_.root, bad + ":a"},
             {"cat", f_.root, "a", "--gen", bad},
             {"rollback", f_.root, bad},
         }) {
      if (bad.empty() && args[0] != "show") continue;  // "" is "no GEN" for the others
      CliResult r = RunCli(args);
      EXPECT_EQ(r.exit, kUsage) << ::testing::PrintToString(args) << "\n" << r;
      if (!bad.empty()) {
        EXPECT_TRUE(Has(r.err, bad)) << "names the value: " << r;
      }
    }
  }
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "one") << "nothing changed";
}

TEST_F(CliErrorTest, UnknownGenerationIsNotFound) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"show", f_.root, "99"},
           {"show", f_.root, "99:a"},
           {"cat", f_.root, "a", "--gen", "99"},
           {"rollback", f_.root, "99"},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kNotFound) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_TRUE(Has(r.err, "99")) << r;
  }
}

TEST_F(CliErrorTest, MissingFileIsNotFound) {
  CliResult r = RunCli({"cat", f_.root, "no-such-file"});
  EXPECT_EQ(r.exit, kNotFound) << r;
  EXPECT_TRUE(Has(r.err, "no-such-file")) << r;
  r = RunCli({"show", f_.root, "1:no-such-file"});
  EXPECT_EQ(r.exit, kNotFound) << r;
  EXPECT_TRUE(Has(r.err, "no-such-file")) << r;
}

TEST_F(CliErrorTest, CatOfADirectoryIsNotFoundWithOrWithoutGen) {
  ASSERT_EQ(f_.Publish({{"dir/f", "x"}}).exit, 0);
  CliResult live = RunCli({"cat", f_.root, "dir"});
  EXPECT_EQ(live.exit, kNotFound) << live;
  EXPECT_TRUE(Has(live.err, "dir")) << live;
  CliResult gen = RunCli({"cat", f_.root, "dir", "--gen", "2"});
  EXPECT_EQ(gen.exit, kNotFound) << gen;
}

TEST_F(CliErrorTest, GlobalOptionAfterTheCommandIsAccepted) {
  // docs/cli.md: global options go before or after the command name.
  CliResult r = RunCli({"publish", f_.root, "--from", f_.src, "--timeout", "0", "-q"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "") << r;
  CliResult bad = RunCli({"publish", f_.root, "--from", f_.src, "--timeout", "soon"});
  EXPECT_EQ(bad.exit, kUsage) << bad;
  EXPECT_TRUE(Has(bad.err, "--timeout")) << bad;
}

TEST_F(CliErrorTest, NothingToRollBackIsNotFound) {
  CliResult r = RunCli({"rollback", f_.root});
  EXPECT_EQ(r.exit, kNotFound) << r;
  EXPECT_TRUE(Has(r.err, "generation 1")) << r;
}

TEST_F(CliErrorTest, DirectoryThatIsNotARepositoryIsNotFound) {
  const std::string plain = f_.tmp / "plain";
  std::filesystem::create_directories(plain);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", plain},
           {"log", plain},
           {"show", plain, "1"},
           {"cat", plain, "a"},
           {"recover", plain},
           {"rollback", plain},
           {"publish", plain, "--from", f_.src},
           {"status", f_.tmp / "does-not-exist"},
       }) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kNotFound) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_TRUE(Has(r.err, args[1])) << "names the directory: " << r;
    EXPECT_TRUE(Has(r.err, "not a txdir repository")) << r;
  }
}

TEST_F(CliErrorTest, LockTimeoutNamesTheHolder) {
  // Hold the writer lock from this process, as a real writer does: flock
  // plus holder information in the file.
  const std::string lock = f_.root + "/.txdir/lock";
  int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const int64_t since = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const std::string info =
      "{\"pid\":" + std::to_string(::getpid()) + ",\"host\":\"" + host +
      "\",\"command\":\"cli-lock-holder-test\",\"since_ms\":" + std::to_string(since) + "}\n";
  ASSERT_EQ(::write(fd, info.data(), info.size()), static_cast<ssize_t>(info.size()));

  MakeTree(f_.src, {{"a", "two"}});
  CliResult r = RunCli({"--timeout", "0", "publish", f_.root, "--from", f_.src});
  EXPECT_EQ(r.exit, kLocked) << r;
  EXPECT_TRUE(Has(r.err, "pid " + std::to_string(::getpid()) + " on " + host)) << r;
  EXPECT_TRUE(Has(r.err, "cli-lock-holder-test")) << r;
  EXPECT_TRUE(Has(r.err, "since ")) << r;
  EXPECT_EQ(RunCli({"--timeout", "0", "rollback", f_.root}).exit, kLocked);
  EXPECT_EQ(RunCli({"--timeout", "0", "recover", f_.root}).exit, kLocked);

  CliResult st = RunCli({"status", f_.root});
  EXPECT_EQ(st.exit, 0) << st;
  EXPECT_TRUE(Has(st.out, "writer lock: held by pid " + std::to_string(::getpid()))) << st;
  EXPECT_TRUE(Has(st.out, "cli-lock-holder-test")) << st;
  // Readers are never blocked by a writer.
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "one");

  ::close(fd);  // releases the lock
  r = RunCli({"--timeout", "0", "publish", f_.root, "--from", f_.src});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "two");
}

TEST_F(CliErrorTest, PublishingAFifoIsInvalidInputAndKeepsTheLiveGeneration) {
  MakeTree(f_.src, {{"a", "two"}});
  ASSERT_EQ(::mkfifo((f_.src + "/queue").c_str(), 0644), 0);
  CliResult r = RunCli({"publish", f_.root, "--from", f_.src});
  EXPECT_EQ(r.exit, kInvalidInput) << r;
  EXPECT_TRUE(Has(r.err, "queue")) << r;
  EXPECT_TRUE(Has(r.err, "fifo")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "one");
  CliResult st = RunCli({"status", f_.root});
  EXPECT_TRUE(Has(st.out, "live:        generation 1")) << st;
  EXPECT_TRUE(Has(st.out, "committed:   generation 1")) << st;
}

TEST_F(CliErrorTest, SymlinkOutsideIsInvalidInputUnlessKept) {
  MakeTree(f_.src, {{"a", "two"}});
  std::filesystem::create_symlink("/etc/hostname", f_.src + "/escape");
  CliResult r = RunCli({"publish", f_.root, "--from", f_.src});
  EXPECT_EQ(r.exit, kInvalidInput) << r;
  EXPECT_TRUE(Has(r.err, "escape")) << r;
  EXPECT_TRUE(Has(r.err, "--symlinks=keep")) << "suggests the way out: " << r;
  r = RunCli({"publish", f_.root, "--from", f_.src, "--symlinks", "keep"});
  EXPECT_EQ(r.exit, 0) << r;
}

TEST_F(CliErrorTest, InitOnAnExistingRepositoryIsExists) {
  CliResult r = RunCli({"init", f_.root});
  EXPECT_EQ(r.exit, kExists) << r;
  EXPECT_TRUE(Has(r.err, f_.root)) << r;
  EXPECT_TRUE(Has(r.err, "already")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "one") << "the repository is untouched";
}

TEST_F(CliErrorTest, BadPathIsInvalidInput) {
  CliResult r = RunCli({"cat", f_.root, "../a"});
  EXPECT_EQ(r.exit, kInvalidInput) << r;
  EXPECT_TRUE(Has(r.err, "../a")) << r;
}

// cat of a path that is a symbolic link in the generation: the same refusal
// with and without --gen (the live copy is a real link; the store holds the
// target as a blob), naming the target, and never a byte from outside.
TEST(CliStoredLinkTest, CatAndShowRefuseALinkAlikeAndNeverFollowIt) {
  CliFixture f;
  TempDir outside;
  MakeTree(outside.path(), {{"secret", "SECRET"}, {"dir/x", "SECRET"}});
  MakeTree(f.src, {{"a", "alpha"}});
  std::filesystem::create_symlink("a", f.src + "/in");
  std::filesystem::create_symlink(outside / "secret", f.src + "/out");
  std::filesystem::create_symlink(outside / "dir", f.src + "/outdir");
  CliResult pub = RunCli({"publish", f.root, "--from", f.src, "--symlinks", "keep"});
  ASSERT_EQ(pub.exit, 0) << pub;

  for (const auto& [path, target] : std::vector<std::pair<std::string, std::string>>{
           {"in", "a"}, {"out", outside / "secret"}, {"outdir", outside / "dir"}}) {
    const std::string want = "txdir: error: is a symbolic link (to '" + target +
                             "'), not a file: " + path + " (invalid argument)\n";
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"cat", f.root, path},
                                               {"cat", f.root, path, "--gen", "1"},
                                               {"show", f.root, "1:" + path}}) {
      CliResult r = RunCli(args);
      EXPECT_EQ(r.exit, kInvalidInput) << ::testing::PrintToString(args) << "\n" << r;
      EXPECT_EQ(r.err, want) << ::testing::PrintToString(args);
      EXPECT_EQ(r.out, "") << ::testing::PrintToString(args);
    }
  }
  // Through the link to a directory outside: no such file in the generation.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"cat", f.root, "outdir/x"},
                                             {"cat", f.root, "outdir/x", "--gen", "1"},
                                             {"show", f.root, "1:outdir/x"}}) {
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, kNotFound) << ::testing::PrintToString(args) << "\n" << r;
    EXPECT_FALSE(Has(r.out + r.err, "SECRET")) << r;
  }
  CliResult a = RunCli({"cat", f.root, "a"});
  EXPECT_EQ(a.exit, 0) << a;
  EXPECT_EQ(a.out, "alpha");
}

}  // namespace
}  // namespace txdir::testing
