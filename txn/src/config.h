// The repository's settings, <root>/.txdir/config.json, replaced atomically.
#pragma once

#include <cstdint>
#include <string>

#include "txdir/env.h"

namespace txdir::internal {

struct RepoConfig {
  int format = 1;
  // The live link; relative paths are relative to the root.
  std::string live_path = "current";
  int64_t lock_timeout_ms = 10000;
  // How a write makes its new files durable before the commit point:
  //   "syncfs": write everything, then one syncfs(2) barrier (default; the
  //             cost of a publish follows what changed, not how many files)
  //   "fsync":  fsync every file and directory as it is written
  std::string sync = "syncfs";
};

bool ValidSyncMode(const std::string& mode);

Result<RepoConfig> LoadConfig(Env* env, const std::string& path);
Status SaveConfig(Env* env, const std::string& path, const RepoConfig& config);

}  // namespace txdir::internal
