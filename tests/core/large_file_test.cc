// Files too big to hold in memory: the store streams them in pieces
// (GitStore::WriteBlobStream / ReadBlobStream, HashBlobStream), publish and
// materialize use those paths for every file above one piece, and a file
// that changes while it is read is retried, then refused.
#include <fcntl.h>
#include <git2.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "store/git_store.h"
#include "test_util.h"
#include "txdir/fsck.h"

namespace txdir {
namespace {

namespace stdfs = std::filesystem;
using store::GitStore;

// Deterministic bytes that deflate neither to nothing nor not at all.
std::string Content(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + rng() % 16);
  return s;
}

// A reader over `data` that hands out at most `piece` bytes per call.
std::function<Result<size_t>(char*, size_t)> Reader(const std::string& data, size_t piece) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, piece, pos](char* buf, size_t n) -> Result<size_t> {
    const size_t k = std::min({n, piece, data.size() - *pos});
    std::memcpy(buf, data.data() + *pos, k);
    *pos += k;
    return k;
  };
}

git_oid HashOf(const std::string& data) {
  git_oid oid;
  git_odb_hash(&oid, data.data(), data.size(), GIT_OBJECT_BLOB);
  return oid;
}

std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(dir)) out.push_back(e.path().filename());
  return out;
}

class StoreStream : public ::testing::Test {
 protected:
  void SetUp() override {
    stdfs::create_directories(tmp_dir_);
    auto s = GitStore::Init(Env::Default(), git_dir_);
    ASSERT_TRUE(s) << s.error().ToString();
    s = GitStore::Open(Env::Default(), git_dir_, store::StoreOptions{.tmp_dir = tmp_dir_});
    ASSERT_TRUE(s) << s.error().ToString();
    store_ = std::move(*s);
  }

  testing::TempDir tmp_;
  const std::string git_dir_ = tmp_ / "store.git";
  const std::string tmp_dir_ = tmp_ / "tmp";
  std::unique_ptr<GitStore> store_;
};

TEST_F(StoreStream, AStreamedBlobIsTheSameObjectAsAWholeOne) {
  // Several pieces, an odd tail, and reads shorter than asked for.
  const std::string data = Content(3 * store::kStreamPiece + 12345, 1);
  auto oid = store_->WriteBlobStream(data.size(), Reader(data, 100000));
  ASSERT_TRUE(oid) << oid.error().ToString();
  EXPECT_TRUE(store::OidEqual(*oid, HashOf(data)));
  auto whole = store_->ReadBlob(*oid);
  ASSERT_TRUE(whole) << whole.error().ToString();
  EXPECT_TRUE(*whole == data);
  // git itself reads the object.
  std::string out;
  EXPECT_EQ(testing::RunShell("git --git-dir='" + git_dir_ + "' cat-file -s " + store::OidHex(*oid),
                              &out),
            0);
  EXPECT_EQ(out, std::to_string(data.size()) + "\n");
  EXPECT_TRUE(TempFiles(tmp_dir_).empty());
}

TEST_F(StoreStream, EmptyAndTinyBlobsStreamToo) {
  for (const std::string& data : {std::string(), std::string("x")}) {
    auto oid = store_->WriteBlobStream(data.size(), Reader(data, 7));
    ASSERT_TRUE(oid) << oid.error().ToString();
    EXPECT_TRUE(store::OidEqual(*oid, HashOf(data)));
  }
}

TEST_F(StoreStream, ReadingStreamsALooseBlobInBoundedPieces) {
  const std::string data = Content(2 * store::kStreamPiece + 99, 2);
  auto oid = store_->WriteBlob(data);
  ASSERT_TRUE(oid);
  std::string got;
  size_t pieces = 0, largest = 0;
  auto s = store_->ReadBlobStream(*oid, [&](std::string_view p) -> Status {
    got.append(p);
    ++pieces;
    largest = std::max(largest, p.size());
    return Ok();
  });
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_TRUE(got == data);
  EXPECT_GT(pieces, 2u);
  EXPECT_LE(largest, store::kStreamPiece);
}

