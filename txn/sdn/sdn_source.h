// Internal: what the lossless reader remembers of a parsed text, so that the
// writer can change one record's bytes and keep all others. Not part of the
// public API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/sdn.h"

namespace txdir::sdn::internal {

// One cell: the bytes of its token, white space around it excluded. An empty
// cell is an empty span where its token would be.
struct CellSpan {
  size_t begin = 0;
  size_t end = 0;
  bool quoted = false;   // a "..." token: the value is the inside
  bool doubled = false;  // quoted and holding "" pairs, each read as one '"'
};

// One row: [begin, end) holds its whole line (lines, when a quoted cell holds
// a line break) including the line end, or for an inline one-row table the
// part of the header's line after the column list, without the line end.
struct RowSpan {
  size_t begin = 0;
  size_t end = 0;
  std::vector<CellSpan> cells;
};

struct TableSpan {
  std::string name;
  std::vector<std::string> columns;  // as parsed: Write compares them with the document's
  size_t header_begin = 0;
  size_t header_end = 0;  // after the header line's end (or its column list if inline)
  bool inline_row = false;
  std::vector<RowSpan> rows;
};

struct Source {
  std::string text;
  bool sealed = false;
  std::vector<TableSpan> tables;  // parallel to the parsed Document's tables
};

// The value of a cell span of `text`.
std::string CellValue(std::string_view text, const CellSpan& cell);
// True when the cell's value is `value` (without building the value).
bool CellHasValue(std::string_view text, const CellSpan& cell, std::string_view value);

// Splits the row that starts at text[pos] into cells. Stops after the row's
// line end (or at end of text) and sets `end` there. Errors carry the offset.
struct RowScan {
  std::vector<CellSpan> cells;
  size_t end = 0;
};
RowScan ScanRow(std::string_view text, size_t pos, size_t expected_cells);
// The same into `row`, whose cells' capacity it reuses: a reader that keeps
// no row allocates nothing per row.
void ScanRow(std::string_view text, size_t pos, size_t expected_cells, RowScan& row);
// True when `row` (one row's text) splits, as Simple's database library
// splits it (commas outside double quotes), into exactly `values`.
bool SplitsInto(std::string_view row, const std::vector<std::string>& values);

// The text of a document built in memory, or of a table appended to a file:
// `name |a, b|`, rows indented four spaces, cells joined by ", ", each line
// ended by `eol`.
std::string RenderTable(const Table& table, std::string_view eol);
// True when the value must be quoted to read back as itself (docs/sdn.md,
// "Writing a new value").
bool NeedsQuotes(std::string_view value);
// True when a writer quoted this cell although its value did not need it (or
// wrote an empty value as ""): evidence that the file's writer quotes there.
bool QuotedByChoice(std::string_view text, const CellSpan& cell);
// A new cell's text: quoted when `quoted_style` (the cell it replaces, or its
// neighbour, was quoted) or when the value needs it (EncodeCell); an empty
// value is an empty slot unless it is a table's only column.
std::string EncodeLike(std::string_view value, bool quoted_style, bool lone_column);
// Renders `doc` into its source text; see Write.
std::string WriteEdited(const Document& doc, const Source& source);

// "line L, column C" for byte `offset` of `text` (1-based; a column counts
// UTF-8 characters, so a tab is one column).
std::string Position(std::string_view text, size_t offset);

// The UTF-8 encoding of U+FEFF; one at the start of a file is a byte-order mark.
inline constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
inline constexpr std::string_view kSealPrefix = "#sdn-crc32:";

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }
inline bool IsLetter(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}
inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsNameStart(unsigned char c) { return IsLetter(c) || c == '_'; }
inline bool IsNameChar(unsigned char c) {
  return IsLetter(c) || IsDigit(c) || c == '_' || c == '.' || c == '-';
}

}  // namespace txdir::sdn::internal
