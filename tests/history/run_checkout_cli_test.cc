// `txdir checkout` and `txdir run`, through the built binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include "tests/history/history_test_util.h"

namespace txdir::testing {
namespace {

class CheckoutCliTest : public ::testing::Test {
 protected:
  CliFixture f_;
};

TEST_F(CheckoutCliTest, ExportsAGenerationByteForByteAsWritableFiles) {
  MakeTree(f_.src, {{"a.txt", "one\n"}, {"dir/b.bin", std::string("\0\1\2", 3)}, {"x.sh", "#!"}});
  ASSERT_EQ(::chmod((f_.src + "/x.sh").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("dir/b.bin", (f_.src + "/link").c_str()), 0);
  ASSERT_EQ(RunCli({"publish", f_.root, "--from", f_.src}).exit, 0);
  ASSERT_EQ(f_.Publish({{"a.txt", "two\n"}}).exit, 0);

  const std::string out = f_.tmp / "out";
  CliResult r = RunCli({"checkout", f_.root, "1", "--to", out});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "checked out generation 1 to " + out + "\n");
  const std::string gen1 = f_.root + "/.txdir/gens/1";
  EXPECT_EQ(ReadTreeExact(out), ReadTreeExact(gen1));
  EXPECT_EQ(ReadTreeExact(out).size(), 4u);
  EXPECT_TRUE(stdfs::is_symlink(out + "/link"));
  EXPECT_EQ(::access((out + "/a.txt").c_str(), W_OK), 0);
  EXPECT_EQ(::access((out + "/dir").c_str(), W_OK), 0);
  EXPECT_NE(Mode(out + "/x.sh") & 0100, 0u);
  EXPECT_EQ(Mode(out + "/a.txt") & 0111, 0u);
  WriteFile(out + "/a.txt", "edited");  // a plain copy: editing it changes no generation
  EXPECT_EQ(ReadFile(gen1 + "/a.txt"), "one\n");

  CliResult live = RunCli({"checkout", f_.root, "live", "--to", f_.tmp / "live"});
  ASSERT_EQ(live.exit, 0) << live;
  EXPECT_EQ(ReadFile(f_.tmp / "live/a.txt"), "two\n");
}

TEST_F(CheckoutCliTest, RefusesANonEmptyOutput) {
  ASSERT_EQ(f_.Publish({{"a.txt", "one\n"}}).exit, 0);
  const std::string out = f_.tmp / "out";
  WriteFile(out + "/mine.txt", "keep");
  CliResult r = RunCli({"checkout", f_.root, "1", "--to", out});
  EXPECT_EQ(r.exit, 9) << r;
  EXPECT_EQ(ReadTreeExact(out), (std::map<std::string, std::string>{{"mine.txt", "keep"}}));
  EXPECT_EQ(RunCli({"checkout", f_.root, "5", "--to", f_.tmp / "o5"}).exit, 3);
  EXPECT_EQ(RunCli({"checkout", f_.root, "1"}).exit, 2);  // --to is required
  stdfs::create_directories(f_.tmp / "empty");
  EXPECT_EQ(RunCli({"checkout", f_.root, "1", "--to", f_.tmp / "empty"}).exit, 0);
  EXPECT_EQ(ReadFile(f_.tmp / "empty/a.txt"), "one\n");
}

class RunCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(f_.Publish({{"a.txt", "one"}}).exit, 0); }
  std::string GenDir(int n) {
    return stdfs::canonical(f_.root + "/.txdir/gens/" + std::to_string(n)).string();
  }
  CliFixture f_;
};

TEST_F(RunCliTest, RunsInsideTheGenerationWithItsNumber) {
  CliResult r =
      RunCli({"run", f_.root, "--", "sh", "-c", "echo \"$TXDIR_GENERATION\"; pwd -P; cat a.txt"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "1\n" + GenDir(1) + "\none");

  ASSERT_EQ(f_.Publish({{"a.txt", "two"}}).exit, 0);
  CliResult old = RunCli({"run", f_.root, "--gen", "1", "--", "cat", "a.txt"});
  ASSERT_EQ(old.exit, 0) << old;
  EXPECT_EQ(old.out, "one");
  EXPECT_EQ(RunCli({"run", f_.root, "--", "cat", "a.txt"}).out, "two");
}

TEST_F(RunCliTest, ExitStatusIsTheCommands) {
  EXPECT_EQ(RunCli({"run", f_.root, "--", "sh", "-c", "exit 7"}).exit, 7);
  EXPECT_EQ(RunCli({"run", f_.root, "--", "/nonexistent/program"}).exit, 127);
  EXPECT_EQ(RunCli({"run", f_.root, "--gen", "9", "--", "true"}).exit, 3);
  EXPECT_EQ(RunCli({"run", f_.root}).exit, 2);  // no command
}

// True when an exclusive flock on `dir` would block: someone holds the pin.
bool Pinned(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

TEST_F(RunCliTest, SeesThePinnedGenerationWhileOthersPublish) {
  const std::string ready = f_.tmp / "READY", go = f_.tmp / "GO";
  // Reads, signals READY, waits (bounded) for GO, reads again.
  const std::string script = "echo \"gen=$TXDIR_GENERATION\"; cat a.txt; echo; touch '" + ready +
                             "'; i=0; while [ ! -e '" + go +
                             "' ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done; "
                             "cat a.txt; echo; pwd -P; ls";
  const std::string gen1 = GenDir(1);
  EXPECT_FALSE(Pinned(gen1));
  BackgroundCli run({"run", f_.root, "--", "sh", "-c", script}, f_.tmp / "run.out",
                    f_.tmp / "run.err");
  ASSERT_TRUE(run.started());
  ASSERT_TRUE(WaitUntil([&] { return stdfs::exists(ready); }));
  EXPECT_TRUE(Pinned(gen1));
  ASSERT_EQ(f_.Publish({{"a.txt", "two"}}).exit, 0);
  ASSERT_EQ(f_.Publish({{"a.txt", "three"}, {"b.txt", "b"}}).exit, 0);
  EXPECT_EQ(RunCli({"cat", f_.root, "a.txt"}).out, "three");
  EXPECT_TRUE(Pinned(gen1));  // still inside
  WriteFile(go, "");
  CliResult r = run.Wait();
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "gen=1\none\none\n" + gen1 + "\na.txt\n");
  EXPECT_FALSE(Pinned(gen1));  // released when the command exited
}

}  // namespace
}  // namespace txdir::testing
