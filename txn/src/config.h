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
};

Result<RepoConfig> LoadConfig(Env* env, const std::string& path);
Status SaveConfig(Env* env, const std::string& path, const RepoConfig& config);

}  // namespace txdir::internal
