// Transaction::EditRecords: record edits applied at commit, to the newer
// file when that gives what the strategy's merge would, and otherwise
// merged like a Write of the transaction's own version.
#include "txdir/record_edit.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/txn/txn_test_util.h"
#include "txdir/simple_records.h"
#include "txdir/transaction.h"

namespace txdir {
namespace {

using testing::kTodoFile;
using testing::MustLoadTodos;
using testing::SetTodo;
using testing::TodoDb;
using testing::TxFixture;
using namespace std::chrono_literals;

RecordEdit Set(int id, RecordFields fields) {
  return RecordEdit{"todos", "set", std::to_string(id), std::move(fields)};
}

struct RecordEditTest : ::testing::Test, TxFixture {
  RecordEditTest() { Publish({{kTodoFile, TodoDb(8)}}); }

  // Another writer's committed change of record `id`, through Database<Todo>.
  void TheirChange(int id, const std::function<void(Todo&)>& change) {
    auto other = OpenAnother();
    auto tx = other->Begin();
    ASSERT_TRUE(tx.has_value());
    ASSERT_TRUE(SetTodo(**tx, id, change).has_value());
    auto done = (*tx)->Commit();
    ASSERT_TRUE(done.has_value()) << done.error().ToString();
  }

  std::unique_ptr<Transaction> Begin() {
    auto tx = repo->Begin();
    EXPECT_TRUE(tx.has_value());
    return tx ? std::move(*tx) : nullptr;
  }
};

TEST_F(RecordEditTest, EditsOfOtherRecordsApplyToTheNewerFileWithoutAMerge) {
  auto tx = Begin();
  TheirChange(5, [](Todo& t) { t.description = "theirs"; });
  const std::string theirs = LiveFile(kTodoFile);
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(2, {{"description", "ours"}})}).has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  EXPECT_TRUE(done->published);
  EXPECT_TRUE(done->merged.empty()) << "applied to the newer file, not merged";
  ASSERT_EQ(done->record_edits.size(), 1u);
  EXPECT_EQ(done->record_edits[0], (RecordEditResult{"todos", "2", "updated", true}));
  // Their file byte for byte, but for record 2's line.
  const std::string now = LiveFile(kTodoFile);
  auto lines = [](const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(s.substr(start, nl - start));
    return out;
  };
  const auto a = lines(theirs), b = lines(now);
  ASSERT_EQ(a.size(), b.size());
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += a[i] != b[i];
  EXPECT_EQ(differ, 1u);
  auto db = MustLoadTodos(now);
  EXPECT_EQ(db.Get("2")->description, "ours");
  EXPECT_EQ(db.Get("5")->description, "theirs");
  ExpectClean(3);
}

TEST_F(RecordEditTest, AnEditOfARecordAnotherWriterChangedIsMergedByTheStrategy) {
  {  // another field of the same record: merged, both kept
    auto tx = Begin();
    TheirChange(2, [](Todo& t) { t.area = "theirs"; });
    ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(2, {{"description", "ours"}})}).has_value());
    auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
    ASSERT_TRUE(done.has_value()) << done.error().ToString();
    EXPECT_EQ(done->merged, std::vector<std::string>{kTodoFile});
    auto db = MustLoadTodos(LiveFile(kTodoFile));
    EXPECT_EQ(db.Get("2")->description, "ours");
    EXPECT_EQ(db.Get("2")->area, "theirs");
  }
  {  // the same field: a conflict naming the record, nothing published
    auto tx = Begin();
    TheirChange(3, [](Todo& t) { t.description = "theirs"; });
    const uint64_t head = Head();
    ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(3, {{"description", "ours"}})}).has_value());
    auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
    ASSERT_FALSE(done.has_value());
    EXPECT_EQ(done.error().code, Code::kConflict);
    EXPECT_NE(done.error().message.find("description"), std::string::npos) << done.error().message;
    EXPECT_EQ(Head(), head);
  }
}

TEST_F(RecordEditTest, StrategyErrorRefusesEditsOntoAMovedHead) {
  auto tx = Begin();
  TheirChange(5, [](Todo& t) { t.description = "theirs"; });
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(2, {{"description", "ours"}})}).has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kError});
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, Code::kConflict);
  EXPECT_EQ(MustLoadTodos(LiveFile(kTodoFile)).Get("2")->description, "task 2");
}