// After a pull, clone or prune the blob is in a pack, where libgit2 can
// only read it whole: a blob stored whole in the pack is inflated from it
// in pieces all the same (pack_reader.h); one stored as a delta is still
// read right (whole, through libgit2); damage is Corruption.
TEST_F(StoreStream, ReadingStreamsAPackedBlobInBoundedPieces) {
  const std::string data = Content(3 * store::kStreamPiece + 7, 3);
  std::string similar = data;
  similar[similar.size() / 2] = '#';  // a delta against `data` in the pack
  auto oid = store_->WriteBlob(data);
  auto oid2 = store_->WriteBlob(similar);
  ASSERT_TRUE(oid && oid2);
  std::string out;
  // Unreferenced objects: packed by naming them (repack takes reachable ones).
  ASSERT_EQ(testing::RunShell(
                "printf '%s\\n' " + store::OidHex(*oid) + " " + store::OidHex(*oid2) +
                    " | git --git-dir='" + git_dir_ + "' pack-objects -q --window=10 '" + git_dir_ +
                    "/objects/pack/pack' && git --git-dir='" + git_dir_ + "' prune-packed",
                &out),
            0)
      << out;
  ASSERT_FALSE(stdfs::exists(git_dir_ + "/objects/" + store::OidHex(*oid).substr(0, 2) + "/" +
                             store::OidHex(*oid).substr(2)))
      << "still loose";
  for (const auto& [id, want] :
       {std::pair{*oid, &data}, std::pair{*oid2, static_cast<const std::string*>(&similar)}}) {
    std::string got;
    size_t pieces = 0, largest = 0;
    uint64_t told = 0;
    auto s = store_->ReadBlobStream(
        id,
        [&](std::string_view p) -> Status {
          got.append(p);
          ++pieces;
          largest = std::max(largest, p.size());
          return Ok();
        },
        [&](uint64_t size) -> Status {
          told = size;
          return Ok();
        });
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_TRUE(got == *want);
    EXPECT_EQ(told, want->size());
    auto hashed = store_->HashStoredBlob(id);
    ASSERT_TRUE(hashed) << hashed.error().ToString();
    EXPECT_TRUE(store::OidEqual(*hashed, id));
  }
  // Which of the two git stored whole is its choice (verify-pack: id,
  // type, size, size in pack, offset, and for a delta its depth and base).
  std::string verify;
  ASSERT_EQ(testing::RunShell("git --git-dir='" + git_dir_ + "' verify-pack -v " + git_dir_ +
                                  "/objects/pack/*.idx",
                              &verify),
            0);
  std::string whole_hex;
  uint64_t whole_offset = 0;
  std::istringstream lines(verify);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::vector<std::string> t;
    for (std::string w; in >> w;) t.push_back(w);
    if (t.size() == 5 && t[1] == "blob" &&
        (t[0] == store::OidHex(*oid) || t[0] == store::OidHex(*oid2))) {
      whole_hex = t[0];
      whole_offset = std::stoull(t[4]);
    }
  }
  ASSERT_FALSE(whole_hex.empty()) << verify;
  const git_oid whole = *store::OidFromHex(whole_hex);
  size_t pieces = 0, largest = 0;
  auto s = store_->ReadBlobStream(whole, [&](std::string_view p) -> Status {
    ++pieces;
    largest = std::max(largest, p.size());
    return Ok();
  });
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_GT(pieces, 3u) << "read whole, not in pieces";
  EXPECT_LE(largest, store::kStreamPiece);

  // Damage inside the whole object's zlib stream.
  for (const auto& e : stdfs::directory_iterator(git_dir_ + "/objects/pack")) {
    if (e.path().extension() != ".pack") continue;
    stdfs::permissions(e.path(), stdfs::perms::owner_write, stdfs::perm_options::add);
    std::fstream io(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(whole_offset + 64));
    io.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  auto damaged = store_->HashStoredBlob(whole);
  if (damaged) {
    EXPECT_FALSE(store::OidEqual(*damaged, whole)) << "damage not noticed";
  } else {
    EXPECT_EQ(damaged.error().code, Code::kCorruption) << damaged.error().ToString();
  }
}

TEST_F(StoreStream, ASinkErrorStopsTheRead) {
  auto oid = store_->WriteBlob(Content(store::kStreamPiece, 3));
  ASSERT_TRUE(oid);
  auto s = store_->ReadBlobStream(
      *oid, [](std::string_view) -> Status { return MakeError(Code::kIo, "disk full"); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kIo);
}

TEST_F(StoreStream, ContentShorterOrLongerThanDeclaredIsRefusedAndLeavesNothing) {
  const std::string data = Content(store::kStreamPiece + 10, 4);
  auto shorter = store_->WriteBlobStream(data.size() + 1, Reader(data, store::kStreamPiece));
  ASSERT_FALSE(shorter);
  EXPECT_EQ(shorter.error().code, Code::kInvalidArgument);
  EXPECT_NE(shorter.error().message.find("ended after"), std::string::npos)
      << shorter.error().ToString();
  auto longer = store_->WriteBlobStream(data.size() - 1, Reader(data, store::kStreamPiece));
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().code, Code::kInvalidArgument);
  EXPECT_NE(longer.error().message.find("longer than"), std::string::npos)
      << longer.error().ToString();
  EXPECT_TRUE(TempFiles(tmp_dir_).empty()) << TempFiles(tmp_dir_).front();
  // Nothing was stored under either id.
  auto has = store_->HasObject(HashOf(data.substr(0, data.size() - 1)));
  ASSERT_TRUE(has);
  EXPECT_FALSE(*has);
}

