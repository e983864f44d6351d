// fsck: clean on a healthy repository; finds a published file edited in
// place (chmod u+w + write into gens/N) and names every generation sharing
// the inode; --repair re-materializes them and exits 0 only when clean;
// store damage is found and exits 6.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/retention/retention_util.h"
#include "txdir/snapshot.h"

namespace txdir::testing {
namespace {

void EditInPlace(const std::string& path, const std::string& data) {
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  std::ofstream out(path, std::ios::binary | std::ios::in);  // no truncation of the inode
  out.seekp(0);
  out << data;
  ASSERT_TRUE(out.good());
}

TEST(Fsck, CleanRepositoryIsClean) {
  RetentionFixture f;
  auto r = RunCli({"fsck", f.root});
  EXPECT_EQ(r.exit, 0) << r;  // nothing published yet is clean too
  for (int i = 1; i <= 3; ++i) f.Publish(i);
  r = RunCli({"fsck", f.root, "--json"});
  ASSERT_EQ(r.exit, 0) << r;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["clean"]);
  EXPECT_EQ(j["commits_checked"], 3);
  EXPECT_EQ(j["generations_checked"], nlohmann::json({1, 2, 3}));
  EXPECT_EQ(j["head"], 3);
  EXPECT_EQ(j["live"], 3);
}

TEST(Fsck, FindsAFileEditedInPlaceAndRepairFixesIt) {
  RetentionFixture f;
  for (int i = 1; i <= 3; ++i) f.Publish(i);
  // same.txt is one inode shared by generations 1, 2 and 3.
  const std::string victim = f.root + "/.txdir/gens/3/same.txt";
  EditInPlace(victim, "SAME\n");
  auto r = RunCli({"fsck", f.root});
  EXPECT_EQ(r.exit, 6) << r;
  EXPECT_NE(r.out.find("PROBLEM generation 3: same.txt: content does not match its recorded hash"),
            std::string::npos)
      << r;
  EXPECT_NE(r.out.find("shared (same inode) by 1/same.txt 2/same.txt 3/same.txt"),
            std::string::npos)
      << r;
  r = RunCli({"fsck", f.root, "--json"});
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["clean"]);
  std::set<uint64_t> damaged;
  for (const auto& p : j["problems"]) damaged.insert(p["generation"].get<uint64_t>());
  EXPECT_EQ(damaged, (std::set<uint64_t>{1, 2, 3}));

