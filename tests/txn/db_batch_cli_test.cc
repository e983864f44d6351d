// `txdir db DIR --batch`, run as the built binary with operations on stdin.
#include <gtest/gtest.h>
#include <spawn.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/cli/cli_runner.h"
#include "tests/txn/txn_test_util.h"
#include "txdir/repository.h"

namespace txdir {
namespace {

using nlohmann::json;
using testing::CliResult;
using testing::RunCliWithInput;

// `todos |id, title, status|` with records 0..n-1, a comment and a quoted
// cell, so that a rewrite of untouched records would show; the records in
// `done` have status done.
std::string Todos(int n, const std::set<int>& done = {}) {
  std::string s = "# kept as written\ntodos |id, title, status|\n";
  for (int i = 0; i < n; ++i)
    s += "    " + std::to_string(i) + ", \"title, " + std::to_string(i) + "\", " +
         (done.count(i) ? "done" : "open") + "\n";
  return s;
}

struct BatchFixture {
  testing::TempDir tmp{testing::FastTmpBase()};
  std::string root = tmp / "repo";

  explicit BatchFixture(const std::map<std::string, std::string>& files) {
    const std::string src = tmp / "src";
    testing::MakeTree(src, files);
    EXPECT_EQ(testing::RunCli({"init", root}).exit, 0);
    EXPECT_EQ(testing::RunCli({"publish", root, "--from", src}).exit, 0);
  }

  CliResult Batch(const std::string& input, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"db", root, "--batch"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCliWithInput(args, input);
  }

  std::string Live(const std::string& file) { return testing::ReadFile(root + "/current/" + file); }

  uint64_t Head() {
    auto repo = Repository::Open(root);
    EXPECT_TRUE(repo.has_value());
    auto s = (*repo)->Status();
    return s && s->committed ? *s->committed : 0;
  }
};

// Every stdout line as JSON.
std::vector<json> Lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << line;
    v.push_back(j);
  }
  return v;
}

std::string SetOp(const std::string& file, int id, const std::string& fields) {
  return R"({"file":")" + file + R"(","table":"todos","op":"set","id":")" + std::to_string(id) +
         R"(","fields":)" + fields + "}\n";
}

TEST(DbBatchCli, ThreeHundredSetsMakeOneGenerationAndChangeOnlyThoseLines) {
  BatchFixture f({{"t.sdn", Todos(600)}});
  std::string input;
  std::set<int> done;
  for (int i = 0; i < 600; i += 2) {
    input += SetOp("t.sdn", i, R"({"status":"done"})");
    done.insert(i);
  }
  CliResult r = f.Batch(input);
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.Head(), 2u);  // one generation for the whole batch
  EXPECT_EQ(f.Live("t.sdn"), Todos(600, done));
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 301u);
  EXPECT_EQ(lines[0], json::parse(R"({"line":1,"op":"set","file":"t.sdn","table":"todos",
                                      "id":"0","result":"updated"})"));
  EXPECT_EQ(lines[300]["published"], true);
  EXPECT_EQ(lines[300]["generation"], 2);
  EXPECT_EQ(lines[300]["operations"], 300);
  EXPECT_EQ(lines[300]["changed"], 300);
}

TEST(DbBatchCli, MixedSetInsertDeleteAcrossTwoFilesInOneGeneration) {
  BatchFixture f({{"t.sdn", Todos(3)}, {"c.sdn", "cache |key, value|\n    a, 1\n"}});
  const std::string input =
      SetOp("t.sdn", 1, R"({"status":"done"})") +
      R"({"file":"c.sdn","table":"cache","op":"insert","fields":{"key":"b","value":2}})"
      "\n"
      R"({"file":"t.sdn","table":"todos","op":"delete","id":0})"
      "\n"
      R"({"file":"t.sdn","table":"todos","op":"insert","fields":{"title":"new","status":"open"}})"
      "\n"
      R"({"file":"c.sdn","table":"cache","op":"set","id":"b","fields":{"value":true}})";
  CliResult r = f.Batch(input);  // the last line has no '\n' and still counts
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.Head(), 2u);
  EXPECT_EQ(f.Live("t.sdn"),
            "# kept as written\ntodos |id, title, status|\n    1, \"title, 1\", done\n"
            "    2, \"title, 2\", open\n    3, new, open\n");
  EXPECT_EQ(f.Live("c.sdn"), "cache |key, value|\n    a, 1\n    b, true\n");
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u);
  std::vector<std::string> results;
  for (size_t i = 0; i < 5; ++i) results.push_back(lines[i]["result"]);
  EXPECT_EQ(results,
            (std::vector<std::string>{"updated", "inserted", "deleted", "inserted", "updated"}));
  EXPECT_EQ(lines[3]["id"], "3");  // the id the insert was given
}

