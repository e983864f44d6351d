#include "txn/src/path_check.h"

namespace txdir::internal {

namespace {

bool ValidUtf8(const std::string& s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string Printable(const std::string& s) {
  // Control bytes and bytes that are not part of valid UTF-8 are escaped,
  // so a message quoting an untrusted name is always valid UTF-8 and never
  // carries a raw control sequence to a terminal or a log.
  std::string out;
  auto escape = [&](unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  };
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
      continue;
    }
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len > 0 && i + len <= s.size() && ValidUtf8(s.substr(i, len))) {
      out.append(s, i, len);
      i += len;
    } else {
      escape(c);
      ++i;
    }
  }
  return out;
}

Status CheckName(const std::string& name, const std::string& for_path) {
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "invalid path (" + why + ")", Printable(for_path));
  };
  if (name.empty()) return bad("empty component");
  if (name == "." || name == "..") return bad("'" + name + "' component");
  if (name.size() > kMaxNameLength)
    return bad("a name is longer than " + std::to_string(kMaxNameLength) + " bytes");
  for (unsigned char c : name) {
    if (c == '/') return bad("'/' inside a name");
    if (c < 0x20 || c == 0x7F) return bad("control character in name");
  }
  if (!ValidUtf8(name)) return bad("name is not valid UTF-8");
  return Ok();
}

Status CheckRelativePath(const std::string& path) {
  if (path.empty()) return MakeError(Code::kInvalidArgument, "invalid path (empty)", "");
  if (path.front() == '/')
    return MakeError(Code::kInvalidArgument, "invalid path (absolute)", Printable(path));
  if (path.size() > kMaxPathLength)
    return MakeError(Code::kInvalidArgument,
                     "invalid path (longer than " + std::to_string(kMaxPathLength) + " bytes)",
                     Printable(path.substr(0, 80)) + "...");
  size_t depth = 0, start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? slash : slash - start);
    TXDIR_CHECK(CheckName(part, path));
    if (++depth > kMaxDepth)
      return MakeError(Code::kInvalidArgument,
                       "invalid path (deeper than " + std::to_string(kMaxDepth) + " levels)",
                       Printable(path));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Ok();
}

}  // namespace txdir::internal
