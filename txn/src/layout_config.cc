#include <fcntl.h>

#include <cctype>
#include <cerrno>
#include <limits>
#include <nlohmann/json.hpp>

#include "store/fs_util.h"
#include "txdir/atomic_file.h"
#include "txdir/retention.h"
#include "txn/src/config.h"
#include "txn/src/layout.h"
#include "txn/src/trust.h"
#include "txn/src/writer_lock.h"

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

bool ValidSyncMode(const std::string& mode) {
  return mode == "syncfs" || mode == "single-flush" || mode == "fsync";
}

namespace {

std::string LockTimeoutRange() {
  return "a number of milliseconds from 0 (fail at once) to " +
         std::to_string(kMaxLockTimeout.count()) + " (one week)";
}

constexpr uint64_t kMaxGcKeep = 999999999999999999ULL;  // 18 digits, as `txdir config` takes

std::string GcKeepRange() {
  return "a positive integer from 1 to " + std::to_string(kMaxGcKeep) +
         " (the live generation is always kept)";
}

// Reads config.json without following a link and without reading more
// than kMaxConfigBytes: the size is checked before anything is read, and
// the read stops there in case the file grew meanwhile.
Result<std::string> ReadConfigText(Env* env, const std::string& path) {
  auto fd = env->OpenAt(Env::kCwd, path, O_RDONLY | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().code == Code::kNotFound)
      return MakeError(Code::kCorruption, "repository config is missing", path);
    if (fd.error().sys_errno == ELOOP)
      return MakeError(Code::kCorruption,
                       "is a symbolic link; txdir does not follow links inside .txdir", path);
    return tl::unexpected(fd.error());
  }
  auto st = TXDIR_TRY(env->Fstat(fd->get()));
  if (!S_ISREG(st.st_mode))
    return MakeError(Code::kCorruption, "repository config is not a regular file", path);
  auto too_large = [&](uint64_t size) {
    return MakeError(Code::kCorruption,
                     "repository config is " + std::to_string(size) +
                         " bytes, more than the limit of " + std::to_string(kMaxConfigBytes) +
                         " (1 MiB); it was not read",
                     path);
  };
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) return too_large(st.st_size);
  std::string text;
  char buf[16384];
  for (;;) {
    size_t n = TXDIR_TRY(env->Read(fd->get(), buf, sizeof buf));
    if (n == 0) break;
    text.append(buf, n);
    if (text.size() > kMaxConfigBytes) return too_large(text.size());
  }
  return text;
}

}  // namespace

Result<RepoConfig> LoadConfig(Env* env, const std::string& path) {
  auto text = TXDIR_TRY(ReadConfigText(env, path));
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return MakeError(Code::kCorruption, "repository config is not valid JSON", path);
  auto bad = [&](const std::string& what) {
    return MakeError(Code::kCorruption, "repository config: " + what, path);
  };
  RepoConfig c;
  try {
    if (auto f = j.find("format"); f != j.end()) {
      if (!f->is_number_integer() || *f != 1)
        return MakeError(Code::kCorruption, "unsupported repository format " + f->dump(), path);
    }
    c.live_path = j.value("live_path", std::string("current"));
    if (auto t = j.find("lock_timeout_ms"); t != j.end()) {
      // Parsed text holds a non-negative integer as unsigned; -5 is signed
      // and 1e30 a float with no exact int64 value. Refused, not clamped:
      // a clamp would turn a typo into "fail at once" without a word.
      if (!t->is_number_unsigned() || t->get<uint64_t>() > uint64_t(kMaxLockTimeout.count()))
        return bad("lock_timeout_ms must be " + LockTimeoutRange() + ", not " + t->dump());
      c.lock_timeout_ms = t->get<int64_t>();
    }
    c.sync = j.value("sync", std::string("syncfs"));
    if (auto gc = j.find("gc"); gc != j.end() && gc->is_object()) {
      if (auto k = gc->find("keep"); k != gc->end()) {
        // 2^64 and 1e30 parse as floats; -5 as a signed integer.
        if (!k->is_number_unsigned() || k->get<uint64_t>() < 1 || k->get<uint64_t>() > kMaxGcKeep)
          return bad("gc.keep must be " + GcKeepRange() + ", not " + k->dump());
        c.gc_keep = k->get<uint64_t>();
      }
      if (gc->contains("keep_within")) {
        auto ms = ParseDurationMs(gc->at("keep_within").get<std::string>());
        if (!ms) return bad("gc.keep_within: " + ms.error().message);
        c.gc_keep_within_ms = *ms;
      }
      c.gc_auto = gc->value("auto", false);
    }
    if (auto hooks = j.find("hooks"); hooks != j.end() && hooks->is_object())
      c.pre_publish_hook = hooks->value("pre_publish", std::string());
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kCorruption, std::string("repository config: ") + e.what(), path);
  }
  if (!ValidSyncMode(c.sync)) return bad("unknown sync mode '" + c.sync + "'");
  if (c.live_path.empty())
    return MakeError(Code::kCorruption, "repository config has an empty live_path", path);
  if (auto s = CheckLivePathValue(c.live_path); !s) return bad(s.error().message);
  return c;
}

