// What txdir reports but cannot return as an error: an automatic gc that
// failed after the write it followed had succeeded, a stat cache entry it
// ignored, what a publish read. Lines go through spdlog's default logger,
// which belongs to the program: a program that sets spdlog up itself gets
// txdir's lines where its own go. A program that does not should call
// LogToStderr, since spdlog's own default writes to standard output.
#pragma once

#include <string_view>

namespace txdir {

enum class LogLevel { kTrace, kDebug, kWarning };

// Replaces spdlog's default logger with one that writes to standard error,
// and shows lines at `threshold` and above. Call it before other threads log.
void LogToStderr(LogLevel threshold);

// True if a line at `level` would be written: callers skip building the
// message otherwise.
bool LogEnabled(LogLevel level);

// Writes `message` as one line at `level`.
void Log(LogLevel level, std::string_view message);

}  // namespace txdir