TEST_F(RecordEditTest, LastWriteWinsPublishesTheFileAsThisTransactionMadeIt) {
  // As a Write of Read + edit would: the whole file is this transaction's.
  auto tx = Begin();
  TheirChange(5, [](Todo& t) { t.description = "theirs"; });
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(2, {{"description", "ours"}})}).has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kLastWriteWins});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  auto db = MustLoadTodos(LiveFile(kTodoFile));
  EXPECT_EQ(db.Get("2")->description, "ours");
  EXPECT_EQ(db.Get("5")->description, "task 5");
}

TEST_F(RecordEditTest, AnEditThatCannotApplyFailsTheCommitAndPublishesNothing) {
  auto tx = Begin();
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(1, {{"status", "done"}}), Set(99, {{"status", "x"}})})
                  .has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, Code::kNotFound);
  EXPECT_NE(done.error().message.find("no record 99 in todos"), std::string::npos)
      << done.error().message;
  EXPECT_EQ(Head(), 1u);
  // Refused before anything is staged: a bad op, a bad table name, a set
  // without fields.
  auto tx2 = Begin();
  EXPECT_EQ(
      tx2->EditRecords(kTodoFile, {RecordEdit{"todos", "upsert", "1", {{"a", "b"}}}}).error().code,
      Code::kInvalidArgument);
  EXPECT_EQ(
      tx2->EditRecords(kTodoFile, {RecordEdit{"to dos", "set", "1", {{"a", "b"}}}}).error().code,
      Code::kInvalidArgument);
  EXPECT_EQ(tx2->EditRecords(kTodoFile, {Set(1, {})}).error().code, Code::kInvalidArgument);
  EXPECT_EQ(tx2->EditRecords("../x.sdn", {Set(1, {{"status", "x"}})}).error().code,
            Code::kInvalidArgument);
}

TEST_F(RecordEditTest, ReadShowsTheEditsAndAWriteAfterThemReplacesThem) {
  auto tx = Begin();
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(1, {{"status", "done"}})}).has_value());
  EXPECT_EQ(MustLoadTodos(*tx->Read(kTodoFile)).Get("1")->status, "done");
  EXPECT_TRUE(*tx->Exists(kTodoFile));
  // Edits after a Write apply to the written content at once.
  ASSERT_TRUE(tx->Write(kTodoFile, TodoDb(3)).has_value());
  EXPECT_EQ(MustLoadTodos(*tx->Read(kTodoFile)).Get("1")->status, "open");
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(2, {{"status", "blocked"}})}).has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  EXPECT_TRUE(done->record_edits.empty()) << "applied when staged, not at commit";
  auto db = MustLoadTodos(LiveFile(kTodoFile));
  EXPECT_EQ(db.size(), 3u);
  EXPECT_EQ(db.Get("1")->status, "open");
  EXPECT_EQ(db.Get("2")->status, "blocked");
}

TEST_F(RecordEditTest, AnInsertIntoAMissingFileMakesIt) {
  auto tx = Begin();
  EXPECT_FALSE(*tx->Exists("new.sdn"));
  ASSERT_TRUE(tx->EditRecords("new.sdn", {RecordEdit{"todos", "insert", "", {{"status", "open"}}}})
                  .has_value());
  EXPECT_TRUE(*tx->Exists("new.sdn"));
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  ASSERT_EQ(done->record_edits.size(), 1u);
  EXPECT_EQ(done->record_edits[0], (RecordEditResult{"todos", "0", "inserted", true}));
  EXPECT_EQ(MustLoadTodos(LiveFile("new.sdn")).Get("0")->status, "open");
}

