// What txdir does when its standard output cannot be written: a full
// device, a closed fd, a reader that went away (docs/cli.md, "Output").
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

using nlohmann::json;

constexpr int kIo = 7;
const std::string kFullMessage =
    "txdir: cannot write to standard output: No space left on device\n";
const std::string kClosedMessage = "txdir: cannot write to standard output: Bad file descriptor\n";

// Where the child's fd 1 goes.
enum class Stdout {
  kDevFull,            // /dev/full: every write fails with ENOSPC
  kClosed,             // fd 1 closed
  kClosedWithStderr,   // fds 1 and 2 closed
  kBrokenPipe,         // a pipe nobody reads, SIGPIPE at its default
  kBrokenPipeIgnored,  // the same, with SIGPIPE ignored (as a parent may leave it)
};

struct Outcome {
  int exit = -1;    // exit code; -1 if killed by a signal
  int signal = 0;   // the signal that ended it, if any
  std::string err;  // what it wrote to stderr
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "exit " << o.exit << ", signal " << o.signal << "\n--- stderr:\n" << o.err;
}

// Runs txdir with stdout set up as `how`; stdin is /dev/null and stderr a
// file (unless closed).
Outcome RunWithStdout(Stdout how, const std::vector<std::string>& args) {
  TempDir io;
  const std::string err_path = io / "err";
  CliArgv argv(args);
  int pipe_fds[2] = {-1, -1};
  if (how == Stdout::kBrokenPipe || how == Stdout::kBrokenPipeIgnored) {
    EXPECT_EQ(::pipe(pipe_fds), 0);
    ::close(pipe_fds[0]);  // no reader, ever
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    int in = ::open("/dev/null", O_RDONLY);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(err, 2) < 0) ::_exit(120);
    switch (how) {
      case Stdout::kDevFull: {
        int full = ::open("/dev/full", O_WRONLY);
        if (full < 0 || ::dup2(full, 1) < 0) ::_exit(121);
        break;
      }
      case Stdout::kClosed:
        ::close(1);
        break;
      case Stdout::kClosedWithStderr:
        ::close(1);
        ::close(2);
        break;
      case Stdout::kBrokenPipeIgnored:
        ::signal(SIGPIPE, SIG_IGN);  // survives exec
        [[fallthrough]];
      case Stdout::kBrokenPipe:
        if (::dup2(pipe_fds[1], 1) < 0) ::_exit(122);
        break;
    }
    ::execv(TXDIR_CLI, argv.data());
    ::_exit(123);
  }
  if (pipe_fds[1] >= 0) ::close(pipe_fds[1]);
  Outcome o;
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status)) o.exit = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.err = ReadFile(err_path);
  return o;
}

// Two generations: a = "one", then a = "two" and a file of 1 MiB.
class CliOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a", "one"}}, "first").exit, 0);
    ASSERT_EQ(f_.Publish({{"a", "two"}, {"big", std::string(1 << 20, 'x')}}, "second").exit, 0);
  }

  // The generation numbers in the log, newest first.
  std::vector<uint64_t> Generations() {
    CliResult log = RunCli({"log", f_.root, "--json"});
    EXPECT_EQ(log.exit, 0) << log;
    std::vector<uint64_t> out;
    for (const auto& g : json::parse(log.out)) out.push_back(g["generation"].get<uint64_t>());
    return out;
  }

  CliFixture f_;
};

// Every reader prints; none may claim success when the output went nowhere.
std::vector<std::vector<std::string>> ReaderCommands(const std::string& root) {
  return {
      {"status", root},
      {"status", root, "--json"},
      {"log", root},
      {"log", root, "--json"},
      {"cat", root, "a"},
      {"cat", root, "a", "--gen", "1"},
      {"cat", root, "big"},  // larger than the output buffer: written directly
      {"show", root, "2"},
      {"show", root, "2", "--json"},
      {"show", root, "1:a"},
      {"diff", root, "1", "2"},
      {"diff", root, "1", "2", "--stat"},
      {"wait", root, "--after", "1"},  // generation 2 is live: prints 2 at once
      {"config", root},
      {"--help"},
  };
}

TEST_F(CliOutputTest, EveryReaderExitsSevenWhenStdoutIsFull) {
  for (const auto& args : ReaderCommands(f_.root)) {
    // The command itself works: its output is what fails.
    CliResult ok = RunCli(args);
    ASSERT_EQ(ok.exit, 0) << ::testing::PrintToString(args) << "\n" << ok;
    ASSERT_FALSE(ok.out.empty()) << ::testing::PrintToString(args);

    Outcome o = RunWithStdout(Stdout::kDevFull, args);
    EXPECT_EQ(o.exit, kIo) << ::testing::PrintToString(args) << "\n" << o;
    EXPECT_EQ(o.err, kFullMessage) << ::testing::PrintToString(args);
  }
}

