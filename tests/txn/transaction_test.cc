// Transaction: what a transaction sees, what Commit publishes, and how each
// strategy resolves a file (or an SDN record) changed on both sides.
#include "txdir/transaction.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/txn/txn_test_util.h"
#include "txdir/database.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using testing::kTodoFile;
using testing::MustLoadTodos;
using testing::SetTodo;
using testing::TodoDb;
using testing::TxFixture;
using namespace std::chrono_literals;

std::unique_ptr<Transaction> MustBegin(Repository& repo, BeginOptions options = {}) {
  auto tx = repo.Begin(options);
  EXPECT_TRUE(tx.has_value()) << tx.error().ToString();
  return tx ? std::move(*tx) : nullptr;
}

CommitResult MustCommit(Transaction& tx, Strategy strategy = Strategy::kError,
                        const std::string& message = "") {
  auto r = tx.Commit(CommitOptions{.message = message, .strategy = strategy});
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r ? *r : CommitResult{};
}

// Commits `path` = `bytes` in one transaction on `repo`; the new generation.
uint64_t CommitFile(Repository& repo, const std::string& path, const std::string& bytes) {
  auto tx = MustBegin(repo);
  EXPECT_TRUE(tx->Write(path, bytes).has_value());
  return MustCommit(*tx).generation.number;
}

Todo LiveTodo(TxFixture& f, int id) {
  auto db = MustLoadTodos(f.LiveFile(kTodoFile));
  auto t = db.Get(std::to_string(id));
  EXPECT_TRUE(t.has_value()) << "no record " << id;
  return t ? *t : Todo{};
}

// A database option whose clock always reads `iso` (e.g. "2026-01-02T00:00:00Z").
DatabaseOptions VersionedAt(int day) {
  DatabaseOptions o;
  o.versioning = true;
  o.clock = [day] {
    return std::chrono::sys_days{std::chrono::year{2026} / 1 / day} + std::chrono::hours(12);
  };
  return o;
}

// --- What a transaction sees.

TEST(Transaction, ReadSeesTheBasePlusItsOwnWrites) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}});
  auto tx = MustBegin(*f.repo);
  EXPECT_EQ(tx->base_generation(), 1u);
  EXPECT_EQ(*tx->Read("a.txt"), "A");
  ASSERT_TRUE(tx->Write("a.txt", "A2").has_value());
  ASSERT_TRUE(tx->Write("dir/c.txt", "C").has_value());
  EXPECT_EQ(*tx->Read("a.txt"), "A2");
  EXPECT_EQ(*tx->Read("dir/c.txt"), "C");
  EXPECT_EQ(*tx->Read("b.txt"), "B");
  EXPECT_EQ(tx->Read("missing.txt").error().code, Code::kNotFound);
  // Nothing is visible outside the transaction before Commit.
  EXPECT_EQ(f.LiveFile("a.txt"), "A");
  EXPECT_FALSE(testing::stdfs::exists(f.live() + "/dir/c.txt"));
  EXPECT_EQ(f.Head(), 1u);
}

TEST(Transaction, ReadDoesNotSeeLaterPublishes) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  f.Publish({{"a.txt", "newer"}});
  EXPECT_EQ(*tx->Read("a.txt"), "A");  // the base, not the head
}

TEST(Transaction, RemoveHidesTheFileAndWriteBringsItBack) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Remove("b.txt").has_value());
  EXPECT_EQ(tx->Read("b.txt").error().code, Code::kNotFound);
  EXPECT_FALSE(*tx->Exists("b.txt"));
  EXPECT_EQ(*tx->List(), std::vector<std::string>{"a.txt"});
  EXPECT_EQ(tx->Remove("b.txt").error().code, Code::kNotFound);  // already removed
  EXPECT_EQ(tx->Remove("never.txt").error().code, Code::kNotFound);
  ASSERT_TRUE(tx->Write("b.txt", "B2").has_value());
  EXPECT_EQ(*tx->Read("b.txt"), "B2");
}

TEST(Transaction, RemoveIsPublished) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Remove("b.txt").has_value());
  auto r = MustCommit(*tx);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(testing::ReadTree(f.live()), (std::map<std::string, std::string>{{"a.txt", "A"}}));
}

