// A damaged object in the store (truncated, emptied, bytes changed, a
// header that does not match its data, not zlib at all) makes every read of
// it fail with kCorruption naming the object, in bounded time: whole reads
// (libgit2's git_odb_read, through our backend), header reads, the
// streaming reader and the streaming hash, for loose objects and packed
// ones. Each read runs in a child process with a deadline, so a read that
// spins (libgit2 1.5's loose reader did, at full CPU, on a truncated
// object) fails the test instead of hanging it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "store/git_store.h"
#include "store/odb_backend.h"
#include "store_fixture.h"
#include "test_util.h"

namespace txdir::testing {
namespace {

namespace stdfs = std::filesystem;
using store::GitStore;

constexpr auto kDeadline = std::chrono::seconds(10);

struct Outcome {
  bool finished = false;  // false: still running at the deadline (killed)
  bool ok = false;
  Code code = Code::kInternal;
  std::string message;
  std::string content;  // what an ok read returned
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  if (!o.finished) return os << "did not finish within " << kDeadline.count() << " s";
  if (o.ok) return os << "ok (" << o.content.size() << " bytes)";
  return os << CodeName(o.code) << ": " << o.message;
}

// Runs `read` in a child process (its own store handle, opened there) and
// returns what it gave, or !finished if it was still running at the
// deadline. The child reports through a file: exit code = the Code (0 ok).
Outcome RunBounded(const std::string& git_dir, const std::string& report,
                   const std::function<Result<std::string>(GitStore&)>& read) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(60);  // the parent kills it sooner; this is only a backstop
    auto s = GitStore::Open(Env::Default(), git_dir);
    Result<std::string> r = s ? read(**s) : Result<std::string>(tl::unexpected(s.error()));
    WriteFile(report, r ? *r : r.error().ToString());
    std::_Exit(r ? 0 : static_cast<int>(r.error().code));
  }
  Outcome o;
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return o;
  }
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return o;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  o.finished = WIFEXITED(status);
  if (!o.finished) return o;
  const int code = WEXITSTATUS(status);
  o.ok = code == 0;
  o.code = static_cast<Code>(code);
  (o.ok ? o.content : o.message) = ReadFile(report);
  return o;
}

using Read = std::function<Result<std::string>(GitStore&)>;

// The reads of one blob that txdir does.
std::vector<std::pair<std::string, Read>> Reads(const git_oid& oid) {
  return {
      {"ReadBlob", [oid](GitStore& s) { return s.ReadBlob(oid); }},
      {"ReadBlobStream",
       [oid](GitStore& s) -> Result<std::string> {
         std::string out;
         TXDIR_CHECK(s.ReadBlobStream(oid, [&](std::string_view piece) -> Status {
           out.append(piece);
           return Ok();
         }));
         return out;
       }},
      {"HashStoredBlob",
       [oid](GitStore& s) -> Result<std::string> {
         git_oid h = TXDIR_TRY(s.HashStoredBlob(oid));
         if (!store::OidEqual(h, oid))
           return MakeError(Code::kCorruption, "hashes to " + store::OidHex(h));
         return std::string("same hash");
       }},
      {"ObjectSize",
       [oid](GitStore& s) -> Result<std::string> {
         return std::to_string(TXDIR_TRY(s.ObjectSize(oid)));
       }},
  };
}

std::string Deflate(const std::string& raw) {
  uLongf n = compressBound(static_cast<uLong>(raw.size()));
  std::string out(n, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(out.data()), &n,
                     reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size())),
            Z_OK);
  out.resize(n);
  return out;
}

std::string Inflate(const std::string& z) {
  std::string out(1 << 20, '\0');
  uLongf n = out.size();
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(out.data()), &n,
                       reinterpret_cast<const Bytef*>(z.data()), static_cast<uLong>(z.size())),
            Z_OK);
  out.resize(n);
  return out;
}

class DamagedObjectTest : public StoreTest {
 protected:
  // Overwrites the object file `path` (read-only, as the store writes it).
  static void Replace(const std::string& path, const std::string& data) {
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    WriteFile(path, data);
  }
};

