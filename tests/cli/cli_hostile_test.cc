// Hostile command lines, table-driven: every command with missing, extra or
// invalid arguments, unknown generations, negative and huge numbers, paths
// that climb out. Each case must end with its documented exit code
// (tools/txdir/cli.h, docs/cli.md) and a message naming the problem, and
// must change nothing: the repository (every file under it but the writer
// lock's holder record) and the sentinel tree beside it are byte-for-byte
// as before.
#include <gtest/gtest.h>

#include <regex>

#include "tests/cli/cli_runner.h"
#include "tests/core/sentinel.h"

namespace txdir::testing {
namespace {

constexpr int kUsage = 2, kNotFound = 3, kInvalidInput = 8, kExists = 9;

struct Case {
  std::vector<std::string> args;  // $R repository, $S source, $T temporary folder
  int exit;
  std::string names;  // must appear in stderr
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << ::testing::PrintToString(c.args);
}

const std::string kHuge = "99999999999999999999";  // more than 2^64

// Every case; the count is in the test's output (issue 8 asks for it).
std::vector<Case> Cases() {
  std::vector<Case> c = {
      // --- missing arguments
      {{}, kUsage, "command"},
      {{"init"}, kUsage, "DIR"},
      {{"publish", "$R"}, kUsage, "--from"},
      {{"publish", "--from", "$S"}, kUsage, "DIR"},
      {{"status"}, kUsage, "DIR"},
      {{"log"}, kUsage, "DIR"},
      {{"show", "$R"}, kUsage, "GEN"},
      {{"cat", "$R"}, kUsage, "PATH"},
      {{"recover"}, kUsage, "DIR"},
      {{"rollback"}, kUsage, "DIR"},
      {{"diff", "$R", "1"}, kUsage, "B"},
      {{"checkout", "$R", "1"}, kUsage, "--to"},
      {{"checkout", "$R", "--to", "$T/out"}, kUsage, "GEN"},
      {{"run", "$R"}, kUsage, "CMD"},
      {{"wait"}, kUsage, "DIR"},
      {{"gc"}, kUsage, "DIR"},
      {{"config"}, kUsage, "DIR"},
      {{"fsck"}, kUsage, "DIR"},
      {{"serve"}, kUsage, "DIR"},
      {{"remote", "$R"}, kUsage, "ACTION"},
      {{"push"}, kUsage, "DIR"},
      {{"pull"}, kUsage, "DIR"},
      {{"clone"}, kUsage, "URL"},
      {{"clone", "$T/elsewhere"}, kUsage, "DIR"},
      {{"exec", "$R"}, kUsage, "COMMAND"},
      {{"db", "$R", "t.sdn", "todos"}, kUsage, "OP"},
      {{"publish", "$R", "--from"}, kUsage, "--from"},
      {{"publish", "$R", "--from", "$S", "-m"}, kUsage, "-m"},
      {{"cat", "$R", "a", "--gen"}, kUsage, "--gen"},
      {{"--timeout"}, kUsage, "--timeout"},
      // --- extra arguments
      {{"status", "$R", "extra"}, kUsage, "extra"},
      {{"log", "$R", "extra"}, kUsage, "extra"},
      {{"recover", "$R", "extra"}, kUsage, "extra"},
      {{"fsck", "$R", "extra"}, kUsage, "extra"},
      {{"gc", "$R", "extra"}, kUsage, "extra"},
      {{"cat", "$R", "a", "extra"}, kUsage, "extra"},
      {{"show", "$R", "1", "extra"}, kUsage, "extra"},
      {{"rollback", "$R", "1", "extra"}, kUsage, "extra"},
      {{"diff", "$R", "1", "2", "a", "extra"}, kUsage, "extra"},
      {{"checkout", "$R", "1", "extra", "--to", "$T/out"}, kUsage, "extra"},
      {{"wait", "$R", "extra"}, kUsage, "extra"},
      {{"serve", "$R", "extra"}, kUsage, "extra"},
      {{"push", "$R", "origin", "extra"}, kUsage, "extra"},
      {{"pull", "$R", "origin", "extra"}, kUsage, "extra"},
      {{"config", "$R", "gc.keep", "3", "extra"}, kUsage, "VALUE"},
      {{"publish", "$R", "--from", "$S", "extra"}, kUsage, "extra"},
      {{"init", "$T/new", "extra"}, kUsage, "extra"},
      {{"clone", "$T/elsewhere", "$T/new", "extra"}, kUsage, "extra"},
      {{"remote", "$R", "list", "a", "b", "extra"}, kUsage, "extra"},
      // --- unknown commands and options (with a suggestion when close)
      {{"publsh", "$R", "--from", "$S"}, kUsage, "did you mean 'publish'?"},
      {{"rollbak", "$R"}, kUsage, "did you mean 'rollback'?"},
      {{"frobnicate", "$R"}, kUsage, "unknown command 'frobnicate'"},
      {{"log", "$R", "--jsn"}, kUsage, "did you mean '--json'?"},
      {{"gc", "$R", "--kep", "3"}, kUsage, "did you mean '--keep'?"},
      {{"publish", "$R", "--form", "$S"}, kUsage, "did you mean '--from'?"},
      {{"status", "$R", "--frobnicate"}, kUsage, "unknown option '--frobnicate'"},
      // --- invalid values
      {{"publish", "$R", "--from", "$S", "--symlinks", "follow"}, kUsage, "follow"},
      {{"log", "$R", "-n", "0"}, kUsage, "--max-count"},
      {{"log", "$R", "-n", "-1"}, kUsage, "--max-count"},
      {{"log", "$R", "-n", kHuge}, kUsage, "--max-count"},
      {{"log", "$R", "-n", "ten"}, kUsage, "ten"},
      {{"log", "$R", "--since", "yesterday"}, kUsage, "yesterday"},
      {{"log", "$R", "--since", "2026-13-45"}, kUsage, "2026-13-45"},
      {{"log", "$R", "--since", "9999999999d"}, kUsage, "9999999999d"},
      {{"gc", "$R", "--keep", "-3"}, kUsage, "--keep"},
      {{"gc", "$R", "--keep", "0"}, kUsage, "--keep"},
      {{"gc", "$R", "--keep", kHuge}, kUsage, "--keep"},
      {{"gc", "$R", "--keep", "many"}, kUsage, "many"},
      {{"gc", "$R", "--keep-within", "3"}, kUsage, "'3'"},
      {{"gc", "$R", "--keep-within", "-3d"}, kUsage, "-3d"},
      {{"gc", "$R", "--keep-within", kHuge + "d"}, kUsage, kHuge},
      {{"--timeout", "-1", "publish", "$R", "--from", "$S"}, kUsage, "--timeout"},
      {{"--timeout", "1e308", "publish", "$R", "--from", "$S"}, kUsage, "1e308"},
      {{"--timeout", "nan", "publish", "$R", "--from", "$S"}, kUsage, "nan"},
      {{"--timeout", "inf", "rollback", "$R"}, kUsage, "inf"},
      {{"--timeout", kHuge, "recover", "$R"}, kUsage, kHuge},
      {{"wait", "$R", "--timeout", "-1"}, kUsage, "--timeout"},
      {{"wait", "$R", "--timeout", "1e999"}, kUsage, "1e999"},
      {{"pull", "$R", "--watch", "--interval", "0"}, kUsage, "--interval"},
      {{"pull", "$R", "--watch", "--interval", kHuge}, kUsage, "--interval"},
      {{"config", "$R", "lock_timeout_ms", kHuge}, kInvalidInput, kHuge},
      {{"config", "$R", "lock_timeout_ms", "999999999999999999"}, kInvalidInput, "one week"},
      {{"config", "$R", "lock_timeout_ms", "604800001"}, kInvalidInput, "604800001"},
      {{"config", "$R", "lock_timeout_ms", "-5"}, kInvalidInput, "-5"},
      {{"config", "$R", "lock_timeout_ms", "soon"}, kInvalidInput, "soon"},
      {{"config", "$R", "gc.keep", "0"}, kInvalidInput, "gc.keep"},
      {{"config", "$R", "gc.keep", "-3"}, kInvalidInput, "-3"},
      {{"config", "$R", "gc.keep", kHuge}, kInvalidInput, kHuge},
      {{"config", "$R", "gc.keep_within", "forever"}, kInvalidInput, "forever"},
      {{"config", "$R", "sync", "sometimes"}, kInvalidInput, "sometimes"},
      {{"config", "$R", "no.such.key", "1"}, kInvalidInput, "no.such.key"},
      {{"config", "$R", "live_path", "$T/elsewhere"}, kInvalidInput, "live_path"},
      {{"remote", "$R", "frobnicate"}, kUsage, "frobnicate"},
      {{"exec", "$R", "--strategy", "sideways", "--", "true"}, kUsage, "sideways"},
      {{"serve", "$R", "--addr", "not-an-address"}, kUsage, "not-an-address"},
      // --- generation numbers: junk, zero, negative, huge
      {{"show", "$R", "0"}, kUsage, "'0'"},
      {{"show", "$R", "-1"}, kUsage, "-1"},
      {{"show", "$R", kHuge}, kUsage, kHuge},
      {{"show", "$R", "18446744073709551616"}, kUsage, "18446744073709551616"},
      {{"show", "$R", "1x"}, kUsage, "1x"},
      {{"show", "$R", "-1:a"}, kUsage, "-1"},
      {{"cat", "$R", "a", "--gen", "-1"}, kUsage, "-1"},
      {{"cat", "$R", "a", "--gen", kHuge}, kUsage, kHuge},
      {{"cat", "$R", "a", "--gen", "0"}, kUsage, "'0'"},
      {{"rollback", "$R", "-1"}, kUsage, "-1"},
      {{"rollback", "$R", kHuge}, kUsage, kHuge},
      {{"rollback", "$R", "0"}, kUsage, "'0'"},
      {{"diff", "$R", "-1", "2"}, kUsage, "-1"},
      {{"diff", "$R", "1", kHuge}, kUsage, kHuge},
      {{"diff", "$R", "0", "1"}, kUsage, "'0'"},
      {{"checkout", "$R", "-1", "--to", "$T/out"}, kUsage, "-1"},
      {{"checkout", "$R", kHuge, "--to", "$T/out"}, kUsage, kHuge},
      {{"run", "$R", "--gen", "-1", "--", "true"}, kUsage, "-1"},
      {{"run", "$R", "--gen", kHuge, "--", "true"}, kUsage, kHuge},
      {{"wait", "$R", "--after", "-1", "--timeout", "0"}, kUsage, "-1"},
      {{"wait", "$R", "--after", kHuge, "--timeout", "0"}, kUsage, kHuge},
      // --- unknown generations
      {{"show", "$R", "99"}, kNotFound, "99"},
      {{"show", "$R", "99:a"}, kNotFound, "99"},
      {{"cat", "$R", "a", "--gen", "99"}, kNotFound, "99"},
      {{"rollback", "$R", "99"}, kNotFound, "99"},
      {{"rollback", "$R", "9223372036854775807"}, kNotFound, "9223372036854775807"},
      {{"diff", "$R", "1", "99"}, kNotFound, "99"},
      {{"diff", "$R", "99", "live"}, kNotFound, "99"},
      {{"checkout", "$R", "99", "--to", "$T/out"}, kNotFound, "99"},
      {{"run", "$R", "--gen", "99", "--", "true"}, kNotFound, "99"},
      // --- paths that climb out, absolute paths, missing things
      {{"cat", "$R", "../a"}, kInvalidInput, "../a"},
      {{"cat", "$R", "/etc/passwd"}, kInvalidInput, "/etc/passwd"},
      {{"cat", "$R", "a/../../x"}, kInvalidInput, "a/../../x"},
      {{"cat", "$R", "a//b"}, kInvalidInput, "a//b"},
      {{"show", "$R", "1:../a"}, kInvalidInput, "../a"},
      {{"diff", "$R", "1", "2", "../sentinel"}, kInvalidInput, "../sentinel"},
      {{"log", "$R", "--path", "../sentinel"}, kInvalidInput, "../sentinel"},
      {{"cat", "$R", "no-such-file"}, kNotFound, "no-such-file"},
      {{"publish", "$R", "--from", "$T/no-such-source"}, kNotFound, "no-such-source"},
      {{"publish", "$R", "--from", "$R"}, kInvalidInput, ".txdir"},
      {{"publish", "$R", "--from", "$R/.txdir"}, kInvalidInput, ".txdir"},
      {{"status", "$T/sentinel"}, kNotFound, "not a txdir repository"},
      {{"publish", "$T/sentinel", "--from", "$S"}, kNotFound, "not a txdir repository"},
      {{"rollback", "$T/sentinel"}, kNotFound, "not a txdir repository"},
      {{"gc", "$T/sentinel"}, kNotFound, "not a txdir repository"},
      {{"checkout", "$R", "1", "--to", "$T/sentinel"}, kExists, "sentinel"},
      {{"clone", "$R/.txdir/store.git", "$T/sentinel"}, kExists, "sentinel"},
      {{"init", "$R"}, kExists, "already"},
      {{"push", "$R", "nosuch"}, kNotFound, "nosuch"},
      {{"pull", "$R", "nosuch"}, kNotFound, "nosuch"},
      {{"remote", "$R", "remove", "nosuch"}, kNotFound, "nosuch"},
      {{"db", "$R", "no-such.sdn", "todos", "list"}, kNotFound, "no-such.sdn"},
      {{"db", "$R", "../x.sdn", "todos", "list"}, kInvalidInput, "../x.sdn"},
  };
  return c;
}

class CliHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a", "one"}, {"d/b", "bee"}}).exit, 0);
    ASSERT_EQ(f_.Publish({{"a", "two"}, {"d/b", "bee"}}).exit, 0);
  }