TEST(Transaction, ListAndExistsShowTheTransactionsView) {
  TxFixture f;
  f.Publish({{"b.txt", "B"}, {"d/e.txt", "E"}, {"z.txt", "Z"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A").has_value());
  ASSERT_TRUE(tx->Remove("z.txt").has_value());
  EXPECT_EQ(*tx->List(), (std::vector<std::string>{"a.txt", "b.txt", "d/e.txt"}));
  EXPECT_TRUE(*tx->Exists("a.txt"));
  EXPECT_TRUE(*tx->Exists("d/e.txt"));
  EXPECT_FALSE(*tx->Exists("d"));  // a directory is not a file
  EXPECT_FALSE(*tx->Exists("z.txt"));
  EXPECT_FALSE(*tx->Exists("nope"));
}

TEST(Transaction, InvalidPathsAreRefusedAndStageNothing) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  for (std::string bad : {"", "/abs", "../up", "a/../b", "./a.txt", "a//b", "dir/", "a\nb"}) {
    SCOPED_TRACE("path '" + bad + "'");
    EXPECT_EQ(tx->Write(bad, "x").error().code, Code::kInvalidArgument);
    EXPECT_EQ(tx->Read(bad).error().code, Code::kInvalidArgument);
    EXPECT_EQ(tx->Exists(bad).error().code, Code::kInvalidArgument);
    EXPECT_EQ(tx->Remove(bad).error().code, Code::kInvalidArgument);
  }
  auto r = MustCommit(*tx);
  EXPECT_FALSE(r.published);
  EXPECT_EQ(f.Head(), 1u);
}

TEST(Transaction, AFileCannotAlsoBeADirectory) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt/inner", "x").has_value());
  auto r = tx->Commit();
  ASSERT_FALSE(r.has_value()) << "published a tree with a.txt both a file and a directory";
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().ToString();
  f.ExpectClean(1);
}

// Transaction::Write stores its object before any lock is taken; the
// object's temp file sits in <root>/.txdir/tmp until it is renamed into
// place. Another writer's commit runs recovery, which empties tmp/: it must
// not remove a temp file that is still being written. The Env below makes
// that other commit happen exactly between the temp file's write and its
// rename.
class CommitBeforeObjectRename : public EnvWrapper {
 public:
  explicit CommitBeforeObjectRename(std::function<void()> hook)
      : EnvWrapper(Env::Default()), hook_(std::move(hook)) {}
  Status RenameAt(int fd1, const std::string& a, int fd2, const std::string& b) override {
    if (a.rfind("tmp_obj_", 0) == 0 && hook_) std::exchange(hook_, nullptr)();
    return EnvWrapper::RenameAt(fd1, a, fd2, b);
  }

 private:
  std::function<void()> hook_;
};

TEST(Transaction, AnotherWritersRecoveryKeepsObjectsBeingWritten) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto other = f.OpenAnother();
  bool hook_ran = false;
  CommitBeforeObjectRename env([&] {
    hook_ran = true;
    EXPECT_EQ(CommitFile(*other, "b.txt", "B"), 2u);
  });
  auto repo = Repository::Open(f.root, OpenOptions{.env = &env});
  ASSERT_TRUE(repo.has_value());
  auto tx = MustBegin(**repo);
  auto w = tx->Write("a.txt", "a new object");
  ASSERT_TRUE(w.has_value()) << w.error().ToString();
  ASSERT_TRUE(hook_ran);
  auto r = MustCommit(*tx, Strategy::kMerge);
  EXPECT_EQ(r.generation.number, 3u);
  EXPECT_EQ(f.LiveFile("a.txt"), "a new object");
  EXPECT_EQ(f.LiveFile("b.txt"), "B");
  f.ExpectClean(3);
}

// --- Commit without concurrency.

TEST(Transaction, CommitWithNoNetChangePublishesNothing) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A").has_value());    // same bytes
  ASSERT_TRUE(tx->Write("tmp.txt", "T").has_value());  // added...
  ASSERT_TRUE(tx->Remove("tmp.txt").has_value());      // ...and removed
  auto r = MustCommit(*tx, Strategy::kError, "nothing");
  EXPECT_FALSE(r.published);
  EXPECT_EQ(r.generation.number, 1u);
  EXPECT_EQ(f.Head(), 1u);
  EXPECT_EQ(f.repo->Log()->size(), 1u);
}

