// The edit guarantee on a corpus of real SDN files named at run time:
// TXDIR_SDN_CORPUS=/path/to/dir runs every check below on every *.sdn file
// under it (the corpus stays outside the repository; without the variable
// the test runs on tests/sdn/fixtures and ../shared/fixtures). Per file: it parses; an untouched
// write is byte for byte the input; for every record of every table, setting its first non-key
// field changes only that record's lines and setting it back restores the
// bytes; inserting a record and deleting it restores the bytes; a sealed
// file's seal after an edit is zlib's CRC-32 of the body. A summary of the
// files passing each check is printed at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "sdn_test_util.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

namespace fs = std::filesystem;
using testutil::Body;
using testutil::ChangedLines;
using testutil::FilesUnder;
using testutil::ReadAll;
using testutil::ZlibSealOf;

// A value no real file holds, with a comma and quotes so the edit also
// exercises quoting; a second one for cells that already hold the first.
constexpr const char* kEdited = "corpus \"edit\", one";
constexpr const char* kEditedAlt = "corpus edit two";

// The first non-key column of `table`, if it has one.
std::optional<size_t> FirstNonKey(const Table& table) {
  for (size_t c = 0; c < table.columns.size(); ++c)
    if (c != table.KeyIndex()) return c;
  return std::nullopt;
}

// How many lines a record occupies: one, plus the raw line breaks of its
// quoted cells.
size_t RecordLines(const std::vector<std::string>& row) {
  size_t lines = 1;
  for (const auto& cell : row) lines += std::count(cell.begin(), cell.end(), '\n');
  return lines;
}

// Sets one field of one record and checks the write changes only that
// record's lines and that setting it back restores `text`. Empty when it holds.
std::string CheckOneEdit(const std::string& text, const Document& doc, size_t t, size_t r,
                         size_t c) {
  Document edited = doc;
  std::string& cell = edited.tables[t].rows[r][c];
  const std::string original = cell;
  cell = original == kEdited ? kEditedAlt : kEdited;
  const std::string out = Write(edited);
  const bool sealed = IsSealed(text);
  auto [removed, added] = ChangedLines(Body(text, sealed), Body(out, sealed));
  const size_t lines = RecordLines(doc.tables[t].rows[r]);
  if (removed.size() != lines || added.size() != 1)
    return "edit changed " + std::to_string(removed.size()) + " line(s) into " +
           std::to_string(added.size()) + " (expected " + std::to_string(lines) + " into 1)";
  auto reparsed = Parse(out);
  if (!reparsed) return "edited text does not parse: " + reparsed.error().message;
  if (reparsed->tables != edited.tables) return "edited text reads back other values";
  if (sealed) {
    std::string seal = out.substr(0, out.find('\n'));
    if (!seal.empty() && seal.back() == '\r') seal.pop_back();  // a CRLF file's seal line
    if (seal != ZlibSealOf(out))
      return "seal after edit is " + seal + ", zlib says " + ZlibSealOf(out);
  }
  reparsed->tables[t].rows[r][c] = original;
  const std::string restored = Write(*reparsed);
  if (restored == text) return "";
  // The one documented exception (docs/sdn.md, "The edit guarantee"): text
  // with a '"' that the source wrote bare, which only the lenient reading
  // accepts, is written quoted once set. Then only that record's lines may
  // differ, and they must read back the original values.
  const std::string& line_text = doc.tables[t].rows[r][c];
  if (line_text.find('"') == std::string::npos || text.find(line_text) == std::string::npos)
    return "set-and-restore is not byte-identical";
  auto [was, now] = ChangedLines(Body(text, sealed), Body(restored, sealed));
  if (was.size() != lines || now.size() != 1)
    return "restoring a bare quoted text changed other lines";
  auto back = Parse(restored);
  if (!back || back->tables != doc.tables) return "restoring a bare quoted text changed values";
  return "";
}

