// A publish with many new objects writes them as one pack (pack_writer.h):
// git accepts the pack and its index, every file reads back, small
// publishes stay loose, and a failure on the way publishes nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>

#include "test_util.h"
#include "txdir/fsck.h"
#include "txdir/snapshot.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using Files = std::map<std::string, std::string>;

Files ManyFiles(size_t n, const std::string& tag) {
  Files f;
  for (size_t i = 0; i < n; ++i)
    f["d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt"] =
        tag + " " + std::to_string(i) + "\n";
  return f;
}

struct StoreFiles {
  std::vector<std::string> packs, idxs, loose, temps;
};

StoreFiles Scan(const std::string& root) {
  StoreFiles s;
  const std::string objects = root + "/.txdir/store.git/objects";
  for (const auto& e : stdfs::recursive_directory_iterator(objects)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    const std::string parent = e.path().parent_path().filename().string();
    if (parent == "pack" && name.size() > 5 && name.ends_with(".pack"))
      s.packs.push_back(name);
    else if (parent == "pack" && name.ends_with(".idx"))
      s.idxs.push_back(name);
    else if (parent.size() == 2)
      s.loose.push_back(parent + name);
  }
  for (const auto& e : stdfs::directory_iterator(root + "/.txdir/tmp"))
    s.temps.push_back(e.path().filename().string());
  return s;
}

void ExpectGitAccepts(const std::string& root) {
  const std::string git = root + "/.txdir/store.git";
  std::string out;
  EXPECT_EQ(testing::RunShell("git --git-dir='" + git + "' fsck --strict 2>&1", &out), 0) << out;
  EXPECT_EQ(
      testing::RunShell(
          "git --git-dir='" + git + "' verify-pack '" + git + "'/objects/pack/*.idx 2>&1", &out),
      0)
      << out;
}

TEST(PackPublish, ManyNewObjectsGoIntoOnePackAndReadBack) {
  testing::RepoFixture f;
  Files v1 = ManyFiles(600, "one");
  ASSERT_EQ(f.Publish(v1), 1u);
  StoreFiles s = Scan(f.root);
  ASSERT_EQ(s.packs.size(), 1u);
  ASSERT_EQ(s.idxs.size(), 1u);
  EXPECT_EQ(s.packs[0].substr(0, s.packs[0].size() - 5), s.idxs[0].substr(0, s.idxs[0].size() - 4));
  // 600 blobs and 8 trees in the pack; only the commit (written after the
  // batch) is loose.
  EXPECT_EQ(s.loose.size(), 1u);
  EXPECT_TRUE(s.temps.empty());
  ExpectGitAccepts(f.root);
  EXPECT_EQ(testing::ReadTree(f.live()), v1);
  for (const auto& [path, data] : v1) {
    auto from_store = f.repo->ReadFile(1, path);
    ASSERT_TRUE(from_store) << from_store.error().ToString();
    EXPECT_EQ(*from_store, data);
  }
  auto report = Fsck(*f.repo, FsckOptions{});
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->clean());

  // A small change afterwards: loose objects, the pack is used as a donor
  // of nothing but history, and an old generation still reads back.
  Files v2 = v1;
  v2["d0/f0.txt"] = "changed\n";
  ASSERT_EQ(f.Publish(v2), 2u);
  s = Scan(f.root);
  EXPECT_EQ(s.packs.size(), 1u);
  EXPECT_EQ(testing::ReadTree(f.live()), v2);
  auto old = f.repo->ReadFile(1, "d0/f0.txt");
  ASSERT_TRUE(old);
  EXPECT_EQ(*old, v1["d0/f0.txt"]);
  ExpectGitAccepts(f.root);
}

TEST(PackPublish, ASmallPublishStaysLoose) {
  testing::RepoFixture f;
  ASSERT_EQ(f.Publish(ManyFiles(20, "small")), 1u);
  StoreFiles s = Scan(f.root);
  EXPECT_TRUE(s.packs.empty());
  EXPECT_EQ(s.loose.size(), 20u + 8u + 1u);  // blobs, trees (root + 7), commit
}

