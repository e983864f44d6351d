// The `txdir db` and `txdir exec` commands, run as the built binary.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/cli/cli_runner.h"
#include "tests/txn/txn_test_util.h"
#include "txdir/sdn.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using nlohmann::json;
using testing::CliResult;
using testing::kTodoFile;
using testing::RunCli;

// A repository (made with the CLI) whose generation 1 holds todo_db.sdn with
// records 0..n-1, on the fast file system.
struct DbFixture {
  testing::TempDir tmp{testing::FastTmpBase()};
  std::string root = tmp / "repo";
  std::string src = tmp / "src";

  explicit DbFixture(int n = 3) {
    testing::MakeTree(src, {{kTodoFile, testing::TodoDb(n)}, {"notes.txt", "N"}});
    CliResult r = RunCli({"init", root});
    EXPECT_EQ(r.exit, 0) << r;
    r = RunCli({"publish", root, "--from", src, "-m", "seed"});
    EXPECT_EQ(r.exit, 0) << r;
  }

  CliResult Db(std::vector<std::string> args) {
    std::vector<std::string> all = {"db", root, kTodoFile, "todos"};
    all.insert(all.end(), args.begin(), args.end());
    return RunCli(all);
  }

  json GetJson(const std::string& id) {
    CliResult r = Db({"get", id, "--json"});
    EXPECT_EQ(r.exit, 0) << r;
    return r.exit == 0 ? json::parse(r.out) : json::object();
  }

  Database<Todo> Live() {
    return testing::MustLoadTodos(testing::ReadFile(root + "/current/" + kTodoFile));
  }

  uint64_t Head() {
    auto repo = Repository::Open(root);
    EXPECT_TRUE(repo.has_value());
    auto s = (*repo)->Status();
    return s && s->committed ? *s->committed : 0;
  }
};

