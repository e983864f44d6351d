// Properties of the reader and writer: a built document reads back as itself
// (cells with quotes, backslashes, commas, newlines, keywords, numbers and
// unicode); a random file in the Simple tooling's styles is written back byte
// for byte; and random edits change only the edited records' lines.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <utility>

#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

// Pieces that stress the writer's quoting: each is a hazard on its own.
const std::vector<std::string> kHazards = {"\"",
                                           "\\",
                                           ",",
                                           "\n",
                                           "\r",
                                           "\t",
                                           " ",
                                           "#",
                                           ":",
                                           "|",
                                           "./",
                                           "null",
                                           "nil",
                                           "true",
                                           "false",
                                           "-",
                                           "1_0",
                                           "0.5",
                                           "1e3",
                                           "007",
                                           "\xC3\xA9",
                                           "\xE2\x80\x94",
                                           "\xF0\x9F\x99\x82",
                                           "\\n",
                                           "\\\"",
                                           "a",
                                           "Z",
                                           "_",
                                           "/",
                                           ".",
                                           "'",
                                           std::string("\0", 1)};

rc::Gen<std::string> GenCell() {
  return rc::gen::oneOf(
      // Runs of hazards.
      rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kHazards)),
                   [](const std::vector<std::string>& parts) {
                     std::string s;
                     for (const auto& p : parts) s += p;
                     return s;
                   }),
      // Arbitrary bytes, including invalid UTF-8.
      rc::gen::arbitrary<std::string>(),
      // Plain words the writer leaves bare.
      rc::gen::map(rc::gen::nonEmpty(rc::gen::container<std::string>(
                       rc::gen::elementOf(std::string("abcXYZ_-/.019")))),
                   [](std::string s) { return "w" + s; }));
}

rc::Gen<std::string> GenName() {
  return rc::gen::apply(
      [](char first, std::string rest) { return std::string(1, first) + rest; },
      rc::gen::elementOf(std::string("abcxyzABC_")),
      rc::gen::container<std::string>(rc::gen::elementOf(std::string("abz09_.-"))));
}

rc::Gen<Table> GenTable() {
  auto columns = rc::gen::suchThat(rc::gen::unique<std::vector<std::string>>(GenName()),
                                   [](const auto& c) { return !c.empty() && c.size() <= 6; });
  return rc::gen::mapcat(columns, [](std::vector<std::string> cols) {
    // Small tables, many runs: size is spent on the cells, not on row count.
    auto rows = rc::gen::mapcat(rc::gen::inRange<size_t>(0, 8), [width = cols.size()](size_t n) {
      return rc::gen::container<std::vector<std::vector<std::string>>>(
          n, rc::gen::container<std::vector<std::string>>(width, GenCell()));
    });
    return rc::gen::apply(
        [cols](std::string name, std::vector<std::vector<std::string>> r) {
          return Table{std::move(name), cols, std::move(r)};
        },
        GenName(), rows);
  });
}

rc::Gen<Document> GenDocument() {
  return rc::gen::mapcat(rc::gen::inRange<size_t>(0, 5), [](size_t n) {
    return rc::gen::map(rc::gen::container<std::vector<Table>>(n, GenTable()),
                        [](std::vector<Table> tables) {
                          return Document{std::move(tables), nullptr};
                        });
  });
}

RC_GTEST_PROP(SdnRoundTrip, ParseOfWriteIsIdentity, ()) {
  Document doc = *GenDocument();
  RC_PRE(Validate(doc).has_value());
  std::string text = Write(doc);
  auto back = Parse(text);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == doc);
  RC_ASSERT(Write(*back) == text);  // untouched: the same bytes
}

RC_GTEST_PROP(SdnRoundTrip, SingleCellSurvives, ()) {
  std::string cell = *GenCell();
  Document doc{{Table{"t", {"v"}, {{cell}}}}, nullptr};
  auto back = Parse(Write(doc));
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->tables.at(0).rows.at(0).at(0) == cell);
}

// --- Files in the Simple tooling's styles.

// How one file spells its rows: the writers differ in indentation, the
// space after commas, quoting and line ends.
struct Style {
  std::string indent;
  std::string sep;
  std::string eol;
  bool quote_all;  // the dashboard writer quotes every string
};

rc::Gen<Style> GenStyle() {
  return rc::gen::construct<Style>(rc::gen::element<std::string>("    ", "\t", "        ", ""),
                                   rc::gen::element<std::string>(", ", ",", " , "),
                                   rc::gen::element<std::string>("\n", "\r\n"),
                                   rc::gen::arbitrary<bool>());
}