TEST(DbBatchCli, OneBadLinePublishesNothingAndEveryLineIsReported) {
  BatchFixture f({{"t.sdn", Todos(5)}});
  const std::string before = f.Live("t.sdn");
  const std::string input = SetOp("t.sdn", 1, R"({"status":"done"})") +
                            SetOp("t.sdn", 2, R"({"status":"done"})") +
                            SetOp("t.sdn", 99, R"({"status":"done"})") +  // no such record
                            SetOp("t.sdn", 3, R"({"status":"done"})") +
                            SetOp("t.sdn", 4, R"({"colour":"red"})");  // no such field
  CliResult r = f.Batch(input);
  EXPECT_EQ(r.exit, 3) << r;  // the first failure's code: not found
  EXPECT_NE(r.err.find("2 of 5 operations failed, the first on line 3: no record 99 in todos; "
                       "nothing was published"),
            std::string::npos)
      << r;
  EXPECT_EQ(f.Head(), 1u);
  EXPECT_EQ(f.Live("t.sdn"), before);  // the live generation is intact
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(lines[i]["line"], i + 1);
  EXPECT_EQ(lines[2]["error"], "no record 99 in todos");
  EXPECT_EQ(lines[4]["error"], "no field 'colour' in todos (fields: id, title, status)");
  EXPECT_EQ(lines[3]["result"], "updated");
  EXPECT_EQ(lines[5]["published"], false);
  EXPECT_EQ(lines[5]["failed"], 2);
  EXPECT_EQ(lines[5]["reason"], "2 operations failed; nothing was published");
}

TEST(DbBatchCli, MalformedJsonLineIsInvalidInputNamingTheLine) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  CliResult r = f.Batch(SetOp("t.sdn", 1, R"({"status":"done"})") + "{\"file\": \"t.sdn\",\n");
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_NE(r.err.find("the first on line 2: not valid JSON"), std::string::npos) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["line"], 2);
  EXPECT_EQ(lines[1]["error"].get<std::string>().rfind("not valid JSON: ", 0), 0u) << lines[1];
  EXPECT_EQ(f.Head(), 1u);
}

TEST(DbBatchCli, EmptyInputPublishesNothingAndSaysSo) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  for (const std::string input : {"", "\n  \n\r\n"}) {
    CliResult r = f.Batch(input);
    ASSERT_EQ(r.exit, 0) << r;
    EXPECT_EQ(Lines(r.out),
              std::vector<json>{json::parse(R"({"published":false,"generation":1,"operations":0,
                                "changed":0,"failed":0,"reason":"no operations"})")});
  }
  EXPECT_EQ(f.Head(), 1u);
}

TEST(DbBatchCli, BatchThatChangesNothingPublishesNothing) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  CliResult r = f.Batch(SetOp("t.sdn", 1, R"({"status":"open"})") +
                        SetOp("t.sdn", 2, R"({"status":"done"})") +
                        SetOp("t.sdn", 2, R"({"status":"open"})"));  // and back
  ASSERT_EQ(r.exit, 0) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["result"], "no change");
  EXPECT_EQ(lines[3]["published"], false);
  EXPECT_EQ(lines[3]["reason"], "nothing changed");
  EXPECT_EQ(f.Head(), 1u);
}

