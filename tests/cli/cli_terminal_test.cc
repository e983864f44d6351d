// On a terminal, and only there: long output goes through a pager and
// diffs are coloured, as git does; --no-pager, NO_COLOR and TERM=dumb turn
// them off. The binary runs on a pseudo-terminal here.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

// Runs the binary with a pseudo-terminal as stdin, stdout and stderr, and
// `env` set on top of (or, with an empty value, removed from) the
// environment. Returns everything it printed (the terminal turns "\n" into
// "\r\n"; that is undone) and its exit code.
CliResult RunCliOnTerminal(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  CliResult r;
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed";
    return r;
  }
  if (pid == 0) {
    for (const auto& [k, v] : env) {
      if (v.empty())
        ::unsetenv(k.c_str());
      else
        ::setenv(k.c_str(), v.c_str(), 1);
    }
    CliArgv argv(args);
    ::execv(TXDIR_CLI, argv.data());
    ::_exit(127);
  }
  std::string all;
  char buf[4096];
  while (true) {
    struct pollfd p = {master, POLLIN, 0};
    if (::poll(&p, 1, 20000) <= 0) break;  // a hang fails below
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child and its pager have exited
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (char c : all)
    if (c != '\r') r.out.push_back(c);
  return r;
}

class CliTerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(
        f_.Publish({{"a.txt", "one\n"}, {"t.sdn", "todos |id, s|\n    1, open\n"}}, "first").exit,
        0);
    ASSERT_EQ(
        f_.Publish({{"a.txt", "two\n"}, {"t.sdn", "todos |id, s|\n    1, done\n"}}, "second").exit,
        0);
  }
  CliFixture f_;
  // Marks each line the pager passes on.
  const std::map<std::string, std::string> paged_ = {
      {"TXDIR_PAGER", "sed s/^/PAGED:/"}, {"NO_COLOR", ""}, {"TERM", "xterm"}};
};

TEST_F(CliTerminalTest, LogShowDiffAndBlameArePagedOnATerminal) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"log", f_.root, "--oneline"},
                                             {"show", f_.root, "live"},
                                             {"diff", f_.root, "1", "2"},
                                             {"blame", f_.root, "t.sdn", "todos"}}) {
    CliResult r = RunCliOnTerminal(args, paged_);
    EXPECT_EQ(r.exit, 0) << ::testing::PrintToString(args) << "\n" << r;
    for (const auto& line : Lines(r.out))
      EXPECT_EQ(line.rfind("PAGED:", 0), 0u) << ::testing::PrintToString(args) << "\n" << r;
  }
}

TEST_F(CliTerminalTest, NoPagerQuietPipesAndOtherCommandsAreNotPaged) {
  CliResult r = RunCliOnTerminal({"--no-pager", "log", f_.root, "--oneline"}, paged_);
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(Has(r.out, "PAGED:")) << r;
  EXPECT_TRUE(Has(r.out, "2 (live)")) << r;
  r = RunCliOnTerminal({"cat", f_.root, "a.txt"}, paged_);
  EXPECT_EQ(r.out, "two\n") << r;
  r = RunCliOnTerminal({"status", f_.root}, paged_);
  EXPECT_FALSE(Has(r.out, "PAGED:")) << r;
  // Not a terminal: never paged, whatever the environment says.
  ::setenv("TXDIR_PAGER", "sed s/^/PAGED:/", 1);
  r = RunCli({"log", f_.root, "--oneline"});
  ::unsetenv("TXDIR_PAGER");
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(Has(r.out, "PAGED:")) << r;
}

TEST_F(CliTerminalTest, AMissingPagerIsNamedAndTheOutputStillPrinted) {
  CliResult r = RunCliOnTerminal({"log", f_.root, "--oneline"},
                                 {{"TXDIR_PAGER", "no-such-pager-here"}, {"PAGER", ""}});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "pager 'no-such-pager-here' not found")) << r;
  EXPECT_TRUE(Has(r.out, "2 (live)")) << r;
}

TEST_F(CliTerminalTest, DiffsAreColouredOnATerminalUnlessNoColorOrDumb) {
  const std::map<std::string, std::string> plain_pager = {
      {"TXDIR_PAGER", "cat"}, {"NO_COLOR", ""}, {"TERM", "xterm"}};
  CliResult r = RunCliOnTerminal({"diff", f_.root, "1", "2"}, plain_pager);
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "\x1b[31m-one\x1b[m")) << r;
  EXPECT_TRUE(Has(r.out, "\x1b[1mdiff --git a/a.txt b/a.txt\x1b[m")) << r;
  EXPECT_TRUE(Has(r.out, "\x1b[32m+two\x1b[m")) << r;
  EXPECT_TRUE(Has(r.out, "\x1b[36m@@")) << r;

  auto no_color = plain_pager;
  no_color["NO_COLOR"] = "1";
  r = RunCliOnTerminal({"diff", f_.root, "1", "2"}, no_color);
  EXPECT_TRUE(Has(r.out, "+two")) << r;
  EXPECT_FALSE(Has(r.out, "\x1b[")) << r;

  auto dumb = plain_pager;
  dumb["TERM"] = "dumb";
  r = RunCliOnTerminal({"show", f_.root, "2"}, dumb);
  EXPECT_TRUE(Has(r.out, "+two")) << r;
  EXPECT_FALSE(Has(r.out, "\x1b[")) << r;

  r = RunCli({"diff", f_.root, "1", "2"});  // a pipe: never
  EXPECT_FALSE(Has(r.out, "\x1b[")) << r;
}