TEST_F(CliOutputTest, ACommandThatPrintsNothingSucceedsOnAFullStdout) {
  // Only a write that fails is an error: -q publish writes nothing.
  MakeTree(f_.src, {{"a", "three"}});
  Outcome o = RunWithStdout(Stdout::kDevFull, {"-q", "publish", f_.root, "--from", f_.src});
  EXPECT_EQ(o.exit, 0) << o;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Generations(), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(CliOutputTest, PublishOnAFullStdoutPublishesOnceAndExitsSeven) {
  // The report is written after the commit point: the generation is
  // published (once), only the report is lost, and the exit code says so.
  MakeTree(f_.src, {{"a", "three"}});
  Outcome o = RunWithStdout(Stdout::kDevFull, {"publish", f_.root, "--from", f_.src});
  EXPECT_EQ(o.exit, kIo) << o;
  EXPECT_EQ(o.err, kFullMessage);
  EXPECT_EQ(Generations(), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(ReadFile(f_.root + "/current/a"), "three");
  CliResult st = RunCli({"status", f_.root, "--json"});
  ASSERT_EQ(st.exit, 0) << st;
  EXPECT_TRUE(json::parse(st.out)["consistent"].get<bool>()) << st;
}

TEST_F(CliOutputTest, ClosedStdoutIsReportedAndNeverReusedForAFile) {
  Outcome o = RunWithStdout(Stdout::kClosed, {"status", f_.root});
  EXPECT_EQ(o.exit, kIo) << o;
  EXPECT_EQ(o.err, kClosedMessage);

  // A writer with fd 1 closed: the files it opens must not land on fd 1 and
  // receive its report. The publish happens once; the store checks clean.
  MakeTree(f_.src, {{"a", "three"}, {"c", "sea"}});
  o = RunWithStdout(Stdout::kClosed, {"publish", f_.root, "--from", f_.src});
  EXPECT_EQ(o.exit, kIo) << o;
  EXPECT_EQ(o.err, kClosedMessage);
  EXPECT_EQ(Generations(), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(ReadTree(f_.root + "/current"),
            (std::map<std::string, std::string>{{"a", "three"}, {"c", "sea"}}));
  CliResult fsck = RunCli({"fsck", f_.root});
  EXPECT_EQ(fsck.exit, 0) << fsck;
}

TEST_F(CliOutputTest, ClosedStdoutAndStderrStillExitSeven) {
  // Nowhere to say it, but the exit code still does.
  Outcome o = RunWithStdout(Stdout::kClosedWithStderr, {"log", f_.root});
  EXPECT_EQ(o.exit, kIo) << o;
  EXPECT_EQ(o.err, "");
}

TEST_F(CliOutputTest, AReaderThatGoesAwayEndsItQuietlyBySigpipe) {
  // `txdir log DIR | head`: like git and cat, txdir ends by SIGPIPE without
  // a message, whether SIGPIPE is at its default or was left ignored.
  for (Stdout how : {Stdout::kBrokenPipe, Stdout::kBrokenPipeIgnored}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"log", f_.root}, {"cat", f_.root, "big"}, {"status", f_.root}}) {
      Outcome o = RunWithStdout(how, args);
      EXPECT_EQ(o.signal, SIGPIPE) << ::testing::PrintToString(args) << "\n" << o;
      EXPECT_EQ(o.err, "") << ::testing::PrintToString(args);
    }
  }
}

TEST_F(CliOutputTest, LogLinesGoToStderrNotIntoTheOutput) {
  // -v publish logs debug lines; stdout holds the report only, so that
  // `txdir -v cat ... > file` cannot mix log lines into a file's bytes.
  MakeTree(f_.src, {{"a", "three"}});
  CliResult r = RunCli({"-v", "publish", f_.root, "--from", f_.src});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out.rfind("published generation 3 (commit ", 0), 0u) << r;
  EXPECT_EQ(r.out.substr(r.out.find('\n') + 1), "0 added, 1 modified, 1 removed\nD\tbig\n") << r;
  EXPECT_NE(r.err.find("publish:"), std::string::npos) << r;
}

}  // namespace
}  // namespace txdir::testing