TEST_F(DamagedObjectTest, EveryReadOfADamagedLooseObjectIsACorruptionErrorInBoundedTime) {
  // Big enough to span several inflate passes of the streaming reader.
  std::string content;
  for (int i = 0; content.size() < 600 * 1024; ++i)
    content += "line " + std::to_string(i * 7919 % 100003) + " of the file\n";
  auto oid = store_->WriteBlob(content);
  ASSERT_TRUE(oid) << oid.error().ToString();
  const std::string path = LoosePath(*oid);
  const std::string good = ReadFile(path);
  ASSERT_GT(good.size(), 1000u);
  const std::string raw = Inflate(good);  // "blob <len>\0<content>"
  ASSERT_EQ(raw.substr(raw.find('\0') + 1), content);
  const std::string body = raw.substr(raw.find('\0') + 1);
  std::string flipped = good;
  for (size_t i = good.size() / 2; i < good.size() / 2 + 8; ++i) flipped[i] = ~flipped[i];

  const std::vector<std::pair<std::string, std::string>> damages = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"truncated to 0 bytes", ""},
      {"truncated to 1 byte", good.substr(0, 1)},
      {"truncated by its last byte", good.substr(0, good.size() - 1)},
      {"bytes flipped in the middle", flipped},
      {"header claims more than the data",
       Deflate("blob " + std::to_string(body.size() + 100) + '\0' + body)},
      {"header claims far more than the file can hold",
       Deflate("blob 999999999999" + std::string(1, '\0') + body)},
      {"header claims less than the data",
       Deflate("blob " + std::to_string(body.size() - 100) + '\0' + body)},
      {"no header", Deflate(body)},
      {"bytes after the zlib stream", good + "trailing"},
      {"not zlib at all", "garbage"},
  };
  const std::string hex = store::OidHex(*oid);
  for (const auto& [what, data] : damages) {
    Replace(path, data);
    for (const auto& [name, read] : Reads(*oid)) {
      Outcome o = RunBounded(git_dir_, tmp_ / "report", read);
      SCOPED_TRACE(what + ", " + name);
      ASSERT_TRUE(o.finished) << o;
      // A header read looks no further than the header, which some of
      // these damages leave intact.
      if (name == "ObjectSize" && o.ok) continue;
      ASSERT_FALSE(o.ok) << o;
      EXPECT_EQ(o.code, Code::kCorruption) << o;
      EXPECT_NE(o.message.find(hex), std::string::npos) << o;
    }
  }
  // And the intact object reads back by every path.
  Replace(path, good);
  for (const auto& [name, read] : Reads(*oid)) {
    Outcome o = RunBounded(git_dir_, tmp_ / "report", read);
    ASSERT_TRUE(o.ok) << name << ": " << o;
    if (name == "ReadBlob" || name == "ReadBlobStream") {
      EXPECT_EQ(o.content, content) << name;
    }
  }
}

TEST_F(DamagedObjectTest, ADamagedTreeOrCommitIsACorruptionError) {
  auto blob = store_->WriteBlob("x");
  ASSERT_TRUE(blob);
  auto tree = store_->WriteTree({{"dir/a.txt", *blob, 0100644}});
  ASSERT_TRUE(tree);
  store::GenMeta meta;
  meta.number = 1;
  meta.kind = "publish";
  auto commit = store_->WriteCommit(*tree, std::nullopt, meta, "t");
  ASSERT_TRUE(commit) << commit.error().ToString();
  const git_oid tree_id = *tree, commit_id = *commit;

  // The subtree "dir": FindFile passes through it.
  auto files = store_->ListTree(*tree);
  ASSERT_TRUE(files);
  auto entries = store_->ReadTreeEntries(tree_id);
  ASSERT_TRUE(entries) << entries.error().ToString();
  auto dir = std::find_if(entries->begin(), entries->end(),
                          [](const store::TreeEntry& e) { return e.name == "dir"; });
  ASSERT_NE(dir, entries->end());
  const git_oid sub_id = dir->oid;
  for (const git_oid& victim : {sub_id, commit_id}) {
    const std::string path = LoosePath(victim);
    const std::string good = ReadFile(path);
    Replace(path, good.substr(0, good.size() / 2));
    const std::vector<std::pair<std::string, Read>> reads = {
        {"FindFile",
         [tree_id](GitStore& s) -> Result<std::string> {
           return store::OidHex(TXDIR_TRY(s.FindFile(tree_id, "dir/a.txt")).oid);
         }},
        {"ListTree",
         [tree_id](GitStore& s) -> Result<std::string> {
           return std::to_string(TXDIR_TRY(s.ListTree(tree_id)).size());
         }},
        {"ReadMeta",
         [commit_id](GitStore& s) -> Result<std::string> {
           return TXDIR_TRY(s.ReadMeta(commit_id)).kind;
         }},
    };
    for (const auto& [name, read] : reads) {
      if (store::OidEqual(victim, sub_id) == (name == "ReadMeta")) continue;
      Outcome o = RunBounded(git_dir_, tmp_ / "report", read);
      SCOPED_TRACE(name + " with " + store::OidHex(victim) + " damaged");
      ASSERT_TRUE(o.finished) << o;
      ASSERT_FALSE(o.ok) << o;
      EXPECT_EQ(o.code, Code::kCorruption) << o;
      EXPECT_NE(o.message.find(store::OidHex(victim)), std::string::npos) << o;
    }
    Replace(path, good);
  }
}