// Queued edit transactions: one generation, each told what its edit did;
// an edit that cannot apply fails its own transaction only.
TEST_F(RecordEditTest, QueuedEditsLandInOneGenerationEachWithItsOwnResult) {
  auto holder_handle = OpenAnother();
  auto holder = holder_handle->Begin(BeginOptions{.exclusive = true});
  ASSERT_TRUE(holder.has_value());
  constexpr int kWriters = 6;  // the last one edits a record that is not there
  using Writer = testing::ThreadWriter;
  std::vector<Writer> writers(kWriters);
  for (int i = 0; i < kWriters; ++i) {
    writers[i].handle = OpenAnother(20s);
    Writer* w = &writers[i];
    w->thread = std::thread([w, i] {
      auto tx = w->handle->Begin();
      if (!tx) {
        w->result = tl::unexpected(tx.error());
        return;
      }
      const int id = i == kWriters - 1 ? 42 : i;
      auto st = (*tx)->EditRecords(kTodoFile, {Set(id, {{"status", "w" + std::to_string(i)}})});
      if (!st) {
        w->result = tl::unexpected(st.error());
        return;
      }
      w->result = (*tx)->Commit(CommitOptions{.strategy = Strategy::kMerge});
    });
  }
  // EXPECT, not ASSERT: the commit below must run so the writer threads end.
  EXPECT_TRUE(testing::WaitForQueued(root, kWriters)) << "the writers did not all queue";
  auto mine = (*holder)->Commit();
  for (auto& w : writers) w.thread.join();
  ASSERT_TRUE(mine.has_value()) << mine.error().ToString();
  for (int i = 0; i + 1 < kWriters; ++i) {
    ASSERT_TRUE(writers[i].result.has_value()) << i << ": " << writers[i].result.error().ToString();
    EXPECT_EQ(writers[i].result->generation.number, 2u) << i;
    ASSERT_EQ(writers[i].result->record_edits.size(), 1u);
    EXPECT_EQ(writers[i].result->record_edits[0],
              (RecordEditResult{"todos", std::to_string(i), "updated", true}));
  }
  const Writer& bad = writers[kWriters - 1];
  ASSERT_FALSE(bad.result.has_value());
  EXPECT_EQ(bad.result.error().code, Code::kNotFound);
  auto db = MustLoadTodos(LiveFile(kTodoFile));
  for (int i = 0; i + 1 < kWriters; ++i)
    EXPECT_EQ(db.Get(std::to_string(i))->status, "w" + std::to_string(i));
  EXPECT_EQ(Head(), 2u);
  ExpectClean(2);
}

// A queued request's edits come from another process's file: each member is
// checked, and a bad one is answered as damaged, never applied.
TEST_F(RecordEditTest, AQueuedRequestWithBadEditsIsAnsweredAsDamaged) {
  const std::string queue = root + "/.txdir/queue";
  std::filesystem::create_directories(queue);
  const std::string base =
      "{\"format\":2,\"id\":\"%s\",\"base\":\"\",\"base_generation\":0,"
      "\"strategy\":\"merge\",\"message\":\"\",\"author\":\"\",\"kind\":"
      "\"transaction\",\"changes\":[{\"path\":\"todo_db.sdn\",\"time_ms\":1,"
      "\"edits\":%s}]}";
  const char* bad[] = {
      "[]",  // no edits
      "[{\"table\":\"todos\",\"op\":\"upsert\",\"id\":\"1\",\"fields\":[],"
      "\"versioning\":false}]",  // unknown op
      "[{\"table\":\"todos\",\"op\":\"set\",\"id\":\"1\",\"fields\":[[\"a\"]],"
      "\"versioning\":false}]",  // half a field
      "[{\"table\":\"todos\",\"op\":\"set\",\"id\":1,\"fields\":[[\"a\",\"b\"]],"
      "\"versioning\":false}]",  // a number as id
  };
  std::vector<std::pair<std::string, int>> held;  // id, flocked descriptor: "its writer lives"
  for (size_t i = 0; i < std::size(bad); ++i) {
    const std::string id =
        "0000000000000000000" + std::to_string(i) + "-0000000001-00000000-00000000";
    char text[2048];
    std::snprintf(text, sizeof text, base.c_str(), id.c_str(), bad[i]);
    const std::string path = queue + "/" + id + ".req";
    testing::WriteFile(path, text);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    held.emplace_back(id, fd);
  }
  auto tx = Begin();
  ASSERT_TRUE(tx->EditRecords(kTodoFile, {Set(1, {{"status", "done"}})}).has_value());
  auto done = tx->Commit(CommitOptions{.strategy = Strategy::kMerge});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  EXPECT_EQ(MustLoadTodos(LiveFile(kTodoFile)).Get("1")->status, "done");
  for (const auto& [id, fd] : held) {
    const std::string outcome = testing::ReadFile(queue + "/" + id + ".done");
    EXPECT_NE(outcome.find("\"ok\":false"), std::string::npos) << outcome;
    EXPECT_NE(outcome.find("bad record edits"), std::string::npos) << outcome;
    ::close(fd);
  }
  ExpectClean(2);
}

