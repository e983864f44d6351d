// The CLI's argument handling in-process (tools/txdir/app.h): parsing never
// runs a command, and unknown commands and options suggest the closest
// valid spelling.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "tools/txdir/app.h"

namespace txdir::cli {
namespace {

struct Parsed {
  std::optional<int> code;
  bool chose_command = false;
  std::string out, err;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "txdir");
  auto cli = MakeApp();
  std::ostringstream out, err;
  Parsed p;
  p.code = ParseOnly(*cli, args, out, err);
  p.chose_command = static_cast<bool>(cli->run);
  p.out = out.str();
  p.err = err.str();
  return p;
}

TEST(ClosestMatchTest, FindsOneTypoAway) {
  const std::vector<std::string> commands = {"publish", "status", "log", "rollback", "recover"};
  EXPECT_EQ(ClosestMatch("publsh", commands), "publish");    // deletion
  EXPECT_EQ(ClosestMatch("pubilsh", commands), "publish");   // swap
  EXPECT_EQ(ClosestMatch("statsu", commands), "status");     // swap
  EXPECT_EQ(ClosestMatch("rolback", commands), "rollback");  // deletion
  EXPECT_EQ(ClosestMatch("recovre", commands), "recover");   // swap
  EXPECT_EQ(ClosestMatch("--jsn", {"--json", "--since"}), "--json");
  EXPECT_EQ(ClosestMatch("-json", {"--json", "-n"}), "--json");  // dashes do not count
}

TEST(ClosestMatchTest, NothingForUnrelatedWords) {
  EXPECT_EQ(ClosestMatch("frobnicate", {"publish", "status", "log"}), "");
  EXPECT_EQ(ClosestMatch("x", {"-n", "-q"}), "");  // a one-letter word matches nothing by chance
  EXPECT_EQ(ClosestMatch("", {"log"}), "");
  EXPECT_EQ(ClosestMatch("log", {}), "");
}

TEST(ParseOnlyTest, ValidCommandLineChoosesACommandWithoutRunningIt) {
  // The directory does not exist: running `init` would create it.
  Parsed p = Parse({"init", "/nonexistent-parse-only/repo"});
  EXPECT_EQ(p.code, std::nullopt) << p.err;
  EXPECT_TRUE(p.chose_command);
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-parse-only"));
}

TEST(ParseOnlyTest, HelpAndVersionEndWithZeroAndNoCommand) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"--version"}, {"publish", "--help"}, {"log", "d", "--help"}}) {
    Parsed p = Parse(args);
    EXPECT_EQ(p.code, std::optional<int>(0)) << ::testing::PrintToString(args) << p.err;
    EXPECT_FALSE(p.chose_command) << ::testing::PrintToString(args);
    EXPECT_FALSE(p.out.empty()) << ::testing::PrintToString(args);
  }
}

TEST(ParseOnlyTest, UnknownCommandSuggestsTheClosest) {
  Parsed p = Parse({"publsh", "d", "--from", "s"});
  EXPECT_EQ(p.code, std::optional<int>(kExitUsage));
  EXPECT_FALSE(p.chose_command);
  EXPECT_EQ(p.err, "txdir: usage error: unknown command 'publsh'; did you mean 'publish'?\n");
  p = Parse({"-q", "--timeout", "3", "stauts", "d"});
  EXPECT_EQ(p.err, "txdir: usage error: unknown command 'stauts'; did you mean 'status'?\n");
  p = Parse({"frobnicate", "d"});
  EXPECT_EQ(p.code, std::optional<int>(kExitUsage));
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown command 'frobnicate'; see 'txdir --help' for the "
            "commands\n");
}

TEST(ParseOnlyTest, UnknownOptionSuggestsTheClosestOfItsCommand) {
  Parsed p = Parse({"log", "d", "--jsn"});
  EXPECT_EQ(p.code, std::optional<int>(kExitUsage));
  EXPECT_FALSE(p.chose_command);
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--jsn' for 'log'; did you mean '--json'?\n");
  // Options of other commands are not suggested: --from belongs to publish.
  p = Parse({"gc", "d", "--keeep", "3"});
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--keeep' for 'gc'; did you mean '--keep'?\n");
  p = Parse({"publish", "d", "--form", "s"});
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--form' for 'publish'; did you mean '--from'?\n");
  p = Parse({"publish", "d", "--from=s", "--mesage=x"});
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--mesage' for 'publish'; did you mean "
            "'--message'?\n");
  // Global options count too, before or after the command.
  p = Parse({"status", "d", "--quite"});
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--quite' for 'status'; did you mean '--quiet'?\n");
  p = Parse({"--verbos", "status", "d"});
  EXPECT_EQ(p.err, "txdir: usage error: unknown option '--verbos'; did you mean '--verbose'?\n");
  p = Parse({"status", "d", "--zzzzzz"});
  EXPECT_EQ(p.err,
            "txdir: usage error: unknown option '--zzzzzz' for 'status'; see 'txdir status "
            "--help'\n");
}

TEST(ParseOnlyTest, ArgumentsAfterDoubleDashAreNotOptions) {
  // exec and run pass what follows -- to the program unchanged.
  Parsed p = Parse({"exec", "d", "--", "sh", "-c", "--jsn"});
  EXPECT_EQ(p.code, std::nullopt) << p.err;
  EXPECT_TRUE(p.chose_command);
}

TEST(ParseOnlyTest, SecondsOptionsRejectHugeInfiniteAndNegativeValues) {
  for (const std::string bad : {"-1", "1e308", "inf", "nan", "604801", "soon", ""}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--timeout", bad, "status", "d"},
             {"wait", "d", "--timeout", bad},
             {"pull", "d", "--watch", "--interval", bad},
         }) {
      Parsed p = Parse(args);
      EXPECT_EQ(p.code, std::optional<int>(kExitUsage)) << ::testing::PrintToString(args);
      EXPECT_FALSE(p.chose_command) << ::testing::PrintToString(args);
      EXPECT_NE(p.err.find("--"), std::string::npos) << "names the option: " << p.err;
    }
  }
  EXPECT_EQ(Parse({"--timeout", "604800", "status", "d"}).code, std::nullopt);
  EXPECT_EQ(Parse({"--timeout", "0", "status", "d"}).code, std::nullopt);
  EXPECT_EQ(Parse({"pull", "d", "--interval", "0"}).code, std::optional<int>(kExitUsage));
}

}  // namespace
}  // namespace txdir::cli
