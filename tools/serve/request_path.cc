#include "tools/serve/request_path.h"

#include <array>
#include <cctype>
#include <utility>

namespace txdir::serve {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

tl::unexpected<Error> Refuse(std::string why) {
  return MakeError(Code::kInvalidArgument, std::move(why));
}

}  // namespace

Result<RequestPath> ParseRequestTarget(std::string_view target) {
  RequestPath out;
  std::string_view raw = target;
  if (size_t q = raw.find('?'); q != std::string_view::npos) {
    out.query = std::string(raw.substr(q + 1));
    raw = raw.substr(0, q);
    // Query values name tables, columns, records and generations, and end
    // up in pages and messages: no control character or NUL, raw or
    // encoded (QueryValue decodes them).
    const std::string_view query = out.query;
    for (size_t i = 0; i < query.size(); ++i) {
      if (IsControl(static_cast<unsigned char>(query[i])))
        return Refuse("control character in query");
      if (query[i] == '%' && i + 2 < query.size()) {
        const int hi = HexValue(query[i + 1]), lo = HexValue(query[i + 2]);
        if (hi >= 0 && lo >= 0 && IsControl(static_cast<unsigned char>(hi * 16 + lo)))
          return Refuse("encoded control character or NUL in query");
      }
    }
  }
  if (size_t h = raw.find('#'); h != std::string_view::npos) raw = raw.substr(0, h);
  if (raw.empty() || raw[0] != '/') return Refuse("the path must start with '/'");

  // Decode once, refusing every escape that could change the path's
  // structure: separators, '%' itself (double encoding), NUL and controls.
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == '\\') return Refuse("backslash in path");
    if (IsControl(c)) return Refuse("control character in path");
    if (c != '%') {
      decoded.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= raw.size()) return Refuse("truncated percent-escape in path");
    int hi = HexValue(raw[i + 1]), lo = HexValue(raw[i + 2]);
    if (hi < 0 || lo < 0) return Refuse("malformed percent-escape in path");
    unsigned char d = static_cast<unsigned char>(hi * 16 + lo);
    if (d == '/' || d == '\\') return Refuse("encoded path separator");
    if (d == '%') return Refuse("encoded '%' (double encoding)");
    if (IsControl(d)) return Refuse("encoded control character or NUL");
    decoded.push_back(static_cast<char>(d));
    i += 2;
  }

  out.trailing_slash = decoded.back() == '/';
  std::string_view rest(decoded);
  rest.remove_prefix(1);
  if (out.trailing_slash && !rest.empty()) rest.remove_suffix(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty()) return Refuse("empty path segment");
    if (seg == "." || seg == "..") return Refuse("'.' or '..' segment in path");
    out.segments.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) return Refuse("empty path segment");
  }
  return out;
}

std::string EncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      if (eq == std::string_view::npos) return {};
      // Form encoding: '+' is a space, %XX a byte; a malformed escape is
      // kept as written (the value is only ever looked up, never a path).
      std::string_view raw = pair.substr(eq + 1);
      std::string out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out.push_back(' ');
        } else if (raw[i] == '%' && i + 2 < raw.size() && HexValue(raw[i + 1]) >= 0 &&
                   HexValue(raw[i + 2]) >= 0) {
          out.push_back(static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2])));
          i += 2;
        } else {
          out.push_back(raw[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// EncodePath keeps only unreserved characters and '/', none of which has a
// meaning inside a query value.
std::string EncodeQueryValue(std::string_view value) { return EncodePath(value); }

Result<std::string> ResolveLinkTarget(std::string_view dir, std::string_view target) {
  auto outside = [] { return MakeError(Code::kNotFound, "link points outside the generation"); };
  if (target.empty() || target[0] == '/') return outside();
  std::vector<std::string_view> parts;
  auto push = [&](std::string_view s) -> bool {
    while (!s.empty()) {
      size_t slash = s.find('/');
      std::string_view seg = s.substr(0, slash);
      if (seg == "..") {
        if (parts.empty()) return false;
        parts.pop_back();
      } else if (!seg.empty() && seg != ".") {
        parts.push_back(seg);
      }
      if (slash == std::string_view::npos) break;
      s.remove_prefix(slash + 1);
    }
    return true;
  };
  if (!push(dir) || !push(target) || parts.empty()) return outside();
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::string ContentTypeFor(std::string_view name) {
  static const std::array<std::pair<std::string_view, std::string_view>, 18> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".sdn", "text/plain; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
      {".csv", "text/csv; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".xml", "application/xml"},
  }};
  size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    std::string ext;
    for (char c : base.substr(dot)) ext.push_back(static_cast<char>(std::tolower(c)));
    for (const auto& [e, type] : kTypes)
      if (ext == e) return std::string(type);
  }
  return "application/octet-stream";
}

}  // namespace txdir::serve
