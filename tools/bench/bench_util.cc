#include "tools/bench/bench_util.h"

#include <sys/vfs.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace txdir::bench {

std::string FsName(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    default: {
      std::ostringstream hex;
      hex << "0x" << std::hex << static_cast<unsigned long>(s.f_type);
      return hex.str();
    }
  }
}

void RemoveTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(root, ec);
}

std::string GenerateTodoTable(int rows) {
  std::string text =
      "todos |id, keyword, area, priority, description, file, line, issue, blocked, status, "
      "age_days, assigned, last_updated|\n";
  for (int r = 0; r < rows; ++r) {
    text += "    " + std::to_string(r) + ", \"TODO\", \"general\", \"P3\", \"Item " +
            std::to_string(r) +
            ": replace the interim parser with the generated one, then delete it\", "
            "\"src/app/module_" +
            std::to_string(r % 97) + "/main.spl\", " + std::to_string(r * 7 % 1000) +
            ", \"\", \"\", \"open\", " + std::to_string(r % 30) + ", \"\", \"2026-02-10\"\n";
  }
  return text;
}

}  // namespace txdir::bench