TEST(DbBatchCli, ValuesAreStringsIntegersOrBooleansAndOtherJsonIsRefused) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  CliResult r =
      f.Batch(SetOp("t.sdn", 1, R"({"status":85.50})") + SetOp("t.sdn", 1, R"({"status":null})") +
              SetOp("t.sdn", 1, R"({"status":{"a":1}})") +
              R"({"file":"t.sdn","table":"todos","op":"set","id":1,"fields":{"title":7}})"
              "\n"
              R"({"file":"t.sdn","table":"todos","op":"insert","id":"9"})"
              "\n"
              R"({"file":"t.sdn","table":"todos","op":"set","id":"1"})"
              "\n"
              R"({"file":"t.sdn","table":"todos","op":"set","id":"1","feilds":{}})"
              "\n");
  EXPECT_EQ(r.exit, 8) << r;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_NE(lines[0]["error"].get<std::string>().find("give it as a JSON string, e.g. \"85.50\""),
            std::string::npos);
  EXPECT_EQ(lines[1]["error"], "field \"status\" is null; give \"\" for an empty cell");
  EXPECT_NE(lines[2]["error"].get<std::string>().find("is an object"), std::string::npos);
  EXPECT_EQ(lines[3]["result"], "updated");  // an integer id and value, as their text
  EXPECT_NE(lines[4]["error"].get<std::string>().find("\"id\" is not allowed in insert"),
            std::string::npos);
  EXPECT_EQ(lines[5]["error"], "\"fields\" is missing");
  EXPECT_NE(lines[6]["error"].get<std::string>().find("\"feilds\" is not allowed in set"),
            std::string::npos);
  EXPECT_EQ(f.Head(), 1u);
}

TEST(DbBatchCli, HostileInputIsRefusedWithoutACrash) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  const std::string input = std::string((1 << 20) + 1, ' ') + "\n" + std::string(100000, '[') +
                            "\n" + "\"just a string\"\n" + std::string(1, '\0') + "\n";
  CliResult r = f.Batch(input);
  EXPECT_EQ(r.exit, 8) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0]["error"], "longer than 1 MiB");
  EXPECT_EQ(lines[1]["error"], "nested more than 16 levels deep");
  EXPECT_EQ(lines[2]["error"], "not a JSON object");
  EXPECT_EQ(f.Head(), 1u);
}

TEST(DbBatchCli, InsertCreatesAMissingFileAndLaterLinesSeeIt) {
  BatchFixture f({{"t.sdn", Todos(1)}});
  CliResult r =
      f.Batch(R"({"file":"n.sdn","table":"todos","op":"set","id":"0","fields":{"title":"x"}})"
              "\n"
              R"({"file":"n.sdn","table":"todos","op":"insert","fields":{"title":"x"}})"
              "\n"
              R"({"file":"n.sdn","table":"todos","op":"set","id":"0","fields":{"title":"y"}})"
              "\n");
  EXPECT_EQ(r.exit, 3) << r;  // line 1: the file is not there yet
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1]["result"], "inserted");
  EXPECT_EQ(lines[2]["result"], "updated");
  r = f.Batch(R"({"file":"n.sdn","table":"todos","op":"insert","fields":{"title":"x"}})"
              "\n"
              R"({"file":"n.sdn","table":"todos","op":"set","id":"0","fields":{"title":"y"}})"
              "\n");
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(f.Live("n.sdn"), "todos |id, title|\n    0, y\n");
}

