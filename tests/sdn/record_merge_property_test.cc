// Property: merge(base, ours, theirs) contains every change of each side that
// the other side did not touch, and reports no conflict for them.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "txdir/record_merge.h"

namespace txdir {
namespace {

// What happens to one base record.
enum Action { kKeep, kOursUpdate, kTheirsUpdate, kOursDelete, kTheirsDelete, kSplitUpdate };

struct Scenario {
  sdn::Table base, ours, theirs;
  std::vector<Action> actions;  // per base record
  std::vector<std::vector<std::string>> ours_inserts, theirs_inserts;
};

Scenario Build(size_t width, const std::vector<Action>& actions, size_t n_ours, size_t n_theirs,
               const std::vector<bool>& field_mask) {
  Scenario s;
  s.actions = actions;
  std::vector<std::string> columns{"id"};
  for (size_t c = 0; c < width; ++c) columns.push_back("c" + std::to_string(c));
  s.base = s.ours = s.theirs = sdn::Table{"t", columns, {}};
  size_t n = actions.size();
  for (size_t r = 0; r < n; ++r) {
    std::vector<std::string> row{std::to_string(r)};
    for (size_t c = 0; c < width; ++c) row.push_back("base " + std::to_string(r * 10 + c));
    s.base.rows.push_back(row);
    // A one-sided update changes the fields field_mask picks (at least
    // one); a split update gives ours the even fields and theirs the odd.
    auto changed = [&](const char* who, auto pick) {
      std::vector<std::string> out = row;
      bool any = false;
      for (size_t c = 0; c < width; ++c) {
        if (pick(c)) {
          out[c + 1] = std::string(who) + " " + std::to_string(r) + "," + std::to_string(c);
          any = true;
        }
      }
      if (!any) out[1] = std::string(who) + " only " + std::to_string(r);
      return out;
    };
    auto masked = [&](size_t c) { return bool(field_mask[(r + c) % field_mask.size()]); };
    auto even = [](size_t c) { return c % 2 == 0; };
    auto odd = [](size_t c) { return c % 2 == 1; };
    Action a = actions[r];
    bool split = a == kSplitUpdate && width >= 2;
    if (a != kOursDelete) {
      s.ours.rows.push_back(a == kOursUpdate ? changed("o", masked)
                            : split          ? changed("o", even)
                                             : row);
    }
    if (a != kTheirsDelete) {
      s.theirs.rows.push_back(a == kTheirsUpdate ? changed("t", masked)
                              : split            ? changed("t", odd)
                                                 : row);
    }
  }
  // Both sides number new records from n: their ids collide on purpose.
  auto insert = [&](sdn::Table& table, size_t count, const char* who, auto& list) {
    for (size_t i = 0; i < count; ++i) {
      std::vector<std::string> row{std::to_string(n + i)};
      for (size_t c = 0; c < width; ++c)
        row.push_back(std::string(who) + " new " + std::to_string(i));
      table.rows.push_back(row);
      list.push_back(row);
    }
  };
  insert(s.ours, n_ours, "o", s.ours_inserts);
  insert(s.theirs, n_theirs, "t", s.theirs_inserts);
  return s;
}

rc::Gen<Scenario> GenScenario() {
  return rc::gen::apply(
      [](size_t width, std::vector<Action> actions, size_t n_ours, size_t n_theirs,
         std::vector<bool> mask) {
        mask.push_back(true);
        mask.push_back(false);
        return Build(width, actions, n_ours, n_theirs, mask);
      },
      rc::gen::inRange<size_t>(1, 5),
      rc::gen::container<std::vector<Action>>(rc::gen::element(
          kKeep, kOursUpdate, kTheirsUpdate, kOursDelete, kTheirsDelete, kSplitUpdate)),
      rc::gen::inRange<size_t>(0, 4), rc::gen::inRange<size_t>(0, 4),
      rc::gen::container<std::vector<bool>>(rc::gen::arbitrary<bool>()));
}

std::map<std::string, std::vector<std::string>> ById(const sdn::Table& t) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& row : t.rows) out[row[0]] = row;
  return out;
}

RC_GTEST_PROP(RecordMergeProperty, KeepsEveryUntouchedChangeOfBothSides, ()) {
  Scenario s = *GenScenario();
  auto merged = MergeTable(s.base, s.ours, s.theirs);
  RC_ASSERT(merged.has_value());
  RC_ASSERT(merged->conflicts.empty());
  auto result = ById(merged->table);
  RC_ASSERT(result.size() == merged->table.rows.size());  // no id twice
  auto ours = ById(s.ours), theirs = ById(s.theirs);
  size_t expected = s.ours_inserts.size() + s.theirs_inserts.size();
  for (size_t r = 0; r < s.actions.size(); ++r) {
    std::string id = std::to_string(r);
    const auto& base = s.base.rows[r];
    bool deleted = !ours.count(id) || !theirs.count(id);
    RC_ASSERT(result.count(id) == (deleted ? 0u : 1u));
    if (deleted) continue;
    ++expected;
    for (size_t c = 1; c < base.size(); ++c) {
      const std::string& o = ours[id][c];
      const std::string& t = theirs[id][c];
      RC_ASSERT(result[id][c] == (o != base[c] ? o : t));
    }
  }
  RC_ASSERT(merged->table.rows.size() == expected);
  // Theirs's inserts keep their ids; ours's keep theirs or are renumbered.
  for (const auto& row : s.theirs_inserts) RC_ASSERT(result[row[0]] == row);
  std::map<std::string, std::string> renamed;
  for (const Renumbered& r : merged->renumbered) renamed[r.old_id] = r.new_id;
  for (auto row : s.ours_inserts) {
    if (renamed.count(row[0])) row[0] = renamed[row[0]];
    RC_ASSERT(result[row[0]] == row);
  }
  RC_ASSERT(merged->renumbered.size() == std::min(s.ours_inserts.size(), s.theirs_inserts.size()));
}

// The Error strategy reports exactly the records both sides changed.
RC_GTEST_PROP(RecordMergeProperty, ErrorStrategyFlagsExactlyTheSharedRecords, ()) {
  Scenario s = *GenScenario();
  MergeOptions options;
  options.strategy = Strategy::kError;
  auto merged = MergeTable(s.base, s.ours, s.theirs, options);
  RC_ASSERT(merged.has_value());
  std::vector<std::string> expected, actual;
  for (size_t r = 0; r < s.actions.size(); ++r)
    if (s.actions[r] == kSplitUpdate && s.base.columns.size() >= 3)
      expected.push_back(std::to_string(r));
  for (const RecordConflict& c : merged->conflicts) actual.push_back(c.id);
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  RC_ASSERT(actual == expected);
}

}  // namespace
}  // namespace txdir
