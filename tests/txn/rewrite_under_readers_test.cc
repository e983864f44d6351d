// Multi-process: a scanner rewrites todo_db.sdn in a
// loop (each rewrite one transaction) while doc-generator processes read it.
// Every read must parse and be complete: the expected number of records, all
// from one rewrite (every record's `line` holds the round number).
//
// Readers use both reader paths: a Snapshot (Snapshot::OpenLive + ReadFile),
// and the live path opened once per read (<root>/current/todo_db.sdn), which
// is what a program in another language does.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#include "tests/txn/txn_test_util.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using testing::kTodoFile;

constexpr int kRecords = 400;
constexpr int kRounds = 200;
constexpr int kReaders = 2;

struct Shared {
  testing::SharedErrors errors;
  std::atomic<int> readers_started{0};
  std::atomic<int> scanner_done{0};
  std::atomic<uint64_t> snapshot_reads{0}, live_reads{0};
  std::atomic<uint64_t> bad_reads{0};    // unparsable or incomplete
  std::atomic<uint64_t> rounds_seen{0};  // distinct rounds, summed over readers
  char first_bad[512] = {};
};

// The file as the scanner writes it in round `round`.
std::string RoundFile(int round) {
  auto db = Database<Todo>::Load("");
  for (int i = 0; i < kRecords; ++i) {
    Todo t = testing::MakeTodo(i);
    t.line = round;
    t.description = "round " + std::to_string(round) + ", item " + std::to_string(i);
    (void)db->Insert(t);
  }
  return *db->Save();
}

// Empty when `bytes` is a complete file of one round (stored in *round);
// otherwise what is wrong.
std::string Check(const std::string& bytes, int64_t* round) {
  auto doc = sdn::Parse(bytes);
  if (!doc) return "unparsable: " + doc.error().message;
  auto db = Database<Todo>::FromDocument(std::move(*doc));
  if (!db) return "not a todo table: " + db.error().message;
  if (db->size() != static_cast<size_t>(kRecords))
    return "incomplete: " + std::to_string(db->size()) + " records";
  auto all = db->All();
  for (const Todo& t : all)
    if (t.line != all[0].line) return "records from different rounds";
  *round = all[0].line;
  return "";
}

std::string ReadWholeFd(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int Scanner(const std::string& root, Shared* sh) {
  auto repo = Repository::Open(root);
  if (!repo) return 2;
  while (sh->readers_started.load() < kReaders) ::usleep(1000);
  for (int round = 1; round <= kRounds; ++round) {
    auto tx = (*repo)->Begin();
    if (!tx || !(*tx)->Write(kTodoFile, RoundFile(round))) return 3;
    auto r = (*tx)->Commit(CommitOptions{.message = "scan " + std::to_string(round)});
    if (!r || !r->published) {
      sh->errors.Record("scanner commit: " +
                        (r ? std::string("not published") : r.error().ToString()));
      return 4;
    }
  }
  sh->scanner_done.store(1);
  return 0;
}

int DocGenerator(const std::string& root, Shared* sh) {
  const std::string live_file = root + "/current/" + kTodoFile;
  std::set<int64_t> rounds;
  auto bad = [&](const std::string& how, const std::string& what) {
    if (sh->bad_reads.fetch_add(1) == 0)
      std::snprintf(sh->first_bad, sizeof sh->first_bad, "%s: %s", how.c_str(), what.c_str());
  };
  sh->readers_started.fetch_add(1);
  // At least one pass after the scanner finished, so the last round is read.
  for (bool last = false; !last;) {
    last = sh->scanner_done.load() != 0;
    int64_t round = 0;
    {
      auto snap = Snapshot::OpenLive(root);
      if (!snap) {
        sh->errors.Record("OpenLive: " + snap.error().ToString());
        return 2;
      }
      auto bytes = snap->ReadFile(kTodoFile);
      if (!bytes) {
        sh->errors.Record("snapshot read: " + bytes.error().ToString());
        return 3;
      }
      sh->snapshot_reads.fetch_add(1);
      if (std::string e = Check(*bytes, &round); !e.empty())
        bad("snapshot", e);
      else
        rounds.insert(round);
    }
    {
      int fd = ::open(live_file.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        sh->errors.Record("open " + live_file + ": " + std::strerror(errno));
        return 4;
      }
      std::string bytes = ReadWholeFd(fd);
      ::close(fd);
      sh->live_reads.fetch_add(1);
      if (std::string e = Check(bytes, &round); !e.empty())
        bad("live path", e);
      else
        rounds.insert(round);
    }
  }
  if (!rounds.count(kRounds)) sh->errors.Record("the last round was never read");
  sh->rounds_seen.fetch_add(rounds.size());
  return 0;
}

// The check itself must be able to fail: a cut-off file is caught.
TEST(RewriteUnderReaders, TheCheckRejectsPartialFiles) {
  const std::string full = RoundFile(7);
  int64_t round = 0;
  EXPECT_EQ(Check(full, &round), "");
  EXPECT_EQ(round, 7);
  for (size_t cut : {size_t{0}, size_t{1}, full.size() / 3, full.size() / 2, full.size() - 2}) {
    int64_t r = 0;
    EXPECT_NE(Check(full.substr(0, cut), &r), "") << "cut at " << cut;
  }
  // Half of one round and half of another.
  const std::string other = RoundFile(8);
  size_t mid = full.find("\n", full.size() / 2) + 1;
  EXPECT_NE(Check(full.substr(0, mid) + other.substr(mid), &round), "");
}

TEST(RewriteUnderReaders, ReadersNeverSeeAPartialOrUnparsableFile) {
  testing::TempDir tmp(testing::FastTmpBase());
  const std::string root = tmp / "repo";
  {
    auto repo = Repository::Init(root);
    ASSERT_TRUE(repo.has_value());
    testing::MakeTree(tmp / "src", {{kTodoFile, RoundFile(0)}});
    ASSERT_TRUE((*repo)->Publish(tmp / "src").has_value());
  }
  Shared* sh = testing::MapShared<Shared>();
  std::vector<pid_t> pids;
  for (int i = 0; i < kReaders; ++i)
    pids.push_back(testing::ForkChild([&] { return DocGenerator(root, sh); }));
  pids.push_back(testing::ForkChild([&] { return Scanner(root, sh); }));
  for (pid_t p : pids) EXPECT_EQ(testing::WaitChild(p), 0);
  EXPECT_EQ(sh->errors.count.load(), 0u) << sh->errors.first;
  EXPECT_EQ(sh->bad_reads.load(), 0u) << sh->first_bad;
  EXPECT_GT(sh->snapshot_reads.load(), 0u);
  EXPECT_GT(sh->live_reads.load(), 0u);
  std::printf("SCENARIO_A rewrites=%d records=%d readers=%d snapshot_reads=%" PRIu64
              " live_path_reads=%" PRIu64 " partial_or_unparsable=%" PRIu64
              " distinct_rounds_seen=%" PRIu64 "\n",
              kRounds, kRecords, kReaders, sh->snapshot_reads.load(), sh->live_reads.load(),
              sh->bad_reads.load(), sh->rounds_seen.load());
  std::fflush(stdout);
  auto repo = Repository::Open(root);
  ASSERT_TRUE(repo.has_value());
  EXPECT_EQ((*repo)->Status()->committed, static_cast<uint64_t>(kRounds + 1));
  testing::UnmapShared(sh);
}

}  // namespace
}  // namespace txdir
