#include <nlohmann/json.hpp>

#include "store/fs_util.h"
#include "txdir/atomic_file.h"
#include "txn/src/config.h"
#include "txn/src/layout.h"

namespace txdir::internal {

Layout Layout::For(const std::string& root) {
  Layout l;
  l.root = fs::AbsolutePath(root);
  l.meta = l.root + "/" + kMetaDirName;
  l.store = l.meta + "/store.git";
  l.gens = l.meta + "/gens";
  l.tmp = l.meta + "/tmp";
  l.lock = l.meta + "/lock";
  l.config = l.meta + "/config.json";
  l.live = l.root + "/current";
  return l;
}

std::optional<uint64_t> ParseGenName(const std::string& s) {
  if (s.empty() || s.size() > 19 || s[0] == '0') return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

bool ValidSyncMode(const std::string& mode) { return mode == "syncfs" || mode == "fsync"; }

Result<RepoConfig> LoadConfig(Env* env, const std::string& path) {
  auto text = env->ReadFileAt(Env::kCwd, path);
  if (!text) {
    if (text.error().code == Code::kNotFound)
      return MakeError(Code::kCorruption, "repository config is missing", path);
    return tl::unexpected(text.error());
  }
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return MakeError(Code::kCorruption, "repository config is not valid JSON", path);
  RepoConfig c;
  try {
    c.format = j.value("format", 1);
    c.live_path = j.value("live_path", std::string("current"));
    c.lock_timeout_ms = j.value("lock_timeout_ms", int64_t{10000});
    c.sync = j.value("sync", std::string("syncfs"));
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kCorruption, std::string("repository config: ") + e.what(), path);
  }
  if (c.format != 1)
    return MakeError(Code::kCorruption, "unsupported repository format " + std::to_string(c.format),
                     path);
  if (!ValidSyncMode(c.sync))
    return MakeError(Code::kCorruption, "repository config: unknown sync mode '" + c.sync + "'",
                     path);
  if (c.live_path.empty())
    return MakeError(Code::kCorruption, "repository config has an empty live_path", path);
  return c;
}

Status SaveConfig(Env* env, const std::string& path, const RepoConfig& c) {
  nlohmann::json j = {{"format", c.format},
                      {"live_path", c.live_path},
                      {"lock_timeout_ms", c.lock_timeout_ms},
                      {"sync", c.sync}};
  return AtomicWriteFile(path, j.dump(2) + "\n", {.mode = 0644, .env = env});
}

}  // namespace txdir::internal
