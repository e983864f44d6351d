// The SDN reader: lines, table headers and rows. Token scanning is in
// sdn_scan.cc; the grammar is in docs/sdn.md.
#include <optional>
#include <unordered_set>

#include "sdn_scan.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

using internal::IsNameChar;
using internal::IsNameStart;
using internal::IsSpace;
using internal::ScanToken;

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  Result<Document> Run() {
    // A UTF-8 byte-order mark is not part of the first table's name.
    if (internal::StartsWithBom(text_)) pos_ = internal::kByteOrderMark.size();
    Document doc;
    Table* table = nullptr;
    while (pos_ < text_.size()) {
      const size_t line_start = pos_;
      SkipSpace();
      if (AtLineEnd() || Peek() == '#') {  // blank or comment line: ignored
        SkipRestOfLine();
        continue;
      }
      if (pos_ == line_start) {  // column 0: a header starts a new table
        TXDIR_CHECK(ParseHeader(doc));
        table = &doc.tables.back();
        continue;
      }
      if (table == nullptr) return Fail(pos_, "row outside a table (no header line above it)");
      TXDIR_CHECK(ParseRow(*table));
    }
    return doc;
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool AtLineEnd() const { return pos_ >= text_.size() || text_[pos_] == '\n'; }
  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }
  void SkipRestOfLine() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    if (pos_ < text_.size()) ++pos_;
  }
  std::string Found() const {
    if (pos_ >= text_.size()) return "end of input";
    if (internal::StartsWithBom(text_.substr(pos_))) return "a byte-order mark (U+FEFF)";
    if (text_[pos_] == '\n') return "end of line";
    return std::string("'") + text_[pos_] + "'";
  }
  tl::unexpected<Error> Fail(size_t offset, const std::string& message) const {
    return MakeError(Code::kInvalidArgument, internal::Position(text_, offset) + ": " + message);
  }

  std::optional<std::string> ScanName() {
    if (pos_ >= text_.size() || !IsNameStart(text_[pos_])) return std::nullopt;
    if (internal::StartsWithBom(text_.substr(pos_))) return std::nullopt;
    size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // End of a header or row: optional white space and comment, then newline or
  // end of input.
  Status ExpectLineEnd(const char* expected) {
    SkipSpace();
    if (Peek() == '#') {
      SkipRestOfLine();
      return Ok();
    }
    if (!AtLineEnd()) return Fail(pos_, std::string("expected ") + expected + ", found " + Found());
    SkipRestOfLine();
    return Ok();
  }

  // NAME ws* [':' in lenient mode] '|' ws* NAME ws* (',' ws* NAME ws*)* '|'
  Status ParseHeader(Document& doc) {
    Table table;
    auto name = ScanName();
    if (!name) return Fail(pos_, "expected a table name, found " + Found());
    table.name = std::move(*name);
    SkipSpace();
    if (options_.lenient && Peek() == ':') ++pos_;
    if (Peek() != '|') return Fail(pos_, "expected '|' after table name, found " + Found());
    ++pos_;
    std::unordered_set<std::string> seen;
    while (true) {
      SkipSpace();
      size_t at = pos_;
      auto column = ScanName();
      if (!column) return Fail(pos_, "expected a column name, found " + Found());
      if (!seen.insert(*column).second) return Fail(at, "duplicate column '" + *column + "'");
      table.columns.push_back(std::move(*column));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '|') {
        ++pos_;
        break;
      }
      return Fail(pos_, "expected ',' or '|' in table header, found " + Found());
    }
    TXDIR_CHECK(ExpectLineEnd("end of line after table header"));
    doc.tables.push_back(std::move(table));
    return Ok();
  }

  // One cell: white space, an optional token, white space. Stops before ','
  // or the end of the row.
  Result<std::string> ParseCell() {
    SkipSpace();
    if (Peek() == ',' || AtLineEnd() || Peek() == '#') return std::string();  // empty slot
    auto value = ScanToken(text_, pos_, options_.keep_dot_slash);
    if (!value) return Fail(value.error().offset, value.error().message);
    SkipSpace();
    return std::move(*value);
  }

  // Strict: cell (',' cell)* line-end, with exactly one cell per column.
  Result<std::vector<std::string>> ParseStrictRow(const Table& table) {
    const size_t start = pos_;
    std::vector<std::string> cells;
    cells.push_back(TXDIR_TRY(ParseCell()));
    while (Peek() == ',') {
      ++pos_;
      cells.push_back(TXDIR_TRY(ParseCell()));
    }
    TXDIR_CHECK(ExpectLineEnd("',' or end of row"));
    if (cells.size() != table.columns.size()) {
      return Fail(start, "row has " + std::to_string(cells.size()) + " cells but table '" +
                             table.name + "' has " + std::to_string(table.columns.size()) +
                             " columns");
    }
    return cells;
  }

  // Lenient: split the row's line on every comma (see ParseOptions::lenient).
  std::optional<std::vector<std::string>> ParseSplitRow(const Table& table, size_t start) {
    size_t end = text_.find('\n', start);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(start, end - start);
    std::vector<std::string> cells;
    size_t piece_start = 0;
    while (true) {
      size_t comma = line.find(',', piece_start);
      std::string_view piece =
          line.substr(piece_start, comma == line.npos ? line.npos : comma - piece_start);
      auto cell = DecodePiece(piece);
      if (!cell) return std::nullopt;
      cells.push_back(std::move(*cell));
      if (cells.size() > table.columns.size()) return std::nullopt;
      if (comma == line.npos) break;
      piece_start = comma + 1;
    }
    if (cells.size() != table.columns.size()) return std::nullopt;
    pos_ = end < text_.size() ? end + 1 : end;
    return cells;
  }

  std::optional<std::string> DecodePiece(std::string_view piece) const {
    while (!piece.empty() && IsSpace(piece.front())) piece.remove_prefix(1);
    while (!piece.empty() && IsSpace(piece.back())) piece.remove_suffix(1);
    if (piece.empty()) return std::string();
    size_t pos = 0;
    auto token = ScanToken(piece, pos, options_.keep_dot_slash);
    if (token && pos == piece.size()) return std::move(*token);
    // A stray quote means the comma split cannot be trusted.
    if (piece.find('"') != piece.npos) return std::nullopt;
    return std::string(piece);
  }

  Status ParseRow(Table& table) {
    const size_t start = pos_;
    auto cells = ParseStrictRow(table);
    if (!cells && options_.lenient) {
      pos_ = start;
      if (auto split = ParseSplitRow(table, start)) cells = std::move(*split);
    }
    if (!cells) return tl::unexpected(std::move(cells).error());
    table.rows.push_back(std::move(*cells));
    return Ok();
  }

  std::string_view text_;
  const ParseOptions& options_;
  size_t pos_ = 0;
};

}  // namespace

Result<Document> Parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).Run();
}

int Table::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column) return static_cast<int>(i);
  return -1;
}

const Table* Document::Find(std::string_view name) const {
  for (const Table& t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

Table* Document::Find(std::string_view name) {
  for (Table& t : tables)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace txdir::sdn
