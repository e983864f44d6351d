// File names with a newline or bytes that are not UTF-8, and text that is
// not UTF-8, are handled the same way everywhere. The rule (docs/cli.md,
// "Names"): such names are refused wherever they enter — publish, exec,
// clone and pull from another repository, and every path argument (cat,
// show, diff, log --path) — with exit code 8 and the name printed with the
// bad bytes escaped (\x0a); nothing is published and the sentinel tree
// beside the repository is untouched. Names that are valid UTF-8 (é, ü, 日本)
// are published and shown unchanged by log --json, diff --name-status and
// status. Free text that is not UTF-8 (a message) is kept, and JSON output
// shows each invalid byte as U+FFFD so it stays valid JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.h"
#include "tests/core/sentinel.h"

namespace txdir::testing {
namespace {

constexpr int kInvalidInput = 8;

class CliNamesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(f_.Publish({{"a", "one"}}).exit, 0); }

  // Everything but the lock's holder record and the object folder: a
  // refused publish may leave unreferenced objects (see the report of
  // issue 8); nothing refers to them and gc --prune-history drops them.
  std::string RepoState() const {
    return TreeFingerprint(f_.root, {".txdir/lock", ".txdir/store.git/objects"});
  }

  void ExpectNothingPublished(const std::string& what) {
    EXPECT_EQ(RepoState(), before_) << what;
    EXPECT_TRUE(sentinel_.Untouched()) << what;
    CliResult st = RunCli({"status", f_.root});
    EXPECT_TRUE(Has(st.out, "live:        generation 1")) << what << "\n" << st;
  }

  void Snapshot() { before_ = RepoState(); }

  CliFixture f_;
  SentinelTree sentinel_{f_.tmp / "sentinel"};
  std::string before_;
};

struct BadName {
  std::string raw, shown;  // as on disk; as the message prints it
};

const std::vector<BadName> kBadNames = {
    {"line\nbreak", "line\\x0abreak"},
    {"tab\there", "tab\\x09here"},
    {"cr\rname", "cr\\x0dname"},
    {"latin1-caf\xe9", "latin1-caf\\xe9"},
    {"overlong-\xc0\xaf", "overlong-\\xc0\\xaf"},
    {"surrogate-\xed\xa0\x80", "surrogate-\\xed\\xa0\\x80"},
};

TEST_F(CliNamesTest, PublishRefusesBadNamesAtAnyDepth) {
  int cases = 0;
  for (const auto& bad : kBadNames) {
    for (const auto& dir : std::vector<std::string>{"", "sub/", "sub/deeper/"}) {
      Snapshot();
      MakeTree(f_.src, {{"a", "two"}, {dir + bad.raw, "x"}});
      CliResult r = RunCli({"publish", f_.root, "--from", f_.src});
      EXPECT_EQ(r.exit, kInvalidInput) << ::testing::PrintToString(dir + bad.raw) << "\n" << r;
      EXPECT_TRUE(Has(r.err, dir + bad.shown)) << r;
      EXPECT_FALSE(Has(r.err, "\n" + bad.raw.substr(bad.raw.find('\n') + 1)) &&
                   bad.raw.find('\n') != std::string::npos)
          << "the raw newline must not reach the terminal: " << r;
      ExpectNothingPublished("publish " + bad.shown);
      ++cases;
    }
    // A bad name on a folder refuses the same way.
    Snapshot();
    MakeTree(f_.src, {{"a", "two"}, {bad.raw + "/inside", "x"}});
    CliResult r = RunCli({"publish", f_.root, "--from", f_.src});
    EXPECT_EQ(r.exit, kInvalidInput) << r;
    EXPECT_TRUE(Has(r.err, bad.shown)) << r;
    ExpectNothingPublished("publish folder " + bad.shown);
    ++cases;
  }
  std::cout << "[ hostile ] " << cases << " bad-name publish cases\n";
}