// Fails the rename of the pack's index into objects/pack: the pack itself
// is already there, without its index. Nothing is published, the previous
// generation stays live, and the next publish (recovering first, since this
// writer did not finish) removes the index-less pack and succeeds.
TEST(PackPublish, AFailureBeforeTheIndexIsInPlacePublishesNothing) {
  testing::TempDir tmp;
  struct FailIdxRename : EnvWrapper {
    using EnvWrapper::EnvWrapper;
    bool armed = true;
    Status RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
      if (armed && b.ends_with(".idx")) {
        armed = false;
        return MakeError(Code::kIo, "injected: rename failed", b, EIO);
      }
      return EnvWrapper::RenameAt(fd1, a, fd2, b);
    }
  } env(Env::Default());
  const std::string root = tmp / "repo", src = tmp / "src";
  ASSERT_TRUE(Repository::Init(root));
  auto repo = Repository::Open(root, OpenOptions{.env = &env});
  ASSERT_TRUE(repo) << repo.error().ToString();
  testing::MakeTree(src, {{"a", "one"}});
  ASSERT_TRUE((*repo)->Publish(src));
  Files many = ManyFiles(400, "x");
  many["a"] = "one";  // a file stays: not a publish that removes every file
  testing::MakeTree(src, many);
  auto failed = (*repo)->Publish(src);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().ToString().find("injected"), std::string::npos)
      << failed.error().ToString();
  EXPECT_EQ(testing::ReadTree(root + "/current"), (Files{{"a", "one"}}));
  StoreFiles s = Scan(root);
  EXPECT_TRUE(s.idxs.empty());
  EXPECT_TRUE(s.temps.empty()) << s.temps.front();

  auto next = (*repo)->Publish(src);
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(next->number, 2u);
  s = Scan(root);
  EXPECT_EQ(s.packs.size(), 1u);
  EXPECT_EQ(s.idxs.size(), 1u);
  EXPECT_EQ(testing::ReadTree(root + "/current"), many);
  ExpectGitAccepts(root);
}

// Readers do not re-hash objects (libgit2's check on read is off, as in
// git); fsck does, explicitly. A tree object replaced by another valid one
// (an intact zlib stream, so only the hash can tell) is reported.
TEST(StoreCheck, FsckFindsATreeWhoseContentIsNotItsId) {
  testing::RepoFixture f;
  ASSERT_EQ(f.Publish({{"a", "1"}, {"d/b", "2"}}), 1u);
  const std::string git = "git --git-dir='" + f.root + "/.txdir/store.git' ";
  std::string sub, root_raw;
  ASSERT_EQ(testing::RunShell(git + "rev-parse HEAD:d", &sub), 0) << sub;
  sub = sub.substr(0, 40);
  ASSERT_EQ(testing::RunShell(git + "cat-file tree HEAD^{tree}", &root_raw), 0);
  std::string object = "tree " + std::to_string(root_raw.size()) + std::string(1, '\0') + root_raw;
  uLongf len = compressBound(static_cast<uLong>(object.size()));
  std::string z(len, '\0');
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &len,
                      reinterpret_cast<const Bytef*>(object.data()),
                      static_cast<uLong>(object.size()), 1),
            Z_OK);
  z.resize(len);
  const std::string path =
      f.root + "/.txdir/store.git/objects/" + sub.substr(0, 2) + "/" + sub.substr(2);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0) << path;
  testing::WriteFile(path, z);
  auto report = Fsck(*f.repo, FsckOptions{});
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_FALSE(report->clean());
  bool named = false;
  for (const auto& p : report->problems)
    named = named || p.problem.find("tree " + sub) != std::string::npos;
  EXPECT_TRUE(named) << "no problem names tree " << sub;
}

}  // namespace
}  // namespace txdir
