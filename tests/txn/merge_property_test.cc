// Property: two transactions from the same base that change disjoint records
// and fields of todo_db.sdn both land when the second commits with kMerge —
// through the real commit path (SDN codec, Database<Todo>, record merge,
// publish), not the merge function alone.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "tests/txn/txn_test_util.h"
#include "txdir/simple_records.h"

namespace txdir {
namespace {

using testing::kTodoFile;

// What happens to one base record.
enum Action { kKeep, kOursUpdate, kTheirsUpdate, kSplit, kOursDelete, kTheirsDelete };

// The string fields an update may change (line is changed too, see Change).
constexpr const char* kFields[] = {"area", "priority", "description", "file", "blocked", "status"};
constexpr size_t kFieldCount = std::size(kFields);

std::string& FieldOf(Todo& t, size_t f) {
  switch (f) {
    case 0:
      return t.area;
    case 1:
      return t.priority;
    case 2:
      return t.description;
    case 3:
      return t.file;
    case 4:
      return t.blocked;
    default:
      return t.status;
  }
}

// Cell values that exercise the codec: quotes, backslashes, commas,
// newlines, unicode; `tag` makes each one unique.
std::string Tricky(int kind, const std::string& tag) {
  static const char* kKinds[] = {"plain",      "a, b",      "say \"hi\"", "back\\slash",
                                 "two\nlines", "tab\there", "ünïcødé ✓",  "  padded  ",
                                 "#hash",      ""};
  return std::string(kKinds[kind % std::size(kKinds)]) + tag;
}

struct Case {
  std::vector<Action> actions;
  std::vector<std::vector<bool>> masks;  // per record: which fields the update changes
  std::vector<int> kinds;                // per record: which Tricky value
  int ours_inserts = 0, theirs_inserts = 0;
};

rc::Gen<Case> GenCase() {
  return rc::gen::apply(
      [](std::vector<Action> actions, int ours_inserts, int theirs_inserts, int kind_seed,
         std::vector<bool> mask_bits) {
        Case c;
        c.actions = std::move(actions);
        c.ours_inserts = ours_inserts;
        c.theirs_inserts = theirs_inserts;
        mask_bits.push_back(true);
        size_t bit = 0;
        for (size_t r = 0; r < c.actions.size(); ++r) {
          std::vector<bool> m(kFieldCount);
          for (size_t f = 0; f < kFieldCount; ++f) m[f] = mask_bits[bit++ % mask_bits.size()];
          c.masks.push_back(m);
          c.kinds.push_back(kind_seed + static_cast<int>(r));
        }
        return c;
      },
      rc::gen::container<std::vector<Action>>(
          rc::gen::element(kKeep, kOursUpdate, kTheirsUpdate, kSplit, kOursDelete, kTheirsDelete)),
      rc::gen::inRange(0, 3), rc::gen::inRange(0, 3), rc::gen::inRange(0, 100),
      rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>()));
}

int InsertId(const Case& c, int i) { return static_cast<int>(c.actions.size()) + 100 + i; }

// Applies `who`'s side of the case to `db`. Returns the expected final
// record for each base record the side changes (field by field) via `expect`.
void ApplySide(const Case& c, bool ours, Database<Todo>& db, std::map<std::string, Todo>& expect) {
  const std::string who = ours ? "o" : "t";
  for (size_t r = 0; r < c.actions.size(); ++r) {
    const std::string id = std::to_string(r);
    Action a = c.actions[r];
    if ((ours && a == kOursDelete) || (!ours && a == kTheirsDelete)) {
      RC_ASSERT(db.Delete(id).has_value());
      continue;
    }
    std::vector<bool> pick(kFieldCount, false);
    bool line = false;
    if ((ours && a == kOursUpdate) || (!ours && a == kTheirsUpdate)) {
      pick = c.masks[r];
      line = true;
    } else if (a == kSplit) {
      // Disjoint fields: ours the even ones, theirs the odd ones.
      for (size_t f = 0; f < kFieldCount; ++f) pick[f] = (f % 2 == 0) == ours;
      line = ours;
    } else {
      continue;
    }
    Todo t = *db.Get(id);
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (!pick[f]) continue;
      FieldOf(t, f) = Tricky(c.kinds[r] + static_cast<int>(f), " " + who + id + "." + kFields[f]);
      FieldOf(expect[id], f) = FieldOf(t, f);
    }
    if (line) t.line = expect[id].line = (ours ? 1000 : 2000) + static_cast<int64_t>(r);
    RC_ASSERT(db.Update(t).has_value());
  }
  // Both sides insert under the same new ids (explicit: Database::NextId
  // would reuse the id of a deleted last record, which is an update).
  for (int i = 0; i < (ours ? c.ours_inserts : c.theirs_inserts); ++i) {
    Todo t;
    t.id = std::to_string(InsertId(c, i));
    t.description = Tricky(i, " new " + who + std::to_string(i));
    RC_ASSERT(db.Insert(t).has_value());
  }
}

