// Write for a parsed document: the source text with only the changed records'
// bytes replaced (docs/sdn.md, "The edit guarantee").
#include <algorithm>
#include <map>
#include <unordered_map>

#include "sdn_source.h"
#include "txdir/sdn.h"

namespace txdir::sdn::internal {
namespace {

// Replace text[begin, end) by `text`; begin == end inserts.
struct Edit {
  size_t begin = 0;
  size_t end = 0;
  std::string text;
};

// How a new row is spelled: taken from a neighbouring row of the file.
struct RowStyle {
  std::string indent = "    ";
  std::string sep = ", ";
  std::string eol = "\n";
  std::vector<bool> quoted;  // per column
};

std::string_view LineEndBefore(std::string_view text, size_t end) {
  if (end == 0 || text[end - 1] != '\n') return {};
  return end >= 2 && text[end - 2] == '\r' ? "\r\n" : "\n";
}

// The line end the file uses first ("\n" when it has none).
std::string FileEol(std::string_view text) {
  size_t nl = text.find('\n');
  return nl != std::string_view::npos && nl > 0 && text[nl - 1] == '\r' ? "\r\n" : "\n";
}

RowStyle StyleOf(std::string_view text, const TableSpan& table, const RowSpan* row,
                 const std::string& eol) {
  RowStyle style;
  style.eol = eol;
  if (row == nullptr) return style;
  if (!table.inline_row) {
    style.indent = std::string(text.substr(row->begin, row->cells[0].begin - row->begin));
    if (auto own = LineEndBefore(text, row->end); !own.empty()) style.eol = own;
  }
  if (row->cells.size() >= 2) {
    std::string_view sep = text.substr(row->cells[0].end, row->cells[1].begin - row->cells[0].end);
    if (sep.find(',') != std::string_view::npos) style.sep = std::string(sep);
  }
  for (const CellSpan& cell : row->cells) style.quoted.push_back(QuotedByChoice(text, cell));
  return style;
}

std::string RenderNewRow(const RowStyle& style, const std::vector<std::string>& values,
                         size_t columns) {
  std::string out = style.indent;
  for (size_t c = 0; c < columns; ++c) {
    if (c > 0) out += style.sep;
    bool quoted = c < style.quoted.size() && style.quoted[c];
    out += EncodeLike(c < values.size() ? values[c] : std::string(), quoted, columns == 1);
  }
  return out + style.eol;
}

// Whether the file's writer quotes column `c`, judged by a neighbouring row
// (a row's own cell may be quoted only because an earlier value needed it,
// and a restored value must read back to the original spelling).
bool ColumnQuoted(std::string_view text, const TableSpan& table, size_t r, size_t c) {
  const RowSpan& ref = table.rows.size() < 2 ? table.rows[r]
                       : r > 0               ? table.rows[r - 1]
                                             : table.rows[r + 1];
  return c < ref.cells.size() && QuotedByChoice(text, ref.cells[c]);
}

// Whether the nearest other row whose cell in column `c` holds a '"' has it
// bare (`say "hi" twice`, as the later Simple writers leave it) rather than
// quoted (`"He said ""no"""`): how this file spells such values. False when
// no row shows it.
bool QuotesStayBare(std::string_view text, const TableSpan& table, size_t r, size_t c) {
  for (size_t d = 1; d < table.rows.size(); ++d) {
    for (size_t n : {r - d, r + d}) {  // r - d wraps past 0 to a huge index
      if (n >= table.rows.size() || c >= table.rows[n].cells.size()) continue;
      const CellSpan& cell = table.rows[n].cells[c];
      if (CellValue(text, cell).find('"') != std::string::npos) return !cell.quoted;
    }
  }
  return false;
}

// A value NeedsQuotes quotes that a file may still hold bare: one that starts
// with '[' or '{' without being one bracketed token (`[-W`, a log pattern), or
// one holding '"' where the column's other such values are bare. A value set
// back must get those bare bytes back; RenderChanged keeps it bare only when
// the record still splits into exactly its values.
bool MayStayBare(std::string_view text, const TableSpan& table, size_t r, size_t c,
                 std::string_view value) {
  if (value.empty() || value.find_first_of("\n\r") != std::string_view::npos ||
      IsSpace(value.front()) || IsSpace(value.back()) || value[0] == '#')
    return false;
  if (value.find('"') != std::string_view::npos) return QuotesStayBare(text, table, r, c);
  return value[0] == '[' || value[0] == '{';
}

// The row with only the cells whose value changed re-spelled; with
// `bare_brackets`, MayStayBare values in a bare column are left bare and
// `used_bare` says whether any was.
std::string RenderCells(std::string_view text, const TableSpan& table, size_t r,
                        const std::vector<std::string>& values, bool bare_brackets,
                        bool& used_bare) {
  const RowSpan& row = table.rows[r];
  std::string out;
  size_t cursor = row.begin;
  for (size_t c = 0; c < row.cells.size(); ++c) {
    const CellSpan& cell = row.cells[c];
    std::string_view value = c < values.size() ? std::string_view(values[c]) : "";
    if (CellHasValue(text, cell, value)) continue;
    out += text.substr(cursor, cell.begin - cursor);
    const bool quoted = ColumnQuoted(text, table, r, c);
    if (bare_brackets && !quoted && NeedsQuotes(value) && MayStayBare(text, table, r, c, value)) {
      out += value;
      used_bare = true;
    } else {
      out += EncodeLike(value, quoted, row.cells.size() == 1);
    }
    cursor = cell.end;
  }
  out += text.substr(cursor, row.end - cursor);
  return out;
}

// The changed row; MayStayBare values stay bare when the row still splits
// into exactly its values as Simple's database library splits it (commas
// outside double quotes), else they are quoted.
std::string RenderChanged(std::string_view text, const TableSpan& table, size_t r,
                          const std::vector<std::string>& values) {
  bool used_bare = false;
  std::string out = RenderCells(text, table, r, values, /*bare_brackets=*/true, used_bare);
  if (!used_bare || SplitsInto(out, values)) return out;
  return RenderCells(text, table, r, values, /*bare_brackets=*/false, used_bare);
}

bool RowHasValues(std::string_view text, const RowSpan& row,
                  const std::vector<std::string>& values) {
  if (values.size() != row.cells.size()) return false;
  for (size_t c = 0; c < values.size(); ++c)
    if (!CellHasValue(text, row.cells[c], values[c])) return false;
  return true;
}

// Where a row inserted after `row` goes: after its line (an inline row's line
// end is not part of its span).
size_t AfterRow(std::string_view text, const TableSpan& table, const RowSpan& row) {
  if (!table.inline_row) return row.end;
  size_t nl = text.find('\n', row.end);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

class TableEditor {
 public:
  TableEditor(std::string_view text, const TableSpan& span, const Table& table, std::string eol,
              std::vector<Edit>& edits)
      : text_(text), span_(span), table_(table), eol_(std::move(eol)), edits_(edits) {}

  void Run() {
    const bool same_columns = table_.columns == span_.columns;
    if (!same_columns) ReplaceHeader();
    if (same_columns && RowsInPlace()) {  // the common case: edits only, no map needed
      for (size_t r = 0; r < span_.rows.size(); ++r) UpdateRow(r, table_.rows[r], true);
      return;
    }
    IndexSourceRows();
    std::vector<bool> used(span_.rows.size(), false);
    std::unordered_map<std::string, size_t> seen;  // key -> occurrences so far
    size_t insert_at = span_.header_end;
    const RowSpan* style_row = span_.rows.empty() ? nullptr : &span_.rows.front();
    for (const auto& values : table_.rows) {
      const size_t k = table_.KeyIndex();
      std::string key = k < values.size() ? values[k] : std::string();
      size_t occurrence = seen[key]++;
      auto it = by_key_.find(key);
      if (it != by_key_.end() && occurrence < it->second.size()) {
        const size_t r = it->second[occurrence];
        used[r] = true;
        UpdateRow(r, values, same_columns);
        insert_at = AfterRow(text_, span_, span_.rows[r]);
        style_row = &span_.rows[r];
        continue;
      }
      Insert(insert_at, RenderNewRow(NewRowStyle(style_row), values, table_.columns.size()));
    }
    for (size_t r = 0; r < span_.rows.size(); ++r)
      if (!used[r]) edits_.push_back(Edit{span_.rows[r].begin, span_.rows[r].end, {}});
  }

 private:
  // True when row r of the document has the key of source row r, for every
  // r: matching by position then equals matching by key and occurrence.
  bool RowsInPlace() const {
    if (table_.rows.size() != span_.rows.size()) return false;
    const size_t k = table_.KeyIndex();
    for (size_t r = 0; r < span_.rows.size(); ++r) {
      if (k >= table_.rows[r].size() ||
          !CellHasValue(text_, span_.rows[r].cells[k], table_.rows[r][k]))
        return false;
    }
    return true;
  }

  // Source rows by the value of the document's key column (matched by name,
  // so a schema change keeps the matching).
  void IndexSourceRows() {
    const std::string& key_name =
        table_.columns.empty() ? std::string() : table_.columns[table_.KeyIndex()];
    auto pos = std::find(span_.columns.begin(), span_.columns.end(), key_name);
    const size_t k =
        pos == span_.columns.end() ? 0 : static_cast<size_t>(pos - span_.columns.begin());
    for (size_t r = 0; r < span_.rows.size(); ++r)
      by_key_[CellValue(text_, span_.rows[r].cells[k])].push_back(r);
  }

  void UpdateRow(size_t r, const std::vector<std::string>& values, bool same_columns) {
    const RowSpan& row = span_.rows[r];
    if (same_columns) {
      if (!RowHasValues(text_, row, values))
        edits_.push_back(Edit{row.begin, row.end, RenderChanged(text_, span_, r, values)});
      return;
    }
    // New columns: every cell in its column's old spelling where the value is
    // unchanged, between the row's own indentation and line end.
    RowStyle style = StyleOf(text_, span_, &row, eol_);
    std::string out(text_.substr(row.begin, row.cells.front().begin - row.begin));
    for (size_t c = 0; c < table_.columns.size(); ++c) {
      if (c > 0) out += style.sep;
      auto old = std::find(span_.columns.begin(), span_.columns.end(), table_.columns[c]);
      std::string_view value = c < values.size() ? std::string_view(values[c]) : "";
      if (old != span_.columns.end()) {
        const CellSpan& cell = row.cells[static_cast<size_t>(old - span_.columns.begin())];
        if (CellHasValue(text_, cell, value)) {
          out += text_.substr(cell.begin, cell.end - cell.begin);
          continue;
        }
        out += EncodeLike(value, QuotedByChoice(text_, cell), table_.columns.size() == 1);
        continue;
      }
      out += EncodeLike(value, false, table_.columns.size() == 1);
    }
    out += text_.substr(row.cells.back().end, row.end - row.cells.back().end);
    edits_.push_back(Edit{row.begin, row.end, std::move(out)});
  }

  void ReplaceHeader() {
    std::string header = table_.name + " |";
    for (size_t i = 0; i < table_.columns.size(); ++i)
      header += (i > 0 ? ", " : "") + table_.columns[i];
    header += '|';
    if (!span_.inline_row) {
      std::string_view own = LineEndBefore(text_, span_.header_end);
      header += own.empty() ? std::string_view(eol_) : own;
    }
    edits_.push_back(Edit{span_.header_begin, span_.header_end, std::move(header)});
  }

  RowStyle NewRowStyle(const RowSpan* style_row) const {
    RowStyle style = StyleOf(text_, span_, style_row, eol_);
    if (table_.columns != span_.columns) style.quoted.clear();
    return style;
  }

  void Insert(size_t at, std::string row) {
    // A last line without a line end gets one before the new row, which then
    // ends the file the same way: without one.
    if (at > 0 && at == text_.size() && text_[at - 1] != '\n') {
      row.erase(row.size() - eol_.size());
      row.insert(0, eol_);
    }
    edits_.push_back(Edit{at, at, std::move(row)});
  }

  std::string_view text_;
  const TableSpan& span_;
  const Table& table_;
  std::string eol_;
  std::vector<Edit>& edits_;
  std::unordered_map<std::string, std::vector<size_t>> by_key_;
};

// Where a removed table's bytes end.
size_t TableEnd(std::string_view text, const TableSpan& table) {
  if (table.rows.empty()) return table.header_end;
  return AfterRow(text, table, table.rows.back());
}

std::string Apply(std::string_view text, std::vector<Edit>& edits) {
  // By position; an insertion before a replacement that starts where it is.
  std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.begin == a.end && b.begin != b.end;
  });
  std::string out;
  out.reserve(text.size() + 256);
  size_t cursor = 0;
  for (const Edit& e : edits) {
    out += text.substr(cursor, e.begin - cursor);
    out += e.text;
    cursor = e.end;
  }
  out += text.substr(cursor);
  return out;
}

}  // namespace

