// `txdir config` (list, get, set, validation), automatic gc after each
// write, and the pre-publish hook (accept, reject with output, nothing
// published on reject) on every kind of write.
#include <nlohmann/json.hpp>

#include "tests/retention/retention_util.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/exec.h"
#include "txdir/transaction.h"

namespace txdir::testing {
namespace {

TEST(Config, ListGetSetUnset) {
  RetentionFixture f;
  auto r = RunCli({"config", f.root});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("gc.keep = 10"), std::string::npos) << r;
  EXPECT_NE(r.out.find("sync = syncfs"), std::string::npos) << r;
  EXPECT_NE(r.out.find("hooks.pre_publish = (unset)"), std::string::npos) << r;

  for (auto [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"gc.keep", "3"},
                                                        {"gc.keep_within", "36h"},
                                                        {"gc.auto", "true"},
                                                        {"lock_timeout_ms", "2500"},
                                                        {"sync", "fsync"},
                                                        {"hooks.pre_publish", "test -f a.txt"}}) {
    r = RunCli({"config", f.root, key, value});
    ASSERT_EQ(r.exit, 0) << key << ": " << r;
    r = RunCli({"config", f.root, key});
    ASSERT_EQ(r.exit, 0) << r;
    EXPECT_EQ(r.out, value + "\n") << key;
  }
  // Durations are stored in their shortest exact form.
  ASSERT_EQ(RunCli({"config", f.root, "gc.keep_within", "1440m"}).exit, 0);
  EXPECT_EQ(RunCli({"config", f.root, "gc.keep_within"}).out, "1d\n");
  // The repository picks the settings up.
  f.Reopen();
  auto rep = CollectGarbage(*f.repo, GcOptions{.dry_run = true});
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->keep, 3u);
  EXPECT_EQ(rep->keep_within_ms, 86400000);

  r = RunCli({"config", f.root, "gc.keep", "--unset"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(RunCli({"config", f.root, "gc.keep"}).out, "10\n");
  ASSERT_EQ(RunCli({"config", f.root, "hooks.pre_publish", "--unset"}).exit, 0);
  r = RunCli({"config", f.root, "hooks.pre_publish"});
  EXPECT_EQ(r.exit, 3) << r;  // not set
}

TEST(Config, RejectsBadKeysAndValuesWithClearErrors) {
  RetentionFixture f;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {{"nope", "1"}, "unknown config key 'nope'"},
           {{"gc.keep", "0"}, "gc.keep must be a positive integer"},
           {{"gc.keep", "ten"}, "gc.keep must be a positive integer"},
           {{"gc.keep_within", "soon"}, "is not a duration"},
           {{"gc.auto", "maybe"}, "gc.auto must be true or false"},
           {{"sync", "never"}, "sync must be syncfs, single-flush or fsync"},
           {{"lock_timeout_ms", "-5"}, "lock_timeout_ms must be a number of milliseconds"},
           {{"live_path", "elsewhere"}, "live_path cannot be changed"},
       }) {
    std::vector<std::string> args = {"config", f.root};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = RunCli(args);
    EXPECT_EQ(r.exit, 8) << r;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r;
  }
  // Nothing was written: the file still loads with the defaults.
  auto r = RunCli({"config", f.root, "gc.keep"});
  EXPECT_EQ(r.out, "10\n") << r;
  EXPECT_EQ(RunCli({"config", f.tmp / "missing"}).exit, 3);
}

TEST(AutoGc, RunsAfterEachWriteWithTheConfiguredPolicy) {
  RetentionFixture f;
  ASSERT_TRUE(SetConfig(f.root, "gc.keep", "2"));
  ASSERT_TRUE(SetConfig(f.root, "gc.auto", "true"));
  f.Reopen();
  for (int i = 1; i <= 5; ++i) f.Publish(i);
  EXPECT_EQ(f.Materialized(), Seq(4, 5));
  auto rb = f.repo->Rollback(4);
  ASSERT_TRUE(rb) << rb.error().ToString();
  EXPECT_EQ(f.Materialized(), Seq(5, 6));
  EXPECT_EQ(rb->auto_gc_removed, std::vector<uint64_t>{4}) << "the write says what gc removed";
  // Through the CLI too, which prints it; history is untouched by automatic gc.
  MakeTree(f.src, {{"a.txt", "cli\n"}});
  auto r = RunCli({"publish", f.root, "--from", f.src});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("\ngc.auto: removed generation directories 5 ("), std::string::npos) << r;
  EXPECT_EQ(f.Materialized(), Seq(6, 7));
  MakeTree(f.src, {{"a.txt", "quiet\n"}});
  r = RunCli({"-q", "publish", f.root, "--from", f.src});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "") << "-q: nothing";
  EXPECT_EQ(*f.repo->ReadFile(1, "a.txt"), "v1\n");
}

