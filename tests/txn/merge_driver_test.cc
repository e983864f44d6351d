// Merge drivers (merge_driver.h): a driver a library user adds merges the
// files it handles when a commit, or a pull resolving a divergence, finds
// them changed on both sides; other files are resolved as without it.
#include "txdir/merge_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "tests/txn/txn_test_util.h"
#include "txdir/replication.h"
#include "txdir/transaction.h"

namespace txdir {
namespace {

using testing::TxFixture;

// "*.counter" files hold one integer. Both sides' deltas against the base
// are added; a total below zero is a conflict (a counter of events cannot
// be negative). Counts its calls, to show what the commit asks of it.
class CounterDriver : public MergeDriver {
 public:
  struct Calls {
    std::atomic<int> caches{0};
    std::atomic<int> merges{0};
    std::set<const Cache*> caches_seen;
  };
  explicit CounterDriver(std::shared_ptr<Calls> calls = std::make_shared<Calls>())
      : calls_(std::move(calls)) {}

  bool Handles(const std::string& path) const override { return path.ends_with(".counter"); }

  std::unique_ptr<Cache> NewCache() const override {
    ++calls_->caches;
    return std::make_unique<Cache>();
  }

  Result<MergeOutput> Merge(const MergeInput& in, Cache* cache) const override {
    ++calls_->merges;
    calls_->caches_seen.insert(cache);
    const int64_t base = in.base ? TXDIR_TRY(Value(in.path, *in.base)) : 0;
    const int64_t ours = TXDIR_TRY(Value(in.path, in.ours));
    const int64_t theirs = TXDIR_TRY(Value(in.path, in.theirs));
    MergeOutput out;
    const int64_t total = theirs + (ours - base);
    if (total < 0) {
      out.conflict = true;
    } else {
      out.bytes = std::to_string(total) + "\n";
    }
    return out;
  }

 private:
  static Result<int64_t> Value(const std::string& path, const MergeSide& side) {
    std::string_view text = TXDIR_TRY(side.bytes());
    if (text.ends_with('\n')) text.remove_suffix(1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
      return MakeError(Code::kInvalidArgument, "cannot merge: not a counter", path);
    return v;
  }

  std::shared_ptr<Calls> calls_;
};

// Takes ours, whole, for every file it handles: to show which driver runs.
class OursDriver : public MergeDriver {
 public:
  explicit OursDriver(std::string path) : path_(std::move(path)) {}
  bool Handles(const std::string& path) const override { return path == path_; }
  Result<MergeOutput> Merge(const MergeInput& in, Cache*) const override {
    MergeOutput out;
    out.bytes = std::string(TXDIR_TRY(in.ours.bytes()));
    return out;
  }