std::string WriteEdited(const Document& doc, const Source& source) {
  const std::string_view text = source.text;
  const std::string eol = FileEol(text);
  std::vector<Edit> edits;
  std::string appended;
  std::map<std::pair<std::string, int>, size_t> by_name;  // (name, occurrence) -> source table
  std::map<std::string, int> count;
  for (size_t j = 0; j < source.tables.size(); ++j)
    by_name[{source.tables[j].name, count[source.tables[j].name]++}] = j;
  std::vector<bool> used(source.tables.size(), false);
  count.clear();
  for (const Table& table : doc.tables) {
    auto it = by_name.find({table.name, count[table.name]++});
    if (it == by_name.end()) {
      appended += eol + RenderTable(table, eol);
      continue;
    }
    used[it->second] = true;
    TableEditor(text, source.tables[it->second], table, eol, edits).Run();
  }
  for (size_t j = 0; j < source.tables.size(); ++j)
    if (!used[j])
      edits.push_back(Edit{source.tables[j].header_begin, TableEnd(text, source.tables[j]), {}});
  if (edits.empty() && appended.empty()) return source.text;
  std::string out = Apply(text, edits);
  // A file whose last line had no line end keeps none when its last record
  // or table is removed (the line end before it would otherwise become the
  // last bytes), so that deleting a record inserted at the end restores it.
  if (!text.empty() && text.back() != '\n' && !out.empty() && out.back() == '\n') {
    out.pop_back();
    if (!out.empty() && out.back() == '\r') out.pop_back();
  }
  if (!appended.empty()) {
    if (out.empty()) {
      appended.erase(0, eol.size());  // no blank line before the first table
    } else if (out.back() != '\n') {
      out += eol;
    }
    out += appended;
  }
  return source.sealed ? Reseal(out) : out;
}

}  // namespace txdir::sdn::internal
