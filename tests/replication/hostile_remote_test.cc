// Remotes written by hand, not by txdir: every tree a pull or clone brings
// in must be one publish could have made (txn/src/tree_check.h), and every
// commit numbered above its parents. The hostile trees are written as raw
// bytes (`git hash-object -t tree --literally`), so git's own checks on
// writing do not stand in the way. After every refusal: exit 8 (6 for
// numbers out of order) naming the commit and the path, the mirror's
// generation 1 still live and its files and history unchanged, a fresh
// clone leaves no generation, and the sentinel tree is untouched.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"
#include "tests/core/sentinel.h"
#include "tests/core/test_util.h"
#include "tests/replication/repl_test_util.h"

namespace txdir::testing {
namespace {

constexpr int kInvalidInput = 8;
constexpr int kCorruption = 6;

struct Entry {
  std::string mode;  // as git writes it: "100644", "40000", ...
  std::string name;  // raw bytes
  std::string hex;   // object id
};

class HostileRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Git("git init -q --bare \"$GIT_DIR\"");
    one_ = Blob("one");
    const std::string t = Tree({{"100644", "ok", one_}});
    gen1_ = Commit(t, 1, {});
    Git("git update-ref refs/heads/main " + gen1_);
    CliResult cl = RunCli({"clone", remote_, mirror_});
    ASSERT_EQ(cl.exit, 0) << cl;
    before_ = MirrorState();
  }

