#include "store/gen_meta.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <vector>

namespace txdir::store {

namespace {

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseI64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Parses exactly "2026-11-27T02:11:12.123Z": four-digit year, every field
// in range (a leap second is allowed), nothing before or after.
bool ParseTime(std::string_view s, int64_t* out) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool digit = s[i] >= '0' && s[i] <= '9';
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  const int hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  const int ms = num(20, 3);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return false;
  // Civil-calendar arithmetic, as timegm(3) but without the time-zone
  // setup it runs first (reading /etc/localtime): this is on every commit
  // read. A day past the month's end counts on into the next month.
  using namespace std::chrono;
  const sys_days first{std::chrono::year{year} / std::chrono::month{static_cast<unsigned>(month)} /
                       1};
  const int64_t days = first.time_since_epoch().count() + (day - 1);
  *out = ((days * 24 + hour) * 60 + minute) * 60'000 + int64_t{second} * 1000 + ms;
  // Day 31 of a short month is normalized forward, which can leave the range.
  return *out >= kMinTimeMs && *out <= kMaxTimeMs;
}

// A single-line trailer value: newlines would end the trailer block.
std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

bool ValidQueueId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatTime(int64_t time_ms) {
  time_ms = std::clamp(time_ms, kMinTimeMs, kMaxTimeMs);
  // Floor division: before 1970 the milliseconds are still 0..999.
  int64_t secs = time_ms / 1000, ms = time_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  // Civil-calendar arithmetic, as gmtime_r(3) but without the time-zone
  // setup it runs first (reading /etc/localtime).
  using namespace std::chrono;
  int64_t days = secs / 86400, in_day = secs % 86400;
  if (in_day < 0) {
    in_day += 86400;
    days -= 1;
  }
  const year_month_day date{sys_days{std::chrono::days{days}}};
  char buf[64];  // holds any year
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                              static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                              static_cast<unsigned>(date.day()), static_cast<int>(in_day / 3600),
                              static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60),
                              static_cast<int>(ms));
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return std::to_string(time_ms) + " ms";
  return std::string(buf, static_cast<size_t>(n));
}

std::string FormatCommitMessage(const GenMeta& m) {
  std::string msg = m.message;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (msg.empty()) msg = "generation " + std::to_string(m.number);
  std::string out = msg + "\n\n";
  out += "Txdir-Generation: " + std::to_string(m.number) + "\n";
  out += "Txdir-Kind: " + OneLine(m.kind) + "\n";
  if (m.restores) out += "Txdir-Restores: " + std::to_string(*m.restores) + "\n";
  out += "Txdir-Host: " + OneLine(m.host) + "\n";
  out += "Txdir-Pid: " + std::to_string(m.pid) + "\n";
  out += "Txdir-Time: " + FormatTime(m.time_ms) + "\n";
  for (const std::string& id : m.queued) out += "Txdir-Queued: " + OneLine(id) + "\n";
  return out;
}

Result<GenMeta> ParseCommitMessage(const std::string& text) {
  // The trailer block is the last paragraph.
  std::string body = text;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  size_t cut = body.rfind("\n\n");
  if (cut == std::string::npos)
    return MakeError(Code::kCorruption, "commit message has no txdir trailers");
  GenMeta m;
  m.message = body.substr(0, cut);
  bool have_number = false;
  std::string_view block(body.data() + cut + 2, body.size() - cut - 2);
  while (!block.empty()) {
    size_t nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
    size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon), val = line.substr(colon + 2);
    bool ok = true;
    if (key == "Txdir-Generation") {
      ok = ParseU64(val, &m.number) && m.number > 0;
      have_number = ok;
    } else if (key == "Txdir-Kind") {
      m.kind = std::string(val);
    } else if (key == "Txdir-Restores") {
      uint64_t r = 0;
      ok = ParseU64(val, &r);
      m.restores = r;
    } else if (key == "Txdir-Host") {
      m.host = std::string(val);
    } else if (key == "Txdir-Pid") {
      ok = ParseI64(val, &m.pid);
    } else if (key == "Txdir-Time") {
      ok = ParseTime(val, &m.time_ms);
    } else if (key == "Txdir-Queued") {
      ok = ValidQueueId(val);
      if (ok) m.queued.emplace_back(val);
    }
    if (!ok)
      return MakeError(Code::kCorruption, "bad trailer in commit message: " + std::string(line));
  }
  if (!have_number)
    return MakeError(Code::kCorruption, "commit message has no Txdir-Generation trailer");
  return m;
}

}  // namespace txdir::store
