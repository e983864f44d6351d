// Publish refuses source trees it cannot publish faithfully. After every
// refusal: InvalidArgument, the message names the path, the previous
// generation is still live and intact, and the sentinel tree beside the
// repository is untouched.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "test_util.h"
#include "tests/core/sentinel.h"

namespace txdir {
namespace {

using testing::ReadTree;
using testing::WriteFile;

class SourceRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(f_.repo);
    ASSERT_EQ(f_.Publish(good_), 1u);
    objects_ = StoreObjects();
    testing::MakeTree(f_.src, {{"table.sdn", "new"}, {"sub/ok.txt", "fine"}});
  }

  // Every loose object file in the store (packs are not made by publish).
  std::set<std::string> StoreObjects() const {
    std::set<std::string> out;
    for (const auto& e :
         std::filesystem::recursive_directory_iterator(f_.root + "/.txdir/store.git/objects"))
      if (e.is_regular_file()) out.insert(e.path().string());
    return out;
  }

  // Publishes the source as prepared and expects a refusal naming `path`.
  void ExpectRefused(const std::string& path, const std::string& what,
                     SymlinkPolicy policy = SymlinkPolicy::kInsideOnly) {
    auto g = f_.repo->Publish(f_.src, PublishOptions{.symlinks = policy});
    ASSERT_FALSE(g) << "published generation " << g->number << " despite " << path;
    EXPECT_EQ(g.error().code, Code::kInvalidArgument) << g.error().ToString();
    std::string text = g.error().ToString();
    EXPECT_NE(text.find(path), std::string::npos) << "'" << text << "' does not name " << path;
    EXPECT_NE(text.find(what), std::string::npos) << "'" << text << "' does not say " << what;
    ExpectPreviousGenerationIntact();
  }

  void ExpectPreviousGenerationIntact() {
    EXPECT_TRUE(sentinel_.Untouched());
    auto s = f_.repo->Status();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->live, std::optional<uint64_t>(1));
    EXPECT_EQ(s->committed, std::optional<uint64_t>(1));
    EXPECT_EQ(ReadTree(f_.live()), good_);
    // Nothing half-made is left: no generation 2, no staging.
    EXPECT_FALSE(std::filesystem::exists(f_.gen_dir(2)));
    EXPECT_TRUE(std::filesystem::is_empty(f_.root + "/.txdir/tmp"));
    // The whole source is checked before any blob is written: the new
    // files beside the refused entry left no objects behind.
    EXPECT_EQ(StoreObjects(), objects_);
  }

  void TearDown() override { EXPECT_TRUE(sentinel_.Untouched()); }

  testing::RepoFixture f_;
  std::set<std::string> objects_;
  // Beside the repository and the source, in the same temporary directory.
  testing::SentinelTree sentinel_{f_.tmp / "sentinel"};
  const std::map<std::string, std::string> good_ = {{"table.sdn", "v1"}, {"sub/x.txt", "x1"}};
};

TEST_F(SourceRefusalTest, Fifo) {
  ASSERT_EQ(::mkfifo((f_.src + "/sub/pipe").c_str(), 0644), 0);
  ExpectRefused("sub/pipe", "fifo");
}

TEST_F(SourceRefusalTest, Socket) {
  std::string path = f_.src + "/sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
  ExpectRefused("sock", "socket");
  ::close(fd);
}