TEST_F(StoreStream, ADamagedLooseObjectIsReportedAsCorruption) {
  const std::string data = Content(store::kStreamPiece + 5, 5);
  auto oid = store_->WriteBlob(data);
  ASSERT_TRUE(oid);
  const std::string hex = store::OidHex(*oid);
  const std::string path = git_dir_ + "/objects/" + hex.substr(0, 2) + "/" + hex.substr(2);
  stdfs::permissions(path, stdfs::perms::owner_write, stdfs::perm_options::add);
  stdfs::resize_file(path, stdfs::file_size(path) / 2);
  auto s = store_->ReadBlobStream(*oid, [](std::string_view) { return Ok(); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kCorruption);
  EXPECT_NE(s.error().message.find(hex), std::string::npos) << s.error().ToString();
}

TEST(HashBlobStream, MatchesGitsHashAndStoresNothing) {
  for (size_t size : {size_t{0}, size_t{1}, store::kStreamPiece, 2 * store::kStreamPiece + 3}) {
    const std::string data = Content(size, 6);
    auto oid = store::HashBlobStream(data.size(), Reader(data, 4096));
    ASSERT_TRUE(oid) << oid.error().ToString();
    EXPECT_TRUE(store::OidEqual(*oid, HashOf(data))) << size;
  }
  const std::string data = Content(100, 7);
  auto bad = store::HashBlobStream(101, Reader(data, 4096));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
}

// --- publish

// Peak resident memory of this process since the last reset, in bytes
// (VmHWM; writing 5 to clear_refs resets it to the current size).
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }
uint64_t ProcStatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(std::strlen(key)));
  return 0;
}

TEST(LargeFilePublish, AFileManyPiecesLongIsStreamedWithBoundedMemory) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"small", "s"}});
  constexpr size_t kSize = 64u << 20;  // 64 MiB
  const std::string big = Content(kSize, 8);
  stdfs::create_directories(f.src);
  testing::WriteFile(f.src + "/big.bin", big);

  ResetPeakRss();
  const uint64_t rss_kb = ProcStatusKb("VmRSS:");
  auto g = f.repo->Publish(f.src);
  const uint64_t peak_kb = ProcStatusKb("VmHWM:");
  ASSERT_TRUE(g) << g.error().ToString();
  const uint64_t growth_mb = (peak_kb - std::min(peak_kb, rss_kb)) / 1024;
  std::printf("LARGE_FILE size_mb=%zu rss_before_mb=%llu peak_growth_mb=%llu\n", kSize >> 20,
              static_cast<unsigned long long>(rss_kb / 1024),
              static_cast<unsigned long long>(growth_mb));
  // Reading the file whole would cost its size at least (the content, then
  // its compressed copy); streaming costs a few buffers.
  EXPECT_LT(growth_mb, 24u);

  EXPECT_TRUE(testing::ReadFile(f.live() + "/big.bin") == big);

  // fsck hashes the stored blob in pieces too.
  ResetPeakRss();
  const uint64_t rss2_kb = ProcStatusKb("VmRSS:");
  auto clean = Fsck(*f.repo);
  const uint64_t peak2_kb = ProcStatusKb("VmHWM:");
  ASSERT_TRUE(clean) << clean.error().ToString();
  EXPECT_TRUE(clean->clean()) << clean->problems.front().problem;
  EXPECT_LT((peak2_kb - std::min(peak2_kb, rss2_kb)) / 1024, 24u);

  auto v = f.repo->VerifyGeneration(g->number);
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_TRUE(v->ok());

  // A one-byte edit deep inside is found by the streamed hash.
  const std::string file = f.gen_dir(g->number) + "/big.bin";
  stdfs::permissions(file, stdfs::perms::owner_write, stdfs::perm_options::add);
  {
    std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(kSize - 17));
    io.put('#');
  }
  stdfs::permissions(file, stdfs::perms::owner_write, stdfs::perm_options::remove);
  v = f.repo->VerifyGeneration(g->number);
  ASSERT_TRUE(v) << v.error().ToString();
  ASSERT_EQ(v->issues.size(), 1u);
  EXPECT_EQ(v->issues[0].path, "big.bin");
  EXPECT_NE(v->issues[0].problem.find("does not match its recorded hash"), std::string::npos);
}

