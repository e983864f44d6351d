// The trust model (docs/security.md): no link is followed at or inside
// .txdir, the live path stays where the rules put it and replaces only a
// link, config.json is validated and bounded, and a repository owned by
// another user is read but never written to and its hook never run.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/core/test_util.h"
#include "txdir/fsck.h"
#include "txdir/retention.h"
#include "txdir/transaction.h"

namespace txdir::testing {
namespace {

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Overwrites keys of .txdir/config.json (a hand edit, or a hostile one).
void EditConfig(const std::string& root, const nlohmann::json& patch) {
  const std::string path = root + "/.txdir/config.json";
  auto j = nlohmann::json::parse(ReadFile(path));
  j.merge_patch(patch);
  WriteFile(path, j.dump());
}

// An outside directory with files a deletion must not reach, shaped like
// what recovery removes under tmp/ and gens/.
std::map<std::string, std::string> MakeVictim(const std::string& dir) {
  std::map<std::string, std::string> files = {{"stage-9-1-abc/keep", "1"},
                                              {"tmp_obj_x", "2"},
                                              {"7/data", "3"},
                                              {".trash-3-1-abc/data", "4"},
                                              {"plain", "5"}};
  MakeTree(dir, files);
  return files;
}

// ---------------------------------------------------------------------------
// No link at or inside .txdir.

class MetaLinkTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MetaLinkTest, OpenRefusesALinkedPartNamingIt) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  f.repo.reset();
  const std::string part = f.root + "/.txdir/" + GetParam();
  const std::string moved = f.tmp / "moved";
  stdfs::rename(part, moved);
  stdfs::create_symlink(moved, part);
  auto r = Repository::Open(f.root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCorruption) << r.error().ToString();
  EXPECT_EQ(r.error().path, part);
  EXPECT_TRUE(
      Has(r.error().message, "is a symbolic link; txdir does not follow links inside .txdir"))
      << r.error().ToString();
  // `txdir config` goes through the same check.
  auto listed = ListConfig(f.root);
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, Code::kCorruption);
}

INSTANTIATE_TEST_SUITE_P(EveryPart, MetaLinkTest,
                         ::testing::Values("tmp", "gens", "store.git", "lock", "config.json"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '.') c = '_';
                           return n;
                         });

TEST(MetaFolderTest, LinkedMetadataFolderIsRefused) {
  RepoFixture f;
  f.repo.reset();
  stdfs::rename(f.root + "/.txdir", f.tmp / "meta");
  stdfs::create_symlink(f.tmp / "meta", f.root + "/.txdir");
  auto r = Repository::Open(f.root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCorruption);
  EXPECT_EQ(r.error().path, f.root + "/.txdir");
}

TEST(MetaFolderTest, PartOfTheWrongTypeIsRefused) {
  RepoFixture f;
  f.repo.reset();
  stdfs::remove_all(f.root + "/.txdir/tmp");
  WriteFile(f.root + "/.txdir/tmp", "not a directory");
  auto r = Repository::Open(f.root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCorruption);
  EXPECT_EQ(r.error().path, f.root + "/.txdir/tmp");
  EXPECT_TRUE(Has(r.error().message, "is not a directory")) << r.error().ToString();
}

// The check at Open is not all: a link swapped in afterwards (the handle is
// long-lived, the directory writable by its owner) must not redirect what
// recovery removes. Recovery opens tmp/ and gens/ with O_NOFOLLOW.
class SwappedAfterOpenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SwappedAfterOpenTest, RecoveryRemovesNothingOutside) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  const std::string victim = f.tmp / "victim";
  const auto files = MakeVictim(victim);
  const std::string part = f.root + "/.txdir/" + GetParam();
  stdfs::rename(part, f.tmp / "real-part");
  stdfs::create_symlink(victim, part);
  auto rec = f.repo->Recover();
  EXPECT_FALSE(rec) << "recovery ran through the link";
  if (!rec) {
    EXPECT_EQ(rec.error().code, Code::kCorruption) << rec.error().ToString();
    EXPECT_EQ(rec.error().path, part);
  }
  EXPECT_EQ(ReadTree(victim), files) << "files outside the repository were removed";
}

INSTANTIATE_TEST_SUITE_P(TmpAndGens, SwappedAfterOpenTest, ::testing::Values("tmp", "gens"));

TEST(MetaFolderTest, RecoveryRemovesALinkInGensNotItsTarget) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  const std::string victim = f.tmp / "victim";
  const auto files = MakeVictim(victim);
  // Names recovery removes: a generation above the head and a trash folder.
  stdfs::create_symlink(victim + "/7", f.root + "/.txdir/gens/7");
  stdfs::create_symlink(victim + "/.trash-3-1-abc", f.root + "/.txdir/gens/.trash-3-1-abc");
  stdfs::create_symlink(victim, f.root + "/.txdir/tmp/stage-2-1-abc");
  auto rec = f.repo->Recover();
  ASSERT_TRUE(rec) << rec.error().ToString();
  EXPECT_EQ(ReadTree(victim), files);
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(f.root + "/.txdir/gens/7")));
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(f.root + "/.txdir/gens/.trash-3-1-abc")));
}

