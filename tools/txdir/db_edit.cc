// The command-line side of `txdir db`'s record editor (db_edit.h).
#include "tools/txdir/db_edit.h"

namespace txdir::cli {

Result<DbFields> ParseAssignments(const std::vector<std::string>& args) {
  DbFields out;
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return MakeError(Code::kInvalidArgument, "expected FIELD=VALUE, got '" + a + "'");
    out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

}  // namespace txdir::cli