TEST(LargeFilePublish, FsckFindsALargeBlobDamagedInTheMiddle) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  const std::string big = Content(4 * store::kStreamPiece, 11);
  f.Publish({{"big.bin", big}});
  const git_oid id = HashOf(big);
  const std::string hex = store::OidHex(id);
  const std::string obj =
      f.root + "/.txdir/store.git/objects/" + hex.substr(0, 2) + "/" + hex.substr(2);
  ASSERT_TRUE(stdfs::exists(obj));
  stdfs::permissions(obj, stdfs::perms::owner_write, stdfs::perm_options::add);
  {
    std::fstream io(obj, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(static_cast<std::streamoff>(stdfs::file_size(obj) / 2));
    const int c = io.peek();
    io.seekp(static_cast<std::streamoff>(stdfs::file_size(obj) / 2));
    io.put(static_cast<char>(c ^ 0x55));
  }
  auto report = Fsck(*f.repo);
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_FALSE(report->clean());
  bool named = false;
  for (const auto& p : report->problems)
    named = named || (p.path == "big.bin" && p.problem.find(hex) != std::string::npos);
  EXPECT_TRUE(named) << report->problems.front().path << ": " << report->problems.front().problem;
}

// Appends to a source file while publish reads it, `times` times (every
// time when negative): what a writer still producing the file looks like.
class GrowingFileEnv : public EnvWrapper {
 public:
  GrowingFileEnv(std::string name, int times)
      : EnvWrapper(Env::Default()), name_(std::move(name)), left_(times) {}

  Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode) override {
    auto fd = EnvWrapper::OpenAt(dir, path, flags, mode);
    if (fd && path == name_ && (flags & O_ACCMODE) == O_RDONLY) {
      watched_ = fd->get();
      dir_ = dir;
    }
    return fd;
  }
  Result<size_t> Read(int fd, void* buf, size_t n) override {
    if (fd == watched_ && left_ != 0) {
      watched_ = -1;
      if (left_ > 0) --left_;
      ++grown_;
      int w = ::openat(dir_, name_.c_str(), O_WRONLY | O_APPEND);
      if (w >= 0) {
        (void)!::write(w, "more", 4);
        ::close(w);
      }
    }
    return EnvWrapper::Read(fd, buf, n);
  }
  int grown() const { return grown_; }

 private:
  std::string name_;
  int left_;
  int watched_ = -1;
  int dir_ = -1;
  int grown_ = 0;
};

class ChangingSource : public ::testing::TestWithParam<size_t> {};

TEST_P(ChangingSource, AFileChangedOnceIsReadAgainAndPublishedWhole) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"a", "old"}});
  const std::string body = Content(GetParam(), 9);
  testing::MakeTree(f.src, {{"a", body}});
  GrowingFileEnv env("a", 1);
  OpenOptions o;
  o.env = &env;
  auto repo = Repository::Open(f.root, o);
  ASSERT_TRUE(repo);
  auto g = (*repo)->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(env.grown(), 1);
  EXPECT_TRUE(testing::ReadFile(f.live() + "/a") == body + "more");
}

TEST_P(ChangingSource, AFileThatKeepsChangingIsRefusedAndNothingIsPublished) {
  testing::RepoFixture f;
  ASSERT_TRUE(f.repo);
  f.Publish({{"a", "old"}});
  testing::MakeTree(f.src, {{"a", Content(GetParam(), 10)}});
  GrowingFileEnv env("a", -1);
  OpenOptions o;
  o.env = &env;
  auto repo = Repository::Open(f.root, o);
  ASSERT_TRUE(repo);
  auto g = (*repo)->Publish(f.src);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kInvalidArgument);
  EXPECT_NE(g.error().message.find("kept changing"), std::string::npos) << g.error().ToString();
  EXPECT_EQ(g.error().path, "a");
  EXPECT_EQ(env.grown(), 3);
  EXPECT_EQ(f.LiveGeneration(), 1u);
  EXPECT_EQ(testing::ReadFile(f.live() + "/a"), "old");
}

// One file read whole, one streamed in pieces.
INSTANTIATE_TEST_SUITE_P(Sizes, ChangingSource,
                         ::testing::Values(size_t{1000}, 3 * store::kStreamPiece + 1),
                         [](const auto& info) {
                           return info.param > store::kStreamPiece ? std::string("Streamed")
                                                                   : std::string("Whole");
                         });

}  // namespace
}  // namespace txdir
