// Property: Parse(Write(d)) == d for every valid document, including cells
// with quotes, backslashes, commas, newlines, keywords, numbers and unicode.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

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
                        [](std::vector<Table> tables) { return Document{std::move(tables)}; });
  });
}

RC_GTEST_PROP(SdnRoundTrip, ParseOfWriteIsIdentity, ()) {
  Document doc = *GenDocument();
  RC_PRE(Validate(doc).has_value());
  std::string text = Write(doc);
  for (bool lenient : {false, true}) {
    ParseOptions options;
    options.lenient = lenient;
    auto back = Parse(text, options);
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == doc);
  }
  // The canonical form is a fixed point.
  RC_ASSERT(Write(*Parse(text)) == text);
}

RC_GTEST_PROP(SdnRoundTrip, SingleCellSurvives, ()) {
  std::string cell = *GenCell();
  Document doc{{Table{"t", {"v"}, {{cell}}}}};
  auto back = Parse(Write(doc));
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->tables.at(0).rows.at(0).at(0) == cell);
}

// Writing bare is safe only for values the reader gives back unchanged; the
// writer must never emit the "./" form the reference lexer would alter.
RC_GTEST_PROP(SdnRoundTrip, OutputReadsTheSameWithKeepDotSlash, ()) {
  Document doc = *GenDocument();
  RC_PRE(Validate(doc).has_value());
  ParseOptions keep;
  keep.keep_dot_slash = true;
  RC_ASSERT(*Parse(Write(doc), keep) == doc);
}

}  // namespace
}  // namespace txdir::sdn
