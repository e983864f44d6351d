// The lossless SDN reader: classifies lines (tables, rows, statements,
// comments) and records where every table, row and cell sits, so the writer
// can keep every byte it does not change. Cell splitting is in sdn_row.cc;
// the grammar is in docs/sdn.md.
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "sdn_source.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

using internal::CellSpan;
using internal::IsSpace;
using internal::RowSpan;
using internal::TableSpan;

// One grammar, two outputs: without a visitor the parser keeps every row
// and where it sits (the lossless model); with one it hands each row to the
// visitor and keeps neither, nor a copy of the text.
class Parser {
 public:
  explicit Parser(std::string_view text) : source_(std::make_shared<internal::Source>()) {
    source_->text = std::string(text);
    text_ = source_->text;
  }
  Parser(std::string_view text, const RowVisitor& visit) : text_(text), visit_(&visit) {}

  Result<Document> Run() {
    if (source_)
      source_->sealed = text_.substr(0, internal::kSealPrefix.size()) == internal::kSealPrefix;
    // A byte-order mark is not part of the first line's content.
    if (text_.substr(0, internal::kByteOrderMark.size()) == internal::kByteOrderMark)
      pos_ = internal::kByteOrderMark.size();
    while (pos_ < text_.size()) TXDIR_CHECK(Line());
    doc_.source = std::move(source_);
    return std::move(doc_);
  }

 private:
  enum class Context { kNone, kTable, kBlock };

  bool AtLineEnd(size_t i) const { return i >= text_.size() || text_[i] == '\n'; }
  size_t SkipBlanks(size_t i) const {
    while (i < text_.size() && IsSpace(text_[i])) ++i;
    return i;
  }
  size_t NextLine(size_t i) const {
    size_t nl = text_.find('\n', i);
    return nl == std::string_view::npos ? text_.size() : nl + 1;
  }
  std::string Found(size_t i) const {
    if (i >= text_.size()) return "end of input";
    if (text_.substr(i, 3) == internal::kByteOrderMark) return "a byte-order mark (U+FEFF)";
    if (text_[i] == '\n' || text_[i] == '\r') return "end of line";
    return std::string("'") + text_[i] + "'";
  }
  tl::unexpected<Error> Fail(size_t offset, const std::string& message) const {
    return MakeError(Code::kInvalidArgument, internal::Position(text_, offset) + ": " + message);
  }

  std::optional<std::string> ScanName(size_t& i) const {
    if (i >= text_.size() || !internal::IsNameStart(text_[i])) return std::nullopt;
    if (text_.substr(i, 3) == internal::kByteOrderMark) return std::nullopt;
    size_t start = i;
    while (i < text_.size() && internal::IsNameChar(text_[i])) ++i;
    return std::string(text_.substr(start, i - start));
  }

  Status Line() {
    const size_t begin = pos_;
    const size_t first = SkipBlanks(begin);
    if (AtLineEnd(first) || text_[first] == '#') {  // blank or comment: kept, ends nothing
      pos_ = NextLine(first);
      return Ok();
    }
    if (first > begin) {  // indented
      if (context_ == Context::kTable) return Row(begin, first);
      if (context_ == Context::kBlock) {
        pos_ = NextLine(first);
        return Ok();
      }
      return Fail(first, "indented line outside a table or block (no header or `key:` above it)");
    }
    if (TXDIR_TRY(Header(begin))) return Ok();
    if (TXDIR_TRY(Statement(begin))) return Ok();
    if (context_ == Context::kTable) {  // an unindented row, unless it is text of another kind
      Status row = Row(begin, begin);
      if (row.has_value()) return row;
      if (TXDIR_TRY(TextLine(begin))) return Ok();
      return row;
    }
    if (TXDIR_TRY(TextLine(begin))) return Ok();
    return Fail(begin,
                "expected a table header (`name |col, ...|`), a `key: value` line, a "
                "`name {` block, a `[section]` or `---` line or a comment, found " +
                    Found(begin));
  }

  // A marker line, or a nameless `{`/`[` value at column 0 (a file that is
  // one JSON object) kept as text up to its closing bracket. False when the
  // line is neither.
  Result<bool> TextLine(size_t begin) {
    if (MarkerLine(begin)) return true;
    if (text_[begin] != '{' && text_[begin] != '[') return false;
    context_ = Context::kBlock;
    TXDIR_CHECK(SkipValue(begin));
    return true;
  }