TEST(Transaction, EmptyTransactionOnAnEmptyRepositoryPublishesNothing) {
  TxFixture f;
  auto tx = MustBegin(*f.repo);
  EXPECT_EQ(tx->base_generation(), 0u);
  EXPECT_TRUE(tx->List()->empty());
  auto r = MustCommit(*tx);
  EXPECT_FALSE(r.published);
  EXPECT_EQ(f.Head(), 0u);
}

TEST(Transaction, FirstCommitOnAnEmptyRepositoryIsGenerationOne) {
  TxFixture f;
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A").has_value());
  auto r = MustCommit(*tx);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.generation.number, 1u);
  EXPECT_EQ(f.LiveFile("a.txt"), "A");
  f.ExpectClean(1);
}

TEST(Transaction, OptimisticCommitWhenTheHeadDidNotMove) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A2").has_value());
  ASSERT_TRUE(tx->Write("run.sh", "#!/bin/sh\n", /*executable=*/true).has_value());
  auto r = MustCommit(*tx, Strategy::kError, "edit a");
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.generation.number, 2u);
  EXPECT_EQ(r.generation.kind, "transaction");
  EXPECT_EQ(r.generation.message, "edit a");
  EXPECT_TRUE(r.merged.empty());
  EXPECT_TRUE(r.theirs_kept.empty());
  EXPECT_EQ(testing::ReadTree(f.live()),
            (std::map<std::string, std::string>{
                {"a.txt", "A2"}, {"b.txt", "B"}, {"run.sh", "#!/bin/sh\n"}}));
  EXPECT_TRUE(testing::Mode(f.live() + "/run.sh") & 0100);
  EXPECT_FALSE(testing::Mode(f.live() + "/a.txt") & 0100);
  f.ExpectClean(2);
}

TEST(Transaction, AFinishedTransactionRefusesMoreWork) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A2").has_value());
  MustCommit(*tx);
  EXPECT_EQ(tx->Write("a.txt", "A3").error().code, Code::kInvalidArgument);
  EXPECT_EQ(tx->Remove("a.txt").error().code, Code::kInvalidArgument);
  EXPECT_EQ(tx->Commit().error().code, Code::kInvalidArgument);
  EXPECT_EQ(f.Head(), 2u);
}

// --- Concurrent commits: changes on one side only.

TEST(Transaction, ChangesToDifferentFilesMergeWithoutConflict) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}, {"c.txt", "C"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "ours").has_value());
  // Another writer changes b, removes c and adds d meanwhile.
  auto other = f.OpenAnother();
  auto t2 = MustBegin(*other);
  ASSERT_TRUE(t2->Write("b.txt", "theirs").has_value());
  ASSERT_TRUE(t2->Remove("c.txt").has_value());
  ASSERT_TRUE(t2->Write("d.txt", "D").has_value());
  EXPECT_EQ(MustCommit(*t2).generation.number, 2u);

  auto r = MustCommit(*tx, Strategy::kMerge);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.generation.number, 3u);
  EXPECT_TRUE(r.merged.empty());
  EXPECT_EQ(
      testing::ReadTree(f.live()),
      (std::map<std::string, std::string>{{"a.txt", "ours"}, {"b.txt", "theirs"}, {"d.txt", "D"}}));
  f.ExpectClean(3);
}

TEST(Transaction, TheSameChangeOnBothSidesIsNoConflictForMerge) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "same").has_value());
  CommitFile(*f.OpenAnother(), "a.txt", "same");
  auto r = MustCommit(*tx, Strategy::kMerge);
  EXPECT_FALSE(r.published);  // the head already holds exactly this
  EXPECT_EQ(f.Head(), 2u);
}

// Under kError a transaction commits only onto the generation it began
// from. Two read-modify-writes of one counter both write "2": the second
// is stale, and a silent "nothing changed" would lose its increment.
TEST(TransactionStrategy, ErrorConflictsWhenTheHeadMovedEvenToTheSameBytes) {
  TxFixture f;
  f.Publish({{"counter", "1"}, {"other", "O"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("counter", "2").has_value());
  CommitFile(*f.OpenAnother(), "counter", "2");
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kError});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("generation 2 was published since this transaction began at "
                                   "generation 1"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("counter"), std::string::npos) << r.error().message;
  EXPECT_EQ(f.Head(), 2u);
}

