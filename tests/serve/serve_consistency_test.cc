// Issue 5: "An HTTP client that loads a generation's 11 tables through /
// while a writer publishes continuously never gets tables from two
// generations." Three processes: `txdir serve`, a writer publishing 100
// generations of the sample dashboard (run counter in every table), and
// this test as the client: it follows the redirect from / once, then loads
// all 11 tables from that /g/<gen>/ prefix.
#include <httplib.h>

#include <set>

#include "tests/serve/serve_test_util.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/repository.h"

namespace txdir::testing {
namespace {

constexpr int kPublishes = 100;
constexpr const char* kRows = "30";

struct Load {
  uint64_t gen = 0;
  std::set<uint64_t> runs;  // the run counter of each table; one value if consistent
  bool ok = false;
  std::string error;
};

uint64_t RunOf(const std::string& body) {
  const std::string tag = "# txdir-run: ";
  if (body.compare(0, tag.size(), tag) != 0) return 0;
  return std::strtoull(body.c_str() + tag.size(), nullptr, 10);
}

// Fetches the 11 tables under `prefix` ("/g/N/").
Load LoadFrom(httplib::Client& c, const std::string& prefix, uint64_t gen) {
  Load l;
  l.gen = gen;
  for (size_t t = 0; t < sample::kTableCount; ++t) {
    auto r = c.Get((prefix + sample::FileName(t)).c_str());
    if (!r || r->status != 200) {
      l.error = prefix + sample::FileName(t) + ": " + (r ? std::to_string(r->status) : "no answer");
      return l;
    }
    l.runs.insert(RunOf(r->body));
  }
  l.ok = true;
  return l;
}

// One page load as a browser does it: / once, then everything relative to
// where it was sent.
Load LoadThroughRoot(httplib::Client& c) {
  auto r = c.Get("/");
  if (!r) return Load{.error = "/ had no answer: " + httplib::to_string(r.error())};
  if (r->status != 302)
    return Load{.error = "/ did not redirect: " + std::to_string(r->status) + " " + r->body};
  const std::string loc = r->get_header_value("Location");
  if (loc.rfind("/g/", 0) != 0 || loc.back() != '/') return Load{.error = "bad Location " + loc};
  return LoadFrom(c, loc, std::strtoull(loc.c_str() + 3, nullptr, 10));
}

TEST(ServeConsistencyTest, ElevenTablesLoadedThroughRootComeFromOneGeneration) {
  TempDir tmp;
  const std::string root = tmp / "repo";
  ASSERT_TRUE(Repository::Init(root));
  {  // Generation 1 = run 1.
    Child first({SERVE_WRITER, root, "1", "1", kRows}, tmp / "w0.out", tmp / "w0.err");
    ASSERT_EQ(first.Wait(std::chrono::seconds(60)), 0) << first.err();
  }
  ServeProcess server(root, tmp.path());
  ASSERT_GT(server.port, 0);
  httplib::Client c("127.0.0.1", server.port);
  c.set_keep_alive(true);

  size_t loads = 0, mixed = 0, wrong_gen = 0;
  std::set<uint64_t> gens_seen;
  auto check = [&](const Load& l) {
    ASSERT_TRUE(l.ok) << l.error;
    ++loads;
    gens_seen.insert(l.gen);
    if (l.runs.size() != 1) ++mixed;
    // The writer is the only publisher: generation N holds run N.
    else if (*l.runs.begin() != l.gen)
      ++wrong_gen;
  };

  check(LoadThroughRoot(c));  // before the writer starts: generation 1
  Child writer({SERVE_WRITER, root, "2", std::to_string(kPublishes), kRows}, tmp / "w.out",
               tmp / "w.err");
  ASSERT_TRUE(writer.started());
  while (writer.Running()) check(LoadThroughRoot(c));
  ASSERT_EQ(writer.Wait(std::chrono::seconds(1)), 0) << writer.err();
  const Load last = LoadThroughRoot(c);  // after it: the newest generation
  check(last);
  EXPECT_EQ(last.gen, 1u + kPublishes);

  std::printf(
      "SERVE_CONSISTENCY loads=%zu mixed=%zu wrong_generation=%zu generations_seen=%zu "
      "publishes=%d\n",
      loads, mixed, wrong_gen, gens_seen.size(), kPublishes);
  EXPECT_EQ(mixed, 0u);
  EXPECT_EQ(wrong_gen, 0u);
  EXPECT_GE(gens_seen.size(), 2u);

  // The check can fail: tables taken from two generations are detected.
  Load a = LoadFrom(c, "/g/1/", 1), b = LoadFrom(c, "/g/" + std::to_string(last.gen) + "/", 0);
  ASSERT_TRUE(a.ok && b.ok);
  std::set<uint64_t> both = a.runs;
  both.insert(b.runs.begin(), b.runs.end());
  EXPECT_EQ(both.size(), 2u);

  EXPECT_EQ(server.child->Stop(), 0) << "txdir serve should exit 0 on SIGTERM";
}

}  // namespace
}  // namespace txdir::testing
