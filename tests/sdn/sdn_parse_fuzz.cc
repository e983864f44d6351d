// libFuzzer target for the SDN reader. Any input may be rejected, but never
// crash or trip a sanitizer; and whatever parses must survive the canonical
// writer: Parse(Write(doc)) == doc. Built by run_fuzz.sh (clang only).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "txdir/sdn.h"

namespace {

void CheckRoundTrip(const txdir::sdn::Document& doc) {
  // Parse guarantees the invariants Write requires.
  if (!txdir::sdn::Validate(doc)) std::abort();
  std::string text = txdir::sdn::Write(doc);
  auto back = txdir::sdn::Parse(text);
  if (!back || *back != doc) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool lenient : {false, true}) {
    for (bool keep_dot_slash : {false, true}) {
      txdir::sdn::ParseOptions options;
      options.lenient = lenient;
      options.keep_dot_slash = keep_dot_slash;
      auto doc = txdir::sdn::Parse(text, options);
      if (doc) CheckRoundTrip(*doc);
      // A strict failure must carry its position.
      if (!doc && doc.error().message.rfind("line ", 0) != 0) std::abort();
    }
  }
  return 0;
}