// Inserts a record at the end of table `t`, then deletes it again.
std::string CheckInsertDelete(const std::string& text, const Document& doc, size_t t) {
  Document inserted = doc;
  Table& table = inserted.tables[t];
  std::vector<std::string> row(table.columns.size(), "new value");
  row[table.KeyIndex()] = "zz_corpus_key";
  table.rows.push_back(row);
  auto reparsed = Parse(Write(inserted));
  if (!reparsed) return "text with an inserted record does not parse: " + reparsed.error().message;
  if (reparsed->tables != inserted.tables) return "inserted record reads back other values";
  Table& back = reparsed->tables[t];
  back.rows.erase(back.rows.begin() + back.FindRow("zz_corpus_key"));
  if (Write(*reparsed) != text) return "insert-then-delete is not byte-identical";
  return "";
}

struct Tally {
  std::map<std::string, std::pair<int, int>> checks;  // name -> {passed, run}
  void Count(const std::string& check, bool ok) {
    auto& [passed, run] = checks[check];
    passed += ok;
    ++run;
  }
};

// Runs every check on one file; each failure is reported with the file name.
void CheckFile(const fs::path& path, Tally& tally) {
  SCOPED_TRACE(path.string());
  const std::string text = ReadAll(path);
  auto doc = Parse(text);
  tally.Count("parse", doc.has_value());
  if (!doc) {
    ADD_FAILURE() << path.filename() << ": " << doc.error().message;
    return;
  }
  const bool identical = Write(*doc) == text;
  tally.Count("untouched write", identical);
  EXPECT_TRUE(identical) << path.filename() << ": untouched write differs";
  bool inserts_ok = true;
  size_t edits = 0, failed_edits = 0;
  for (size_t t = 0; t < doc->tables.size(); ++t) {
    const Table& table = doc->tables[t];
    if (auto c = FirstNonKey(table)) {
      for (size_t r = 0; r < table.rows.size(); ++r) {
        ++edits;
        std::string failure = CheckOneEdit(text, *doc, t, r, *c);
        if (failure.empty()) continue;
        if (failed_edits++ == 0)  // the first report per file is enough to find the cause
          ADD_FAILURE() << path.filename() << ": table " << table.name << " row " << r << ": "
                        << failure;
      }
    }
    std::string failure = CheckInsertDelete(text, *doc, t);
    if (!failure.empty()) {
      ADD_FAILURE() << path.filename() << ": table " << table.name << ": " << failure;
      inserts_ok = false;
    }
  }
  if (failed_edits > 1)
    ADD_FAILURE() << path.filename() << ": " << failed_edits << " of " << edits
                  << " record edits failed";
  if (edits > 0) tally.Count("edit local + set-and-restore (+ seal)", failed_edits == 0);
  if (!doc->tables.empty()) tally.Count("insert-then-delete", inserts_ok);
  if (IsSealed(text))
    tally.Count("sealed file: original seal verifies", VerifySeal(text).has_value());
}

TEST(SdnCorpus, EveryFileKeepsTheEditGuarantee) {
  const char* dir = std::getenv("TXDIR_SDN_CORPUS");
  std::vector<std::filesystem::path> files;
  if (dir != nullptr && *dir != '\0') {
    files = FilesUnder(dir);
    ASSERT_FALSE(files.empty()) << "no *.sdn file under " << dir;
  } else {
    // The files the other tests know: ours and the Simple tooling's.
    files = FilesUnder(TXDIR_SDN_FIXTURES);
    for (const auto& p : FilesUnder(std::filesystem::path(TXDIR_SHARED_DIR) / "fixtures"))
      files.push_back(p);
    ASSERT_FALSE(files.empty()) << "no *.sdn file under " << TXDIR_SDN_FIXTURES;
  }
  Tally tally;
  for (const auto& path : files) CheckFile(path, tally);
  std::cout << "SDN corpus: " << files.size() << " files\n";
  for (const auto& [check, counts] : tally.checks)
    std::cout << "  " << check << ": " << counts.first << "/" << counts.second << "\n";
}

}  // namespace
}  // namespace txdir::sdn
