// History(), DiffGenerations(), ExportGeneration() and the small parsers.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "tests/history/history_test_util.h"
#include "txdir/history.h"
#include "txdir/retention.h"

namespace txdir::testing {
namespace {

class HistoryTest : public ::testing::Test {
 protected:
  // gen 1: a.txt (6 bytes), b.txt (5)
  // gen 2: a.txt modified (12), b.txt removed, c/d.txt added (3)
  // gen 3: rollback to 1
  void SetUp() override {
    ASSERT_EQ(f_.Publish({{"a.txt", "hello\n"}, {"b.txt", "12345"}}, "one"), 1u);
    Tick();
    ASSERT_EQ(f_.Publish({{"a.txt", "hello world\n"}, {"c/d.txt", "xyz"}}, "two"), 2u);
    Tick();
    auto rb = f_.repo->Rollback(1);
    ASSERT_TRUE(rb) << rb.error().ToString();
  }
  // Generation times are in milliseconds; keep them distinct.
  static void Tick() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

  RepoFixture f_;
};

TEST_F(HistoryTest, CountsAndSizesPerGeneration) {
  auto h = History(*f_.repo);
  ASSERT_TRUE(h) << h.error().ToString();
  ASSERT_EQ(h->size(), 3u);
  const ChangeSummary& g3 = (*h)[0].changes;
  const ChangeSummary& g2 = (*h)[1].changes;
  const ChangeSummary& g1 = (*h)[2].changes;
  EXPECT_EQ((*h)[0].info.number, 3u);
  EXPECT_EQ((*h)[2].info.number, 1u);

  EXPECT_EQ(g1.added, 2u);
  EXPECT_EQ(g1.modified, 0u);
  EXPECT_EQ(g1.removed, 0u);
  EXPECT_EQ(g1.files, 2u);
  EXPECT_EQ(g1.bytes, 11u);
  // Bytes as a line diff counts them: every byte of an added file.
  EXPECT_EQ(g1.bytes_added, 11u);
  EXPECT_EQ(g1.bytes_removed, 0u);
  EXPECT_EQ(g1.bytes_changed, 11u);

  EXPECT_EQ(g2.added, 1u);
  EXPECT_EQ(g2.modified, 1u);
  EXPECT_EQ(g2.removed, 1u);
  EXPECT_EQ(g2.files, 2u);
  EXPECT_EQ(g2.bytes, 15u);
  // a.txt "hello\n" -> "hello world\n" is one line out (6) and one in (12);
  // c/d.txt adds 3; b.txt removes 5.
  EXPECT_EQ(g2.bytes_added, 15u);
  EXPECT_EQ(g2.bytes_removed, 11u);
  EXPECT_EQ(g2.bytes_changed, 26u);

  // The rollback restores gen 1's files: b.txt back, a.txt back, c/d.txt gone.
  EXPECT_EQ(g3.added, 1u);
  EXPECT_EQ(g3.modified, 1u);
  EXPECT_EQ(g3.removed, 1u);
  EXPECT_EQ(g3.files, 2u);
  EXPECT_EQ(g3.bytes, 11u);
  EXPECT_EQ(g3.bytes_added, 11u);
  EXPECT_EQ(g3.bytes_removed, 15u);
  EXPECT_EQ(g3.bytes_changed, 26u);
}

std::vector<uint64_t> Numbers(const Result<std::vector<HistoryEntry>>& h) {
  std::vector<uint64_t> out;
  if (h)
    for (const auto& e : *h) out.push_back(e.info.number);
  return out;
}

TEST_F(HistoryTest, PathFilterMatchesFilesAndDirectoryPrefixes) {
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "c"})), (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "c/"})), (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "c/d.txt"})), (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "a.txt"})), (std::vector<uint64_t>{3, 2, 1}));
  // "b" is not a prefix of the directory-less "b.txt".
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "b"})), (std::vector<uint64_t>{}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.path = "b.txt"})), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.limit = 1, .path = "c"})), (std::vector<uint64_t>{3}));
  EXPECT_FALSE(History(*f_.repo, {.path = "../x"}));
}

TEST_F(HistoryTest, SinceKeepsGenerationsCreatedAtOrAfter) {
  auto all = History(*f_.repo);
  ASSERT_TRUE(all);
  const int64_t t2 = (*all)[1].info.time_ms;
  ASSERT_LT((*all)[2].info.time_ms, t2);
  EXPECT_EQ(Numbers(History(*f_.repo, {.since_ms = t2})), (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.since_ms = t2 + 1'000'000})), (std::vector<uint64_t>{}));
  EXPECT_EQ(Numbers(History(*f_.repo, {.since_ms = 0})), (std::vector<uint64_t>{3, 2, 1}));
}

