// The library's side of txdir/log.h: a line built from parts, only when its
// level is shown. logging.cc is the one translation unit that includes
// spdlog (and fmt), which cost more to compile than the rest of a file.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "txdir/log.h"

namespace txdir::store {

namespace log_internal {

inline void Append(std::string& line, std::string_view part) { line.append(part); }
inline void Append(std::string& line, char part) { line.push_back(part); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void Append(std::string& line, T part) {
  line.append(std::to_string(part));
}

template <typename... Parts>
void Write(LogLevel level, const Parts&... parts) {
  if (!LogEnabled(level)) return;
  std::string line;
  (Append(line, parts), ...);
  Log(level, line);
}

}  // namespace log_internal

// LogDebug("read ", n, " file(s)"): strings and integers, joined.
template <typename... Parts>
void LogDebug(const Parts&... parts) {
  log_internal::Write(LogLevel::kDebug, parts...);
}

template <typename... Parts>
void LogWarning(const Parts&... parts) {
  log_internal::Write(LogLevel::kWarning, parts...);
}

}  // namespace txdir::store