// A value as Simple's writers leave it: words, numbers as written, dates,
// paths, text with spaces, commas or doubled quotes.
rc::Gen<std::string> GenSimpleValue() {
  return rc::gen::element<std::string>(
      "open", "85.50", "2026-09-06", "2026-08-05_wm_x", "/home/u/x.spl", "./src/a.rs",
      "Cranelift Backend", "a, b", "say \"hi\"", "", "nil", "true", "[x, y]", "{k: v}", "C:\\dir");
}

std::string Spell(const Style& style, const std::string& value) {
  return style.quote_all && !value.empty() && value[0] != '[' && value[0] != '{'
             ? "\"" +
                   [&] {
                     std::string q;
                     for (char c : value) q += c == '"' ? std::string("\"\"") : std::string(1, c);
                     return q;
                   }() +
                   "\""
         : EncodeCell(value) == "\"\"" ? std::string()
                                       : EncodeCell(value);
}

// A table of `rows` records keyed k0, k1, ... in `style`, with comments and
// blank lines between records and a key: value line before it.
std::string GenFileText(const Style& style, size_t rows, size_t columns) {
  std::string text = "#sdn-crc32:0" + style.eol + "run_id: 2026-08-05_wm_x" + style.eol;
  text += "t |id";
  for (size_t c = 1; c < columns; ++c) text += ", c" + std::to_string(c);
  text += "|" + style.eol;
  for (size_t r = 0; r < rows; ++r) {
    if (*rc::gen::inRange(0, 6) == 0) text += style.indent + "# note" + style.eol;
    if (*rc::gen::inRange(0, 8) == 0) text += style.eol;
    text += style.indent + "k" + std::to_string(r);
    for (size_t c = 1; c < columns; ++c) text += style.sep + Spell(style, *GenSimpleValue());
    text += style.eol;
  }
  return Reseal(text);
}

RC_GTEST_PROP(SdnRoundTrip, SimpleStyledFilesAreWrittenBackByteForByte, ()) {
  Style style = *GenStyle();
  std::string text =
      GenFileText(style, *rc::gen::inRange<size_t>(0, 12), *rc::gen::inRange<size_t>(2, 6));
  auto doc = Parse(text);
  RC_ASSERT(doc.has_value());
  RC_ASSERT(Write(*doc) == text);
  RC_ASSERT(VerifySeal(text).has_value());
}

// The lines of `text` that are not records with a key in `keys`.
std::vector<std::string> OtherLines(const std::string& text, const std::set<std::string>& keys) {
  std::vector<std::string> out;
  size_t begin = 0;
  bool first = true;
  while (begin < text.size()) {
    size_t nl = text.find('\n', begin);
    std::string line = text.substr(begin, nl == std::string::npos ? nl : nl - begin);
    begin = nl == std::string::npos ? text.size() : nl + 1;
    if (std::exchange(first, false)) continue;  // the seal line changes with every edit
    size_t k = line.find_first_not_of(" \t");
    size_t end = k == std::string::npos ? k : line.find_first_of(", \r", k);
    if (k != std::string::npos && keys.count(line.substr(k, end - k))) continue;
    out.push_back(line);
  }
  return out;
}

RC_GTEST_PROP(SdnRoundTrip, RandomEditsChangeOnlyTheEditedRecordsLines, ()) {
  Style style = *GenStyle();
  const size_t columns = *rc::gen::inRange<size_t>(2, 5);
  std::string text = GenFileText(style, *rc::gen::inRange<size_t>(1, 10), columns);
  Document doc = *Parse(text);
  std::set<std::string> touched;
  const int edits = *rc::gen::inRange(1, 6);
  for (int e = 0; e < edits; ++e) {
    Table& t = doc.tables.at(0);
    const int op = *rc::gen::inRange(0, 3);
    if (op == 0 && !t.rows.empty()) {  // set
      auto& row = t.rows[*rc::gen::inRange<size_t>(0, t.rows.size())];
      row[*rc::gen::inRange<size_t>(1, columns)] = *GenSimpleValue();
      touched.insert(row[0]);
    } else if (op == 1 && !t.rows.empty()) {  // delete
      size_t r = *rc::gen::inRange<size_t>(0, t.rows.size());
      touched.insert(t.rows[r][0]);
      t.rows.erase(t.rows.begin() + static_cast<std::ptrdiff_t>(r));
    } else {  // insert
      std::vector<std::string> row(columns, *GenSimpleValue());
      row[0] = "n" + std::to_string(e);
      touched.insert(row[0]);
      t.rows.push_back(row);
    }
  }
  std::string out = Write(doc);
  auto back = Parse(out);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == doc);
  RC_ASSERT(OtherLines(out, touched) == OtherLines(text, touched));
  RC_ASSERT(VerifySeal(out).has_value());
}

}  // namespace
}  // namespace txdir::sdn
