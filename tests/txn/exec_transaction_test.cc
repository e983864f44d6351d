// ExecTransaction: a program edits a private copy of the head; its result is
// committed as one generation if it exits 0.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/txn/txn_test_util.h"
#include "txdir/exec.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using testing::kTodoFile;
using testing::TxFixture;

// Runs `script` with /bin/sh as an exec transaction.
Result<ExecResult> RunSh(Repository& repo, const std::string& script,
                         Strategy strategy = Strategy::kError) {
  return ExecTransaction(repo, {"/bin/sh", "-c", script},
                         CommitOptions{.message = "exec test", .strategy = strategy});
}

// The entries of <root>/.txdir/tmp (stages left behind).
std::vector<std::string> TmpEntries(const TxFixture& f) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : testing::stdfs::directory_iterator(f.root + "/.txdir/tmp", ec))
    out.push_back(e.path().filename().string());
  return out;
}

TEST(ExecTransaction, PublishesTheProgramsChangesAsOneGeneration) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}, {"same.txt", "S"}});
  const std::string seen = f.tmp / "seen";
  auto r = RunSh(*f.repo,
                 "set -e; cd \"$TXDIR_STAGE\"; "
                 "printf '%s %s' \"$TXDIR_STAGE\" \"$TXDIR_BASE_GENERATION\" > " +
                     seen +
                     "; "
                     "printf A2 > a.txt; rm b.txt; mkdir -p sub; printf new > sub/added.txt");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 0);
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_TRUE(r->commit->published);
  EXPECT_EQ(r->commit->generation.number, 2u);
  EXPECT_EQ(r->commit->generation.kind, "exec");
  EXPECT_EQ(r->commit->generation.message, "exec test");
  EXPECT_EQ(testing::ReadTree(f.live()),
            (std::map<std::string, std::string>{
                {"a.txt", "A2"}, {"same.txt", "S"}, {"sub/added.txt", "new"}}));
  // The program saw its stage and the base generation; the stage is gone.
  std::string s = testing::ReadFile(seen);
  auto space = s.find(' ');
  ASSERT_NE(space, std::string::npos) << s;
  std::string stage = s.substr(0, space);
  EXPECT_EQ(s.substr(space + 1), "1");
  EXPECT_EQ(stage.rfind(f.root + "/.txdir/tmp/", 0), 0u) << stage;
  EXPECT_FALSE(testing::stdfs::exists(stage));
  EXPECT_TRUE(TmpEntries(f).empty());
  f.ExpectClean(2);
}

// A program that edits files by relative name (sed -i plans.sdn) edits the
// stage's copy: its working directory is the stage, wherever txdir was
// started, and the caller's own files are untouched.
TEST(ExecTransaction, TheProgramRunsInsideTheStage) {
  TxFixture f;
  f.Publish({{"plans.sdn", "old\n"}});
  const std::string caller = f.tmp / "caller";
  testing::stdfs::create_directories(caller);
  testing::WriteFile(caller + "/plans.sdn", "mine\n");
  const std::string before = testing::stdfs::current_path();
  testing::stdfs::current_path(caller);
  const std::string seen = f.tmp / "pwd";
  auto r = RunSh(*f.repo, "pwd -P > " + seen + " && printf 'new\\n' > plans.sdn");
  testing::stdfs::current_path(before);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 0);
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_TRUE(r->commit->published);
  EXPECT_EQ(testing::ReadFile(f.live() + "/plans.sdn"), "new\n");
  EXPECT_EQ(testing::ReadFile(caller + "/plans.sdn"), "mine\n");
  const std::string pwd = testing::ReadFile(seen);
  const std::string real_tmp =
      testing::stdfs::canonical(f.root + "/.txdir/tmp").string() + "/exec-";
  EXPECT_EQ(pwd.rfind(real_tmp, 0), 0u) << pwd;
}

TEST(ExecTransaction, TheStageHoldsTheHeadsFilesWritable) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"d/e.txt", "E"}});
  const std::string copy = f.tmp / "copy";
  auto r = RunSh(*f.repo, "cp -r \"$TXDIR_STAGE\" " + copy + " && test -w \"$TXDIR_STAGE/a.txt\"");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_EQ(testing::ReadTree(copy),
            (std::map<std::string, std::string>{{"a.txt", "A"}, {"d/e.txt", "E"}}));
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_FALSE(r->commit->published);  // nothing changed
  EXPECT_EQ(f.Head(), 1u);
}

TEST(ExecTransaction, AFailingProgramPublishesNothing) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  const std::string seen = f.tmp / "seen";
  auto r = RunSh(*f.repo, "printf '%s' \"$TXDIR_STAGE\" > " + seen +
                              "; printf broken > \"$TXDIR_STAGE/a.txt\"; exit 3");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 3);
  EXPECT_FALSE(r->commit.has_value());
  EXPECT_EQ(f.LiveFile("a.txt"), "A");
  EXPECT_EQ(f.repo->Log()->size(), 1u);
  EXPECT_FALSE(testing::stdfs::exists(testing::ReadFile(seen)));
  EXPECT_TRUE(TmpEntries(f).empty());
  f.ExpectClean(1);
}