 private:
  std::string path_;
};

std::unique_ptr<Transaction> MustBegin(Repository& repo) {
  auto tx = repo.Begin();
  EXPECT_TRUE(tx.has_value()) << tx.error().ToString();
  return tx ? std::move(*tx) : nullptr;
}

// `base` published as generation 1; a transaction begun on f.repo writes
// `ours`; another writer then commits `theirs` as generation 2. Returns the
// first transaction, to commit.
std::unique_ptr<Transaction> BothChanged(TxFixture& f,
                                         const std::map<std::string, std::string>& base,
                                         const std::map<std::string, std::string>& ours,
                                         const std::map<std::string, std::string>& theirs) {
  f.Publish(base);
  auto tx = MustBegin(*f.repo);
  for (const auto& [path, bytes] : ours) EXPECT_TRUE(tx->Write(path, bytes).has_value());
  auto other = f.OpenAnother();
  auto t2 = MustBegin(*other);
  for (const auto& [path, bytes] : theirs) EXPECT_TRUE(t2->Write(path, bytes).has_value());
  auto r = t2->Commit();
  EXPECT_TRUE(r.has_value() && r->published) << (r ? "" : r.error().ToString());
  EXPECT_EQ(f.Head(), 2u);
  return tx;
}

TEST(MergeDriver, AnAddedDriverMergesAFileBothSidesChanged) {
  for (Strategy st : {Strategy::kMerge, Strategy::kLastModifiedWins}) {
    SCOPED_TRACE(std::string(StrategyName(st)));
    TxFixture f;
    ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>()).has_value());
    auto tx = BothChanged(f, {{"hits.counter", "10\n"}}, {{"hits.counter", "15\n"}},
                          {{"hits.counter", "13\n"}});
    auto r = tx->Commit(CommitOptions{.strategy = st});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_TRUE(r->published);
    EXPECT_EQ(r->merged, std::vector<std::string>{"hits.counter"});
    EXPECT_TRUE(r->theirs_kept.empty());
    EXPECT_EQ(f.LiveFile("hits.counter"), "18\n");  // 13 + (15 - 10)
    f.ExpectClean(3);
  }
}

TEST(MergeDriver, AFileBothSidesAddedHasNoBase) {
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>()).has_value());
  auto tx = BothChanged(f, {{"other.txt", "x"}}, {{"hits.counter", "2"}}, {{"hits.counter", "3"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(f.LiveFile("hits.counter"), "5\n");
}

TEST(MergeDriver, AnUnhandledSuffixStillConflicts) {
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>()).has_value());
  auto tx = BothChanged(f, {{"hits.tally", "10"}, {"a.counter", "1"}},
                        {{"hits.tally", "15"}, {"a.counter", "2"}}, {{"hits.tally", "13"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("changed on both sides: hits.tally"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(f.LiveFile("a.counter"), "1");  // nothing published
  f.ExpectClean(2);
}

TEST(MergeDriver, WithoutTheDriverACounterFileConflicts) {
  TxFixture f;
  auto tx =
      BothChanged(f, {{"hits.counter", "10"}}, {{"hits.counter", "15"}}, {{"hits.counter", "13"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("changed on both sides: hits.counter"), std::string::npos)
      << r.error().message;
  f.ExpectClean(2);
}

TEST(MergeDriver, StrategiesThatDoNotMergeNeverAskTheDriver) {
  auto calls = std::make_shared<CounterDriver::Calls>();
  for (Strategy st : {Strategy::kLastWriteWins, Strategy::kError}) {
    SCOPED_TRACE(std::string(StrategyName(st)));
    TxFixture f;
    ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>(calls)).has_value());
    auto tx = BothChanged(f, {{"hits.counter", "10"}}, {{"hits.counter", "15"}},
                          {{"hits.counter", "13"}});
    auto r = tx->Commit(CommitOptions{.strategy = st});
    if (st == Strategy::kLastWriteWins) {
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      EXPECT_EQ(f.LiveFile("hits.counter"), "15");
    } else {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().code, Code::kConflict);
    }
  }
  EXPECT_EQ(calls->merges, 0);
}

TEST(MergeDriver, AConflictTheDriverReportsPublishesNothing) {
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>()).has_value());
  // 4 + (1 - 10) < 0.
  auto tx = BothChanged(f, {{"hits.counter", "10"}}, {{"hits.counter", "1"}, {"new.txt", "N"}},
                        {{"hits.counter", "4"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("changed on both sides: hits.counter"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(f.LiveFile("hits.counter"), "4");
  f.ExpectClean(2);
}

TEST(MergeDriver, AnErrorOfTheDriverEndsTheCommit) {
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>()).has_value());
  auto tx = BothChanged(f, {{"hits.counter", "10"}}, {{"hits.counter", "many"}},
                        {{"hits.counter", "13"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().ToString();
  EXPECT_EQ(r.error().path, "hits.counter");
  f.ExpectClean(2);
}

TEST(MergeDriver, OneCachePerCommitServesEveryMergeOfTheDriver) {
  auto calls = std::make_shared<CounterDriver::Calls>();
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<CounterDriver>(calls)).has_value());
  auto tx = BothChanged(f, {{"a.counter", "1"}, {"b.counter", "1"}},
                        {{"a.counter", "2"}, {"b.counter", "3"}},
                        {{"a.counter", "5"}, {"b.counter", "5"}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(f.LiveFile("a.counter"), "6\n");
  EXPECT_EQ(f.LiveFile("b.counter"), "7\n");
  EXPECT_EQ(calls->merges, 2);
  EXPECT_EQ(calls->caches, 1);
  ASSERT_EQ(calls->caches_seen.size(), 1u);
  EXPECT_NE(*calls->caches_seen.begin(), nullptr);
}

TEST(MergeDriver, AnAddedDriverComesBeforeTheSdnTableDriver) {
  TxFixture f;
  ASSERT_TRUE(AddMergeDriver(*f.repo, std::make_shared<OursDriver>("t.sdn")).has_value());
  const std::string base = "todos |id |status\n  1 |open\n  2 |open\n";
  const std::string ours = "todos |id |status\n  1 |done\n  2 |open\n";
  const std::string theirs = "todos |id |status\n  1 |open\n  2 |done\n";
  auto tx = BothChanged(f, {{"t.sdn", base}, {"u.sdn", base}}, {{"t.sdn", ours}, {"u.sdn", ours}},
                        {{"t.sdn", theirs}, {"u.sdn", theirs}});
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(f.LiveFile("t.sdn"), ours);       // OursDriver: whole file
  const std::string u = f.LiveFile("u.sdn");  // the SDN driver: both records
  EXPECT_NE(u.find("1 |done"), std::string::npos) << u;
  EXPECT_NE(u.find("2 |done"), std::string::npos) << u;
}

TEST(MergeDriver, APullConsultsTheDriversOfItsHandle) {
  TxFixture f;
  f.Publish({{"hits.counter", "10"}});
  auto clone = Clone(f.root, f.tmp / "replica");
  ASSERT_TRUE(clone.has_value()) << clone.error().ToString();
  Repository& replica = *clone->repo;
  auto commit = [](Repository& repo, const std::string& bytes) {
    auto tx = MustBegin(repo);
    ASSERT_TRUE(tx->Write("hits.counter", bytes).has_value());
    ASSERT_TRUE(tx->Commit().has_value());
  };
  commit(*f.repo, "13");  // the publisher's generation 2
  commit(replica, "15");  // the replica's own generation 2: diverged
  const PullOptions merge{.strategy = Strategy::kMerge};
  auto refused = Pull(replica, "origin", merge);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, Code::kConflict);
  EXPECT_NE(refused.error().message.find("changed on both sides: hits.counter"), std::string::npos)
      << refused.error().message;

  ASSERT_TRUE(AddMergeDriver(replica, std::make_shared<CounterDriver>()).has_value());
  auto pulled = Pull(replica, "origin", merge);
  ASSERT_TRUE(pulled.has_value()) << pulled.error().ToString();
  EXPECT_EQ(pulled->outcome, PullOutcome::kMerged);
  EXPECT_EQ(pulled->merged, std::vector<std::string>{"hits.counter"});
  auto bytes = replica.ReadFile(pulled->generation->number, "hits.counter");
  ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
  EXPECT_EQ(*bytes, "18\n");
}

TEST(MergeDriver, ANullDriverIsRefused) {
  TxFixture f;
  auto s = AddMergeDriver(*f.repo, nullptr);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace txdir
