// libFuzzer target for the SDN reader. Any input may be rejected, but never
// crash or trip a sanitizer; whatever parses is written back byte for byte
// (Write(Parse(x)) == x), and its tables survive a document built from them:
// Parse(Write(built)) == built; ScanRows reads the same rows, or fails with
// the same error. Built by run_fuzz.sh (clang only).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/sdn.h"

namespace {

void CheckRoundTrip(const txdir::sdn::Document& doc) {
  // Parse guarantees the invariants Write requires.
  if (!txdir::sdn::Validate(doc)) std::abort();
  txdir::sdn::Document built{doc.tables, nullptr};
  auto back = txdir::sdn::Parse(txdir::sdn::Write(built));
  if (!back || *back != doc) std::abort();
}

// ScanRows must see exactly Parse's rows, or fail with Parse's error.
void CheckScan(std::string_view text, const txdir::Result<txdir::sdn::Document>& doc) {
  std::vector<std::vector<std::vector<std::string>>> rows;
  auto scanned = txdir::sdn::ScanRows(
      text, [&](size_t ti, const txdir::sdn::Table&, const txdir::sdn::RowCells& row) {
        if (rows.size() <= ti) rows.resize(ti + 1);
        std::vector<std::string> values;
        for (size_t c = 0; c < row.size(); ++c) values.push_back(row.Value(c));
        rows[ti].push_back(std::move(values));
      });
  if (scanned.has_value() != doc.has_value()) std::abort();
  if (!doc) {
    if (scanned.error().message != doc.error().message) std::abort();
    return;
  }
  rows.resize(doc->tables.size());
  for (size_t t = 0; t < doc->tables.size(); ++t)
    if (rows[t] != doc->tables[t].rows) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = txdir::sdn::Parse(text);
  CheckScan(text, doc);
  if (doc) {
    if (txdir::sdn::Write(*doc) != text) std::abort();
    CheckRoundTrip(*doc);
  }
  // A failure must carry its position.
  if (!doc && doc.error().message.rfind("line ", 0) != 0) std::abort();
  return 0;
}