  std::string Expand(const std::string& arg) const {
    std::string s = std::regex_replace(arg, std::regex("\\$R"), f_.root);
    s = std::regex_replace(s, std::regex("\\$S"), f_.src);
    return std::regex_replace(s, std::regex("\\$T"), f_.tmp.path());
  }

  // Everything under the repository but the lock file, whose holder record
  // a writer rewrites before it finds the bad argument; the lock itself is
  // checked by mode in the permission tests.
  std::string RepoState() const { return TreeFingerprint(f_.root, {".txdir/lock"}); }

  CliFixture f_;
  SentinelTree sentinel_{f_.tmp / "sentinel"};
};

TEST_F(CliHostileTest, EveryCaseFailsCleanlyAndChangesNothing) {
  const std::vector<Case> cases = Cases();
  const std::string before = RepoState();
  const std::string src_before = TreeFingerprint(f_.src);
  for (const Case& c : cases) {
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(Expand(a));
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, c.exit) << c << "\n" << r;
    EXPECT_NE(r.err.find(Expand(c.names)), std::string::npos)
        << c << ": the message does not name '" << Expand(c.names) << "'\n"
        << r;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << c << "\n" << r;
    EXPECT_EQ(RepoState(), before) << c << " changed the repository\n" << r;
    EXPECT_TRUE(sentinel_.Untouched()) << c;
    EXPECT_EQ(TreeFingerprint(f_.src), src_before) << c << " changed the source";
    EXPECT_FALSE(std::filesystem::exists(f_.tmp / "out")) << c;
    EXPECT_FALSE(std::filesystem::exists(f_.tmp / "new")) << c;
  }
  // The live generation is still 2 with its files.
  EXPECT_EQ(RunCli({"cat", f_.root, "a"}).out, "two");
  std::cout << "[ hostile ] " << cases.size() << " CLI cases\n";
}

}  // namespace
}  // namespace txdir::testing
