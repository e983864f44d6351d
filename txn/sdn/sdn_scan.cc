#include "sdn_scan.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace txdir::sdn::internal {
namespace {

using Scan = tl::expected<std::string, ScanError>;

tl::unexpected<ScanError> Fail(size_t offset, std::string message) {
  return tl::unexpected<ScanError>(ScanError{offset, std::move(message)});
}

// How a byte is named in an error message.
std::string Describe(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of input";
  unsigned char c = text[pos];
  if (c == '\n') return "end of line";
  if (c < 0x20 || c == 0x7f) return "control character " + std::to_string(c);
  if (c >= 0x80) return "non-ASCII character";
  return std::string("'") + static_cast<char>(c) + "'";
}

// Escapes as the reference reader decodes them: \n \t \r \\ \" are replaced;
// any other backslash pair stays as the two characters (the todo writer never
// escaped backslashes, so "C:\dir" must read back as written).
Scan ScanQuoted(std::string_view text, size_t& pos) {
  const size_t open = pos;
  std::string value;
  size_t i = pos + 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      pos = i + 1;
      return value;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) break;
      char e = text[i + 1];
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case '\\':
          value += '\\';
          break;
        case '"':
          value += '"';
          break;
        default:
          value += '\\';
          value += e;
          break;
      }
      i += 2;
      continue;
    }
    value += c;  // raw newlines inside quotes are part of the string
    ++i;
  }
  return Fail(open, "unterminated string (no closing '\"')");
}

// Digits with '_' separators: a digit first, then digits and underscores.
// Returns the end of the run, or `i` itself when there is no digit at i.
size_t DigitRun(std::string_view text, size_t i) {
  if (i >= text.size() || !IsDigit(text[i])) return i;
  while (i < text.size() && (IsDigit(text[i]) || text[i] == '_')) ++i;
  return i;
}

std::string WithoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// Integers become canonical decimal text without a length limit: leading
// zeros go, "-0" is "0". (For values in the i64 range this is what the
// reference loader's parse-then-print produces.)
std::string NormalizeInteger(std::string_view token) {
  std::string digits = WithoutUnderscores(token);
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  size_t nz = digits.find_first_not_of('0');
  digits = nz == std::string::npos ? "0" : digits.substr(nz);
  return (negative && digits != "0") ? "-" + digits : digits;
}

// Floats become the shortest fixed-notation text that reads back as the same
// double, which is how the reference (Rust f64 Display) prints them: "1.50"
// -> "1.5", "2.0" -> "2", "1e3" -> "1000". Out-of-range values saturate as a
// parse to f64 does: overflow to "inf", underflow to "0".
std::string NormalizeFloat(std::string_view token) {
  std::string text = WithoutUnderscores(token);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool negative = text[0] == '-';
  if (ec == std::errc::result_out_of_range) {
    size_t e = text.find_first_of("eE");
    bool tiny = e != std::string::npos && e + 1 < text.size() && text[e + 1] == '-';
    value = tiny ? 0.0 : HUGE_VAL;
    if (negative) value = -value;
  }
  (void)end;
  char buf[1100];  // enough for the longest fixed double (about 770 chars)
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

Scan ScanNumber(std::string_view text, size_t& pos) {
  const size_t start = pos;
  size_t i = pos;
  if (text[i] == '-') ++i;
  size_t end = DigitRun(text, i);
  if (end == i) return Fail(i, "expected a digit after '-', found " + Describe(text, i));
  i = end;
  bool is_float = false;
  if (i < text.size() && text[i] == '.' && i + 1 < text.size() && IsDigit(text[i + 1])) {
    i = DigitRun(text, i + 1);
    is_float = true;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    size_t k = DigitRun(text, j);
    if (k == j) return Fail(j, "malformed number: expected exponent digits");
    i = k;
    is_float = true;
  }
  // "1.2.3", "12abc" or a bare date like 2026-02-10 are not numbers; reject
  // rather than silently splitting them into two tokens.
  if (i < text.size() && IsBareChar(text[i]) && text[i] != '#')
    return Fail(start, "malformed number (quote text that starts with a digit)");
  pos = i;
  std::string_view token = text.substr(start, i - start);
  return is_float ? NormalizeFloat(token) : NormalizeInteger(token);
}

Scan ScanBare(std::string_view text, size_t& pos) {
  size_t i = pos + 1;
  while (i < text.size() && IsBareChar(text[i])) ++i;
  std::string_view word = text.substr(pos, i - pos);
  pos = i;
  if (word == "null" || word == "nil") return std::string();
  return std::string(word);  // true/false load as their own text
}

Scan ScanDotPath(std::string_view text, size_t& pos, bool keep_dot_slash) {
  size_t i = pos + 2;
  while (i < text.size() && IsBareChar(text[i])) ++i;
  std::string_view word = text.substr(pos, i - pos);
  pos = i;
  return std::string(keep_dot_slash ? word : word.substr(2));
}

}  // namespace

Scan ScanToken(std::string_view text, size_t& pos, bool keep_dot_slash) {
  if (pos >= text.size()) return Fail(pos, "expected a value, found end of input");
  unsigned char c = text[pos];
  if (c == '"') return ScanQuoted(text, pos);
  if (c == '-' || IsDigit(c)) return ScanNumber(text, pos);
  if (c == '.' && pos + 1 < text.size() && text[pos + 1] == '/')
    return ScanDotPath(text, pos, keep_dot_slash);
  if (IsBareStart(c)) return ScanBare(text, pos);
  return Fail(pos, "expected a value, found " + Describe(text, pos));
}

std::string Position(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = text[i];
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // count characters, not continuation bytes
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace txdir::sdn::internal
