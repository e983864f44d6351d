// libFuzzer target for the SDN reader. Any input may be rejected, but never
// crash or trip a sanitizer; whatever parses is written back byte for byte
// (Write(Parse(x)) == x), and its tables survive a document built from them:
// Parse(Write(built)) == built. Built by run_fuzz.sh (clang only).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "txdir/sdn.h"

namespace {

void CheckRoundTrip(const txdir::sdn::Document& doc) {
  // Parse guarantees the invariants Write requires.
  if (!txdir::sdn::Validate(doc)) std::abort();
  txdir::sdn::Document built{doc.tables, nullptr};
  auto back = txdir::sdn::Parse(txdir::sdn::Write(built));
  if (!back || *back != doc) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = txdir::sdn::Parse(text);
  if (doc) {
    if (txdir::sdn::Write(*doc) != text) std::abort();
    CheckRoundTrip(*doc);
  }
  // A failure must carry its position.
  if (!doc && doc.error().message.rfind("line ", 0) != 0) std::abort();
  return 0;
}