// Later lines see earlier ones: next ids, keys inserted and deleted in the
// same batch, exactly as the single command would number them one by one.
TEST(DbBatchCli, InsertsAndDeletesInOneBatchNumberAsSingleChangesWould) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  auto insert = [](const std::string& fields) {
    return R"({"file":"t.sdn","table":"todos","op":"insert","fields":)" + fields + "}\n";
  };
  auto del = [](const std::string& id) {
    return R"({"file":"t.sdn","table":"todos","op":"delete","id":")" + id + "\"}\n";
  };
  CliResult r =
      f.Batch(insert(R"({"title":"a"})") + insert(R"({"id":"010","title":"b"})") +
              insert(R"({"title":"c"})") + del("11") + insert(R"({"title":"d"})") + del("1") +
              insert(R"({"id":"1","title":"e"})") + SetOp("t.sdn", 1, R"({"status":"done"})"));
  ASSERT_EQ(r.exit, 0) << r;
  std::vector<std::string> ids;
  for (const auto& j : Lines(r.out))
    if (j.contains("id")) ids.push_back(j["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"3", "010", "11", "11", "11", "1", "1", "1"}));
  // Record 1, deleted and inserted again in one batch, is written where it
  // was: the writer matches records by key, so it reads as an edit of 1.
  EXPECT_EQ(f.Live("t.sdn"),
            "# kept as written\ntodos |id, title, status|\n    0, \"title, 0\", open\n"
            "    1, e, done\n    2, \"title, 2\", open\n    3, a, \n    010, b, \n    11, d, \n");
  EXPECT_EQ(f.Head(), 2u);
}

TEST(DbBatchCli, VersioningBumpsTheRecordOncePerOperation) {
  BatchFixture f({{"t.sdn", Todos(3)}});
  CliResult r =
      f.Batch(SetOp("t.sdn", 1, R"({"status":"done"})") + SetOp("t.sdn", 1, R"({"title":"t"})") +
                  SetOp("t.sdn", 2, R"({"status":"open"})"),  // no change: no bump
              {"--versioning"});
  ASSERT_EQ(r.exit, 0) << r;
  r = testing::RunCli({"db", f.root, "t.sdn", "todos", "list", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json rows = json::parse(r.out);
  EXPECT_EQ(rows[1]["version"], "2");
  EXPECT_EQ(rows[2]["version"], "");
}

// A batch publishing while single-record writers publish: with the default
// strategy (merge) every change of both lands.
TEST(DbBatchCli, ConcurrentSingleSetsAndABatchAllLand) {
  constexpr int kRounds = 3, kSingles = 3, kRows = 60;
  BatchFixture f({{"t.sdn", Todos(kRows)}});
  testing::TempDir io;
  const std::string in = io / "batch.jsonl";
  for (int round = 1; round <= kRounds; ++round) {
    const std::string value = "r" + std::to_string(round);
    std::string input;
    for (int i = kSingles; i < kRows; ++i)
      input += SetOp("t.sdn", i, R"({"title":")" + value + R"("})");
    testing::WriteFile(in, input);
    std::vector<pid_t> pids;
    auto spawn = [&](std::vector<std::string> args, const std::string& stdin_path) {
      testing::CliArgv argv(args);
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_addopen(&fa, 0, stdin_path.c_str(), O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
      pid_t pid = -1;
      EXPECT_EQ(posix_spawn(&pid, TXDIR_CLI, &fa, nullptr, argv.data(), environ), 0);
      posix_spawn_file_actions_destroy(&fa);
      pids.push_back(pid);
    };
    spawn({"db", f.root, "--batch"}, in);
    for (int i = 0; i < kSingles; ++i)
      spawn({"db", f.root, "t.sdn", "todos", "set", std::to_string(i), "title=" + value},
            "/dev/null");
    for (pid_t p : pids) EXPECT_EQ(testing::WaitChild(p), 0) << "round " << round;
  }
  CliResult r = testing::RunCli({"db", f.root, "t.sdn", "todos", "list", "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  json rows = json::parse(r.out);
  for (int i = 0; i < kRows; ++i) EXPECT_EQ(rows[i]["title"], "r" + std::to_string(kRounds)) << i;
  // At most one generation per command (group commit may take several into
  // one), at least one per round.
  EXPECT_LE(f.Head(), 1u + kRounds * (kSingles + 1));
  EXPECT_GE(f.Head(), 1u + kRounds);
}

TEST(DbBatchCli, BatchTakesNoFileTableOrOp) {
  BatchFixture f({{"t.sdn", Todos(1)}});
  CliResult r = f.Batch("", {"t.sdn"});
  EXPECT_EQ(r.exit, 2) << r;
  EXPECT_NE(r.err.find("db --batch reads its operations from standard input"), std::string::npos);
  r = f.Batch("", {"--strategy", "bogus"});
  EXPECT_EQ(r.exit, 2) << r;
}

}  // namespace
}  // namespace txdir