TEST(DbCli, ListPrintsTheTableAndJsonParses) {
  DbFixture f(3);
  CliResult r = f.Db({"list"});
  ASSERT_EQ(r.exit, 0) << r;
  auto doc = sdn::Parse(r.out);
  ASSERT_TRUE(doc.has_value()) << r.out;
  ASSERT_EQ(doc->tables.size(), 1u);
  EXPECT_EQ(doc->tables[0].name, "todos");
  EXPECT_EQ(doc->tables[0].rows.size(), 3u);

  r = f.Db({"list", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["id"], "1");
  EXPECT_EQ(j[1]["description"], "task 1");
  EXPECT_EQ(j[1]["line"], "0");  // cells are strings
}

TEST(DbCli, GetPrintsOneRecord) {
  DbFixture f(3);
  json j = f.GetJson("2");
  EXPECT_EQ(j["id"], "2");
  EXPECT_EQ(j["status"], "open");
  EXPECT_EQ(j["file"], "src/f2.cc");
  CliResult r = f.Db({"get", "2"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("description: task 2\n"), std::string::npos) << r.out;
}

TEST(DbCli, SetChangesOneRecordInOneGeneration) {
  DbFixture f(3);
  CliResult r = f.Db({"set", "1", "status=done", "description=with, comma \"and\" quotes"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("todos record 1 updated"), std::string::npos) << r.out;
  EXPECT_EQ(f.Head(), 2u);
  auto db = f.Live();
  EXPECT_EQ(db.Get("1")->status, "done");
  EXPECT_EQ(db.Get("1")->description, "with, comma \"and\" quotes");
  EXPECT_EQ(*db.Get("0"), testing::MakeTodo(0));
  EXPECT_EQ(testing::ReadFile(f.root + "/current/notes.txt"), "N");
  // Setting the same value again publishes nothing, and says so once.
  r = f.Db({"set", "1", "status=done"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out, "todos record 1: no change; generation 2 stays live\n") << r.out;
  EXPECT_EQ(f.Head(), 2u);
}

// A file in another writer's style (comments, CRLF, bare numbers, quoted
// keywords, an empty-slot column, a seal): one set changes that record's line
// and the seal, and every other byte stays.
TEST(DbCli, SetChangesOnlyThatRecordsLineAndReseals) {
  const std::string body =
      "# kept\r\ntodos |id, keyword, status, note|\r\n    0, \"TODO\", open, \r\n"
      "    1, \"FIXME\", open, \"a, b\"\r\n\r\n    2, \"TODO\", open, x\r\n";
  auto sealed = [](const std::string& b) {
    return "#sdn-crc32:" + std::to_string(sdn::Crc32(b)) + "\n" + b;
  };
  testing::TempDir tmp{testing::FastTmpBase()};
  const std::string root = tmp / "repo", src = tmp / "src";
  testing::MakeTree(src, {{"t.sdn", sealed(body)}});
  ASSERT_EQ(RunCli({"init", root}).exit, 0);
  ASSERT_EQ(RunCli({"publish", root, "--from", src}).exit, 0);
  CliResult r = RunCli({"db", root, "t.sdn", "todos", "set", "1", "status=done"});
  ASSERT_EQ(r.exit, 0) << r;
  std::string expected = body;
  expected.replace(expected.find("open, \"a, b\""), 4, "done");
  EXPECT_EQ(testing::ReadFile(root + "/current/t.sdn"), sealed(expected));
}

TEST(DbCli, ASealThatDoesNotMatchIsRefusedNamingTheFile) {
  testing::TempDir tmp{testing::FastTmpBase()};
  const std::string root = tmp / "repo", src = tmp / "src";
  testing::MakeTree(src, {{"t.sdn", "#sdn-crc32:1\nt |id, v|\n    1, x\n"}});
  ASSERT_EQ(RunCli({"init", root}).exit, 0);
  ASSERT_EQ(RunCli({"publish", root, "--from", src}).exit, 0);
  CliResult r = RunCli({"db", root, "t.sdn", "t", "set", "1", "v=y"});
  EXPECT_NE(r.exit, 0);
  EXPECT_NE(r.err.find("t.sdn: the seal says #sdn-crc32:1"), std::string::npos) << r;
  r = RunCli({"fsck", root});
  EXPECT_NE(r.exit, 0);
  EXPECT_NE((r.out + r.err).find("t.sdn"), std::string::npos) << r;
}

// dashboard_cache has no id column: its key is its first column, `key`.
TEST(DbCli, InsertAndSetUseTheFirstColumnWhenThereIsNoId) {
  testing::TempDir tmp{testing::FastTmpBase()};
  const std::string root = tmp / "repo", src = tmp / "src";
  testing::MakeTree(src, {{"c.sdn", "dashboard_cache |key, value|\n    build_time, 85.50\n"}});
  ASSERT_EQ(RunCli({"init", root}).exit, 0);
  ASSERT_EQ(RunCli({"publish", root, "--from", src}).exit, 0);
  CliResult r =
      RunCli({"db", root, "c.sdn", "dashboard_cache", "insert", "key=new_metric", "value=5"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(testing::ReadFile(root + "/current/c.sdn"),
            "dashboard_cache |key, value|\n    build_time, 85.50\n    new_metric, 5\n");
  r = RunCli({"db", root, "c.sdn", "dashboard_cache", "insert", "value=6"});
  EXPECT_EQ(r.exit, 8) << r;  // no key given
}

TEST(DbCli, InsertUsesTheNextIdOrTheGivenOne) {
  DbFixture f(3);
  CliResult r = f.Db({"insert", "description=fresh", "status=open"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("todos record 3 inserted"), std::string::npos) << r.out;
  EXPECT_EQ(f.GetJson("3")["description"], "fresh");
  EXPECT_EQ(f.GetJson("3")["keyword"], "");  // unspecified cells are empty
  r = f.Db({"insert", "id=10", "description=ten"});
  ASSERT_EQ(r.exit, 0) << r;
  r = f.Db({"insert", "description=eleven"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.GetJson("11")["description"], "eleven");
  r = f.Db({"insert", "id=10", "description=again"});
  EXPECT_EQ(r.exit, 9) << r;  // exists
  EXPECT_EQ(f.Live().size(), 6u);
}

TEST(DbCli, DeleteRemovesTheRecord) {
  DbFixture f(3);
  CliResult r = f.Db({"delete", "1"});
  ASSERT_EQ(r.exit, 0) << r;
  auto db = f.Live();
  EXPECT_FALSE(db.Contains("1"));
  EXPECT_EQ(db.size(), 2u);
  r = f.Db({"delete", "1"});
  EXPECT_EQ(r.exit, 3) << r;
}

TEST(DbCli, VersioningAddsAndIncrementsVersionAndLastModified) {
  DbFixture f(3);
  CliResult r = f.Db({"set", "1", "status=done", "--versioning"});
  ASSERT_EQ(r.exit, 0) << r;
  json j = f.GetJson("1");
  EXPECT_EQ(j["version"], "1");
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  EXPECT_TRUE(std::regex_match(j["last_modified"].get<std::string>(), iso)) << j.dump();
  EXPECT_EQ(f.GetJson("0")["version"], "");  // other records untouched
  r = f.Db({"set", "1", "status=blocked", "--versioning"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.GetJson("1")["version"], "2");
  r = f.Db({"insert", "description=v", "--versioning"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.GetJson("3")["version"], "1");
  // The file still loads as typed records.
  EXPECT_EQ(f.Live().Get("1")->version, 2);
}

TEST(DbCli, ErrorsHaveTheirExitCodes) {
  DbFixture f(3);
  EXPECT_EQ(f.Db({"set", "1", "nosuchfield=x"}).exit, 8);
  EXPECT_EQ(f.Db({"set", "1", "id=7"}).exit, 8);
  EXPECT_EQ(f.Db({"set", "1", "status"}).exit, 8);  // not FIELD=VALUE
  EXPECT_EQ(f.Db({"set", "99", "status=done"}).exit, 3);
  EXPECT_EQ(f.Db({"get", "99"}).exit, 3);
  EXPECT_EQ(f.Db({"frobnicate"}).exit, 2);
  EXPECT_EQ(f.Db({"set", "1", "status=done", "--strategy", "bogus"}).exit, 2);
  EXPECT_EQ(f.Db({"get"}).exit, 2);
  EXPECT_EQ(RunCli({"db", f.root, kTodoFile, "nosuchtable", "list"}).exit, 3);
  EXPECT_EQ(RunCli({"db", f.root, "missing.sdn", "todos", "list"}).exit, 3);
  EXPECT_EQ(RunCli({"db", f.root, "notes.txt", "todos", "set", "1", "a=b"}).exit, 8);
  EXPECT_EQ(f.Head(), 1u);  // none of them published anything
}

TEST(DbCli, ConcurrentSetsOnDifferentRecordsAllLand) {
  constexpr int kWriters = 6, kRounds = 5;
  DbFixture f(kWriters);
  for (int round = 1; round <= kRounds; ++round) {
    std::vector<std::unique_ptr<testing::StartedCli>> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.push_back(std::make_unique<testing::StartedCli>(
          std::vector<std::string>{"db", f.root, kTodoFile, "todos", "set", std::to_string(w),
                                   "line=" + std::to_string(round), "--strategy", "merge"},
          std::vector<std::string>{}));
    for (auto& w : writers) {
      CliResult r = w->Wait();
      EXPECT_EQ(r.exit, 0) << "round " << round << ": " << r;
    }
  }
  auto db = f.Live();
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(db.Get(std::to_string(w))->line, kRounds) << w;
  // At most one generation per set (group commit takes sets that queue
  // behind the lock's holder into its generation), at least one per round.
  EXPECT_LE(f.Head(), 1u + kWriters * kRounds);
  EXPECT_GE(f.Head(), 1u + kRounds);
}

TEST(ExecCli, SuccessPublishesTheProgramsResult) {
  DbFixture f(1);
  CliResult r = RunCli({"exec", f.root, "-m", "by exec", "--", "/bin/sh", "-c",
                        "printf changed > \"$TXDIR_STAGE/notes.txt\""});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("published generation 2"), std::string::npos) << r.out;
  EXPECT_EQ(testing::ReadFile(f.root + "/current/notes.txt"), "changed");
  EXPECT_EQ(f.Head(), 2u);
}

TEST(ExecCli, FailureExits10AndPublishesNothing) {
  DbFixture f(1);
  CliResult r = RunCli({"exec", f.root, "--", "/bin/sh", "-c",
                        "printf changed > \"$TXDIR_STAGE/notes.txt\"; exit 4"});
  EXPECT_EQ(r.exit, 10) << r;
  EXPECT_NE(r.err.find("nothing was published"), std::string::npos) << r.err;
  EXPECT_EQ(testing::ReadFile(f.root + "/current/notes.txt"), "N");
  EXPECT_EQ(f.Head(), 1u);
}

TEST(ExecCli, BadStrategyIsAUsageError) {
  DbFixture f(1);
  CliResult r = RunCli({"exec", f.root, "--strategy", "bogus", "--", "true"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_EQ(f.Head(), 1u);
}

}  // namespace
}  // namespace txdir