  // `[section]` (INI style), `[[section]]` (a TOML array of tables), `---`
  // (a document separator) and a lone `name` over an indented block (`name`
  // then `  key: value` lines): kept as text, like a statement, with the
  // indented lines below them.
  bool MarkerLine(size_t begin) {
    size_t i = begin;
    if (ScanName(i)) {
      const size_t rest = SkipBlanks(i);
      if (!AtLineEnd(rest) && text_[rest] != '#') return false;
      const size_t next = NextLine(rest);
      const size_t first = SkipBlanks(next);
      if (first == next || AtLineEnd(first)) return false;  // no indented line right below
    } else if (text_[i] == '[') {
      const size_t brackets = text_.substr(i, 2) == "[[" ? 2 : 1;
      i += brackets;
      if (!ScanName(i) || text_.substr(i, brackets) != std::string_view("]]", brackets))
        return false;
      i += brackets;
    } else {
      while (i < text_.size() && text_[i] == '-') ++i;
      if (i - begin < 3) return false;
    }
    const size_t rest = SkipBlanks(i);
    if (!AtLineEnd(rest) && text_[rest] != '#') return false;
    context_ = Context::kBlock;
    pos_ = NextLine(rest);
    return true;
  }

  // NAME [':'] '|' NAME (',' NAME)* '|' then a line end, a comment or one
  // inline row. Returns false when the line is not a header at all.
  Result<bool> Header(size_t begin) {
    size_t i = begin;
    auto name = ScanName(i);
    if (!name) return false;
    i = SkipBlanks(i);
    if (i < text_.size() && text_[i] == ':' && i + 1 < text_.size() && text_[i + 1] == '|') ++i;
    if (i >= text_.size() || text_[i] != '|') return false;
    Table table;
    table.name = std::move(*name);
    std::unordered_set<std::string> seen;
    for (++i;; ++i) {
      i = SkipBlanks(i);
      const size_t at = i;
      auto column = ScanName(i);
      if (!column) return Fail(i, "expected a column name, found " + Found(i));
      if (!seen.insert(*column).second) return Fail(at, "duplicate column '" + *column + "'");
      table.columns.push_back(std::move(*column));
      i = SkipBlanks(i);
      if (i < text_.size() && text_[i] == '|') break;
      if (i >= text_.size() || text_[i] != ',')
        return Fail(i, "expected ',' or '|' in table header, found " + Found(i));
    }
    TableSpan span{table.name, table.columns, begin, ++i, false, {}};
    const size_t rest = SkipBlanks(i);
    doc_.tables.push_back(std::move(table));
    if (source_) source_->tables.push_back(std::move(span));
    context_ = Context::kTable;
    if (AtLineEnd(rest) || text_[rest] == '#') {
      pos_ = NextLine(rest);
      if (source_) source_->tables.back().header_end = pos_;
      return true;
    }
    TXDIR_CHECK(Row(i, rest));  // `point |x, y| 10, 20`
    if (!source_) return true;
    source_->tables.back().inline_row = true;
    RowSpan& row = source_->tables.back().rows.back();
    while (row.end > row.begin && (text_[row.end - 1] == '\n' || text_[row.end - 1] == '\r'))
      --row.end;  // the line end belongs to the header's line
    return true;
  }

  // `key: value`, `key:` and its indented block, `key = {..}` / `[..]`, a
  // brace block `name {` .. `}`, and typed tables `name: table{t1, t2}` (long
  // form: rows follow).
  Result<bool> Statement(size_t begin) {
    size_t i = begin;
    auto name = ScanName(i);
    if (!name) return false;
    i = SkipBlanks(i);
    if (i >= text_.size()) return false;
    size_t value = i;  // where the statement's value starts
    if (text_[i] == ':' &&
        (i + 1 >= text_.size() || IsSpace(text_[i + 1]) || text_[i + 1] == '\n')) {
      size_t t = SkipBlanks(i + 1);
      if (text_.substr(t, 5) == "table" && TXDIR_TRY(TypedTable(begin, *name, t + 5))) return true;
      value = t;
    } else if (text_[i] == '=') {
      value = SkipBlanks(i + 1);
    } else if (text_[i] != '{' || UnindentedRowFits(begin)) {
      return false;
    }
    context_ = Context::kBlock;
    TXDIR_CHECK(SkipValue(value));
    return true;
  }