TEST_F(CliNamesTest, ExecRefusesAFileWithABadNameItCreates) {
  int cases = 0;
  for (const auto& bad : kBadNames) {
    Snapshot();
    // exec runs the program with TXDIR_STAGE, a writable copy of the head.
    CliResult r = RunCli(
        {"exec", f_.root, "--", "sh", "-c", "printf x > \"$TXDIR_STAGE/$1\"", "sh", bad.raw});
    EXPECT_EQ(r.exit, kInvalidInput) << bad.shown << "\n" << r;
    EXPECT_TRUE(Has(r.err, bad.shown)) << r;
    ExpectNothingPublished("exec " + bad.shown);
    ++cases;
  }
  std::cout << "[ hostile ] " << cases << " bad-name exec cases\n";
}

TEST_F(CliNamesTest, PathArgumentsWithBadNamesAreRefusedTheSameWay) {
  Snapshot();
  int cases = 0;
  for (const auto& bad : kBadNames) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"cat", f_.root, bad.raw},
             {"cat", f_.root, bad.raw, "--gen", "1"},
             {"show", f_.root, "1:" + bad.raw},
             {"diff", f_.root, "1", "live", bad.raw},
             {"log", f_.root, "--path", bad.raw},
         }) {
      CliResult r = RunCli(args);
      EXPECT_EQ(r.exit, kInvalidInput) << ::testing::PrintToString(args) << "\n" << r;
      EXPECT_TRUE(Has(r.err, bad.shown)) << r;
      ++cases;
    }
  }
  ExpectNothingPublished("path arguments");
  std::cout << "[ hostile ] " << cases << " bad-name path argument cases\n";
}

TEST_F(CliNamesTest, Utf8NamesAreShownUnchangedEverywhere) {
  const std::string e = "caf\xc3\xa9", u = "\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac.txt";
  ASSERT_EQ(f_.Publish({{"a", "one"}, {e, "coffee"}, {u, "japan"}}).exit, 0);
  CliResult ns = RunCli({"diff", f_.root, "1", "2", "--name-status"});
  EXPECT_EQ(ns.exit, 0) << ns;
  EXPECT_TRUE(Has(ns.out, "A\t" + e + "\n")) << ns;
  EXPECT_TRUE(Has(ns.out, "A\t" + u + "\n")) << ns;
  CliResult log = RunCli({"log", f_.root, "--json"});
  ASSERT_EQ(log.exit, 0) << log;
  EXPECT_TRUE(nlohmann::json::accept(log.out)) << log;
  CliResult log_path = RunCli({"log", f_.root, "--path", e, "--json"});
  ASSERT_EQ(log_path.exit, 0) << log_path;
  EXPECT_TRUE(nlohmann::json::accept(log_path.out)) << log_path;
  EXPECT_TRUE(Has(log_path.out, "\"generation\": 2")) << log_path;
  CliResult show = RunCli({"show", f_.root, "2", "--json"});
  ASSERT_EQ(show.exit, 0) << show;
  EXPECT_TRUE(nlohmann::json::accept(show.out)) << show;
  EXPECT_TRUE(Has(show.out, e)) << show;
  CliResult cat = RunCli({"cat", f_.root, u});
  EXPECT_EQ(cat.out, "japan") << cat;
  CliResult st = RunCli({"status", f_.root, "--json"});
  EXPECT_EQ(st.exit, 0) << st;
  EXPECT_TRUE(nlohmann::json::accept(st.out)) << st;
}

TEST_F(CliNamesTest, MessagesThatAreNotUtf8StayValidJson) {
  const std::string msg = "bad \xff\xfe bytes\nand a second line";
  MakeTree(f_.src, {{"a", "two"}});
  CliResult r = RunCli({"publish", f_.root, "--from", f_.src, "-m", msg, "--author", "x\xc0y"});
  ASSERT_EQ(r.exit, 0) << r;
  for (const auto& args : std::vector<std::vector<std::string>>{{"log", f_.root, "--json"},
                                                                {"show", f_.root, "2", "--json"}}) {
    CliResult out = RunCli(args);
    ASSERT_EQ(out.exit, 0) << ::testing::PrintToString(args) << "\n" << out;
    EXPECT_FALSE(Has(out.err, "terminate")) << out;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(out.out)) << out;
    EXPECT_TRUE(Has(out.out, "bad \xef\xbf\xbd\xef\xbf\xbd bytes")) << "U+FFFD for each bad byte";
  }
  // The plain log shows the message as stored.
  CliResult plain = RunCli({"log", f_.root});
  EXPECT_EQ(plain.exit, 0) << plain;
}

