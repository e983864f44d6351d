// Validation of request targets for `txdir serve`: the one place that
// decides whether a URL path may name something inside a generation.
//
// The rule is strict on purpose: the server never needs an encoded '/',
// '\', '%' or NUL, nor a "." or ".." segment, so any of them is refused
// rather than interpreted. That refuses traversal in every spelling — plain
// (`..`), percent-encoded (`%2e%2e`, `%2f`), double-encoded (`%252e`),
// backslashes, NUL, control bytes and absolute forms (`//etc`,
// `http://host/...`) — before any route sees the path.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"

namespace txdir::serve {

struct RequestPath {
  // Decoded segments, none empty, none "." or "..". "/g/3/a/" gives
  // {"g", "3", "a"}.
  std::vector<std::string> segments;
  bool trailing_slash = false;  // the path ended in '/' (or was "/")
  std::string query;            // raw text after '?', without it
};

// Parses the raw request target (as sent on the request line). Errors
// (kInvalidArgument, message for the 400 page): not starting with '/', a
// malformed or forbidden escape (%2f %5c %25 %00, any control byte), a raw
// '\' or control byte, an empty segment ("//"), a "." or ".." segment; in
// the query, a control byte or NUL, raw or percent-encoded.
Result<RequestPath> ParseRequestTarget(std::string_view target);

// Percent-encodes a path for use in an href: every byte but unreserved
// characters and '/' is encoded.
std::string EncodePath(std::string_view path);

// The value of `key` in a raw query string ("view=table&x=1"), decoded as
// a form value ('+' is a space, %XX a byte); empty when absent.
std::string QueryValue(std::string_view query, std::string_view key);

// Percent-encodes `value` for a query string (as EncodePath: everything but
// unreserved characters and '/').
std::string EncodeQueryValue(std::string_view value);

// Lexically resolves `target` (a stored symlink's text) against the
// directory `dir` of the link ("" for the root). Returns the resolved
// '/'-separated path, or NotFound when the target is absolute, empty, or
// climbs above the root with "..".
Result<std::string> ResolveLinkTarget(std::string_view dir, std::string_view target);

// Content type for a file name, by extension; text types carry
// "; charset=utf-8". Unknown: application/octet-stream.
std::string ContentTypeFor(std::string_view name);

}  // namespace txdir::serve