  // In a table, `name {x}` may be an unindented row of it; a row that has
  // the table's number of cells stays one.
  bool UnindentedRowFits(size_t begin) const {
    if (context_ != Context::kTable) return false;
    const size_t columns = doc_.tables.back().columns.size();
    return internal::ScanRow(text_, begin, columns).cells.size() == columns;
  }

  // The change in '['/'{' nesting over [from, to): brackets inside double
  // quotes and after a comment's '#' (at a line start or after a blank) do
  // not count.
  int BracketDepth(size_t from, size_t to) const {
    int depth = 0;
    bool quoted = false;
    for (size_t k = from; k < to && text_[k] != '\n'; ++k) {
      const char c = text_[k];
      if (c == '"') quoted = !quoted;
      if (quoted) continue;
      if (c == '#' && (k == from || IsSpace(text_[k - 1]))) break;
      if (c == '[' || c == '{') ++depth;
      if (c == ']' || c == '}') --depth;
    }
    return depth;
  }

  // Moves past a statement whose value starts at `value`. A value that opens
  // '[' or '{' without closing it on its line goes on over the next lines,
  // whatever their indentation, until it closes (`key: [` .. `]` at column
  // 0). A table header inside it or the end of the text is an error: the
  // bracket is more likely stray than the table part of the value.
  Status SkipValue(size_t value) {
    pos_ = NextLine(value);
    if (value >= text_.size() || (text_[value] != '[' && text_[value] != '{')) return Ok();
    int depth = BracketDepth(value, pos_);
    while (depth > 0) {
      if (pos_ >= text_.size())
        return Fail(value, std::string("unclosed '") + text_[value] +
                               "' of a multi-line `key: [`, `key = {` or `name {` value");
      const size_t first = SkipBlanks(pos_);
      if (first == pos_ && LooksLikeHeader(first))
        return Fail(value, std::string("unclosed '") + text_[value] +
                               "' before the table header on " + internal::Position(text_, first));
      const size_t next = NextLine(first);
      if (!AtLineEnd(first) && text_[first] != '#') depth += BracketDepth(first, next);
      pos_ = next;
    }
    return Ok();
  }

  bool LooksLikeHeader(size_t i) const {
    if (!ScanName(i)) return false;
    i = SkipBlanks(i);
    if (i < text_.size() && text_[i] == ':') ++i;
    return i < text_.size() && text_[i] == '|';
  }

  // After `name: table`: '{' types '}' then a line end (rows follow) or '='
  // (the short form, kept as text). False when no '{' follows.
  Result<bool> TypedTable(size_t begin, const std::string& name, size_t i) {
    i = SkipBlanks(i);
    if (i >= text_.size() || text_[i] != '{') return false;
    size_t close = text_.find('}', i);
    size_t eol = text_.find('\n', i);
    if (close == std::string_view::npos || close > eol)
      return Fail(i, "unclosed '{' in a typed table's column types");
    Table table;
    table.name = name;
    size_t count = 1;
    for (size_t k = i + 1; k < close; ++k) count += text_[k] == ',' ? 1 : 0;
    // Typed tables have no column names; they are numbered from 1.
    for (size_t c = 1; c <= count; ++c) table.columns.push_back("_" + std::to_string(c));
    size_t rest = SkipBlanks(close + 1);
    if (rest < text_.size() && text_[rest] == '=') return false;  // short form: a statement
    if (!AtLineEnd(rest) && text_[rest] != '#')
      return Fail(rest, "expected end of line after a typed table's types, found " + Found(rest));
    pos_ = NextLine(rest);
    if (source_)
      source_->tables.push_back(TableSpan{table.name, table.columns, begin, pos_, false, {}});
    doc_.tables.push_back(std::move(table));
    context_ = Context::kTable;
    return true;
  }