TEST_F(DamagedObjectTest, ADamagedPackIsACorruptionErrorInBoundedTime) {
  // Enough objects in one batch to be written as a pack.
  std::vector<std::pair<git_oid, std::string>> blobs;
  {
    GitStore::Batch batch(store_.get());
    for (size_t i = 0; i < store::OdbBackend::kPackMinObjects; ++i) {
      std::string content;
      for (size_t j = 0; j < 40; ++j)
        content += "blob " + std::to_string(i) + " line " + std::to_string(j * 31 + i) + "\n";
      auto oid = store_->WriteBlob(content);
      ASSERT_TRUE(oid);
      blobs.emplace_back(*oid, content);
    }
    ASSERT_TRUE(batch.End());
  }
  std::string pack;
  for (const auto& e : stdfs::directory_iterator(git_dir_ + "/objects/pack"))
    if (e.path().extension() == ".pack") pack = e.path().string();
  ASSERT_FALSE(pack.empty()) << "the batch was not written as a pack";
  ASSERT_FALSE(stdfs::exists(LoosePath(blobs[0].first)));
  const std::string good = ReadFile(pack);
  std::string flipped = good;
  for (size_t i = good.size() / 2; i < good.size() / 2 + 8; ++i) flipped[i] = ~flipped[i];
  const std::vector<std::pair<std::string, std::string>> damages = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"truncated to 0 bytes", ""},
      {"bytes flipped in the middle", flipped},
  };
  for (const auto& [what, data] : damages) {
    Replace(pack, data);
    for (const char* name : {"ReadBlob", "ReadBlobStream"}) {
      // Every blob reads back intact or fails as Corruption naming it; at
      // least one fails. The child checks them all and reports how many
      // failed, or the first read that broke the rule.
      Outcome o = RunBounded(git_dir_, tmp_ / "report", [&](GitStore& s) -> Result<std::string> {
        size_t failed = 0;
        for (const auto& [oid, content] : blobs) {
          for (const auto& [read_name, read] : Reads(oid)) {
            if (read_name != name) continue;
            auto r = read(s);
            if (r && *r != content)
              return MakeError(Code::kInternal, "wrong content for " + store::OidHex(oid));
            if (r) continue;
            if (r.error().code != Code::kCorruption ||
                r.error().message.find(store::OidHex(oid)) == std::string::npos)
              return MakeError(Code::kInternal, "not a Corruption naming the object: " +
                                                    std::string(CodeName(r.error().code)) + ": " +
                                                    r.error().ToString());
            ++failed;
          }
        }
        return std::to_string(failed);
      });
      SCOPED_TRACE(what + ", " + name);
      ASSERT_TRUE(o.finished) << o;
      ASSERT_TRUE(o.ok) << o;
      EXPECT_GT(std::stoul(o.content), 0u) << "no read noticed the damage";
    }
  }
}

}  // namespace
}  // namespace txdir::testing