TEST(TransactionStrategy, ErrorConflictsWhenTheHeadMovedOnOtherFiles) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}, {"b.txt", "B"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "ours").has_value());
  CommitFile(*f.OpenAnother(), "b.txt", "theirs");  // a program may have read b.txt
  auto r = tx->Commit(CommitOptions{.strategy = Strategy::kError});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_EQ(f.LiveFile("a.txt"), "A");
  f.ExpectClean(2);
}

TEST(TransactionStrategy, ErrorWithNoChangeOnAMovedHeadPublishesNothing) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo);
  ASSERT_TRUE(tx->Write("a.txt", "A").has_value());  // no net change
  CommitFile(*f.OpenAnother(), "a.txt", "B");
  auto r = MustCommit(*tx, Strategy::kError);
  EXPECT_FALSE(r.published);
  EXPECT_EQ(f.LiveFile("a.txt"), "B");
}

// --- Both sides changed a file: each strategy.

struct BothSides {
  TxFixture f;
  std::unique_ptr<Transaction> tx;
  // a.txt and todo_db.sdn (records 0..3) published; `tx` begun; then `theirs`
  // committed by another writer.
  void Setup(const std::function<void(Transaction&)>& ours,
             const std::function<void(Transaction&)>& theirs) {
    f.Publish({{"a.txt", "A"}, {"keep.txt", "K"}, {kTodoFile, TodoDb(4)}});
    tx = MustBegin(*f.repo);
    ours(*tx);
    auto other = f.OpenAnother();
    auto t2 = MustBegin(*other);
    theirs(*t2);
    ASSERT_TRUE(MustCommit(*t2).published);
    ASSERT_EQ(f.Head(), 2u);
  }
};

void Put(Transaction& tx, const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(tx.Write(path, bytes).has_value());
}

TEST(TransactionStrategy, ErrorIsAConflictListingThePathsAndPublishesNothing) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        Put(tx, "a.txt", "ours");
        Put(tx, "new.txt", "only ours");  // one-sided, but nothing may be published
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
      },
      [](Transaction& tx) {
        Put(tx, "a.txt", "theirs");
        ASSERT_TRUE(SetTodo(tx, 2, [](Todo& t) { t.status = "blocked"; }).has_value());
      });
  const auto live_before = testing::ReadTree(s.f.live());
  auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kError});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("a.txt"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(kTodoFile), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was published"), std::string::npos);
  EXPECT_EQ(r.error().message.find("new.txt"), std::string::npos) << r.error().message;
  EXPECT_EQ(s.f.Head(), 2u);
  EXPECT_EQ(testing::ReadTree(s.f.live()), live_before);
  EXPECT_EQ(s.f.LiveFile("a.txt"), "theirs");
  s.f.ExpectClean(2);
}

TEST(TransactionStrategy, LastWriteWinsTakesOurVersionOfTheWholeFile) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        Put(tx, "a.txt", "ours");
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
      },
      [](Transaction& tx) {
        Put(tx, "a.txt", "theirs");
        Put(tx, "keep.txt", "K2");  // one-sided on their side: kept
        ASSERT_TRUE(SetTodo(tx, 2, [](Todo& t) { t.status = "blocked"; }).has_value());
      });
  auto r = MustCommit(*s.tx, Strategy::kLastWriteWins);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.merged, (std::vector<std::string>{"a.txt", kTodoFile}));
  EXPECT_EQ(s.f.LiveFile("a.txt"), "ours");
  EXPECT_EQ(s.f.LiveFile("keep.txt"), "K2");
  // The whole file is ours: their update to a DIFFERENT record is dropped.
  EXPECT_EQ(LiveTodo(s.f, 1).status, "done");
  EXPECT_EQ(LiveTodo(s.f, 2).status, "open");
  s.f.ExpectClean(3);
}

