// Splitting a row into cells, and the value of a cell. The rules (docs/sdn.md,
// "Rows and cells") are those of the Simple tooling's database library, which
// splits on commas outside double quotes, plus the quoted, dict and array
// tokens its SDN parser reads.
#include <array>
#include <string>

#include "sdn_source.h"

namespace txdir::sdn::internal {
namespace {

constexpr size_t kNone = std::string_view::npos;

bool IsRowEnd(std::string_view text, size_t i) { return i >= text.size() || text[i] == '\n'; }

size_t SkipBlanks(std::string_view text, size_t i) {
  while (i < text.size() && IsSpace(text[i])) ++i;
  return i;
}

// A quoted token at text[pos]: the index after its closing quote, or kNone.
// "" inside is one '"' (the newer Simple writers double quotes); a backslash
// is an ordinary byte, as the database library reads it. Raw line breaks are
// part of the value: older writers left them unescaped.
size_t SkipQuoted(std::string_view text, size_t pos, bool& doubled) {
  for (size_t i = text.find('"', pos + 1); i != kNone; i = text.find('"', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '"') {
      doubled = true;
      ++i;
      continue;
    }
    return i + 1;
  }
  return kNone;
}

// A dict {..} or array [..] cell at text[pos], on one line: the index after
// its closing bracket, or kNone when the brackets do not balance.
size_t SkipBracketed(std::string_view text, size_t pos) {
  int depth = 0;
  bool in_quotes = false;
  for (size_t i = pos; i < text.size() && text[i] != '\n'; ++i) {
    char c = text[i];
    if (c == '"') in_quotes = !in_quotes;
    if (in_quotes) continue;
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
  }
  return kNone;
}

// Unquoted text: up to the next comma (outside double quotes when
// `toggle_quotes`, as the database library splits) or the line end.
// The bytes ScanBare stops at; a table lookup per byte instead of three
// comparisons (row scans are most of what reading a table costs).
constexpr std::array<bool, 256> kBareStops = [] {
  std::array<bool, 256> stops{};
  stops['\n'] = stops['"'] = stops[','] = true;
  return stops;
}();

CellSpan ScanBare(std::string_view text, size_t begin, bool toggle_quotes, size_t& pos) {
  bool in_quotes = false;
  size_t i = begin;
  for (;; ++i) {
    while (i < text.size() && !kBareStops[static_cast<unsigned char>(text[i])]) ++i;
    if (i >= text.size() || text[i] == '\n') break;
    if (text[i] == '"') {
      if (toggle_quotes) in_quotes = !in_quotes;
      continue;
    }
    if (!in_quotes) break;  // a ',' that ends the cell
  }
  pos = i;
  size_t end = i;
  while (end > begin && IsSpace(text[end - 1])) --end;
  CellSpan cell{begin, end, false, false};
  // The library strips one pair of outer quotes from whatever it split out.
  cell.quoted = end - begin >= 2 && text[begin] == '"' && text[end - 1] == '"';
  return cell;
}

// One cell's token at text[begin] (not white space, not ',' or the line end).
CellSpan ScanCell(std::string_view text, size_t begin, bool toggle_quotes, size_t& pos) {
  CellSpan cell{begin, begin, false, false};
  size_t after = kNone;
  if (text[begin] == '"') {
    after = SkipQuoted(text, begin, cell.doubled);
    cell.quoted = true;
  } else if (text[begin] == '{' || text[begin] == '[') {
    after = SkipBracketed(text, begin);
  }
  if (after != kNone) {
    size_t next = SkipBlanks(text, after);
    if (IsRowEnd(text, next) || text[next] == ',') {
      cell.end = after;
      pos = next;
      return cell;
    }
  }
  // Not a token followed by a separator: unquoted text that holds quotes or
  // brackets, as the later Simple writers leave it.
  return ScanBare(text, begin, toggle_quotes, pos);
}

// Scans into `row`, reusing the capacity of its cells.
void ScanWith(std::string_view text, size_t pos, bool toggle_quotes, size_t expected_cells,
              RowScan& row) {
  row.cells.clear();
  row.cells.reserve(expected_cells);  // at most one allocation for a row of the header's width
  while (true) {
    pos = SkipBlanks(text, pos);
    if (IsRowEnd(text, pos) || text[pos] == ',') {
      row.cells.push_back(CellSpan{pos, pos, false, false});  // an empty slot
    } else {
      row.cells.push_back(ScanCell(text, pos, toggle_quotes, pos));
    }
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
      continue;
    }
    break;
  }
  row.end = pos < text.size() ? pos + 1 : pos;
}

}  // namespace

void ScanRow(std::string_view text, size_t pos, size_t expected_cells, RowScan& row) {
  ScanWith(text, pos, /*toggle_quotes=*/true, expected_cells, row);
  if (row.cells.size() == expected_cells) return;
  // A lone '"' inside unquoted text (`5" screen`) makes the library's split
  // swallow the rest of the line; splitting on every comma outside tokens
  // reads such a row when that gives the header's count.
  RowScan plain;
  ScanWith(text, pos, /*toggle_quotes=*/false, expected_cells, plain);
  if (plain.cells.size() == expected_cells) row = std::move(plain);
}

RowScan ScanRow(std::string_view text, size_t pos, size_t expected_cells) {
  RowScan row;
  ScanRow(text, pos, expected_cells, row);
  return row;
}

bool SplitsInto(std::string_view row, const std::vector<std::string>& values) {
  RowScan scan;
  ScanWith(row, 0, /*toggle_quotes=*/true, values.size(), scan);
  if (scan.cells.size() != values.size()) return false;
  for (size_t c = 0; c < values.size(); ++c)
    if (CellValue(row, scan.cells[c]) != values[c]) return false;
  return true;
}

std::string CellValue(std::string_view text, const CellSpan& cell) {
  if (!cell.quoted) return std::string(text.substr(cell.begin, cell.end - cell.begin));
  std::string_view inner = text.substr(cell.begin + 1, cell.end - cell.begin - 2);
  if (!cell.doubled) return std::string(inner);
  std::string out;
  out.reserve(inner.size());
  for (size_t i = 0; i < inner.size(); ++i) {
    out += inner[i];
    if (inner[i] == '"' && i + 1 < inner.size() && inner[i + 1] == '"') ++i;
  }
  return out;
}

bool CellHasValue(std::string_view text, const CellSpan& cell, std::string_view value) {
  if (cell.doubled) return CellValue(text, cell) == value;
  if (cell.quoted) return text.substr(cell.begin + 1, cell.end - cell.begin - 2) == value;
  return text.substr(cell.begin, cell.end - cell.begin) == value;
}

bool QuotedByChoice(std::string_view text, const CellSpan& cell) {
  if (!cell.quoted) return false;
  std::string value = CellValue(text, cell);
  return value.empty() || !NeedsQuotes(value);
}

std::string Position(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
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
