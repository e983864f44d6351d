// store/gen_meta: generation metadata as commit-message trailers.
#include "store/gen_meta.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

namespace txdir::store {
namespace {

GenMeta Sample() {
  GenMeta m;
  m.number = 7;
  m.kind = "rollback";
  m.restores = 5;
  m.message = "nightly tables";
  m.host = "build-01";
  m.pid = 4242;
  m.time_ms = 1795745472123;  // 2026-11-27T02:11:12.123Z
  return m;
}

TEST(GenMetaTest, FormatWritesEveryTrailer) {
  std::string text = FormatCommitMessage(Sample());
  EXPECT_EQ(text,
            "nightly tables\n\n"
            "Txdir-Generation: 7\n"
            "Txdir-Kind: rollback\n"
            "Txdir-Restores: 5\n"
            "Txdir-Host: build-01\n"
            "Txdir-Pid: 4242\n"
            "Txdir-Time: 2026-11-27T02:11:12.123Z\n");
}

TEST(GenMetaTest, ParseRoundTripsFormat) {
  GenMeta m = Sample();
  auto p = ParseCommitMessage(FormatCommitMessage(m));
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->number, m.number);
  EXPECT_EQ(p->kind, m.kind);
  EXPECT_EQ(p->restores, m.restores);
  EXPECT_EQ(p->message, m.message);
  EXPECT_EQ(p->host, m.host);
  EXPECT_EQ(p->pid, m.pid);
  EXPECT_EQ(p->time_ms, m.time_ms);
}

TEST(GenMetaTest, QueuedTransactionsRoundTripOneTrailerEach) {
  GenMeta m = Sample();
  m.queued = {"00001795745472123-4242-9f3a0c1d", "00001795745472124-4243-0000abcd"};
  const std::string text = FormatCommitMessage(m);
  EXPECT_NE(text.find("Txdir-Queued: 00001795745472123-4242-9f3a0c1d\n"
                      "Txdir-Queued: 00001795745472124-4243-0000abcd\n"),
            std::string::npos)
      << text;
  auto p = ParseCommitMessage(text);
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->queued, m.queued);
}

TEST(GenMetaTest, AQueuedTrailerThatIsNotAnIdIsCorruption) {
  for (const char* bad : {"UPPER", "a/b", "id with space", "x;y"}) {
    auto p =
        ParseCommitMessage("msg\n\nTxdir-Generation: 3\nTxdir-Queued: " + std::string(bad) + "\n");
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, Code::kCorruption);
  }
  EXPECT_FALSE(ValidQueueId(std::string(65, 'a')));
  EXPECT_TRUE(ValidQueueId(std::string(64, 'a')));
}

TEST(GenMetaTest, PublishHasNoRestoresTrailer) {
  GenMeta m = Sample();
  m.kind = "publish";
  m.restores.reset();
  std::string text = FormatCommitMessage(m);
  EXPECT_EQ(text.find("Txdir-Restores"), std::string::npos);
  auto p = ParseCommitMessage(text);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->restores.has_value());
}

TEST(GenMetaTest, MultiParagraphMessageIsKept) {
  GenMeta m = Sample();
  m.message = "title\n\nbody line one\nbody line two";
  auto p = ParseCommitMessage(FormatCommitMessage(m));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, m.message);
  EXPECT_EQ(p->number, 7u);
}

TEST(GenMetaTest, EmptyMessageBecomesGenerationN) {
  GenMeta m = Sample();
  m.message = "  \n";
  auto p = ParseCommitMessage(FormatCommitMessage(m));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "generation 7");
}

TEST(GenMetaTest, NewlinesInTrailerValuesCannotForgeTrailers) {
  GenMeta m = Sample();
  m.host = "evil\nTxdir-Generation: 99";
  m.kind = "publish\r\nTxdir-Pid: 1";
  auto p = ParseCommitMessage(FormatCommitMessage(m));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->number, 7u);
  EXPECT_EQ(p->pid, 4242);
  EXPECT_EQ(p->host, "evil Txdir-Generation: 99");
}

TEST(GenMetaTest, FormatTimeIsIsoUtcWithMilliseconds) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(1795745472123), "2026-11-27T02:11:12.123Z");
}

// libc's gmtime_r and timegm as the independent reference for the civil
// calendar arithmetic: random instants between years 0 and 9999, and the
// edges (before 1970, leap days, the range's ends), format and parse back.
TEST(GenMetaTest, TimesFormatAndParseAsLibcCalendarDoes) {
  std::mt19937_64 rng(20261206);
  std::uniform_int_distribution<int64_t> any(kMinTimeMs, kMaxTimeMs);
  std::vector<int64_t> times = {kMinTimeMs,
                                kMaxTimeMs,
                                -1,
                                0,
                                1,
                                951782400000 /* 2000-02-29 */,
                                -2203891200000 /* 1900-03-01 */,
                                4107542400000 /* 2100-03-01 */};
  for (int i = 0; i < 2000; ++i) times.push_back(any(rng));
  for (int64_t t : times) {
    int64_t secs = t / 1000, ms = t % 1000;
    if (ms < 0) {
      ms += 1000;
      secs -= 1;
    }
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    const std::string text = FormatTime(t);
    ASSERT_EQ(text, want) << t;
    GenMeta m;
    m.number = 1;
    m.kind = "publish";
    m.host = "h";
    m.time_ms = t;
    auto p = ParseCommitMessage(FormatCommitMessage(m));
    ASSERT_TRUE(p) << text << ": " << p.error().ToString();
    EXPECT_EQ(p->time_ms, static_cast<int64_t>(timegm(&tm)) * 1000 + ms) << text;
  }
}

TEST(GenMetaTest, NowMsIsAfter2020) { EXPECT_GT(NowMs(), int64_t{1577836800000}); }

void ExpectCorruption(const std::string& text) {
  auto p = ParseCommitMessage(text);
  ASSERT_FALSE(p) << "parsed: " << text;
  EXPECT_EQ(p.error().code, Code::kCorruption) << text;
}

TEST(GenMetaTest, BadInputIsCorruption) {
  const std::string tail =
      "Txdir-Kind: publish\nTxdir-Host: h\nTxdir-Pid: 1\nTxdir-Time: 2026-11-27T02:11:12.123Z\n";
  ExpectCorruption("");
  ExpectCorruption("just a plain git commit message\n");
  ExpectCorruption("title\n\nSigned-off-by: someone\n");        // no generation trailer
  ExpectCorruption("title\n\nTxdir-Generation: abc\n" + tail);  // not a number
  ExpectCorruption("title\n\nTxdir-Generation: 0\n" + tail);    // generations start at 1
  ExpectCorruption("title\n\nTxdir-Generation: -3\n" + tail);   // negative
  ExpectCorruption("title\n\nTxdir-Generation: 7x\n" + tail);   // trailing junk
  ExpectCorruption("title\n\nTxdir-Generation: \n" + tail);     // empty
  ExpectCorruption("title\n\nTxdir-Generation: 99999999999999999999\n" + tail);  // overflow
  ExpectCorruption("title\n\nTxdir-Generation: 3\nTxdir-Pid: twelve\n");
  ExpectCorruption("title\n\nTxdir-Generation: 3\nTxdir-Restores: x\n");
  ExpectCorruption("title\n\nTxdir-Generation: 3\nTxdir-Time: yesterday\n");
  // Trailers not in the last paragraph are not trailers.
  ExpectCorruption("title\n\nTxdir-Generation: 3\n\nsome later paragraph\n");
}

}  // namespace
}  // namespace txdir::store