  // A reader inside the live generation while it is repaired keeps reading
  // (its directory is swapped, never missing).
  auto snap = Snapshot::OpenLive(f.root);
  ASSERT_TRUE(snap);
  r = RunCli({"fsck", f.root, "--repair"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("repaired: re-materialized generation 3 from the store"), std::string::npos)
      << r;
  EXPECT_NE(r.out.find("clean"), std::string::npos) << r;
  EXPECT_EQ(ReadFile(f.root + "/current/same.txt"), "same\n");
  EXPECT_EQ(ReadFile(f.root + "/.txdir/gens/1/same.txt"), "same\n");
  EXPECT_EQ(Mode(f.root + "/.txdir/gens/2/same.txt") & 07777, 0444u);
  EXPECT_TRUE(snap->ReadFile("a.txt"));
  EXPECT_EQ(RunCli({"fsck", f.root}).exit, 0);
  // Publishing goes on, hard-linking from the repaired generation.
  EXPECT_EQ(f.Publish(4), 4u);
  EXPECT_EQ(RunCli({"fsck", f.root}).exit, 0);
}

TEST(Fsck, FindsMissingAndExtraFilesAndALaggingLiveLink) {
  RetentionFixture f;
  for (int i = 1; i <= 2; ++i) f.Publish(i);
  const std::string g1 = f.root + "/.txdir/gens/1";
  ASSERT_EQ(::chmod(g1.c_str(), 0755), 0);
  ASSERT_EQ(::unlink((g1 + "/a.txt").c_str()), 0);
  WriteFile(g1 + "/extra.txt", "x");
  ASSERT_EQ(::unlink((f.root + "/current").c_str()), 0);
  ASSERT_EQ(::symlink(".txdir/gens/1", (f.root + "/current").c_str()), 0);
  auto r = RunCli({"fsck", f.root});
  EXPECT_EQ(r.exit, 6) << r;
  EXPECT_NE(r.out.find("generation 1: a.txt: missing"), std::string::npos) << r;
  EXPECT_NE(r.out.find("generation 1: extra.txt: not part of the generation"), std::string::npos)
      << r;
  EXPECT_NE(r.out.find("live link shows generation 1 but the committed head is generation 2"),
            std::string::npos)
      << r;
  r = RunCli({"fsck", f.root, "--repair"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_EQ(ReadFile(f.root + "/current/a.txt"), "v2\n");
  EXPECT_EQ(ReadFile(g1 + "/a.txt"), "v1\n");
}

TEST(Fsck, FindsADamagedObjectInTheStoreAndRepairCannotHideIt) {
  RetentionFixture f;
  f.Publish(1);
  auto files = f.repo->ListFiles(1);
  ASSERT_TRUE(files);
  std::string blob;
  for (const auto& file : *files)
    if (file.path == "a.txt") blob = file.blob;
  const std::string obj =
      f.root + "/.txdir/store.git/objects/" + blob.substr(0, 2) + "/" + blob.substr(2);
  ASSERT_EQ(::chmod(obj.c_str(), 0644), 0);
  WriteFile(obj, "garbage");
  auto r = RunCli({"fsck", f.root});
  EXPECT_EQ(r.exit, 6) << r;
  EXPECT_NE(r.out.find("PROBLEM store 1: a.txt: blob " + blob), std::string::npos) << r;
  r = RunCli({"fsck", f.root, "--repair"});
  EXPECT_EQ(r.exit, 6) << r;
}

// A writer killed after staging its generation leaves the stage in
// .txdir/tmp: fsck reports it (and nothing else), --repair removes it
// (recovery's step 1), and a stage a live process holds (txdir exec while
// its program runs) is not a leftover.
TEST(Fsck, ReportsWhatAKilledWriterLeftInTmp) {
  RetentionFixture f;
  f.Publish(1);
  MakeTree(f.src, {{"a.txt", "v2\n"}, {"same.txt", "same\n"}});
  std::string out;
  const int rc = RunShell("TXDIR_CRASH_AT=materialize.files_written '" + std::string(TXDIR_CLI) +
                              "' publish '" + f.root + "' --from '" + f.src + "'",
                          &out);
  ASSERT_NE(rc, 0) << "the writer was not killed: " << out;
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(f.root + "/.txdir/tmp"))
    left.push_back(e.path().filename());
  ASSERT_EQ(left.size(), 1u) << "expected the killed writer's stage";
  auto r = RunCli({"fsck", f.root, "--json"});
  EXPECT_EQ(r.exit, 6) << r;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["problems"].size(), 1u) << r;
  EXPECT_EQ(j["problems"][0]["area"], "tmp");
  EXPECT_EQ(j["problems"][0]["path"], ".txdir/tmp/" + left[0]);
  r = RunCli({"fsck", f.root});
  EXPECT_NE(r.out.find("PROBLEM tmp: .txdir/tmp/" + left[0] + ": left over by a writer"),
            std::string::npos)
      << r;

  r = RunCli({"fsck", f.root, "--repair"});
  EXPECT_EQ(r.exit, 0) << r;
  EXPECT_NE(r.out.find("removed staging leftover tmp/" + left[0]), std::string::npos) << r;
  EXPECT_TRUE(std::filesystem::is_empty(f.root + "/.txdir/tmp"));

  // Held by a live process: in use, not reported.
  const std::string held = f.root + "/.txdir/tmp/stage-exec-held";
  ASSERT_EQ(::mkdir(held.c_str(), 0755), 0);
  int fd = ::open(held.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  r = RunCli({"fsck", f.root});
  EXPECT_EQ(r.exit, 0) << r;
  ::close(fd);
  // Released: now it is a leftover; `txdir recover` removes it too.
  EXPECT_EQ(RunCli({"fsck", f.root}).exit, 6);
  EXPECT_EQ(RunCli({"recover", f.root}).exit, 0);
  EXPECT_EQ(RunCli({"fsck", f.root}).exit, 0);
}

}  // namespace
}  // namespace txdir::testing