// The contract: whatever another writer changed meanwhile, EditRecords
// publishes what Read + ApplyRecordEdit + Write publishes under the same
// strategy (or fails the same way).
RC_GTEST_PROP(RecordEditProperty, EditsPublishWhatReadApplyWritePublishes, ()) {
  const int n = *rc::gen::inRange(1, 10);
  const Strategy strategy = *rc::gen::element(Strategy::kMerge, Strategy::kLastModifiedWins,
                                              Strategy::kLastWriteWins, Strategy::kError);
  // Their change: some records' fields, maybe a deleted or an inserted one.
  const auto their_ids = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, n));
  const bool their_delete = *rc::gen::arbitrary<bool>(), their_insert = *rc::gen::arbitrary<bool>();
  // Our edits: sets of random records (some maybe missing) and fields.
  auto our_ids =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, n + 1)));
  // Half the time only records their change left alone: the case edits
  // apply to the newer file directly.
  if (*rc::gen::arbitrary<bool>()) {
    std::erase_if(our_ids, [&](int id) {
      return std::count(their_ids.begin(), their_ids.end(), id) || (their_delete && id == 0) ||
             id >= n;
    });
    if (our_ids.empty()) our_ids.push_back(n);  // a record that is not there
  }
  const auto fields =
      *rc::gen::container<std::vector<bool>>(our_ids.size(), rc::gen::arbitrary<bool>());

  auto run = [&](bool through_edits) -> std::pair<Result<CommitResult>, std::string> {
    TxFixture f;
    f.Publish({{kTodoFile, TodoDb(n)}});
    auto tx = f.repo->Begin();
    RC_ASSERT(tx.has_value());
    {
      auto other = f.OpenAnother();
      auto t2 = other->Begin();
      RC_ASSERT(t2.has_value());
      auto st = testing::EditTodos(**t2, [&](Database<Todo>& db) -> Status {
        for (int id : their_ids) {
          Todo t = TXDIR_TRY(db.Get(std::to_string(id)));
          t.description = "theirs " + std::to_string(id);
          TXDIR_CHECK(db.Update(t));
        }
        if (their_delete && db.Contains("0")) TXDIR_CHECK(db.Delete("0"));
        if (their_insert) TXDIR_CHECK(db.Insert(testing::MakeTodo(100)));
        return Ok();
      });
      RC_ASSERT(st.has_value());
      RC_ASSERT((*t2)->Commit().has_value());
    }
    std::vector<RecordEdit> edits;
    for (size_t i = 0; i < our_ids.size(); ++i)
      edits.push_back(Set(our_ids[i], {{fields[i] ? "description" : "status", "ours"}}));
    if (through_edits) {
      RC_ASSERT((*tx)->EditRecords(kTodoFile, edits).has_value());
    } else {
      auto bytes = (*tx)->Read(kTodoFile);
      RC_ASSERT(bytes.has_value());
      auto doc = LoadRecordDocument(kTodoFile, *bytes);
      RC_ASSERT(doc.has_value());
      for (const RecordEdit& e : edits) {
        auto done = ApplyRecordEdit(kTodoFile, e, *doc);
        if (!done) return {tl::unexpected(done.error()), ""};
      }
      RC_ASSERT((*tx)->Write(kTodoFile, sdn::Write(*doc)).has_value());
    }
    auto done = (*tx)->Commit(CommitOptions{.strategy = strategy});
    return {std::move(done), f.LiveFile(kTodoFile)};
  };
  auto [edited, edited_file] = run(true);
  auto [written, written_file] = run(false);
  RC_ASSERT(edited.has_value() == written.has_value());
  if (!edited) {
    RC_ASSERT(edited.error().code == written.error().code);
    return;
  }
  RC_CLASSIFY(edited->merged.empty(), "applied to the newer file");
  RC_ASSERT(edited->published == written->published);
  RC_ASSERT(sdn::Parse(edited_file)->tables == sdn::Parse(written_file)->tables);
}

}  // namespace
}  // namespace txdir