TEST_F(CliTerminalTest, PublishShowsOneProgressLineOnATerminalOnly) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 40; ++i) files["f" + std::to_string(i)] = std::string(1000, 'x');
  files["a.txt"] = "three\n";
  MakeTree(f_.src, files);
  const std::map<std::string, std::string> now = {{"TXDIR_PROGRESS_DELAY_MS", "0"}};
  CliResult r = RunCliOnTerminal({"publish", f_.root, "--from", f_.src}, now);
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "publish: reading files: 100% (41/41), 0.0 MiB, done.\x1b[K\n")) << r;
  EXPECT_TRUE(Has(r.out, "published generation 3")) << r;
  // The line is rewritten in place, never scrolled: one newline in all of it.
  const size_t start = r.out.find("publish: reading files");
  ASSERT_NE(start, std::string::npos) << r;
  EXPECT_EQ(r.out.find('\n', start), r.out.find(", done.") + 10) << r;

  files["a.txt"] = "four\n";
  MakeTree(f_.src, files);
  r = RunCliOnTerminal({"-q", "publish", f_.root, "--from", f_.src}, now);
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "") << "-q: no progress either";

  files["a.txt"] = "five\n";
  MakeTree(f_.src, files);
  ::setenv("TXDIR_PROGRESS_DELAY_MS", "0", 1);
  r = RunCli({"publish", f_.root, "--from", f_.src});
  ::unsetenv("TXDIR_PROGRESS_DELAY_MS");
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(Has(r.err, "reading files")) << "stderr is not a terminal: " << r;
}

// The progress line of every long operation: one line per stage, each
// ending ", done." with its final count, on stderr when it is a terminal.
TEST_F(CliTerminalTest, CheckoutClonePushPullGcAndFsckShowTheirStagesOnATerminal) {
  const std::map<std::string, std::string> now = {{"TXDIR_PROGRESS_DELAY_MS", "0"}};
  auto run = [&](const std::vector<std::string>& args) {
    CliResult r = RunCliOnTerminal(args, now);
    EXPECT_EQ(r.exit, 0) << r;
    return r;
  };
  const std::string store = f_.root + "/.txdir/store.git";
  const std::string out = f_.tmp / "out", clone = f_.tmp / "clone";

  CliResult r = run({"checkout", f_.root, "2", "--to", out});
  EXPECT_TRUE(Has(r.out, "checkout: writing files: 100% (2/2), 0.0 MiB, done.\x1b[K\n")) << r;

  r = run({"clone", store, clone});
  EXPECT_TRUE(Has(r.out, "clone: receiving objects: 100% (")) << r;
  EXPECT_TRUE(Has(r.out, "cloned ")) << r;

  ASSERT_EQ(f_.Publish({{"a.txt", "three\n"}, {"t.sdn", "todos |id, s|\n    1, done\n"}}).exit, 0);
  r = run({"pull", clone});
  EXPECT_TRUE(Has(r.out, "pull: receiving objects: 100% (")) << r;

  const std::string bare = f_.tmp / "bare.git";
  ASSERT_EQ(RunCli({"remote", clone, "add", "mirror", bare}).exit, 0);
  ASSERT_EQ(::system(("git init -q --bare " + bare).c_str()), 0);
  r = run({"push", clone, "mirror"});
  // A local remote: objects, and no byte count (it would measure nothing).
  EXPECT_TRUE(Has(r.out, "push: writing objects: 100% (")) << r;
  EXPECT_FALSE(Has(r.out, "MiB")) << r;

  r = run({"gc", f_.root, "--keep", "1", "--prune-history"});
  EXPECT_TRUE(Has(r.out, "gc: removing generations: 100% (2/2), done.")) << r;
  EXPECT_TRUE(Has(r.out, "gc: rewriting history: 100% (1/1), done.")) << r;
  EXPECT_TRUE(Has(r.out, "gc: writing objects: 100% (")) << r;
  EXPECT_TRUE(Has(r.out, "removed: 1 2 (")) << r;

  r = run({"fsck", f_.root});
  EXPECT_TRUE(Has(r.out, "fsck: checking objects: (3), done.")) << r;
  EXPECT_TRUE(Has(r.out, "fsck: checking generations: 100% (1/1), done.")) << r;

  // Not a terminal: nothing of it.
  ::setenv("TXDIR_PROGRESS_DELAY_MS", "0", 1);
  r = RunCli({"fsck", f_.root});
  ::unsetenv("TXDIR_PROGRESS_DELAY_MS");
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_FALSE(Has(r.err, "checking")) << r;
}

}  // namespace
}  // namespace txdir::testing