TEST_F(HistoryTest, DiffGenerationsListsChangesWithSizes) {
  auto d = DiffGenerations(*f_.repo, 1, 2);
  ASSERT_TRUE(d) << d.error().ToString();
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[0].path, "a.txt");
  EXPECT_EQ((*d)[0].kind, ChangeKind::kModified);
  EXPECT_EQ((*d)[0].old_size, 6u);
  EXPECT_EQ((*d)[0].new_size, 12u);
  EXPECT_EQ((*d)[1].path, "b.txt");
  EXPECT_EQ((*d)[1].kind, ChangeKind::kRemoved);
  EXPECT_EQ((*d)[2].path, "c/d.txt");
  EXPECT_EQ((*d)[2].kind, ChangeKind::kAdded);
  EXPECT_EQ((*d)[2].new_mode, 0100644u);
  // Same tree (a rollback to 1): no changes.
  auto same = DiffGenerations(*f_.repo, 1, 3);
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->empty());
  auto missing = DiffGenerations(*f_.repo, 1, 99);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST(ParseSinceTest, DurationsAndIsoTimes) {
  const int64_t now = 1'800'000'000'000;
  EXPECT_EQ(ParseSince("7d", now).value(), now - 7 * 86'400'000LL);
  EXPECT_EQ(ParseSince("12h", now).value(), now - 12 * 3'600'000LL);
  EXPECT_EQ(ParseSince("30m", now).value(), now - 30 * 60'000LL);
  EXPECT_EQ(ParseSince("45s", now).value(), now - 45'000LL);
  EXPECT_EQ(ParseSince("2w", now).value(), now - 14 * 86'400'000LL);
  // The grammar of every duration (gc --keep-within, gc.keep_within): units
  // combine, and milliseconds are one.
  EXPECT_EQ(ParseSince("1d12h", now).value(), now - 36 * 3'600'000LL);
  EXPECT_EQ(ParseSince("500ms", now).value(), now - 500LL);
  for (const char* d : {"7d", "1d12h", "90m", "2w3d"})
    EXPECT_EQ(ParseSince(d, now).value(), now - ParseDuration(d).value().count()) << d;
  EXPECT_EQ(ParseSince("1970-01-02", now).value(), 86'400'000LL);
  EXPECT_EQ(ParseSince("2026-11-27T02:11:12.123Z", now).value(), 1795745472123LL);
  EXPECT_EQ(ParseSince("2026-11-27 02:11", now).value(), 1795745460000LL);
  EXPECT_EQ(ParseSince("2026-11-27T02:11:12", now).value(), 1795745472000LL);
  for (const char* bad :
       {"", "7", "d", "7x", "-1d", "0d", "1d12", "1d-2h", "9999999999d", "2026-13-01",
        "2026-11-27T", "2026-1-2", "2026-11-27T02:11:12.", "yesterday"}) {
    auto r = ParseSince(bad, now);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    }
  }
}

TEST(PrintablePathTest, EscapesControlBytesAndBackslash) {
  EXPECT_EQ(PrintablePath("plain/ünïcode.txt"), "plain/ünïcode.txt");
  EXPECT_EQ(PrintablePath(std::string("a\nb\tc\x1b[0m\x7f", 10)), "a\\x0ab\\x09c\\x1b[0m\\x7f");
  EXPECT_EQ(PrintablePath("back\\slash"), "back\\\\slash");
}

class ExportTest : public ::testing::Test {
 protected:
  RepoFixture f_;
};

TEST_F(ExportTest, ExportsAnOlderGenerationAsWritableFilesAndLinks) {
  MakeTree(f_.src, {{"a.txt", "one"}, {"dir/sub/b.txt", "two"}, {"run.sh", "#!/bin/sh\n"}});
  ASSERT_EQ(::chmod((f_.src + "/run.sh").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("dir/sub/b.txt", (f_.src + "/link").c_str()), 0);
  ASSERT_TRUE(f_.repo->Publish(f_.src));
  f_.Publish({{"a.txt", "changed"}});  // gen 2: gen 1 is no longer live

  // The modes are 0644/0755 minus the umask: with umask 0 exactly those.
  const std::string out = f_.tmp / "out";
  mode_t saved = ::umask(0);
  auto s = ExportGeneration(*f_.repo, 1, out);
  ::umask(077);
  auto s2 = ExportGeneration(*f_.repo, 1, f_.tmp / "private");
  ::umask(saved);
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_TRUE(s2) << s2.error().ToString();
  EXPECT_EQ(ReadTreeExact(out), ReadTreeExact(f_.gen_dir(1)));
  EXPECT_EQ(ReadFile(out + "/dir/sub/b.txt"), "two");
  EXPECT_EQ(ReadTreeExact(out)["link"], "link:dir/sub/b.txt");
  EXPECT_EQ(Mode(out + "/a.txt") & 07777, 0644u);
  EXPECT_EQ(Mode(out + "/run.sh") & 07777, 0755u);
  EXPECT_EQ(Mode(out + "/dir") & 07777, 0755u);
  EXPECT_EQ(Mode(f_.tmp / "private/a.txt") & 07777, 0600u);
  EXPECT_EQ(Mode(f_.tmp / "private/run.sh") & 07777, 0700u);
  EXPECT_EQ(Mode(f_.tmp / "private/dir") & 07777, 0700u);
  EXPECT_EQ(::access((out + "/a.txt").c_str(), W_OK), 0);
  // Nothing but `out` was left beside it.
  for (const auto& e : stdfs::directory_iterator(f_.tmp.path()))
    EXPECT_EQ(e.path().filename().string().find("out.tmp-"), std::string::npos) << e.path();
}

TEST_F(ExportTest, RefusesANonEmptyOutputAndFillsAnEmptyOne) {
  f_.Publish({{"a.txt", "one"}});
  const std::string out = f_.tmp / "out";
  WriteFile(out + "/keep.txt", "mine");
  auto s = ExportGeneration(*f_.repo, 1, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kExists);
  EXPECT_EQ(ReadTreeExact(out), (std::map<std::string, std::string>{{"keep.txt", "mine"}}));

  const std::string empty = f_.tmp / "empty";
  stdfs::create_directories(empty);
  ASSERT_TRUE(ExportGeneration(*f_.repo, 1, empty));
  EXPECT_EQ(ReadTreeExact(empty), (std::map<std::string, std::string>{{"a.txt", "one"}}));

  auto missing = ExportGeneration(*f_.repo, 7, f_.tmp / "x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_FALSE(stdfs::exists(f_.tmp / "x"));
}

}  // namespace
}  // namespace txdir::testing
