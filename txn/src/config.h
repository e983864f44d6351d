// The repository's settings, <root>/.txdir/config.json, replaced atomically.
// docs/on_disk_format.md gives the file; docs/cli.md the keys (`txdir config`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "txdir/env.h"

namespace txdir::internal {

// Generations gc keeps when neither the command line nor the config says.
inline constexpr uint64_t kDefaultGcKeep = 10;
// config.json is refused unread when larger: it holds a few settings, and
// reading a huge one whole would cost memory in every command.
inline constexpr uint64_t kMaxConfigBytes = 1 << 20;

struct RepoConfig {
  int format = 1;
  // The live link; relative paths are relative to the root.
  std::string live_path = "current";
  int64_t lock_timeout_ms = 10000;
  // How a write makes its new files durable before the commit point:
  //   "syncfs": write everything, then one syncfs(2) barrier (default; the
  //             cost of a publish follows what changed, not how many files)
  //   "single-flush": as "syncfs", and a small generation is acknowledged
  //             after that one barrier, without the flush that makes the
  //             head's and the live link's renames durable; recovery
  //             completes them after a power loss (docs/commit_protocol.md)
  //   "fsync":  fsync every file and directory as it is written
  std::string sync = "syncfs";
  // Retention (txdir gc): keep the newest `gc_keep` generations AND every
  // generation younger than `gc_keep_within_ms`. Unset: kDefaultGcKeep and
  // no age rule.
  std::optional<uint64_t> gc_keep;
  std::optional<int64_t> gc_keep_within_ms;
  // Run gc (directories only) with that policy after every successful write.
  bool gc_auto = false;
  // A shell command run on each staged generation before its commit point;
  // a non-zero exit aborts the write. Empty: none.
  std::string pre_publish_hook;
};

bool ValidSyncMode(const std::string& mode);

Result<RepoConfig> LoadConfig(Env* env, const std::string& path);
Status SaveConfig(Env* env, const std::string& path, const RepoConfig& config);

// `txdir config`: the settable keys, in listing order.
const std::vector<std::string>& ConfigKeys();
// The key's value as text; nullopt when unset (and without a default).
Result<std::optional<std::string>> GetConfigKey(const RepoConfig& c, const std::string& key);
// Validates `value` for `key` and stores it; nullopt unsets the key
// (back to its default). InvalidArgument with a clear message otherwise.
Status SetConfigKey(RepoConfig* c, const std::string& key, const std::optional<std::string>& value);

// "7d", "12h", "30m", "45s", "2w", "1d12h", "500ms" -> milliseconds.
Result<int64_t> ParseDurationMs(const std::string& text);
// The shortest exact form: 604800000 -> "7d".
std::string FormatDurationMs(int64_t ms);

}  // namespace txdir::internal