// A commit that another repository made, with a bad name in its tree: git
// allows any byte but NUL and '/' in a tree entry.
TEST_F(CliNamesTest, CloneAndPullRefuseATreeWithBadNames) {
  const std::string remote = f_.tmp / "remote.git";
  const std::string trailer =
      "\\n\\nTxdir-Generation: %s\\nTxdir-Kind: publish\\nTxdir-Host: h\\nTxdir-Pid: 1\\n"
      "Txdir-Time: 2026-11-27T02:11:12.123Z\\n";
  auto git = [&](const std::string& script) {
    std::string out;
    int rc = RunShell("set -e; export GIT_DIR='" + remote +
                          "' GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b GIT_COMMITTER_NAME=a "
                          "GIT_COMMITTER_EMAIL=a@b; " +
                          script,
                      &out);
    EXPECT_EQ(rc, 0) << script << "\n" << out;
    return out;
  };
  git("git init -q --bare \"$GIT_DIR\"; blob=$(printf one | git hash-object -w --stdin); "
      "tree=$(printf '100644 blob %s\\tok\\000' $blob | git mktree -z); "
      "c=$(printf 'g1" +
      trailer +
      "' 1 | git commit-tree $tree); "
      "git update-ref refs/heads/main $c");
  const std::string mirror = f_.tmp / "mirror";
  CliResult cl = RunCli({"clone", remote, mirror});
  ASSERT_EQ(cl.exit, 0) << cl;
  // Pull may fetch objects into the store; nothing else may change.
  const std::string mirror_before = TreeFingerprint(mirror, {".txdir/lock", ".txdir/store.git"});

  int cases = 0;
  for (const auto& bad : kBadNames) {
    // Generation 2 on the remote, with the bad name beside "ok".
    // The name goes through a file: no shell or printf escapes touch it.
    WriteFile(f_.tmp / "badname", bad.raw);
    git("blob=$(printf two | git hash-object -w --stdin); "
        "tree=$({ printf '100644 blob %s\\tok\\000' $blob; "
        "printf '100644 blob %s\\t' $blob; cat '" +
        (f_.tmp / "badname") +
        "'; printf '\\000'; } "
        "| git mktree -z); "
        "c=$(printf 'g2" +
        trailer +
        "' 2 | git commit-tree $tree -p refs/heads/main); "
        "git update-ref refs/heads/main $c");
    CliResult pull = RunCli({"pull", mirror});
    EXPECT_EQ(pull.exit, kInvalidInput) << bad.shown << "\n" << pull;
    EXPECT_TRUE(Has(pull.err, bad.shown)) << pull;
    EXPECT_EQ(TreeFingerprint(mirror, {".txdir/lock", ".txdir/store.git"}), mirror_before)
        << bad.shown;
    EXPECT_EQ(RunCli({"cat", mirror, "ok"}).out, "one") << "generation 1 stays live";
    EXPECT_FALSE(std::filesystem::exists(mirror + "/.txdir/gens/2")) << bad.shown;
    // A fresh clone of it is refused too, and leaves nothing behind.
    const std::string fresh = f_.tmp / "fresh";
    CliResult c2 = RunCli({"clone", remote, fresh});
    EXPECT_EQ(c2.exit, kInvalidInput) << bad.shown << "\n" << c2;
    EXPECT_TRUE(Has(c2.err, bad.shown)) << c2;
    EXPECT_FALSE(std::filesystem::exists(fresh + "/current")) << bad.shown;
    ForceRemoveAll(fresh);
    // Back to generation 1 on the remote for the next name.
    git("git update-ref refs/heads/main refs/heads/main~1");
    EXPECT_TRUE(sentinel_.Untouched());
    cases += 2;
  }
  std::cout << "[ hostile ] " << cases << " bad-name clone/pull cases\n";
}

}  // namespace
}  // namespace txdir::testing