TEST(TransactionStrategy, LastModifiedWinsNonSdnOursWrittenLaterWins) {
  BothSides s;
  s.Setup([](Transaction&) {}, [](Transaction& tx) { Put(tx, "a.txt", "theirs"); });
  // Ours is written after theirs was published.
  Put(*s.tx, "a.txt", "ours");
  auto r = MustCommit(*s.tx, Strategy::kLastModifiedWins);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.merged, std::vector<std::string>{"a.txt"});
  EXPECT_TRUE(r.theirs_kept.empty());
  EXPECT_EQ(s.f.LiveFile("a.txt"), "ours");
}

TEST(TransactionStrategy, LastModifiedWinsNonSdnTheirsPublishedLaterWins) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        Put(tx, "a.txt", "ours");
        Put(tx, "b.txt", "B");  // one-sided: still published
        // Make sure the other side's publish time is strictly later than
        // our write time (millisecond clock).
        auto start = std::chrono::system_clock::now();
        while (std::chrono::system_clock::now() - start < 3ms) std::this_thread::sleep_for(1ms);
      },
      [](Transaction& tx) { Put(tx, "a.txt", "theirs"); });
  auto r = MustCommit(*s.tx, Strategy::kLastModifiedWins);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.theirs_kept, std::vector<std::string>{"a.txt"});
  EXPECT_EQ(s.f.LiveFile("a.txt"), "theirs");
  EXPECT_EQ(s.f.LiveFile("b.txt"), "B");
}

TEST(TransactionStrategy, LastModifiedWinsSdnTakesTheNewerRecord) {
  BothSides s;
  // Record 1: ours is newer. Record 2: theirs is newer. Record 3: ours only.
  s.Setup(
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(
            tx, 1, [](Todo& t) { t.status = "ours-new"; }, VersionedAt(9)));
        ASSERT_TRUE(SetTodo(
            tx, 2, [](Todo& t) { t.status = "ours-old"; }, VersionedAt(2)));
        ASSERT_TRUE(SetTodo(
            tx, 3, [](Todo& t) { t.area = "ours-only"; }, VersionedAt(2)));
      },
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(
            tx, 1, [](Todo& t) { t.status = "theirs-old"; }, VersionedAt(3)));
        ASSERT_TRUE(SetTodo(
            tx, 2, [](Todo& t) { t.status = "theirs-new"; }, VersionedAt(8)));
      });
  auto r = MustCommit(*s.tx, Strategy::kLastModifiedWins);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(LiveTodo(s.f, 1).status, "ours-new");
  EXPECT_EQ(LiveTodo(s.f, 1).last_modified, "2026-01-09T12:00:00Z");
  EXPECT_EQ(LiveTodo(s.f, 2).status, "theirs-new");
  EXPECT_EQ(LiveTodo(s.f, 2).last_modified, "2026-01-08T12:00:00Z");
  EXPECT_EQ(LiveTodo(s.f, 3).area, "ours-only");
  EXPECT_EQ(LiveTodo(s.f, 0), testing::MakeTodo(0));
}

TEST(TransactionStrategy, MergeCombinesChangesToDifferentRecords) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
        ASSERT_TRUE(
            testing::EditTodos(tx, [](Database<Todo>& db) { return db.Delete("3"); }).has_value());
      },
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 2, [](Todo& t) { t.priority = "P0"; }).has_value());
      });
  auto r = MustCommit(*s.tx, Strategy::kMerge);
  EXPECT_TRUE(r.published);
  EXPECT_EQ(r.merged, std::vector<std::string>{kTodoFile});
  auto db = MustLoadTodos(s.f.LiveFile(kTodoFile));
  EXPECT_EQ(db.size(), 3u);
  EXPECT_EQ(db.Get("1")->status, "done");
  EXPECT_EQ(db.Get("2")->priority, "P0");
  EXPECT_FALSE(db.Contains("3"));
  EXPECT_EQ(*db.Get("0"), testing::MakeTodo(0));
  s.f.ExpectClean(3);
}

TEST(TransactionStrategy, MergeCombinesDifferentFieldsOfTheSameRecord) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
      },
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.area = "theirs"; }).has_value());
      });
  auto r = MustCommit(*s.tx, Strategy::kMerge);
  EXPECT_TRUE(r.published);
  Todo t = LiveTodo(s.f, 1);
  EXPECT_EQ(t.status, "done");
  EXPECT_EQ(t.area, "theirs");
  EXPECT_EQ(t.description, "task 1");
}

