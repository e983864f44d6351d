// Publishing that cannot silently wipe the set: --dry-run shows what would
// change and writes nothing; an empty source, or one that would remove
// every file, is refused unless allowed; the report names removed files.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/cli/cli_runner.h"
#include "txdir/repository.h"

namespace txdir::testing {
namespace {

namespace stdfs = std::filesystem;

// Every file under the store's objects/ (loose objects and packs).
size_t StoreFiles(const std::string& root) {
  size_t n = 0;
  for (const auto& e : stdfs::recursive_directory_iterator(root + "/.txdir/store.git/objects"))
    n += e.is_regular_file();
  return n;
}

class PublishSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(
        f_.Publish({{"a.txt", "one\n"}, {"b.txt", "bee\n"}, {"t/c.sdn", "x |a|\n  1\n"}}).exit, 0);
  }
  std::string Dir(const std::string& name, const std::map<std::string, std::string>& files) {
    const std::string d = f_.tmp / name;
    stdfs::create_directories(d);
    MakeTree(d, files);
    return d;
  }
  CliFixture f_;
};

TEST_F(PublishSafetyTest, DryRunListsAddedChangedRemovedAndWritesNothing) {
  const std::string src = Dir(
      "next", {{"a.txt", "ONE\n"}, {"t/c.sdn", "x |a|\n  1\n"}, {"new.txt", "brand new content"}});
  const size_t objects = StoreFiles(f_.root);
  CliResult r = RunCli({"publish", f_.root, "--from", src, "--dry-run"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_EQ(r.out,
            "M\ta.txt\nD\tb.txt\nA\tnew.txt\n"
            "would publish: 1 added, 1 modified, 1 removed (dry run: nothing published)\n");
  EXPECT_EQ(StoreFiles(f_.root), objects) << "a dry run stores no object";
  EXPECT_EQ(RunCli({"status", f_.root, "--json"}).out.find("\"committed\": 2"), std::string::npos);
  EXPECT_EQ(RunCli({"cat", f_.root, "b.txt"}).out, "bee\n") << "still live";

  // The library call reports sizes from both sides.
  auto repo = Repository::Open(f_.root);
  ASSERT_TRUE(repo);
  auto changes = (*repo)->PreviewPublish(src);
  ASSERT_TRUE(changes) << changes.error().ToString();
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_EQ((*changes)[0].old_size, 4u);
  EXPECT_EQ((*changes)[0].new_size, 4u);
  EXPECT_EQ((*changes)[2].path, "new.txt");
  EXPECT_EQ((*changes)[2].new_size, 17u);
  EXPECT_EQ((*changes)[1].kind, ChangeKind::kRemoved);
}

TEST_F(PublishSafetyTest, EmptySourceIsRefusedUnlessAllowed) {
  const std::string empty = Dir("empty", {});
  for (const auto& extra : std::vector<std::string>{"", "--dry-run"}) {
    std::vector<std::string> args = {"publish", f_.root, "--from", empty};
    if (!extra.empty()) args.push_back(extra);
    CliResult r = RunCli(args);
    EXPECT_EQ(r.exit, 8) << r;
    EXPECT_TRUE(Has(r.err, "the source holds no files")) << r;
    EXPECT_TRUE(Has(r.err, "--allow-empty")) << r;
  }
  EXPECT_EQ(RunCli({"cat", f_.root, "a.txt"}).out, "one\n") << "nothing published";
  CliResult r = RunCli({"publish", f_.root, "--from", empty, "--allow-empty"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "0 added, 0 modified, 3 removed")) << r;
  EXPECT_TRUE(Has(r.out, "D\tt/c.sdn\n")) << r;
}

TEST_F(PublishSafetyTest, SourceSharingNoPathIsRefusedUnlessAllowed) {
  const std::string wrong = Dir("wrong", {{"other.txt", "x"}});
  CliResult r = RunCli({"publish", f_.root, "--from", wrong});
  EXPECT_EQ(r.exit, 8) << r;
  EXPECT_TRUE(Has(r.err, "would remove every file of generation 1 (3 files")) << r;
  EXPECT_TRUE(Has(r.err, "--allow-remove-all")) << r;
  EXPECT_EQ(RunCli({"cat", f_.root, "a.txt"}).out, "one\n") << "nothing published";

  r = RunCli({"publish", f_.root, "--from", wrong, "--allow-remove-all"});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "published generation 2")) << r;
  EXPECT_TRUE(Has(r.out, "1 added, 0 modified, 3 removed\nD\ta.txt\nD\tb.txt\nD\tt/c.sdn\n")) << r;
}

TEST_F(PublishSafetyTest, OneFileKeptIsEnoughAndTheReportNamesEachRemoval) {
  // The dashboard case: a source holding one of the tables drops the rest,
  // which is allowed (a file stays) but named in the report.
  const std::string one = Dir("one", {{"a.txt", "one\n"}});
  CliResult r = RunCli({"publish", f_.root, "--from", one});
  ASSERT_EQ(r.exit, 0) << r;
  EXPECT_TRUE(Has(r.out, "0 added, 0 modified, 2 removed\nD\tb.txt\nD\tt/c.sdn\n")) << r;
  r = RunCli({"-q", "publish", f_.root, "--from", one, "--allow-empty"});
  EXPECT_EQ(r.out, "") << "-q prints nothing";
}

}  // namespace
}  // namespace txdir::testing
