#include "txdir/error.h"

#include <cerrno>
#include <cstring>

namespace txdir {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return "invalid argument";
    case Code::kNotFound:
      return "not found";
    case Code::kLocked:
      return "locked";
    case Code::kConflict:
      return "conflict";
    case Code::kCorruption:
      return "corruption";
    case Code::kIo:
      return "I/O error";
    case Code::kExists:
      return "already exists";
    case Code::kInternal:
      return "internal error";
    case Code::kTimeout:
      return "timeout";
  }
  return "unknown error";
}

std::string Error::ToString() const {
  std::string s = message;
  if (!path.empty()) s += (s.empty() ? "" : ": ") + path;
  if (sys_errno != 0) {
    // strerror_r (the GNU one, returning the text), not strerror: errors are
    // formatted on several threads at once (serve's workers).
    char buf[256];
    s += std::string(s.empty() ? "" : ": ") + ::strerror_r(sys_errno, buf, sizeof buf);
  }
  return s;
}

tl::unexpected<Error> ErrnoError(std::string message, std::string path, int err) {
  Code code = Code::kIo;
  if (err == ENOENT || err == ENOTDIR) code = Code::kNotFound;
  if (err == EEXIST || err == ENOTEMPTY) code = Code::kExists;
  if (err == EWOULDBLOCK) code = Code::kLocked;
  return MakeError(code, std::move(message), std::move(path), err);
}

}  // namespace txdir
