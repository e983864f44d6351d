// libFuzzer target for path validation (txn/src/path_check.h), the one rule
// set every entry point uses. Any input is either refused with
// InvalidArgument, or is a path that an independent check finds relative,
// free of empty, "." and ".." components, free of control bytes, valid
// UTF-8 and within the documented bounds. Built by run_fuzz.sh (clang only).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "txn/src/path_check.h"

namespace {

using namespace txdir::internal;

// Well-formed UTF-8 per the Unicode standard's table of byte sequences
// (Table 3-7): a different method from the decoder under test.
bool WellFormedUtf8(const std::string& s) {
  size_t i = 0;
  auto in = [&](size_t k, unsigned lo, unsigned hi) {
    if (i + k >= s.size()) return false;
    unsigned b = static_cast<unsigned char>(s[i + k]);
    return b >= lo && b <= hi;
  };
  while (i < s.size()) {
    unsigned b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    if (b <= 0x7F)
      len = 1;
    else if (b >= 0xC2 && b <= 0xDF)
      len = in(1, 0x80, 0xBF) ? 2 : 0;
    else if (b == 0xE0)
      len = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF)
      len = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if (b == 0xED)
      len = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
    else if (b == 0xF0)
      len = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    else if (b >= 0xF1 && b <= 0xF3)
      len = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    else if (b == 0xF4)
      len = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool HasControlByte(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

void Require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path(reinterpret_cast<const char*>(data), size);
  // Messages quote the untrusted path: they must never carry control bytes
  // or broken UTF-8 to a terminal or a log.
  Require(!HasControlByte(Printable(path)) && WellFormedUtf8(Printable(path)));
  auto st = CheckRelativePath(path);
  if (!st) {
    Require(st.error().code == txdir::Code::kInvalidArgument);
    Require(!st.error().message.empty());
    Require(!HasControlByte(st.error().ToString()) && WellFormedUtf8(st.error().ToString()));
    return 0;
  }
  Require(!path.empty() && path.front() != '/' && path.size() <= kMaxPathLength);
  Require(!HasControlByte(path) && WellFormedUtf8(path));
  size_t depth = 0, start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? slash : slash - start);
    Require(!part.empty() && part != "." && part != ".." && part.size() <= kMaxNameLength);
    Require(CheckName(part, path).has_value());
    ++depth;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  Require(depth <= kMaxDepth);
  return 0;
}
