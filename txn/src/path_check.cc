#include "txn/src/path_check.h"

#include <filesystem>

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

// Code points HFS+ drops when it compares names (git's utf8.c,
// next_hfs_char), so ".g\u200cit" opens ".git" there.
bool HfsIgnorable(uint32_t cp) {
  return (cp >= 0x200C && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF;
}

// The name as the least strict file system would compare it: HFS+
// ignorables dropped, ASCII folded to lower case, cut at an NTFS stream
// separator (':') or a Windows folder separator ('\\'), and trailing dots
// and spaces dropped (NTFS ignores them). Bytes that are not valid UTF-8
// are kept as they are (CheckName refuses such names anyway).
std::string Folded(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size();) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x80) {
      if (c == ':' || c == '\\') break;
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      ++i;
      continue;
    }
    const size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (len > 1 && i + len <= name.size() && ValidUtf8(name.substr(i, len))) {
      uint32_t cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (name[i + k] & 0x3F);
      if (!HfsIgnorable(cp)) out.append(name, i, len);
      i += len;
      continue;
    }
    out += static_cast<char>(c);
    ++i;
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

// "gitmod~3": the NTFS short name of a long name starting with `stem`.
bool IsShortName(const std::string& folded, const std::string& stem) {
  if (folded.size() < stem.size() + 2 || folded.compare(0, stem.size(), stem) != 0 ||
      folded[stem.size()] != '~')
    return false;
  for (size_t i = stem.size() + 1; i < folded.size(); ++i)
    if (folded[i] < '0' || folded[i] > '9') return false;
  return folded[stem.size() + 1] != '0';
}

}  // namespace

bool IsDotGit(const std::string& name) {
  const std::string f = Folded(name);
  return f == ".git" || f == "git~1";
}

bool IsGitControlFile(const std::string& name) {
  const std::string f = Folded(name);
  return f == ".gitmodules" || f == ".gitattributes" || f == ".gitignore" || f == ".mailmap" ||
         IsShortName(f, "gitmod") || IsShortName(f, "gitatt") || IsShortName(f, "gitign") ||
         IsShortName(f, "mailma");
}

bool LinkEscapes(const std::string& path, const std::string& target) {
  // Resolved lexically: the link's folder joined with its target must not
  // climb above the root. Links inside are recreated and followed only
  // within the generation, so this is the whole rule.
  if (target.empty() || target.front() == '/') return true;
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  const std::string joined = (base / target).lexically_normal().string();
  return joined == ".." || joined.rfind("../", 0) == 0;
}

Status CheckLinkTarget(const std::string& path, const std::string& target, bool allow_outside) {
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "invalid symlink (" + why + ")", Printable(path));
  };
  if (target.empty()) return bad("empty target");
  if (target.find('\0') != std::string::npos) return bad("NUL byte in its target");
  if (target.size() > kMaxPathLength)
    return bad("target longer than " + std::to_string(kMaxPathLength) + " bytes");
  if (!allow_outside && LinkEscapes(path, target))
    return bad("points outside the generation: " + Printable(target));
  const size_t slash = path.rfind('/');
  if (IsGitControlFile(slash == std::string::npos ? path : path.substr(slash + 1)))
    return bad("git would follow a symlink by this name");
  return Ok();
}

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
  if (IsDotGit(name)) return bad("'" + Printable(name) + "' is git's own folder");
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