// ---------------------------------------------------------------------------
// The live path.

TEST(LivePathTest, RecoverRefusesToReplaceARegularFile) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  stdfs::remove(f.live());
  WriteFile(f.live(), "someone's file");
  auto rec = f.repo->Recover();
  ASSERT_FALSE(rec) << "the file was replaced by the link";
  EXPECT_EQ(rec.error().code, Code::kCorruption);
  EXPECT_EQ(rec.error().path, f.live());
  EXPECT_TRUE(Has(rec.error().message, "live path is a regular file")) << rec.error().ToString();
  EXPECT_EQ(ReadFile(f.live()), "someone's file");
  // So does a publish.
  MakeTree(f.src, {{"a", "2"}});
  auto g = f.repo->Publish(f.src);
  EXPECT_FALSE(g);
  EXPECT_EQ(ReadFile(f.live()), "someone's file");
  // Moved away, recovery puts the link back.
  stdfs::remove(f.live());
  ASSERT_TRUE(f.repo->Recover());
  EXPECT_TRUE(stdfs::is_symlink(f.live()));
}

TEST(LivePathTest, AbsoluteLivePathNeverReplacesAFileOutside) {
  RepoFixture f;
  f.Publish({{"a", "1"}});
  const std::string outside = f.tmp / "etc-passwd";
  WriteFile(outside, "root:x:0:0");
  f.repo.reset();
  EditConfig(f.root, {{"live_path", outside}});
  auto repo = Repository::Open(f.root);
  ASSERT_TRUE(repo) << repo.error().ToString();
  MakeTree(f.src, {{"a", "2"}});
  // The generation is committed (the live link is only a view of the
  // head), but the file there is not the live link and stays as it is: the
  // publish reports the link as not moved.
  auto g = (*repo)->Publish(f.src);
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_TRUE(g->live_pending);
  EXPECT_TRUE(Has(g->live_error, "regular file")) << g->live_error;
  EXPECT_FALSE(stdfs::is_symlink(outside));
  EXPECT_EQ(ReadFile(outside), "root:x:0:0");
  // Recovery refuses it the same way.
  auto rec = (*repo)->Recover();
  EXPECT_FALSE(rec);
  EXPECT_EQ(ReadFile(outside), "root:x:0:0");
}

TEST(LivePathTest, ConfigLivePathsThatLeaveTheRootAreRefused) {
  for (const std::string bad : {"../outside", "a/../../outside", "./current", "a//b", ".txdir/x",
                                ".txdir", "/tmp/../etc/x", "/", "a/"}) {
    RepoFixture f;
    f.repo.reset();
    EditConfig(f.root, {{"live_path", bad}});
    auto r = Repository::Open(f.root);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kCorruption) << bad;
    EXPECT_TRUE(Has(r.error().message, "live_path")) << bad << ": " << r.error().ToString();
  }
}

TEST(LivePathTest, LinkedDirectoryOnTheLivePathIsRefused) {
  RepoFixture f;
  f.repo.reset();
  const std::string outside = f.tmp / "outside";
  stdfs::create_directories(outside);
  stdfs::create_symlink(outside, f.root + "/site");
  EditConfig(f.root, {{"live_path", "site/current"}});
  auto repo = Repository::Open(f.root);
  ASSERT_TRUE(repo) << repo.error().ToString();
  MakeTree(f.src, {{"a", "1"}});
  auto g = (*repo)->Publish(f.src);
  ASSERT_FALSE(g) << "the live link went through site/ to " << outside;
  EXPECT_EQ(g.error().path, f.root + "/site");
  EXPECT_TRUE(stdfs::is_empty(outside));
}

TEST(LivePathTest, NestedLivePathInsideTheRootWorks) {
  TempDir tmp;
  auto repo = Repository::Init(tmp / "r", InitOptions{.live_path = tmp / "r/site/tables"});
  ASSERT_TRUE(repo) << repo.error().ToString();
  MakeTree(tmp / "src", {{"a", "1"}});
  ASSERT_TRUE((*repo)->Publish(tmp / "src"));
  EXPECT_EQ(ReadFile(tmp / "r/site/tables/a"), "1");
  auto j = nlohmann::json::parse(ReadFile(tmp / "r/.txdir/config.json"));
  EXPECT_EQ(j["live_path"], "site/tables");
}

// ---------------------------------------------------------------------------
// config.json values and size.

struct BadConfig {
  nlohmann::json patch;
  std::string message;
};