TEST(ExecTransaction, AProgramKilledByASignalPublishesNothing) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto r = RunSh(*f.repo, "printf broken > \"$TXDIR_STAGE/a.txt\"; kill -KILL $$");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 128 + SIGKILL);
  EXPECT_FALSE(r->commit.has_value());
  EXPECT_EQ(f.Head(), 1u);
  EXPECT_TRUE(TmpEntries(f).empty());
}

TEST(ExecTransaction, AMissingProgramIsNotFound) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto r = ExecTransaction(*f.repo, {"/nonexistent/program"}, CommitOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kNotFound) << r.error().ToString();
  EXPECT_TRUE(TmpEntries(f).empty());
  auto empty = ExecTransaction(*f.repo, {}, CommitOptions{});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, Code::kInvalidArgument);
}

// A program that changes nothing must publish nothing, whatever the file
// modes: executable files and symlinks must reach the stage as they are.
TEST(ExecTransaction, AnUnchangedStageKeepsModesAndLinks) {
  TxFixture f;
  testing::MakeTree(f.src, {{"run.sh", "#!/bin/sh\n"}, {"a.txt", "A"}});
  ASSERT_EQ(::chmod((f.src + "/run.sh").c_str(), 0755), 0);
  testing::stdfs::create_symlink("a.txt", f.src + "/link");
  ASSERT_TRUE(f.repo->Publish(f.src).has_value());
  auto r = RunSh(*f.repo, "test -x \"$TXDIR_STAGE/run.sh\" && test -L \"$TXDIR_STAGE/link\"");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 0) << "the stage lost the exec bit or the symlink";
  if (r->commit) {
    EXPECT_FALSE(r->commit->published);
  }
  EXPECT_EQ(f.Head(), 1u);
  EXPECT_TRUE(testing::Mode(f.live() + "/run.sh") & 0100);
  EXPECT_TRUE(testing::stdfs::is_symlink(f.live() + "/link"));
}

TEST(ExecTransaction, AProgramMayChangeAFilesExecBit) {
  TxFixture f;
  f.Publish({{"run.sh", "#!/bin/sh\n"}});
  auto r = RunSh(*f.repo, "chmod +x \"$TXDIR_STAGE/run.sh\"");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_TRUE(r->commit->published);
  EXPECT_TRUE(testing::Mode(f.live() + "/run.sh") & 0100);
}

// A publish by another writer while the program runs: the program itself
// runs `txdir db ... set 2 status=done` (record 2) and edits record 1 in its
// stage. Each strategy resolves the two as a transaction would.
struct ConcurrentExec {
  TxFixture f;
  Result<ExecResult> Run(Strategy strategy) {
    f.Publish({{kTodoFile, testing::TodoDb(3)}, {"other.txt", "O"}});
    return RunSh(*f.repo,
                 std::string("set -e; ") + TXDIR_CLI + " -q db " + f.root + " " + kTodoFile +
                     " todos set 2 status=done; "
                     "sed -i 's/task 1,/edited by exec,/' \"$TXDIR_STAGE/" +
                     kTodoFile + "\"",
                 strategy);
  }
  Todo Live(int id) {
    auto t = testing::MustLoadTodos(f.LiveFile(kTodoFile)).Get(std::to_string(id));
    EXPECT_TRUE(t.has_value());
    return t ? *t : Todo{};
  }
};

TEST(ExecTransaction, AConcurrentPublishIsMergedWithMerge) {
  ConcurrentExec c;
  auto r = c.Run(Strategy::kMerge);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->exit_status, 0);
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_EQ(r->commit->generation.number, 3u);
  EXPECT_EQ(r->commit->merged, std::vector<std::string>{kTodoFile});
  EXPECT_EQ(c.Live(1).description, "edited by exec");
  EXPECT_EQ(c.Live(2).status, "done");
  c.f.ExpectClean(3);
}

TEST(ExecTransaction, AConcurrentPublishIsAConflictWithError) {
  ConcurrentExec c;
  auto r = c.Run(Strategy::kError);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find(kTodoFile), std::string::npos);
  EXPECT_EQ(c.Live(1).description, "task 1");
  EXPECT_EQ(c.Live(2).status, "done");
  EXPECT_TRUE(TmpEntries(c.f).empty());
  c.f.ExpectClean(2);
}

TEST(ExecTransaction, AConcurrentPublishIsOverwrittenWithLastWriteWins) {
  ConcurrentExec c;
  auto r = c.Run(Strategy::kLastWriteWins);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->commit.has_value());
  EXPECT_EQ(c.Live(1).description, "edited by exec");
  EXPECT_EQ(c.Live(2).status, "open");  // the concurrent update is dropped
}

}  // namespace
}  // namespace txdir
