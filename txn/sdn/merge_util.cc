#include "merge_util.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace txdir::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A sortable key: "YYYYMMDDHHMMSS" followed by nine fraction digits.
std::optional<std::string> TimestampKey(std::string_view s) {
  // Positions of the digits of "YYYY-MM-DD" and of "THH:MM:SS".
  static constexpr int kDate[] = {0, 1, 2, 3, 5, 6, 8, 9};
  static constexpr int kTime[] = {11, 12, 14, 15, 17, 18};
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  std::string key;
  for (int i : kDate) {
    if (!IsDigit(s[i])) return std::nullopt;
    key += s[i];
  }
  if (s.size() >= 19 && (s[10] == 'T' || s[10] == ' ') && s[13] == ':' && s[16] == ':') {
    for (int i : kTime) {
      if (!IsDigit(s[i])) return std::nullopt;
      key += s[i];
    }
    size_t i = 19;
    std::string fraction;
    if (i < s.size() && s[i] == '.')
      for (++i; i < s.size() && IsDigit(s[i]); ++i) fraction += s[i];
    fraction.resize(9, '0');
    key += fraction.substr(0, 9);
  } else {
    key += std::string(15, '0');
  }
  return key;
}

std::optional<int64_t> ParseVersion(const std::string& s) {
  int64_t v = 0;
  if (s.empty() || !ParseIntCell(s, v)) return std::nullopt;
  return v;
}

}  // namespace

bool LaterTimestamp(std::string_view a, std::string_view b) {
  auto ka = TimestampKey(a), kb = TimestampKey(b);
  if (!ka) return false;
  if (!kb) return true;
  return *ka > *kb;
}

void MergeBookkeeping(const Row& ours, const Row& theirs, Row& out) {
  auto v = out.find(kVersionColumn);
  if (v != out.end()) {
    auto vo = ParseVersion(ours.at(v->first)), vt = ParseVersion(theirs.at(v->first));
    if (vo && vt) {
      int64_t top = std::max(*vo, *vt);
      v->second = std::to_string(top == std::numeric_limits<int64_t>::max() ? top : top + 1);
    } else {
      v->second = ours.at(v->first);
    }
  }
  auto lm = out.find(kLastModifiedColumn);
  if (lm != out.end()) {
    const std::string& o = ours.at(lm->first);
    const std::string& t = theirs.at(lm->first);
    lm->second = LaterTimestamp(t, o) ? t : o;
  }
}

}  // namespace txdir::internal