TEST(MergeProperty, ConcurrentDisjointChangesAllLandThroughCommit) {
  testing::TxFixture f;
  auto other = f.OpenAnother();
  ASSERT_TRUE(other);
  int cases = 0;
  bool ok = rc::check("merge(base, ours, theirs) keeps every change of each side", [&] {
    const Case c = *GenCase();
    ++cases;
    // A fresh base generation for this case.
    const int n = static_cast<int>(c.actions.size());
    testing::MakeTree(f.src,
                      {{kTodoFile, testing::TodoDb(n)}, {"case.txt", std::to_string(cases)}});
    RC_ASSERT(f.repo->Publish(f.src).has_value());

    std::map<std::string, Todo> expect;
    for (int r = 0; r < n; ++r) expect[std::to_string(r)] = testing::MakeTodo(r);
    auto ours_tx = f.repo->Begin();
    auto theirs_tx = other->Begin();
    RC_ASSERT(ours_tx.has_value() && theirs_tx.has_value());
    RC_ASSERT((*ours_tx)->base_generation() == (*theirs_tx)->base_generation());
    for (bool ours : {false, true}) {
      Transaction& tx = ours ? **ours_tx : **theirs_tx;
      Status s = testing::EditTodos(tx, [&](Database<Todo>& db) -> Status {
        ApplySide(c, ours, db, expect);
        return Ok();
      });
      RC_ASSERT(s.has_value());
    }
    auto theirs_done = (*theirs_tx)->Commit(CommitOptions{.strategy = Strategy::kError});
    RC_ASSERT(theirs_done.has_value());
    auto ours_done = (*ours_tx)->Commit(CommitOptions{.strategy = Strategy::kMerge});
    if (!ours_done) RC_FAIL("ours: " + ours_done.error().ToString());

    auto live = Database<Todo>::Load(testing::ReadFile(f.live() + "/" + kTodoFile));
    RC_ASSERT(live.has_value());
    // Every base record: gone if either side deleted it, else each field as
    // the side that changed it left it.
    for (int r = 0; r < n; ++r) {
      const std::string id = std::to_string(r);
      Action a = c.actions[r];
      if (a == kOursDelete || a == kTheirsDelete) {
        RC_ASSERT(!live->Contains(id));
        continue;
      }
      auto got = live->Get(id);
      RC_ASSERT(got.has_value());
      Todo want = expect[id];
      want.version = got->version;  // bookkeeping, not content
      want.last_modified = got->last_modified;
      RC_ASSERT(*got == want);
    }
    // Every inserted record is present exactly once; theirs keep their ids.
    std::multiset<std::string> descriptions;
    for (const Todo& t : live->All()) descriptions.insert(t.description);
    for (bool ours : {false, true}) {
      const std::string who = ours ? "o" : "t";
      for (int i = 0; i < (ours ? c.ours_inserts : c.theirs_inserts); ++i)
        RC_ASSERT(descriptions.count(Tricky(i, " new " + who + std::to_string(i))) == 1u);
    }
    for (int i = 0; i < c.theirs_inserts; ++i)
      RC_ASSERT(live->Get(std::to_string(InsertId(c, i)))->description ==
                Tricky(i, " new t" + std::to_string(i)));
    const size_t deleted = std::count_if(c.actions.begin(), c.actions.end(), [](Action a) {
      return a == kOursDelete || a == kTheirsDelete;
    });
    RC_ASSERT(live->size() == n - deleted + c.ours_inserts + c.theirs_inserts);
    RC_ASSERT(ours_done->renumbered.size() ==
              static_cast<size_t>(std::min(c.ours_inserts, c.theirs_inserts)));
  });
  EXPECT_TRUE(ok);
  EXPECT_GT(cases, 10);
}

}  // namespace
}  // namespace txdir
