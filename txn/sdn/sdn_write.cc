// Writing tables that have no source text, and the encoding of a new cell.
#include <unordered_set>

#include "sdn_source.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace internal {
namespace {

// A dict or array written bare: brackets that close exactly at the end, no
// quotes or line breaks. The reader takes it whole, commas and all.
bool IsWholeBracketed(std::string_view value) {
  if (value.find_first_of("\"\n\r") != std::string_view::npos) return false;
  int depth = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '{' || value[i] == '[') ++depth;
    if ((value[i] == '}' || value[i] == ']') && --depth == 0) return i + 1 == value.size();
  }
  return false;
}

}  // namespace

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  const char first = value.front(), last = value.back();
  if (first == '{' || first == '[') return !IsWholeBracketed(value);
  if (first == '#') return true;
  if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return true;
  return value.find_first_of(",\"\n\r") != std::string_view::npos;
}

}  // namespace internal

namespace {

using internal::NeedsQuotes;

std::string Quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    out += c;
    if (c == '"') out += '"';  // doubled, as the newer Simple writers do
  }
  out += '"';
  return out;
}

Status Invalid(const Table& table, const std::string& what) {
  return MakeError(Code::kInvalidArgument, "table '" + table.name + "': " + what);
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || !internal::IsNameStart(name[0])) return false;
  if (name.substr(0, 3) == internal::kByteOrderMark) return false;
  for (unsigned char c : name)
    if (!internal::IsNameChar(c)) return false;
  return true;
}

std::string EncodeCell(std::string_view value) {
  return NeedsQuotes(value) ? Quote(value) : std::string(value);
}

namespace internal {

std::string EncodeLike(std::string_view value, bool quoted_style, bool lone_column) {
  if (quoted_style || (value.empty() && lone_column)) return Quote(value);
  if (value.empty()) return std::string();
  return EncodeCell(value);
}

std::string RenderTable(const Table& table, std::string_view eol) {
  std::string out = table.name + " |";
  for (size_t i = 0; i < table.columns.size(); ++i) out += (i > 0 ? ", " : "") + table.columns[i];
  out += '|';
  out += eol;
  const bool lone = table.columns.size() == 1;
  for (const auto& row : table.rows) {
    out += "    ";
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (i > 0) out += ", ";
      // Built tables quote empty values: `a, "", b` reads the same and shows intent.
      out += EncodeLike(i < row.size() ? std::string_view(row[i]) : std::string_view(), false,
                        lone || i >= row.size() || row[i].empty());
    }
    out += eol;
  }
  return out;
}

}  // namespace internal

Status Validate(const Document& doc) {
  for (const Table& table : doc.tables) {
    if (!IsValidName(table.name)) return Invalid(table, "not a valid table name");
    if (table.columns.empty()) return Invalid(table, "no columns");
    std::unordered_set<std::string_view> seen;
    for (const std::string& column : table.columns) {
      if (!IsValidName(column))
        return Invalid(table, "column '" + column + "' is not a valid name");
      if (!seen.insert(column).second) return Invalid(table, "duplicate column '" + column + "'");
    }
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (table.rows[r].size() != table.columns.size()) {
        return Invalid(table, "row " + std::to_string(r) + " has " +
                                  std::to_string(table.rows[r].size()) + " cells, expected " +
                                  std::to_string(table.columns.size()));
      }
    }
  }
  return Ok();
}

std::string Write(const Document& doc) {
  if (doc.source) return internal::WriteEdited(doc, *doc.source);
  std::string out;
  for (size_t t = 0; t < doc.tables.size(); ++t) {
    if (t > 0) out += '\n';  // a blank line between tables, for people reading the file
    out += internal::RenderTable(doc.tables[t], "\n");
  }
  return out;
}

}  // namespace txdir::sdn