Status SaveConfig(Env* env, const std::string& path, const RepoConfig& c) {
  nlohmann::json j = {{"format", c.format},
                      {"live_path", c.live_path},
                      {"lock_timeout_ms", c.lock_timeout_ms},
                      {"sync", c.sync}};
  nlohmann::json gc = nlohmann::json::object();
  if (c.gc_keep) gc["keep"] = *c.gc_keep;
  if (c.gc_keep_within_ms) gc["keep_within"] = FormatDurationMs(*c.gc_keep_within_ms);
  if (c.gc_auto) gc["auto"] = true;
  if (!gc.empty()) j["gc"] = gc;
  if (!c.pre_publish_hook.empty()) j["hooks"] = {{"pre_publish", c.pre_publish_hook}};
  return AtomicWriteFile(path, j.dump(2) + "\n", {.mode = 0644, .env = env});
}

namespace {

struct Unit {
  const char* name;
  int64_t ms;
};
// Longest first so "ms" wins over "m" when parsing, and formatting picks
// the largest unit that divides exactly.
constexpr Unit kUnits[] = {{"w", 7 * 86400000LL}, {"d", 86400000LL}, {"h", 3600000LL}, {"ms", 1},
                           {"m", 60000LL},        {"s", 1000LL}};

Result<uint64_t> ParsePositive(const std::string& key, const std::string& v) {
  uint64_t n = 0;
  bool ok = !v.empty() && v.size() <= 18;
  for (char ch : v) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) ok = false;
    if (ok) n = n * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (!ok || n == 0)
    return MakeError(Code::kInvalidArgument, key + " must be a positive integer, not '" + v + "'");
  return n;
}

}  // namespace

Result<int64_t> ParseDurationMs(const std::string& text) {
  auto bad = [&] {
    return MakeError(Code::kInvalidArgument,
                     "'" + text +
                         "' is not a duration (a number and a unit: w, d, h, m, s or ms; e.g. "
                         "7d, 12h, 30m, 1d12h)");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (i - start >= 12) return bad();
      n = n * 10 + (text[i++] - '0');
    }
    if (i == start) return bad();
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      size_t len = std::char_traits<char>::length(u.name);
      if (text.compare(i, len, u.name) == 0) {
        unit = &u;
        i += len;
        break;
      }
    }
    if (unit == nullptr) return bad();
    if (n > std::numeric_limits<int64_t>::max() / unit->ms - total / unit->ms - 1) return bad();
    total += n * unit->ms;
  }
  if (total <= 0) return bad();
  return total;
}

std::string FormatDurationMs(int64_t ms) {
  for (const Unit& u : kUnits)
    if (ms > 0 && ms % u.ms == 0 && u.ms != 1) return std::to_string(ms / u.ms) + u.name;
  return std::to_string(ms) + "ms";
}

const std::vector<std::string>& ConfigKeys() {
  static const std::vector<std::string> keys = {"lock_timeout_ms", "sync",    "gc.keep",
                                                "gc.keep_within",  "gc.auto", "hooks.pre_publish",
                                                "live_path"};
  return keys;
}

Result<std::optional<std::string>> GetConfigKey(const RepoConfig& c, const std::string& key) {
  using Opt = std::optional<std::string>;
  if (key == "lock_timeout_ms") return Opt(std::to_string(c.lock_timeout_ms));
  if (key == "sync") return Opt(c.sync);
  if (key == "gc.keep") return Opt(std::to_string(c.gc_keep.value_or(kDefaultGcKeep)));
  if (key == "gc.keep_within")
    return c.gc_keep_within_ms ? Opt(FormatDurationMs(*c.gc_keep_within_ms)) : Opt();
  if (key == "gc.auto") return Opt(c.gc_auto ? "true" : "false");
  if (key == "hooks.pre_publish")
    return c.pre_publish_hook.empty() ? Opt() : Opt(c.pre_publish_hook);
  if (key == "live_path") return Opt(c.live_path);
  std::string known;
  for (const auto& k : ConfigKeys()) known += (known.empty() ? "" : ", ") + k;
  return MakeError(Code::kInvalidArgument,
                   "unknown config key '" + key + "' (known: " + known + ")");
}