TEST(TransactionStrategy, MergeSameFieldIsAConflictNamingTheRecordAndField) {
  BothSides s;
  s.Setup(
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) {
                      t.status = "done";
                      t.area = "ours";
                    }).has_value());
        Put(tx, "new.txt", "N");
      },
      [](Transaction& tx) {
        ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "blocked"; }).has_value());
      });
  const auto live_before = testing::ReadTree(s.f.live());
  auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("todo_db.sdn:todos 1: both modified (status)"), std::string::npos) << m;
  EXPECT_EQ(m.find("area"), std::string::npos) << "area changed on one side only: " << m;
  EXPECT_EQ(testing::ReadTree(s.f.live()), live_before);
  s.f.ExpectClean(2);
}

TEST(TransactionStrategy, MergeRenumbersRecordsBothSidesInsertedUnderTheSameId) {
  BothSides s;
  auto insert = [](const std::string& what) {
    return [what](Transaction& tx) {
      ASSERT_TRUE(testing::EditTodos(tx, [&](Database<Todo>& db) -> Status {
                    Todo t;
                    t.description = what;
                    auto id = TXDIR_TRY(db.Insert(t));
                    EXPECT_EQ(id, "4");
                    return Ok();
                  }).has_value());
    };
  };
  s.Setup(insert("ours"), insert("theirs"));
  auto r = MustCommit(*s.tx, Strategy::kMerge);
  EXPECT_TRUE(r.published);
  ASSERT_EQ(r.renumbered.size(), 1u);
  EXPECT_EQ(r.renumbered[0].old_id, "4");
  EXPECT_EQ(r.renumbered[0].new_id, "5");
  EXPECT_NE(r.renumbered[0].table.find("todos"), std::string::npos);
  EXPECT_EQ(LiveTodo(s.f, 4).description, "theirs");  // published first: keeps the id
  EXPECT_EQ(LiveTodo(s.f, 5).description, "ours");
  EXPECT_EQ(MustLoadTodos(s.f.LiveFile(kTodoFile)).size(), 6u);
}

TEST(TransactionStrategy, MergeOfANonSdnFileIsAConflict) {
  BothSides s;
  s.Setup([](Transaction& tx) { Put(tx, "a.txt", "ours"); },
          [](Transaction& tx) { Put(tx, "a.txt", "theirs"); });
  auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("a.txt"), std::string::npos);
  s.f.ExpectClean(2);
}

TEST(TransactionStrategy, MergeOfAnUnparsableSdnFileIsRefused) {
  BothSides s;
  s.Setup([](Transaction& tx) { Put(tx, kTodoFile, "todos |id\n  not sdn"); },
          [](Transaction& tx) {
            ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
          });
  auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().ToString();
  s.f.ExpectClean(2);
}

// Record deleted by us, updated by them.
void DeleteRecord1(Transaction& tx) {
  ASSERT_TRUE(
      testing::EditTodos(tx, [](Database<Todo>& db) { return db.Delete("1"); }).has_value());
}
void UpdateRecord1(Transaction& tx) {
  ASSERT_TRUE(SetTodo(tx, 1, [](Todo& t) { t.status = "done"; }).has_value());
}

TEST(TransactionStrategy, DeleteAgainstUpdateIsAConflictForMergeAndError) {
  for (Strategy st : {Strategy::kMerge, Strategy::kError}) {
    SCOPED_TRACE(std::string(StrategyName(st)));
    BothSides s;
    s.Setup(DeleteRecord1, UpdateRecord1);
    auto r = s.tx->Commit(CommitOptions{.strategy = st});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Code::kConflict);
    if (st == Strategy::kMerge) {
      EXPECT_NE(r.error().message.find("todos 1: deleted here, modified by the other writer"),
                std::string::npos)
          << r.error().message;
    }
    EXPECT_TRUE(MustLoadTodos(s.f.LiveFile(kTodoFile)).Contains("1"));
    s.f.ExpectClean(2);
  }
}