TEST(ConfigFileTest, OutOfRangeValuesAreRefusedNamingTheKeyAndTheRange) {
  const std::vector<BadConfig> cases = {
      {{{"lock_timeout_ms", 1e30}}, "lock_timeout_ms must be a number of milliseconds from 0"},
      {{{"lock_timeout_ms", -5}}, "lock_timeout_ms must be a number of milliseconds from 0"},
      {{{"lock_timeout_ms", 2.5}}, "(one week), not 2.5"},
      {{{"lock_timeout_ms", 604800001}}, "not 604800001"},
      {{{"lock_timeout_ms", "10"}}, "lock_timeout_ms must be"},
      {{{"gc", {{"keep", 1e30}}}}, "gc.keep must be a positive integer from 1 to"},
      {{{"gc", {{"keep", nlohmann::json::parse("18446744073709551616")}}}},
       "gc.keep must be a positive integer from 1 to"},
      {{{"gc", {{"keep", -5}}}}, "not -5"},
      {{{"gc", {{"keep", 0}}}}, "not 0"},
      {{{"format", 1e30}}, "unsupported repository format"},
  };
  for (const auto& c : cases) {
    RepoFixture f;
    f.repo.reset();
    EditConfig(f.root, c.patch);
    auto r = Repository::Open(f.root);
    ASSERT_FALSE(r) << c.patch.dump();
    EXPECT_EQ(r.error().code, Code::kCorruption) << c.patch.dump();
    EXPECT_TRUE(Has(r.error().message, c.message))
        << c.patch.dump() << ": " << r.error().ToString();
    EXPECT_FALSE(Has(r.error().message, "must be at least 1")) << r.error().ToString();
  }
}

TEST(ConfigFileTest, LargestAllowedValuesLoad) {
  RepoFixture f;
  f.repo.reset();
  EditConfig(f.root, {{"lock_timeout_ms", 604800000}, {"gc", {{"keep", 999999999999999999ULL}}}});
  auto r = Repository::Open(f.root);
  ASSERT_TRUE(r) << r.error().ToString();
}

TEST(ConfigFileTest, ConfigLargerThanOneMebibyteIsRefusedUnread) {
  RepoFixture f;
  f.repo.reset();
  // Valid JSON, 100 MB: refused by its size, before any of it is read.
  const std::string path = f.root + "/.txdir/config.json";
  {
    Fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC));
    ASSERT_TRUE(fd.valid());
    const std::string head = R"({"format":1,"live_path":"current","pad":")";
    ASSERT_EQ(::write(fd.get(), head.data(), head.size()), static_cast<ssize_t>(head.size()));
    ASSERT_EQ(::ftruncate(fd.get(), 100 << 20), 0);  // sparse: costs no disk
  }
  auto r = Repository::Open(f.root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCorruption);
  EXPECT_EQ(r.error().path, path);
  EXPECT_TRUE(Has(r.error().message, "more than the limit of 1048576")) << r.error().ToString();
}

TEST(ConfigFileTest, SettingValidatesLikeLoading) {
  RepoFixture f;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"lock_timeout_ms", "1e30"},
                                                        {"lock_timeout_ms", "-5"},
                                                        {"gc.keep", "1e30"},
                                                        {"gc.keep", "18446744073709551616"},
                                                        {"gc.keep", "0"}}) {
    auto s = SetConfig(f.root, key, value);
    ASSERT_FALSE(s) << key << "=" << value;
    EXPECT_EQ(s.error().code, Code::kInvalidArgument);
    EXPECT_TRUE(Has(s.error().message, key + " must be")) << s.error().ToString();
    EXPECT_TRUE(Has(s.error().message, "not '" + value + "'")) << s.error().ToString();
  }
}

// ---------------------------------------------------------------------------
// Owners. An Env that reports the repository's root and .txdir as owned by
// another user runs the same as root and as an ordinary user; the CLI tests
// (cli_trust_test.cc) repeat the essentials with a real chown as root.

class ForeignOwnerEnv : public EnvWrapper {
 public:
  ForeignOwnerEnv(std::string root) : EnvWrapper(Env::Default()), root_(std::move(root)) {}
  Result<struct stat> StatAt(int dir, const std::string& path, bool follow) override {
    auto st = target()->StatAt(dir, path, follow);
    if (st && dir == kCwd && (path == root_ || path == root_ + "/.txdir"))
      st->st_uid = ::geteuid() + 1;
    return st;
  }

 private:
  std::string root_;
};

// Sets TXDIR_SAFE_DIRECTORIES for one scope.
class SafeDirectories {
 public:
  explicit SafeDirectories(const char* value) {
    if (value) ::setenv("TXDIR_SAFE_DIRECTORIES", value, 1);
  }
  ~SafeDirectories() { ::unsetenv("TXDIR_SAFE_DIRECTORIES"); }
};

