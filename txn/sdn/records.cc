#include "txdir/records.h"

#include <charconv>
#include <ctime>

namespace txdir {

Status ParseIntCell(std::string_view text, int64_t& out) {
  if (text.empty()) return Ok();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return MakeError(Code::kInvalidArgument, "not an integer: '" + std::string(text) + "'");
  out = value;
  return Ok();
}

Status ParseBoolCell(std::string_view text, bool& out) {
  if (text.empty()) return Ok();
  if (text == "true") {
    out = true;
  } else if (text == "false") {
    out = false;
  } else {
    return MakeError(Code::kInvalidArgument, "not true or false: '" + std::string(text) + "'");
  }
  return Ok();
}

bool IsNumericId(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string NextNumericId(std::span<const std::string> ids) {
  // Compared as digit strings, not integers, so no id is too long to count.
  std::string max;
  bool any = false;
  for (const std::string& id : ids) {
    if (!IsNumericId(id)) continue;
    size_t nz = id.find_first_not_of('0');
    std::string digits = nz == std::string::npos ? "0" : id.substr(nz);
    if (!any || digits.size() > max.size() || (digits.size() == max.size() && digits > max))
      max = digits;
    any = true;
  }
  if (!any) return "0";
  for (size_t i = max.size(); i-- > 0;) {  // decimal increment with carry
    if (max[i] != '9') {
      ++max[i];
      return max;
    }
    max[i] = '0';
  }
  return "1" + max;
}

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace txdir