Status SetConfigKey(RepoConfig* c, const std::string& key,
                    const std::optional<std::string>& value) {
  TXDIR_CHECK(GetConfigKey(*c, key));  // known key?
  if (key == "live_path")
    return MakeError(Code::kInvalidArgument,
                     "live_path cannot be changed with `txdir config` (the live link would have "
                     "to move); it is set by `txdir init --live`");
  if (!value) {
    RepoConfig d;
    if (key == "lock_timeout_ms") c->lock_timeout_ms = d.lock_timeout_ms;
    if (key == "sync") c->sync = d.sync;
    if (key == "gc.keep") c->gc_keep.reset();
    if (key == "gc.keep_within") c->gc_keep_within_ms.reset();
    if (key == "gc.auto") c->gc_auto = false;
    if (key == "hooks.pre_publish") c->pre_publish_hook.clear();
    return Ok();
  }
  const std::string& v = *value;
  if (key == "lock_timeout_ms") {
    if (v == "0") {
      c->lock_timeout_ms = 0;
      return Ok();
    }
    auto n = ParsePositive(key, v);
    if (!n || *n > static_cast<uint64_t>(kMaxLockTimeout.count()))
      return MakeError(Code::kInvalidArgument,
                       "lock_timeout_ms must be " + LockTimeoutRange() + ", not '" + v + "'");
    c->lock_timeout_ms = static_cast<int64_t>(*n);
  } else if (key == "sync") {
    if (!ValidSyncMode(v))
      return MakeError(Code::kInvalidArgument,
                       "sync must be syncfs, single-flush or fsync, not '" + v + "'");
    c->sync = v;
  } else if (key == "gc.keep") {
    auto n = ParsePositive(key, v);
    if (!n || *n > kMaxGcKeep)
      return MakeError(Code::kInvalidArgument,
                       "gc.keep must be " + GcKeepRange() + ", not '" + v + "'");
    c->gc_keep = *n;
  } else if (key == "gc.keep_within") {
    c->gc_keep_within_ms = TXDIR_TRY(ParseDurationMs(v));
  } else if (key == "gc.auto") {
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
      c->gc_auto = true;
    } else if (v == "false" || v == "0" || v == "no" || v == "off") {
      c->gc_auto = false;
    } else {
      return MakeError(Code::kInvalidArgument, "gc.auto must be true or false, not '" + v + "'");
    }
  } else if (key == "hooks.pre_publish") {
    if (v.find('\0') != std::string::npos)
      return MakeError(Code::kInvalidArgument, "hooks.pre_publish must not contain NUL bytes");
    c->pre_publish_hook = v;
  }
  return Ok();
}

}  // namespace txdir::internal

namespace txdir {

namespace {

Result<internal::Layout> ConfigLayout(const std::string& root) {
  internal::Layout l = internal::Layout::For(root);
  TXDIR_CHECK(internal::CheckMetaFolder(Env::Default(), l));
  return l;
}

}  // namespace

const std::vector<std::string>& ConfigKeys() { return internal::ConfigKeys(); }

Result<std::vector<std::pair<std::string, std::optional<std::string>>>> ListConfig(
    const std::string& root) {
  internal::Layout l = TXDIR_TRY(ConfigLayout(root));
  auto c = TXDIR_TRY(internal::LoadConfig(Env::Default(), l.config));
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  for (const auto& k : internal::ConfigKeys())
    out.emplace_back(k, TXDIR_TRY(internal::GetConfigKey(c, k)));
  return out;
}

Result<std::optional<std::string>> GetConfig(const std::string& root, const std::string& key) {
  internal::Layout l = TXDIR_TRY(ConfigLayout(root));
  auto c = TXDIR_TRY(internal::LoadConfig(Env::Default(), l.config));
  return internal::GetConfigKey(c, key);
}

Status SetConfig(const std::string& root, const std::string& key,
                 const std::optional<std::string>& value) {
  Env* env = Env::Default();
  internal::Layout l = TXDIR_TRY(ConfigLayout(root));
  // A setting can name the hook every writer runs: only the owner (or an
  // opted-in user) may change one.
  TXDIR_CHECK(internal::CheckWriteTrust(env, l, "change the config of"));
  auto before = TXDIR_TRY(internal::LoadConfig(env, l.config));
  {
    internal::RepoConfig probe = before;  // validate before waiting for the lock
    TXDIR_CHECK(internal::SetConfigKey(&probe, key, value));
  }
  // Read-modify-write under the writer lock, so two settings changed at
  // once are both kept.
  auto lock = TXDIR_TRY(internal::WriterLock::Acquire(
      env, l.lock, std::chrono::milliseconds(before.lock_timeout_ms)));
  auto c = TXDIR_TRY(internal::LoadConfig(env, l.config));
  TXDIR_CHECK(internal::SetConfigKey(&c, key, value));
  return internal::SaveConfig(env, l.config, c);
}

}  // namespace txdir
