// SDN ("Simple Data Notation") table files: parse and canonical write.
//
// The grammar, the canonical form and every decision taken on ambiguous input
// are in docs/sdn.md; the files we must read are described in
// ../shared/docs/sdn_format.md. In short: a file is a list of named tables,
// each a header `name |col1, col2|` at column 0 followed by indented rows of
// comma-separated cells. Every cell is loaded as a string (null -> "",
// booleans -> "true"/"false", numbers -> decimal text), as the reference
// loaders do.
//
// What a Document keeps: table order, table names, column order and every
// cell, so a program that edits one table can write back the others (and
// columns it does not know) unchanged. Comments, blank lines, quoting style
// and the original spelling of numbers are not kept.
//
// Thread safety: all functions are pure; Documents are plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"

namespace txdir::sdn {

// One named table. Invariant (checked by Validate, guaranteed by Parse):
// `columns` is non-empty with unique valid names, and every row has exactly
// columns.size() cells.
struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  // Index of the column called `column`, or -1 when there is none.
  int ColumnIndex(std::string_view column) const;

  bool operator==(const Table&) const = default;
};

// The tables of one file, in file order. Table names are usually unique, but
// a file may repeat one; both copies are kept.
struct Document {
  std::vector<Table> tables;

  // The first table called `name`, or nullptr.
  const Table* Find(std::string_view name) const;
  Table* Find(std::string_view name);

  bool operator==(const Document&) const = default;
};

struct ParseOptions {
  // Accept the output of the Simple tooling's later writer: when a row is not
  // valid SDN but splitting its line on every comma gives exactly the
  // header's number of cells, each piece is taken as one cell (a piece that
  // is a single SDN token is decoded as that token, any other piece is its
  // trimmed text verbatim; a piece containing '"' must be one quoted string).
  // Also accepts the `name:|a, b|` header a generic writer emitted.
  bool lenient = false;

  // The reference lexer drops a leading "./" from a bare word, so the Simple
  // tools read the todo writer's `./src/x.rs` as "src/x.rs". By default we do
  // the same, so a txdir round trip does not change what those tools see.
  // Set this to read the word exactly as written ("./src/x.rs").
  bool keep_dot_slash = false;
};

// Parses `text` into a Document. An empty or comment-only text is a Document
// with no tables.
// Errors: kInvalidArgument when the text is not SDN; the message starts with
// "line L, column C: " (1-based; columns count UTF-8 characters).
Result<Document> Parse(std::string_view text, const ParseOptions& options = {});

// Checks the invariants Write relies on: table and column names match
// NAME (see docs/sdn.md), each table has at least one column, column names are
// unique within a table, every row has one cell per column.
// Errors: kInvalidArgument naming the table and what is wrong.
Status Validate(const Document& doc);

// The canonical text of `doc` (docs/sdn.md, "Canonical form").
// REQUIRES: Validate(doc) succeeds. Then Parse(Write(doc)) == doc, with or
// without lenient mode. (A short row is written padded with empty cells and
// a long one truncated, so the output always parses.)
std::string Write(const Document& doc);

// One cell as the canonical writer spells it: bare when the value is a plain
// ASCII word that reads back as itself, otherwise quoted with `\\`, `\"`,
// `\n`, `\r` and `\t` escaped.
std::string EncodeCell(std::string_view value);

// True when `name` may be used as a table or column name.
bool IsValidName(std::string_view name);

}  // namespace txdir::sdn