  std::string Git(const std::string& script) {
    std::string out;
    int rc = RunShell("set -e; export GIT_DIR='" + remote_ +
                          "' GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@b GIT_COMMITTER_NAME=a "
                          "GIT_COMMITTER_EMAIL=a@b; " +
                          script,
                      &out);
    EXPECT_EQ(rc, 0) << script << "\n" << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  std::string Blob(const std::string& data) {
    WriteFile(tmp_ / "blob", data);
    return Git("git hash-object -w '" + (tmp_ / "blob") + "'");
  }

  // A tree object of exactly these entries, in this order, unchecked.
  std::string Tree(const std::vector<Entry>& entries) {
    std::string raw;
    for (const auto& e : entries) {
      raw += e.mode + " " + e.name + '\0';
      for (size_t i = 0; i + 1 < e.hex.size(); i += 2)
        raw += static_cast<char>(std::stoi(e.hex.substr(i, 2), nullptr, 16));
    }
    WriteFile(tmp_ / "tree", raw);
    return Git("git hash-object -t tree --literally -w '" + (tmp_ / "tree") + "'");
  }

  std::string Commit(const std::string& tree, uint64_t number,
                     const std::vector<std::string>& parents) {
    std::string p;
    for (const auto& x : parents) p += " -p " + x;
    WriteFile(tmp_ / "msg", "g" + std::to_string(number) +
                                "\n\nTxdir-Generation: " + std::to_string(number) +
                                "\nTxdir-Kind: publish\nTxdir-Host: h\nTxdir-Pid: 1\n"
                                "Txdir-Time: 2026-11-27T02:11:12.123Z\n");
    return Git("git commit-tree " + tree + p + " -F '" + (tmp_ / "msg") + "'");
  }

  // Everything of the mirror but the lock's holder record and the store
  // (a refused pull may leave fetched objects and the tracking ref).
  std::string MirrorState() const {
    return TreeFingerprint(mirror_, {".txdir/lock", ".txdir/store.git"});
  }

  // The remote's head becomes `head`; pull and a fresh clone must refuse
  // it with `exit`, naming `path`, and change nothing.
  void ExpectRefused(const std::string& head, const std::string& path, const std::string& why,
                     int exit = kInvalidInput) {
    Git("git update-ref refs/heads/main " + head);
    CliResult pull = RunCli({"pull", mirror_});
    EXPECT_EQ(pull.exit, exit) << pull;
    EXPECT_TRUE(Has(pull.err, path)) << "does not name " << path << ": " << pull;
    EXPECT_TRUE(Has(pull.err, why)) << "does not say " << why << ": " << pull;
    EXPECT_TRUE(Has(pull.err, "nothing was pulled")) << pull;
    EXPECT_EQ(MirrorState(), before_);
    EXPECT_EQ(RunCli({"cat", mirror_, "ok"}).out, "one") << "generation 1 stays live";
    EXPECT_EQ(std::filesystem::read_symlink(mirror_ + "/current").filename(), "1");
    CliResult log = RunCli({"log", mirror_});
    EXPECT_FALSE(Has(log.out, "generation 2")) << log;

    const std::string fresh = tmp_ / "fresh";
    CliResult cl = RunCli({"clone", remote_, fresh});
    EXPECT_EQ(cl.exit, exit) << cl;
    EXPECT_TRUE(Has(cl.err, path)) << cl;
    EXPECT_FALSE(std::filesystem::exists(fresh + "/current"));
    EXPECT_FALSE(std::filesystem::exists(fresh + "/.txdir/gens/2"));
    ForceRemoveAll(fresh);
    EXPECT_TRUE(sentinel_.Untouched());
    Git("git update-ref refs/heads/main " + gen1_);
  }

  // Generation 2: "ok" beside `extra`.
  std::string Gen2(const std::vector<Entry>& extra) {
    std::vector<Entry> all = extra;
    all.insert(all.begin(), Entry{"100644", "ok", one_});
    // In git's order (folders as "name/"), so only what the case is about
    // is wrong.
    auto key = [](const Entry& e) { return e.name + (e.mode == "40000" ? "/" : ""); };
    std::stable_sort(all.begin(), all.end(),
                     [&](const Entry& a, const Entry& b) { return key(a) < key(b); });
    return Commit(Tree(all), 2, {gen1_});
  }

  TempDir tmp_;
  const std::string remote_ = tmp_ / "remote.git";
  const std::string mirror_ = tmp_ / "mirror";
  SentinelTree sentinel_{tmp_ / "sentinel"};
  std::string one_, gen1_, before_;
};

// The outside run's finding: a generation carrying .git/config with
// core.fsmonitor ran its author's command on `git status` in current/.
TEST_F(HostileRemoteTest, DotGitFolderInAnySpellingIsRefused) {
  const std::string config = Blob("[core]\n\tfsmonitor = touch /tmp/txdir-pwned\n");
  const std::string git_dir = Tree({{"100644", "config", config}});
  for (const std::string name : {".git", ".GIT", ".Git", "git~1", ".git.", ".git ", ".g\u200cit",
                                 "\ufeff.git", ".git::$INDEX_ALLOCATION"}) {
    SCOPED_TRACE(name);
    // At the root and one level down; as a folder and as a file.
    ExpectRefused(Gen2({{"40000", name, git_dir}}), name, "git's own folder");
    const std::string sub = Tree({{"40000", name, git_dir}});
    ExpectRefused(Gen2({{"40000", "sub", sub}}), "sub/" + name, "git's own folder");
    ExpectRefused(Gen2({{"100644", name, config}}), name, "git's own folder");
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/txdir-pwned"));
}

TEST_F(HostileRemoteTest, SymlinksLeavingTheGenerationAreRefused) {
  const std::vector<std::pair<std::string, std::string>> links = {
      {"abs", "/etc/passwd"}, {"up", "../outside"}, {"dot", ".."}, {"empty", ""}};
  for (const auto& [name, target] : links) {
    SCOPED_TRACE(name);
    ExpectRefused(Gen2({{"120000", name, Blob(target)}}), name, "invalid symlink");
  }
  // One level down, "../../x" climbs out; "../ok" would not.
  const std::string sub = Tree({{"120000", "l", Blob("../../x")}});
  ExpectRefused(Gen2({{"40000", "d", sub}}), "d/l", "points outside the generation");
  // A NUL in the target would be cut short by symlink(2).
  ExpectRefused(Gen2({{"120000", "nul", Blob(std::string("ok\0/etc", 7))}}), "nul", "NUL");
  // git follows .gitmodules and its kin: no symlink by those names.
  ExpectRefused(Gen2({{"120000", ".gitmodules", Blob("ok")}}), ".gitmodules",
                "git would follow a symlink");
}

TEST_F(HostileRemoteTest, BadEntryNamesModesAndOrderAreRefused) {
  ExpectRefused(Gen2({{"100644", "a/b", one_}}), "a/b", "'/' inside a name");
  ExpectRefused(Gen2({{"100644", "..", one_}}), "..", "'..' component");
  ExpectRefused(Gen2({{"100644", ".", one_}}), ".", "'.' component");
  // Not in git's order: libgit2 finds names by binary search, so `cat
  // --gen` would miss "a" while current/ showed it.
  ExpectRefused(Commit(Tree({{"100644", "ok", one_}, {"100644", "a", one_}}), 2, {gen1_}), "a",
                "not in git's order");
  ExpectRefused(Gen2({{"100644", "ok", one_}}), "ok", "the same name twice");
  // A file and a folder of the same name: in order, but twice.
  const std::string sub = Tree({{"100644", "x", one_}});
  ExpectRefused(Commit(Tree({{"100644", "ok", one_}, {"40000", "ok", sub}}), 2, {gen1_}), "ok",
                "the same name twice");
  ExpectRefused(Gen2({{"160000", "sub", gen1_}}), "sub", "submodule");
  ExpectRefused(Gen2({{"100664", "w", one_}}), "w", "mode 100664");
  ExpectRefused(Gen2({{"100644", "t", sub}}), "t", "not a blob");
}

// Pull refused a head numbered at or below the local head; clone has no
// local head, so only the walk over every incoming commit catches these.
TEST_F(HostileRemoteTest, NumbersThatDoNotDecreaseAreRefused) {
  const std::string t2 = Tree({{"100644", "ok", Blob("two")}});
  // 5 under 2: the head is above the mirror's 1, its parent is not below it.
  const std::string five = Commit(t2, 5, {gen1_});
  ExpectRefused(Commit(t2, 2, {five}), "generation 2", "do not decrease", kCorruption);
  // Equal numbers.
  const std::string again = Commit(t2, 2, {gen1_});
  ExpectRefused(Commit(t2, 2, {again}), "generation 2", "do not decrease", kCorruption);
  // A commit that is not a generation at all, under one.
  const std::string plain = Git("git commit-tree " + t2 + " -p " + gen1_ + " -m plain");
  ExpectRefused(Commit(t2, 3, {plain}), plain.substr(0, 12), "not a txdir generation", kCorruption);
}

// What publish makes passes, and git's own fsck agrees with the result.
TEST_F(HostileRemoteTest, AGoodGenerationIsPulledAndPassesGitFsck) {
  const std::string sub = Tree({{"100644", "f", one_}, {"120000", "l", Blob("../ok")}});
  const std::string head =
      Commit(Tree({{"100644", ".github", one_},
                   {"120000", ".gitignore-link", Blob("ok")},
                   {"100644", "git~2", one_},
                   {"100644", "ok", one_},
                   {"100644", "sub.txt", one_},  // before "sub": folders sort as "sub/"
                   {"40000", "sub", sub}}),
             2, {gen1_});
  Git("git update-ref refs/heads/main " + head);
  CliResult pull = RunCli({"pull", mirror_});
  ASSERT_EQ(pull.exit, 0) << pull;
  EXPECT_EQ(std::filesystem::read_symlink(mirror_ + "/current/sub/l"), "../ok");
  EXPECT_EQ(RunCli({"cat", mirror_, "--gen", "2", "sub.txt"}).out, "one");
  std::string out;
  EXPECT_EQ(RunShell("git --git-dir='" + mirror_ + "/.txdir/store.git' fsck --strict", &out), 0)
      << out;
}

// A generation published with --symlinks=keep travels when the replica
// asks for the same.
TEST_F(HostileRemoteTest, LinksOutsideAreAcceptedWithSymlinksKeep) {
  const std::string head = Gen2({{"120000", "passwd", Blob("/etc/passwd")}});
  Git("git update-ref refs/heads/main " + head);
  CliResult pull = RunCli({"pull", mirror_, "--symlinks", "keep"});
  ASSERT_EQ(pull.exit, 0) << pull;
  EXPECT_EQ(std::filesystem::read_symlink(mirror_ + "/current/passwd"), "/etc/passwd");
  const std::string fresh = tmp_ / "fresh";
  CliResult cl = RunCli({"clone", remote_, fresh, "--symlinks", "keep"});
  EXPECT_EQ(cl.exit, 0) << cl;
}

// A store that already holds a generation with a ".git" folder (made
// before these rules, or edited by hand): rollback does not materialize
// it.
TEST_F(HostileRemoteTest, RollbackDoesNotMaterializeADotGitFolderFromTheStore) {
  const std::string config = Blob("[core]\n\tfsmonitor = touch /tmp/txdir-pwned\n");
  const std::string bad = Gen2({{"40000", ".git", Tree({{"100644", "config", config}})}});
  const std::string three = Commit(Tree({{"100644", "ok", Blob("three")}}), 3, {bad});
  Git("git update-ref refs/heads/planted " + three);
  const std::string store = mirror_ + "/.txdir/store.git";
  Git("git --git-dir='" + store + "' fetch -q '" + remote_ +
      "' refs/heads/planted:refs/heads/main");
  CliResult rec = RunCli({"recover", mirror_});
  ASSERT_EQ(rec.exit, 0) << rec;
  ASSERT_EQ(RunCli({"cat", mirror_, "ok"}).out, "three");
  CliResult rb = RunCli({"rollback", mirror_, "2"});
  EXPECT_EQ(rb.exit, kInvalidInput) << rb;
  EXPECT_TRUE(Has(rb.err, "git's own folder")) << rb;
  EXPECT_FALSE(std::filesystem::exists(mirror_ + "/.txdir/gens/2/.git"));
  EXPECT_EQ(RunCli({"cat", mirror_, "ok"}).out, "three") << "generation 3 stays live";
  EXPECT_FALSE(std::filesystem::exists("/tmp/txdir-pwned"));
}

// Peak resident memory (KiB) of the CLI run with `args`, and its exit code.
std::pair<long, int> CliPeakKb(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* f = std::freopen("/dev/null", "w", stdout);
    (void)f;
    std::vector<char*> argv{const_cast<char*>(TXDIR_CLI)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(TXDIR_CLI, argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  return {ru.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// A large file that arrives by clone or pull is in a pack; materializing
// it (and verifying it) read it whole through libgit2, plus a copy: a
// 200 MB file of zeros took 424 MB. Over git:// (the fetch runs in the
// server's process) the clone now needs a few buffers.
TEST_F(HostileRemoteTest, CloningALargeFileTakesBoundedMemory) {
#ifdef __SANITIZE_ADDRESS__
  // Under ASan the peak RSS of the same clone is 122 MB (83 MB for fsck)
  // against 14 MB in a plain build, with its quarantine off too: what the
  // sanitizer's allocator keeps is not what txdir holds. The bound is
  // checked in plain builds (docs/testing.md, "Why the main build is the
  // sanitized one", has the command).
  GTEST_SKIP() << "peak RSS is not measurable under AddressSanitizer; run in a plain build";
#endif
  constexpr size_t kSize = size_t{96} << 20;
  const std::string blob =
      Git("head -c " + std::to_string(kSize) + " /dev/zero | git hash-object -w --stdin");
  Git("git update-ref refs/heads/main " + Gen2({{"100644", "zero", blob}}));
  GitDaemon daemon(tmp_.path());
  ASSERT_TRUE(daemon.ok()) << daemon.error();
  const std::string fresh = tmp_ / "fresh";
  const auto [peak_kb, exit] = CliPeakKb({"clone", daemon.Url("remote.git"), fresh});
  ASSERT_EQ(exit, 0);
  EXPECT_EQ(std::filesystem::file_size(fresh + "/current/zero"), kSize);
  std::printf("CLONE_LARGE size_mb=%zu peak_rss_mb=%ld\n", kSize >> 20, peak_kb / 1024);
  EXPECT_LT(peak_kb / 1024, 48) << "the file was held in memory";
  const auto [fsck_kb, fsck_exit] = CliPeakKb({"fsck", fresh});
  EXPECT_EQ(fsck_exit, 0);
  EXPECT_LT(fsck_kb / 1024, 48) << "fsck held the file in memory";
}

}  // namespace
}  // namespace txdir::testing