TEST_F(SourceRefusalTest, DeviceFile) {
  std::string path = f_.src + "/null";
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a device needs root";
  if (::mknod(path.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod refused even as root (container?): " << strerror(errno);
  ExpectRefused("null", "character device");
}

TEST_F(SourceRefusalTest, SymlinkPointingOutsideIsRefusedByDefault) {
  std::filesystem::create_symlink("/etc/passwd", f_.src + "/abs");
  ExpectRefused("abs", "outside the source");
}

TEST_F(SourceRefusalTest, RelativeSymlinkClimbingOutIsRefused) {
  std::filesystem::create_symlink("../../outside", f_.src + "/sub/up");
  ExpectRefused("sub/up", "outside the source");
}

TEST_F(SourceRefusalTest, SymlinkOutsideIsStoredAsLinkWithKeepAll) {
  std::filesystem::create_symlink("/etc/passwd", f_.src + "/abs");
  auto g = f_.repo->Publish(f_.src, PublishOptions{.symlinks = SymlinkPolicy::kKeepAll});
  ASSERT_TRUE(g) << g.error().ToString();
  std::string link = f_.live() + "/abs";
  ASSERT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(std::filesystem::read_symlink(link).string(), "/etc/passwd");
  auto files = f_.repo->ListFiles(g->number);
  ASSERT_TRUE(files);
  bool found = false;
  for (const auto& fi : *files)
    if (fi.path == "abs") found = fi.mode == 0120000;
  EXPECT_TRUE(found) << "stored as a symlink (mode 120000)";
  // A Snapshot never follows a stored link out of the generation.
  auto snap = f_.repo->OpenSnapshot();
  ASSERT_TRUE(snap);
  EXPECT_FALSE(snap->ReadFile("abs"));
}

TEST_F(SourceRefusalTest, SymlinkInsideIsKeptAsLink) {
  std::filesystem::create_symlink("../table.sdn", f_.src + "/sub/alias");
  auto g = f_.repo->Publish(f_.src);
  ASSERT_TRUE(g) << g.error().ToString();
  std::string link = f_.live() + "/sub/alias";
  ASSERT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(std::filesystem::read_symlink(link).string(), "../table.sdn");
  EXPECT_EQ(testing::ReadFile(link), "new");
}

TEST_F(SourceRefusalTest, NameWithControlCharacter) {
  WriteFile(f_.src + "/bad\x01name", "x");
  ExpectRefused("bad\\x01name", "control character");
}

TEST_F(SourceRefusalTest, NameWithNewlineInSubdirectory) {
  WriteFile(f_.src + "/sub/line\nbreak", "x");
  ExpectRefused("sub/line\\x0abreak", "control character");
}

TEST_F(SourceRefusalTest, NameThatIsNotUtf8) {
  WriteFile(f_.src + "/latin1-\xe9t\xe9", "x");
  ExpectRefused("latin1-", "UTF-8");
}

// A ".git" folder would make `current/` a git working tree whose config
// (core.fsmonitor, hooks) the source's author controls: refused in every
// spelling git, NTFS or HFS+ reads as ".git", as git fsck does.
TEST_F(SourceRefusalTest, DotGitInAnySpellingIsRefused) {
  const std::vector<std::string> spellings = {
      ".git",
      ".GIT",
      ".Git",
      "git~1",
      "GIT~1",
      ".git.",
      ".git ",
      ".git. .",
      ".g\u200cit",        // ZERO WIDTH NON-JOINER inside (HFS+ ignores it)
      "\xef\xbb\xbf.git",  // ZERO WIDTH NO-BREAK SPACE in front
      ".git::$INDEX_ALLOCATION"};
  for (const auto& name : spellings) {
    SCOPED_TRACE(name);
    std::filesystem::remove_all(f_.src);
    testing::MakeTree(f_.src, {{"table.sdn", "new"}, {"sub/" + name + "/config", "[core]\n"}});
    ExpectRefused("sub/" + name, "git's own folder");
    std::filesystem::remove_all(f_.src);
    testing::MakeTree(f_.src, {{"table.sdn", "new"}, {name, "a file by that name"}});
    ExpectRefused(name, "git's own folder");
  }
  // Names that only look alike are published.
  std::filesystem::remove_all(f_.src);
  testing::MakeTree(f_.src, {{".github/ci.yml", "x"},
                             {".gitx", "x"},
                             {"git~2", "x"},
                             {".git-old", "x"},
                             {"a.git", "x"},
                             {".gitignore", "x"}});
  auto g = f_.repo->Publish(f_.src, {.allow_remove_all = true});
  ASSERT_TRUE(g) << g.error().ToString();
}

// git follows these names in a working tree; it refuses them as symlinks
// (fsck: gitmodulesSymlink and the like), and so does publish, even with
// --symlinks=keep.
TEST_F(SourceRefusalTest, GitControlFileAsSymlinkIsRefused) {
  for (const std::string name : {".gitmodules", ".GITATTRIBUTES", ".gitignore.", ".mailmap"}) {
    SCOPED_TRACE(name);
    std::filesystem::remove_all(f_.src);
    testing::MakeTree(f_.src, {{"table.sdn", "new"}});
    std::filesystem::create_symlink("table.sdn", f_.src + "/" + name);
    ExpectRefused(name, "git would follow a symlink by this name");
    ExpectRefused(name, "git would follow a symlink by this name", SymlinkPolicy::kKeepAll);
  }
}

TEST_F(SourceRefusalTest, SourceContainingTheMetadataFolder) {
  // Publishing the repository root itself would publish .txdir.
  WriteFile(f_.root + "/stray.txt", "x");
  auto g = f_.repo->Publish(f_.root);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kInvalidArgument);
  EXPECT_NE(g.error().ToString().find(".txdir"), std::string::npos) << g.error().ToString();
  EXPECT_NE(g.error().ToString().find("metadata folder"), std::string::npos);
  ExpectPreviousGenerationIntact();
}

TEST_F(SourceRefusalTest, SourceThatIsTheMetadataFolder) {
  auto g = f_.repo->Publish(f_.root + "/.txdir");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kInvalidArgument);
  EXPECT_NE(g.error().ToString().find(".txdir"), std::string::npos) << g.error().ToString();
  ExpectPreviousGenerationIntact();
}

TEST_F(SourceRefusalTest, MissingSourceIsNotFound) {
  auto g = f_.repo->Publish(f_.tmp / "no-such-dir");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kNotFound);
  EXPECT_NE(g.error().ToString().find("no-such-dir"), std::string::npos) << g.error().ToString();
  ExpectPreviousGenerationIntact();
}

}  // namespace
}  // namespace txdir