TEST(TransactionStrategy, UpdateAgainstDeleteIsAConflictForMerge) {
  BothSides s;
  s.Setup(UpdateRecord1, DeleteRecord1);
  auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("todos 1: modified here, deleted by the other writer"),
            std::string::npos)
      << r.error().message;
  s.f.ExpectClean(2);
}

TEST(TransactionStrategy, DeleteAgainstUpdateOtherStrategiesKeepOurDelete) {
  for (Strategy st : {Strategy::kLastWriteWins, Strategy::kLastModifiedWins}) {
    SCOPED_TRACE(std::string(StrategyName(st)));
    BothSides s;
    s.Setup(DeleteRecord1, UpdateRecord1);
    auto r = MustCommit(*s.tx, st);
    EXPECT_TRUE(r.published);
    auto db = MustLoadTodos(s.f.LiveFile(kTodoFile));
    EXPECT_FALSE(db.Contains("1"));
    EXPECT_EQ(db.size(), 3u);
  }
}

TEST(TransactionStrategy, RemovedFileAgainstUpdatedFile) {
  // Ours removes a.txt, theirs rewrites it.
  for (Strategy st : {Strategy::kError, Strategy::kMerge}) {
    SCOPED_TRACE(std::string(StrategyName(st)));
    BothSides s;
    s.Setup([](Transaction& tx) { ASSERT_TRUE(tx.Remove("a.txt").has_value()); },
            [](Transaction& tx) { Put(tx, "a.txt", "theirs"); });
    auto r = s.tx->Commit(CommitOptions{.strategy = st});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Code::kConflict);
    EXPECT_EQ(s.f.LiveFile("a.txt"), "theirs");
  }
  {
    BothSides s;
    s.Setup([](Transaction& tx) { ASSERT_TRUE(tx.Remove("a.txt").has_value()); },
            [](Transaction& tx) { Put(tx, "a.txt", "theirs"); });
    EXPECT_TRUE(MustCommit(*s.tx, Strategy::kLastWriteWins).published);
    EXPECT_FALSE(testing::stdfs::exists(s.f.live() + "/a.txt"));
  }
  {
    // The whole SDN file removed by us, a record updated by them: no record
    // merge is possible; Merge reports the file.
    BothSides s;
    s.Setup([](Transaction& tx) { ASSERT_TRUE(tx.Remove(kTodoFile).has_value()); }, UpdateRecord1);
    auto r = s.tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Code::kConflict);
    EXPECT_NE(r.error().message.find(kTodoFile), std::string::npos);
  }
}

// --- Exclusive mode.

TEST(TransactionExclusive, BeginHoldsTheWriterLockUntilCommit) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo, BeginOptions{.exclusive = true});
  auto other = f.OpenAnother(0ms);
  auto locked = other->Begin(BeginOptions{.exclusive = true});
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code, Code::kLocked);
  testing::MakeTree(f.tmp / "src2", {{"a.txt", "other"}});
  auto pub = other->Publish(f.tmp / "src2");
  ASSERT_FALSE(pub.has_value());
  EXPECT_EQ(pub.error().code, Code::kLocked);
  // An optimistic transaction may begin, but cannot commit while it is held.
  auto opt = MustBegin(*other);
  ASSERT_TRUE(opt->Write("a.txt", "other").has_value());
  auto oc = opt->Commit();
  ASSERT_FALSE(oc.has_value());
  EXPECT_EQ(oc.error().code, Code::kLocked);

  ASSERT_TRUE(tx->Write("a.txt", "exclusive").has_value());
  auto r = MustCommit(*tx, Strategy::kError);
  EXPECT_TRUE(r.published);
  EXPECT_TRUE(r.merged.empty());
  EXPECT_EQ(f.LiveFile("a.txt"), "exclusive");
  // Released by Commit.
  auto again = other->Begin(BeginOptions{.exclusive = true});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
}

TEST(TransactionExclusive, DestroyingAnUncommittedTransactionReleasesTheLock) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo, BeginOptions{.exclusive = true});
  ASSERT_TRUE(tx->Write("a.txt", "never").has_value());
  tx.reset();
  auto other = f.OpenAnother(0ms);
  EXPECT_EQ(CommitFile(*other, "a.txt", "other"), 2u);
  EXPECT_EQ(f.LiveFile("a.txt"), "other");
}

