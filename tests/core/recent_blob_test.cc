// A store reads a blob it wrote lately back from memory (ReadBlob,
// ReadBlobStream; OdbBackend::RecentBlob), and only those: the last 8 MiB of
// blobs up to 1 MiB each, per store handle. Reads that check the store
// (HashStoredBlob, VerifyObject) and other handles read the stored object.
// Each test damages the stored object after writing it, so a read that
// went to the store fails with kCorruption and one served from memory
// returns the content.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/git_store.h"
#include "store/odb_backend.h"
#include "store_fixture.h"
#include "test_util.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using store::GitStore;
using store::OdbBackend;

class RecentBlobTest : public testing::StoreTest {
 protected:
  // Replaces the loose object's file with bytes that are not zlib.
  void Damage(const git_oid& oid) {
    const std::string path = LoosePath(oid);
    ASSERT_TRUE(stdfs::exists(path)) << path;
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    testing::WriteFile(path, "this is not a zlib stream");
  }

  // Distinct content of `size` bytes.
  static std::string Content(size_t size, int tag) {
    std::string s = "blob " + std::to_string(tag) + "\n";
    s.resize(size, static_cast<char>('a' + tag % 26));
    return s;
  }
};

TEST_F(RecentBlobTest, ABlobJustWrittenReadsBackFromMemory) {
  const std::string content = Content(40000, 1);
  const git_oid oid = Write(content);
  Damage(oid);

  auto whole = store_->ReadBlob(oid);
  ASSERT_TRUE(whole) << whole.error().ToString();
  EXPECT_EQ(*whole, content);

  std::string streamed;
  uint64_t told = 0;
  auto s = store_->ReadBlobStream(
      oid,
      [&](std::string_view piece) -> Status {
        streamed.append(piece);
        return Ok();
      },
      [&](uint64_t size) -> Status {
        told = size;
        return Ok();
      });
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(streamed, content);
  EXPECT_EQ(told, content.size());
}

TEST_F(RecentBlobTest, ChecksOfTheStoreReadTheStoredObject) {
  const git_oid oid = Write(Content(1000, 2));
  Damage(oid);
  auto hashed = store_->HashStoredBlob(oid);
  ASSERT_FALSE(hashed);
  EXPECT_EQ(hashed.error().code, Code::kCorruption) << hashed.error().ToString();
}

TEST_F(RecentBlobTest, AnotherHandleOnTheStoreReadsTheStoredObject) {
  const git_oid oid = Write(Content(1000, 3));
  Damage(oid);
  auto other = GitStore::Open(Env::Default(), git_dir_);
  ASSERT_TRUE(other) << other.error().ToString();
  auto got = (*other)->ReadBlob(oid);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCorruption) << got.error().ToString();
}

TEST_F(RecentBlobTest, ABlobOverOneMiBIsReadFromTheStore) {
  const git_oid oid = Write(Content(OdbBackend::kRecentMaxBlob + 1, 4));
  Damage(oid);
  auto got = store_->ReadBlob(oid);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kCorruption) << got.error().ToString();
}

TEST_F(RecentBlobTest, OnlyTheLastEightMiBOfBlobsAreKept) {
  // 20 blobs of 512 KiB: the first four no longer fit.
  const size_t size = size_t{512} * 1024;
  std::vector<git_oid> oids;
  std::vector<std::string> contents;
  for (int i = 0; i < 20; ++i) {
    contents.push_back(Content(size, 10 + i));
    oids.push_back(Write(contents.back()));
  }
  ASSERT_EQ(OdbBackend::kRecentBytes / size, 16u);
  for (const git_oid& oid : oids) Damage(oid);
  for (int i = 0; i < 20; ++i) {
    auto got = store_->ReadBlob(oids[i]);
    if (i < 4) {
      ASSERT_FALSE(got) << "blob " << i << " should have been dropped";
      EXPECT_EQ(got.error().code, Code::kCorruption) << got.error().ToString();
    } else {
      ASSERT_TRUE(got) << "blob " << i << ": " << got.error().ToString();
      EXPECT_EQ(*got, contents[i]);
    }
  }
}

TEST_F(RecentBlobTest, CommitsAndTreesAreNotKept) {
  const git_oid blob = Write(Content(100, 5));
  auto tree = store_->WriteTree({store::TreeFile{"f.txt", blob, 0100644}});
  ASSERT_TRUE(tree) << tree.error().ToString();
  Damage(*tree);
  auto v = store_->VerifyObject(*tree);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Code::kCorruption) << v.error().ToString();
  EXPECT_FALSE(store_->ReadBlob(*tree)) << "a tree read as a blob";
}

}  // namespace
}  // namespace txdir
