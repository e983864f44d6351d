// Internal: the token scanner shared by the SDN parser's strict and lenient
// paths. Not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace txdir::sdn::internal {

// A scan failure at byte `offset` of the text being scanned.
struct ScanError {
  size_t offset = 0;
  std::string message;
};

// Letters are ASCII letters plus every byte of a multi-byte UTF-8 sequence, so
// bare words and names may hold non-ASCII text.
inline bool IsLetter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsBareStart(unsigned char c) { return IsLetter(c) || c == '_'; }
inline bool IsBareChar(unsigned char c) {
  return IsLetter(c) || IsDigit(c) || c == '_' || c == '/' || c == '.' || c == '#' || c == '-';
}
inline bool IsNameStart(unsigned char c) { return IsBareStart(c); }
inline bool IsNameChar(unsigned char c) {
  return IsLetter(c) || IsDigit(c) || c == '_' || c == '.' || c == '-';
}
// The UTF-8 encoding of U+FEFF. One at the start of a file is a byte-order
// mark and skipped, so a name may not begin with it: the writer could not put
// such a name first in a file and read it back.
inline constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
inline bool StartsWithBom(std::string_view text) { return text.substr(0, 3) == kByteOrderMark; }
// Horizontal white space. '\r' counts so CRLF files read like LF files.
inline bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Scans one cell token (quoted string, number, keyword, bare word or "./"
// path) starting at text[pos], which must not be white space. On success
// advances `pos` past the token and returns the cell's string value.
tl::expected<std::string, ScanError> ScanToken(std::string_view text, size_t& pos,
                                               bool keep_dot_slash);

// "line L, column C" for byte `offset` of `text` (1-based; a column counts
// UTF-8 characters, so a tab is one column).
std::string Position(std::string_view text, size_t offset);

}  // namespace txdir::sdn::internal