struct ForeignRepo {
  RepoFixture f;
  std::string marker = f.tmp / "hook-ran";
  ForeignOwnerEnv env{f.root};
  std::unique_ptr<Repository> repo;

  ForeignRepo() {
    f.Publish({{"a", "1"}});
    EXPECT_TRUE(SetConfig(f.root, "hooks.pre_publish", "touch '" + marker + "'"));
    f.repo.reset();
    auto r = Repository::Open(f.root, OpenOptions{.env = &env});
    EXPECT_TRUE(r) << r.error().ToString();
    if (r) repo = std::move(*r);
  }
};

TEST(ForeignOwnerTest, ReadsWorkWritesAreRefusedAndTheHookNeverRuns) {
  ::unsetenv("TXDIR_SAFE_DIRECTORIES");
  ForeignRepo fr;
  ASSERT_TRUE(fr.repo);
  // Reads.
  auto content = fr.repo->ReadFile(1, "a");
  ASSERT_TRUE(content) << content.error().ToString();
  EXPECT_EQ(*content, "1");
  EXPECT_TRUE(fr.repo->Log(0));
  auto st = fr.repo->Status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->live, std::optional<uint64_t>(1));
  // Writes, each refused before anything changes.
  MakeTree(fr.f.src, {{"a", "2"}});
  auto check = [&](const Error& e, const char* what) {
    EXPECT_EQ(e.code, Code::kInvalidArgument) << what << ": " << e.ToString();
    EXPECT_TRUE(Has(e.message, "owned by another user")) << what << ": " << e.ToString();
    EXPECT_TRUE(Has(e.message, "TXDIR_SAFE_DIRECTORIES=" + fr.f.root)) << e.ToString();
  };
  auto g = fr.repo->Publish(fr.f.src);
  ASSERT_FALSE(g);
  check(g.error(), "publish");
  auto rb = fr.repo->Rollback(std::nullopt);
  ASSERT_FALSE(rb);
  auto rec = fr.repo->Recover();
  ASSERT_FALSE(rec);
  check(rec.error(), "recover");
  auto fsck = Fsck(*fr.repo, FsckOptions{.repair = true});
  ASSERT_FALSE(fsck);
  check(fsck.error(), "fsck --repair");
  auto tx = fr.repo->Begin();
  if (tx) {
    // Objects are written before the commit takes the lock: refused there.
    auto w = (*tx)->Write("b", "2");
    if (w) {
      auto c = (*tx)->Commit();
      ASSERT_FALSE(c);
      check(c.error(), "transaction commit");
    } else {
      check(w.error(), "transaction write");
    }
  }
  EXPECT_FALSE(stdfs::exists(fr.marker)) << "the hook of a foreign repository ran";
  EXPECT_EQ(ReadFile(fr.f.live() + "/a"), "1");
  EXPECT_FALSE(stdfs::exists(fr.f.gen_dir(2)));
}

TEST(ForeignOwnerTest, NamedInSafeDirectoriesItIsWrittenAndItsHookRuns) {
  for (std::string value : std::vector<std::string>{"*", "/nowhere:ROOT", "ROOT/"}) {
    ForeignRepo fr;
    ASSERT_TRUE(fr.repo);
    if (auto at = value.find("ROOT"); at != std::string::npos) value.replace(at, 4, fr.f.root);
    SafeDirectories safe(value.c_str());
    MakeTree(fr.f.src, {{"a", "2"}});
    auto g = fr.repo->Publish(fr.f.src);
    ASSERT_TRUE(g) << value << ": " << g.error().ToString();
    EXPECT_TRUE(stdfs::exists(fr.marker)) << value;
  }
}

TEST(ForeignOwnerTest, OtherOrRelativeSafeEntriesDoNotCount) {
  ForeignRepo fr;
  ASSERT_TRUE(fr.repo);
  const std::string rel = stdfs::relative(fr.f.root).string();
  const std::string value = fr.f.tmp.path() + ":" + rel + "::/";
  SafeDirectories safe(value.c_str());
  MakeTree(fr.f.src, {{"a", "2"}});
  auto g = fr.repo->Publish(fr.f.src);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(stdfs::exists(fr.marker));
}

TEST(ForeignOwnerTest, InitInAnotherUsersDirectoryIsRefused) {
  ::unsetenv("TXDIR_SAFE_DIRECTORIES");
  TempDir tmp;
  const std::string root = tmp / "theirs";
  stdfs::create_directories(root);
  ForeignOwnerEnv env(root);
  auto r = Repository::Init(root, InitOptions{.env = &env});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(Has(r.error().message, "refusing to create a repository owned by another user"))
      << r.error().ToString();
  EXPECT_FALSE(stdfs::exists(root + "/.txdir"));
}

}  // namespace
}  // namespace txdir::testing