TEST(TransactionExclusive, CommitNeverConflicts) {
  TxFixture f;
  f.Publish({{"a.txt", "A"}});
  auto tx = MustBegin(*f.repo, BeginOptions{.exclusive = true});
  // Another writer that waits for the lock instead of failing: its change
  // lands after ours, so ours cannot conflict under kError. It lands either
  // in a generation of its own (3) or, when it queued while we held the
  // lock, in ours (2: group commit takes queued transactions in after the
  // holder's own change); which one depends on when the child gets there.
  pid_t child = testing::ForkChild([&] {
    auto other = Repository::Open(f.root);
    if (!other) return 2;
    auto t = (*other)->Begin();
    if (!t) return 3;
    if (!(*t)->Write("a.txt", "waited")) return 4;
    auto c = (*t)->Commit(CommitOptions{.strategy = Strategy::kLastWriteWins});
    if (!c) return 5;
    return c->generation.number == 2 || c->generation.number == 3 ? 0 : 6;
  });
  ASSERT_TRUE(tx->Write("a.txt", "exclusive").has_value());
  auto r = MustCommit(*tx, Strategy::kError);
  EXPECT_EQ(r.generation.number, 2u);
  EXPECT_EQ(testing::WaitChild(child), 0);
  EXPECT_EQ(f.LiveFile("a.txt"), "waited");
}

// --- RunTransaction.

TEST(RunTransaction, RetriesOnConflictWithTheNewHead) {
  TxFixture f;
  f.Publish({{"n.txt", "base"}});
  auto other = f.OpenAnother();
  int attempts = 0;
  auto r = RunTransaction(
      *f.repo,
      [&](Transaction& tx) -> Status {
        ++attempts;
        std::string cur = TXDIR_TRY(tx.Read("n.txt"));
        if (attempts == 1) CommitFile(*other, "n.txt", cur + "+theirs");
        return tx.Write("n.txt", cur + "+ours");
      },
      CommitOptions{.strategy = Strategy::kError}, 5);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(r->generation.number, 3u);
  EXPECT_EQ(f.LiveFile("n.txt"), "base+theirs+ours");
}

TEST(RunTransaction, GivesUpAfterMaxAttempts) {
  TxFixture f;
  f.Publish({{"n.txt", "base"}});
  auto other = f.OpenAnother();
  int attempts = 0;
  auto r = RunTransaction(
      *f.repo,
      [&](Transaction& tx) -> Status {
        ++attempts;
        CommitFile(*other, "n.txt", "theirs " + std::to_string(attempts));
        return tx.Write("n.txt", "ours");
      },
      CommitOptions{.strategy = Strategy::kError}, 3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(f.Head(), 4u);  // the three concurrent commits, none of ours
  EXPECT_EQ(f.LiveFile("n.txt"), "theirs 3");
}

TEST(RunTransaction, TheBodysErrorEndsTheLoopAtOnce) {
  TxFixture f;
  f.Publish({{"n.txt", "base"}});
  int attempts = 0;
  auto r = RunTransaction(
      *f.repo,
      [&](Transaction& tx) -> Status {
        ++attempts;
        TXDIR_CHECK(tx.Write("n.txt", "x"));
        return MakeError(Code::kNotFound, "body failed");
      },
      CommitOptions{}, 5);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(f.Head(), 1u);
}

TEST(RunTransaction, MergeNeedsNoRetryForDifferentRecords) {
  TxFixture f;
  f.Publish({{kTodoFile, TodoDb(3)}});
  auto other = f.OpenAnother();
  int attempts = 0;
  auto r = RunTransaction(
      *f.repo,
      [&](Transaction& tx) -> Status {
        ++attempts;
        auto t2 = TXDIR_TRY(other->Begin());
        TXDIR_CHECK(SetTodo(*t2, 0, [](Todo& t) { t.status = "done"; }));
        TXDIR_TRY(t2->Commit());
        return SetTodo(tx, 2, [](Todo& t) { t.status = "blocked"; });
      },
      CommitOptions{.strategy = Strategy::kMerge}, 5);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(LiveTodo(f, 0).status, "done");
  EXPECT_EQ(LiveTodo(f, 2).status, "blocked");
}

}  // namespace
}  // namespace txdir