  Status Row(size_t begin, size_t first) {
    Table& table = doc_.tables.back();
    internal::RowScan& scan = scan_;  // a visitor keeps no row: one buffer serves them all
    internal::ScanRow(text_, first, table.columns.size(), scan);
    if (scan.cells.size() != table.columns.size()) {
      return Fail(first, "row has " + std::to_string(scan.cells.size()) + " cells but table '" +
                             table.name + "' has " + std::to_string(table.columns.size()) +
                             " columns");
    }
    pos_ = scan.end;
    if (visit_) {
      (*visit_)(doc_.tables.size() - 1, table, RowCells(text_, scan.cells));
      return Ok();
    }
    std::vector<std::string> values;
    values.reserve(scan.cells.size());
    for (const CellSpan& cell : scan.cells) values.push_back(internal::CellValue(text_, cell));
    table.rows.push_back(std::move(values));
    source_->tables.back().rows.push_back(RowSpan{begin, scan.end, std::move(scan.cells)});
    return Ok();
  }

  internal::RowScan scan_;                    // the row being read
  std::shared_ptr<internal::Source> source_;  // null with a visitor
  std::string_view text_;
  const RowVisitor* visit_ = nullptr;
  Document doc_;
  Context context_ = Context::kNone;
  size_t pos_ = 0;
};

}  // namespace

Result<Document> Parse(std::string_view text) { return Parser(text).Run(); }

Result<Document> ScanRows(std::string_view text, const RowVisitor& visit) {
  return Parser(text, visit).Run();
}

Result<std::optional<Table>> FindRecords(std::string_view text, std::string_view table,
                                         const std::set<std::string, std::less<>>& keys) {
  // The last row with each key in each table of that name; the first such
  // table answers, once the scan has named them all.
  std::map<size_t, std::map<std::string_view, std::vector<std::string>>> last;
  size_t seen = std::string::npos;  // the table the next three describe
  bool named = false;
  size_t key_index = 0;
  // The wanted key `row` has, or null. A few keys are compared in place,
  // without building the row's key; many through the set.
  auto wanted = [&](const RowCells& row) -> const std::string* {
    if (keys.size() <= 8) {
      for (const std::string& k : keys)
        if (row.Is(key_index, k)) return &k;
      return nullptr;
    }
    auto it = keys.find(row.Value(key_index));
    return it == keys.end() ? nullptr : &*it;
  };
  auto doc = TXDIR_TRY(ScanRows(text, [&](size_t ti, const Table& t, const RowCells& row) {
    if (ti != seen) {
      seen = ti;
      named = t.name == table;
      key_index = t.KeyIndex();
    }
    if (!named || key_index >= row.size()) return;
    const std::string* key = wanted(row);
    if (key == nullptr) return;
    std::vector<std::string>& values = last[ti][*key];
    values.clear();
    for (size_t i = 0; i < row.size(); ++i) values.push_back(row.Value(i));
  }));
  for (size_t ti = 0; ti < doc.tables.size(); ++ti) {
    if (doc.tables[ti].name != table) continue;
    Table out = std::move(doc.tables[ti]);
    if (auto it = last.find(ti); it != last.end())
      for (auto& [k, values] : it->second) out.rows.push_back(std::move(values));  // key order
    return std::optional<Table>(std::move(out));
  }
  return std::optional<Table>();
}

Result<std::optional<Table>> FindRecord(std::string_view text, std::string_view table,
                                        std::string_view key) {
  return FindRecords(text, table, {std::string(key)});
}

size_t RowCells::size() const { return cells_->size(); }

std::string RowCells::Value(size_t i) const { return internal::CellValue(text_, (*cells_)[i]); }

bool RowCells::Is(size_t i, std::string_view value) const {
  return internal::CellHasValue(text_, (*cells_)[i], value);
}

int Table::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column) return static_cast<int>(i);
  return -1;
}

size_t Table::KeyIndex() const {
  int id = ColumnIndex("id");
  return id >= 0 ? static_cast<size_t>(id) : 0;
}

int Table::FindRow(std::string_view key) const {
  const size_t k = KeyIndex();
  for (size_t r = rows.size(); r-- > 0;)
    if (k < rows[r].size() && rows[r][k] == key) return static_cast<int>(r);
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
