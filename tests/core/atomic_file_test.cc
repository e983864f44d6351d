// AtomicWriteFile: temp file, fsync, rename, directory fsync, mode kept.
#include "txdir/atomic_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_util.h"

namespace txdir {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Fails the chosen call once armed; everything else goes to the real Env.
class FailingEnv : public EnvWrapper {
 public:
  enum class Fail { kNone, kFsync, kRename, kWrite };
  explicit FailingEnv(Fail f) : EnvWrapper(Env::Default()), fail_(f) {}
  Status Fsync(int fd) override {
    if (fail_ == Fail::kFsync) return ErrnoError("injected fsync failure", "", EIO);
    return EnvWrapper::Fsync(fd);
  }
  Status Write(int fd, const void* buf, size_t n) override {
    if (fail_ == Fail::kWrite) {
      // A partial write, then the failure: the temp file holds junk.
      (void)EnvWrapper::Write(fd, buf, n / 2);
      return ErrnoError("injected write failure", "", ENOSPC);
    }
    return EnvWrapper::Write(fd, buf, n);
  }
  Status RenameAt(int a, const std::string& from, int b, const std::string& to) override {
    if (fail_ == Fail::kRename) return ErrnoError("injected rename failure", to, EIO);
    return EnvWrapper::RenameAt(a, from, b, to);
  }

 private:
  Fail fail_;
};

TEST(AtomicFileTest, CreatesNewFileWithMode) {
  TempDir tmp;
  std::string path = tmp / "new.json";
  ASSERT_TRUE(AtomicWriteFile(path, "hello", {.mode = 0600}));
  EXPECT_EQ(ReadFile(path), "hello");
  EXPECT_EQ(testing::Mode(path) & 07777, 0600u);
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"new.json"});
}

TEST(AtomicFileTest, ReplacesContentAndLeavesNoTempFile) {
  TempDir tmp;
  std::string path = tmp / "f";
  WriteFile(path, "old content that is longer than the new");
  ino_t before = testing::Inode(path);
  ASSERT_TRUE(AtomicWriteFile(path, "new"));
  EXPECT_EQ(ReadFile(path), "new");
  EXPECT_NE(testing::Inode(path), before) << "must be a new file renamed over the old";
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"f"});
}

TEST(AtomicFileTest, KeepsModeOfReplacedFile) {
  TempDir tmp;
  std::string path = tmp / "script";
  WriteFile(path, "#!/bin/sh\n");
  ASSERT_EQ(::chmod(path.c_str(), 0750), 0);
  ASSERT_TRUE(AtomicWriteFile(path, "#!/bin/sh\necho\n", {.mode = 0644}));
  EXPECT_EQ(testing::Mode(path) & 07777, 0750u);
}

// The umask filters the mode given to open(2); a replaced file must still
// keep its exact mode, including group/other write bits.
TEST(AtomicFileTest, KeepsModeEvenWhenUmaskWouldStripBits) {
  TempDir tmp;
  std::string path = tmp / "shared";
  WriteFile(path, "x");
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  mode_t old_umask = ::umask(022);
  auto s = AtomicWriteFile(path, "y");
  ::umask(old_umask);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(testing::Mode(path) & 07777, 0666u);
}

TEST(AtomicFileTest, AtVariantRefusesNamesWithSlash) {
  TempDir tmp;
  auto dir = Env::Default()->OpenAt(Env::kCwd, tmp.path(), O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir);
  auto s = AtomicWriteFileAt(Env::Default(), dir->get(), "a/b", "x");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  auto e = AtomicWriteFileAt(Env::Default(), dir->get(), "", "x");
  ASSERT_FALSE(e);
}

TEST(AtomicFileTest, MissingDirectoryIsNotFound) {
  TempDir tmp;
  auto s = AtomicWriteFile(tmp / "no/such/dir/f", "x");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kNotFound);
}

class AtomicFileFailureTest : public ::testing::TestWithParam<FailingEnv::Fail> {};

TEST_P(AtomicFileFailureTest, FailureLeavesOldContentAndNoTemp) {
  TempDir tmp;
  std::string path = tmp / "config.json";
  WriteFile(path, "old");
  FailingEnv env(GetParam());
  auto s = AtomicWriteFile(path, "new content", {.env = &env});
  ASSERT_FALSE(s) << "the injected failure must be reported";
  EXPECT_EQ(s.error().sys_errno != 0, true);
  EXPECT_EQ(ReadFile(path), "old");
  EXPECT_EQ(Names(tmp.path()), std::vector<std::string>{"config.json"});
}

INSTANTIATE_TEST_SUITE_P(Faults, AtomicFileFailureTest,
                         ::testing::Values(FailingEnv::Fail::kFsync, FailingEnv::Fail::kRename,
                                           FailingEnv::Fail::kWrite),
                         [](const auto& info) {
                           switch (info.param) {
                             case FailingEnv::Fail::kFsync:
                               return "Fsync";
                             case FailingEnv::Fail::kRename:
                               return "Rename";
                             case FailingEnv::Fail::kWrite:
                               return "Write";
                             default:
                               return "None";
                           }
                         });

}  // namespace
}  // namespace txdir
