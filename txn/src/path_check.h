// Validation of paths inside a generation. One rule set for every entry
// point (publish, cat, snapshot reads, transactions) so they agree.
#pragma once

#include <string>

#include "txdir/error.h"

namespace txdir::internal {

inline constexpr size_t kMaxPathLength = 4096;  // bytes, whole relative path
inline constexpr size_t kMaxDepth = 64;         // directory levels
inline constexpr size_t kMaxNameLength = 255;   // NAME_MAX

// A relative path: '/'-separated components, none empty, ".", or "..";
// not absolute; no control characters; valid UTF-8; within the bounds
// above. InvalidArgument naming the path and the rule otherwise.
Status CheckRelativePath(const std::string& path);
// A single component under the same rules.
Status CheckName(const std::string& name, const std::string& for_path);

// Printable form of an untrusted path for messages (control bytes escaped).
std::string Printable(const std::string& s);

}  // namespace txdir::internal
