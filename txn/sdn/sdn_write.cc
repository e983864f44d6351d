// The canonical SDN writer (docs/sdn.md, "Canonical form").
#include <unordered_set>

#include "sdn_scan.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

// A value may be written bare only when the reader gives it back unchanged and
// the reference reader of the Simple tooling reads it too: an ASCII word that
// starts with a letter or '_', has no '#' (a comment to some readers) or ':',
// and is not the keyword null/nil (read as ""). true/false read back as
// themselves, so they stay bare.
bool CanBeBare(std::string_view value) {
  if (value.empty() || value == "null" || value == "nil") return false;
  auto c0 = static_cast<unsigned char>(value[0]);
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_')) return false;
  for (unsigned char c : value) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '/' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendRow(std::string& out, const Table& table, const std::vector<std::string>& row) {
  out += "    ";
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += EncodeCell(i < row.size() ? std::string_view(row[i]) : std::string_view());
  }
  out += '\n';
}

Status Invalid(const Table& table, const std::string& what) {
  return MakeError(Code::kInvalidArgument, "table '" + table.name + "': " + what);
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || !internal::IsNameStart(name[0])) return false;
  if (internal::StartsWithBom(name)) return false;
  for (unsigned char c : name)
    if (!internal::IsNameChar(c)) return false;
  return true;
}

std::string EncodeCell(std::string_view value) {
  if (CanBeBare(value)) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      // \r and \t are escaped too, so that line-ending conversion or an
      // editor cannot change a value silently.
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
        break;
    }
  }
  out += '"';
  return out;
}

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
  std::string out;
  for (size_t t = 0; t < doc.tables.size(); ++t) {
    const Table& table = doc.tables[t];
    if (t > 0) out += '\n';  // a blank line between tables, for people reading the file
    out += table.name;
    out += " |";
    for (size_t i = 0; i < table.columns.size(); ++i) {
      if (i > 0) out += ", ";
      out += table.columns[i];
    }
    out += "|\n";
    for (const auto& row : table.rows) AppendRow(out, table, row);
  }
  return out;
}

}  // namespace txdir::sdn
