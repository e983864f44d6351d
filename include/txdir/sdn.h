// SDN ("Simple Data Notation") table files: a lossless reader and an editing
// writer.
//
// The accepted grammar, the value of a cell, the key rule and the edit
// guarantee are in docs/sdn.md; the files we must read are described in
// ../shared/docs/sdn_format.md. In short: a file is a list of named tables
// (`name |col1, col2|` then rows of comma-separated cells), possibly with
// comments, `key: value` lines and nested blocks between them, and possibly
// sealed by a first line `#sdn-crc32:N`.
//
// What a Document holds: the tables as values (every cell a string, as the
// Simple tooling's database library reads it) and, for a parsed document, the
// text it was parsed from. Write renders the tables back into that text and
// changes only the bytes of the records whose values differ from it: an
// untouched document is written back byte for byte, whatever its quoting,
// spacing, comments, blank lines, line endings or byte-order mark.
//
// Thread safety: all functions are pure; Documents are values (the source
// text is shared, immutable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"

namespace txdir::sdn {

namespace internal {
struct Source;    // the parsed text and where each table, row and cell sits in it
struct CellSpan;  // where one cell sits in a row's text
}  // namespace internal

// One named table. Invariant (checked by Validate, guaranteed by Parse):
// `columns` is non-empty with unique valid names, and every row has exactly
// columns.size() cells.
struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  // Index of the column called `column`, or -1 when there is none.
  int ColumnIndex(std::string_view column) const;
  // The key column: `id` when the table has one, else the first column
  // (dashboard_cache's `key`, file_cache's `path`). 0 for a table without
  // columns.
  size_t KeyIndex() const;
  // The row whose key is `key`; with repeated keys the last one, as the
  // Simple tooling's index does. -1 when there is none.
  int FindRow(std::string_view key) const;

  bool operator==(const Table&) const = default;
};

// The tables of one file, in file order. Table names are usually unique, but
// a file may repeat one; both copies are kept.
struct Document {
  std::vector<Table> tables;
  // The text this document was parsed from; null for a document built in
  // memory. Copies share it; Write uses it to keep every untouched byte.
  std::shared_ptr<const internal::Source> source;

  // The first table called `name`, or nullptr.
  const Table* Find(std::string_view name) const;
  Table* Find(std::string_view name);

  // Documents are equal when their tables are; the source text is layout.
  bool operator==(const Document& other) const { return tables == other.tables; }
};

// Whether txdir treats the file at `path` as SDN tables (record diffs,
// record merges, record history, fsck's parse check): its name ends in
// ".sdn" after at least one character.
inline bool IsTablesPath(std::string_view path) {
  return path.size() > 4 && path.substr(path.size() - 4) == ".sdn";
}

// Parses `text`. An empty or comment-only text is a Document with no tables.
// Errors: kInvalidArgument when the text is not SDN; the message starts with
// "line L, column C: " (1-based; columns count UTF-8 characters).
Result<Document> Parse(std::string_view text);

// One row as ScanRows reads it: its cells, each value built only when asked.
// Valid only during the visitor's call.
class RowCells {
 public:
  RowCells(std::string_view text, const std::vector<internal::CellSpan>& cells)
      : text_(text), cells_(&cells) {}
  size_t size() const;                // the table's column count
  std::string Value(size_t i) const;  // as Parse reads it. REQUIRES: i < size()
  // Value(i) == value, without building the value. REQUIRES: i < size()
  bool Is(size_t i, std::string_view value) const;

 private:
  std::string_view text_;
  const std::vector<internal::CellSpan>* cells_;
};
// Called for each row in file order with its table: its index in the
// returned Document and the table itself (name and columns; no rows).
using RowVisitor = std::function<void(size_t table_index, const Table& table, const RowCells& row)>;

// Reads `text` with Parse's grammar and errors, but hands each row to `visit`
// instead of keeping it, and keeps no copy of the text. Returns the tables
// with their names and columns and no rows; the result has no source, so
// Write renders it as new. For readers that only count or pick cells, over
// many versions (the web view's trends): it allocates nothing per row but
// what `visit` asks for.
Result<Document> ScanRows(std::string_view text, const RowVisitor& visit);

// One record of `text` without parsing the rest into a Document: the first
// table called `table` (as Document::Find) with its columns and, as its only
// row, the record whose key is `key` (as Table::FindRow: with repeated keys
// the last one), or no row when it has none. nullopt when there is no such
// table. Reads with ScanRows, so the errors are Parse's, and it allocates
// little more than the record: for a process that reads one record of a
// large table, e.g. before it edits it. Like Parse it does not check a seal
// line (LoadRecordDocument does).
Result<std::optional<Table>> FindRecord(std::string_view text, std::string_view table,
                                        std::string_view key);
// Several records in one scan: as FindRecord, with as rows the record of
// each of `keys` that the table has (the last row with that key), in key
// order. For a process that checks a few records of a large table, e.g.
// whether they changed since an older version.
Result<std::optional<Table>> FindRecords(std::string_view text, std::string_view table,
                                         const std::set<std::string, std::less<>>& keys);

// Checks the invariants Write relies on: table and column names match
// NAME (see docs/sdn.md), each table has at least one column, column names are
// unique within a table, every row has one cell per column.
// Errors: kInvalidArgument naming the table and what is wrong.
Status Validate(const Document& doc);

// The text of `doc`.
// - A parsed document (source set): the source text with only the records
//   whose values changed re-rendered (cells whose value did not change keep
//   their bytes), inserted records in their neighbours' style and deleted
//   records' lines removed; a seal line is recomputed when anything changed.
//   Tables are matched to the source by name and occurrence; a table not in
//   the source is appended in the form below.
// - A built document: every table as `name |a, b|` and rows indented four
//   spaces, cells joined by ", ", quoted only where EncodeCell quotes.
// REQUIRES: Validate(doc) succeeds. Then Parse(Write(doc)) == doc.
std::string Write(const Document& doc);

// One cell as txdir writes a new value: bare unless the value is empty or
// would not read back as itself (a ',' or '"', a line break, white space at
// either end, or a first character '#', '{' or '['); quoted values double
// their '"' characters. No other escapes: the Simple tooling's database
// library does not decode any.
std::string EncodeCell(std::string_view value);

// True when `name` may be used as a table or column name.
bool IsValidName(std::string_view name);

// The seal: a file whose first line is `#sdn-crc32:N` is sealed; N is the
// CRC-32 (ISO-HDLC, as zlib's crc32) of every byte after that line's '\n',
// in unsigned decimal.
bool IsSealed(std::string_view text);
// Ok for an unsealed file or a seal that matches its body.
// Errors: kCorruption when the seal is unreadable or does not match.
Status VerifySeal(std::string_view text);
// `text` with its seal line's number recomputed; an unsealed text unchanged.
std::string Reseal(std::string_view text);
// CRC-32 (ISO-HDLC) of `bytes`.
uint32_t Crc32(std::string_view bytes);

}  // namespace txdir::sdn
