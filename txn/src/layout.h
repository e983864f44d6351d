// Where everything lives inside a repository (docs/on_disk_format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace txdir::internal {

inline constexpr const char* kMetaDirName = ".txdir";

struct Layout {
  std::string root;    // absolute path of the transactional directory
  std::string meta;    // root/.txdir
  std::string store;   // meta/store.git   bare git repository
  std::string gens;    // meta/gens        materialized generations, gens/<N>
  std::string tmp;     // meta/tmp         staging; emptied by recovery
  std::string lock;    // meta/lock        writer lock (flock) + holder info
  std::string config;  // meta/config.json
  std::string live;    // the live symlink (absolute)

  static Layout For(const std::string& root);
  std::string GenDir(uint64_t n) const { return gens + "/" + std::to_string(n); }
};

// "17" -> 17; anything else (leading zeros, signs, junk, 0) -> nullopt.
std::optional<uint64_t> ParseGenName(const std::string& s);

}  // namespace txdir::internal
