// Commands that read a damaged object of the store stop with exit 6
// (corruption) naming the object, and quickly: a truncated loose object
// once made `cat --gen`, `show N:PATH` and `fsck` spin at full CPU forever.
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/cli/cli_runner.h"

namespace txdir::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

// RunCli, but a command still running at the deadline is killed and
// reported with `timed_out`.
struct BoundedResult {
  CliResult r;
  bool timed_out = false;
  std::chrono::milliseconds took{0};
};

BoundedResult RunCliWithin(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io / "out", err_path = io / "err";
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = SpawnCli(args, "/dev/null", out_path, err_path);
  BoundedResult b;
  if (pid < 0) return b;
  for (;;) {
    siginfo_t info{};  // WNOWAIT: WaitForCli reaps it below
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      break;
    if (std::chrono::steady_clock::now() - start > kDeadline) {
      ::kill(pid, SIGKILL);
      b.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  b.r = WaitForCli(pid, out_path, err_path);
  b.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  return b;
}

std::string BlobOf(const std::string& root, const std::string& path) {
  CliResult r = RunCli({"show", root, "1", "--json"});
  EXPECT_EQ(r.exit, 0) << r;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& f : j["files"])
    if (f["path"] == path) return f["blob"];
  ADD_FAILURE() << "no blob for " << path << " in " << r.out;
  return "";
}

TEST(CliDamagedStore, ReadsOfADamagedLooseBlobExitWithCorruptionQuickly) {
  CliFixture f;
  std::string text;
  for (int i = 0; i < 400; ++i) text += "row " + std::to_string(i) + "\n";
  ASSERT_EQ(f.Publish({{"a.txt", text}, {"b.txt", "bee\n"}}).exit, 0);
  const std::string hex = BlobOf(f.root, "a.txt");
  ASSERT_EQ(hex.size(), 40u);
  const std::string obj =
      f.root + "/.txdir/store.git/objects/" + hex.substr(0, 2) + "/" + hex.substr(2);
  const std::string good = ReadFile(obj);
  ASSERT_FALSE(good.empty());
  ASSERT_EQ(::chmod(obj.c_str(), 0644), 0);
  std::string flipped = good;
  for (size_t i = good.size() / 2; i < good.size() / 2 + 4; ++i) flipped[i] = ~flipped[i];
  for (const auto& [what, data] : std::vector<std::pair<std::string, std::string>>{
           {"truncated to half", good.substr(0, good.size() / 2)},
           {"emptied", ""},
           {"bytes flipped", flipped}}) {
    WriteFile(obj, data);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"cat", f.root, "a.txt", "--gen", "1"}, {"show", f.root, "1:a.txt"}}) {
      BoundedResult b = RunCliWithin(args);
      SCOPED_TRACE(what + ": " + args[0]);
      ASSERT_FALSE(b.timed_out) << "still running after " << kDeadline.count() << " s";
      EXPECT_LT(b.took, std::chrono::seconds(5));
      EXPECT_EQ(b.r.exit, 6) << b.r;
      EXPECT_NE(b.r.err.find(hex), std::string::npos) << b.r;
      EXPECT_NE(b.r.err.find("(corruption)"), std::string::npos) << b.r;
      EXPECT_TRUE(b.r.out.empty()) << b.r;
    }
    BoundedResult fsck = RunCliWithin({"fsck", f.root});
    ASSERT_FALSE(fsck.timed_out) << what << ": fsck still running";
    EXPECT_EQ(fsck.r.exit, 6) << what << ": " << fsck.r;
    // The other file and the live copy are untouched.
    EXPECT_EQ(RunCli({"cat", f.root, "b.txt", "--gen", "1"}).out, "bee\n");
    EXPECT_EQ(RunCli({"cat", f.root, "a.txt"}).out, text);
  }
  WriteFile(obj, good);
  EXPECT_EQ(RunCli({"cat", f.root, "a.txt", "--gen", "1"}).out, text);
}

}  // namespace
}  // namespace txdir::testing