// The dashboard's validator: every .sdn table must parse.
struct HookFixture : RetentionFixture {
  HookFixture() {
    auto s = SetConfig(root, "hooks.pre_publish",
                       std::string(TXDIR_SDN_CHECK) +
                           " && test \"$TXDIR_GENERATION\" -gt 0 && test \"$TXDIR_ROOT\" = \"" +
                           root + "\"");
    EXPECT_TRUE(s) << s.error().ToString();
    Reopen();
  }
  void WriteDashboard(uint64_t run) {
    std::string error;
    ForceRemoveAll(src);
    ASSERT_TRUE(sample::WriteDashboard(src, {.seed = 3, .run = run}, &error)) << error;
  }
};

TEST(PrePublishHook, AcceptsAValidDashboard) {
  HookFixture f;
  f.WriteDashboard(1);
  auto g = f.repo->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->number, 1u);
  auto r = RunCli({"publish", f.root, "--from", f.src});
  EXPECT_EQ(r.exit, 0) << r;
}

TEST(PrePublishHook, RejectsABrokenTableAndPublishesNothing) {
  HookFixture f;
  f.WriteDashboard(1);
  ASSERT_TRUE(f.repo->Publish(f.src));
  f.WriteDashboard(2);
  const std::string broken = f.src + "/" + sample::FileName(3);
  WriteFile(broken, "this is |not, an sdn table\n    \"unterminated\n");
  auto r = RunCli({"publish", f.root, "--from", f.src});
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_NE(r.err.find("pre-publish hook rejected generation 2"), std::string::npos) << r;
  EXPECT_NE(r.err.find(sample::FileName(3)), std::string::npos) << "hook output shown: " << r;
  EXPECT_NE(r.err.find("1 table(s) failed to parse"), std::string::npos) << r;
  // Nothing published: head, live link and directories as before.
  auto st = f.repo->Status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->committed, 1u);
  EXPECT_EQ(st->live, 1u);
  EXPECT_EQ(f.Materialized(), std::vector<uint64_t>{1});
  EXPECT_TRUE(stdfs::is_empty(f.root + "/.txdir/tmp"));
  // The library reports the same, with code InvalidArgument.
  auto g = f.repo->Publish(f.src);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kInvalidArgument);
  // Fixed, it goes through as generation 2.
  f.WriteDashboard(2);
  g = f.repo->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->number, 2u);
}

TEST(PrePublishHook, RunsForRollbackTransactionAndExecInTheStagedGeneration) {
  RetentionFixture f;
  for (int i = 1; i <= 2; ++i) f.Publish(i);
  // The hook sees the staged files (read-only, in gens/N) and rejects "bad".
  ASSERT_TRUE(SetConfig(f.root, "hooks.pre_publish",
                        "pwd; test \"$(pwd)\" = \"$TXDIR_ROOT/.txdir/gens/$TXDIR_GENERATION\" && "
                        "test \"$(stat -c %a a.txt)\" = 444 && ! grep -q bad a.txt"));
  f.Reopen();
  auto rb = f.repo->Rollback(1);
  ASSERT_TRUE(rb) << rb.error().ToString();
  EXPECT_EQ(rb->number, 3u);

  auto tx = f.repo->Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE((*tx)->Write("a.txt", "bad\n"));
  auto c = (*tx)->Commit(CommitOptions{});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kInvalidArgument);
  EXPECT_NE(c.error().message.find("/.txdir/gens/4"), std::string::npos) << c.error().message;

  auto ex = ExecTransaction(*f.repo, {"/bin/sh", "-c", "echo bad > \"$TXDIR_STAGE/a.txt\""},
                            CommitOptions{});
  ASSERT_FALSE(ex);
  EXPECT_EQ(ex.error().code, Code::kInvalidArgument);
  auto ok = ExecTransaction(*f.repo, {"/bin/sh", "-c", "echo good > \"$TXDIR_STAGE/a.txt\""},
                            CommitOptions{});
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(f.repo->Status()->committed, 4u);
  EXPECT_EQ(*f.repo->ReadFile(4, "a.txt"), "good\n");
}

TEST(PrePublishHook, LongOutputIsTruncated) {
  RetentionFixture f;
  ASSERT_TRUE(SetConfig(f.root, "hooks.pre_publish", "yes 0123456789 | head -c 200000; exit 3"));
  f.Reopen();
  MakeTree(f.src, {{"a.txt", "x\n"}});
  auto g = f.repo->Publish(f.src);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("exit status 3"), std::string::npos);
  EXPECT_NE(g.error().message.find("output truncated at 8192 bytes"), std::string::npos);
  EXPECT_LT(g.error().message.size(), 9000u);
  EXPECT_FALSE(f.repo->Status()->committed);
}

}  // namespace
}  // namespace txdir::testing
