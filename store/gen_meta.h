// Generation metadata, stored as trailers at the end of each generation's
// commit message so that plain `git log` shows it:
//
//   <message>
//
//   Txdir-Generation: 7
//   Txdir-Kind: rollback
//   Txdir-Restores: 5
//   Txdir-Host: build-01
//   Txdir-Pid: 4242
//   Txdir-Time: 2026-11-27T02:11:12.123Z
//   Txdir-Queued: 00001764820000123-4242-9f3a0c1d
//
// The author is the commit's author signature. Txdir-Queued (one line per
// transaction, none for most generations) names the queued transactions a
// group commit took into this generation (txn/src/group_commit.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/error.h"

namespace txdir::store {

struct GenMeta {
  uint64_t number = 0;
  std::string kind = "publish";      // publish | rollback | transaction | exec | pull | init
  std::optional<uint64_t> restores;  // rollback: the generation whose tree it restores
  std::string message;
  std::string host;
  int64_t pid = 0;
  int64_t time_ms = 0;              // Unix epoch, milliseconds
  std::vector<std::string> queued;  // ids of the queued transactions it took in
};

// A queued transaction's id: 1 to 64 characters of [0-9a-z-].
bool ValidQueueId(std::string_view id);

// The times a trailer can carry: 0000-01-01T00:00:00.000Z to
// 9999-12-31T23:59:59.999Z (four-digit years).
inline constexpr int64_t kMinTimeMs = -62167219200000;
inline constexpr int64_t kMaxTimeMs = 253402300799999;

// The message's trailing blanks are dropped (an empty message becomes
// "generation N"); newlines in kind and host become spaces. For a number
// of at least 1 and a time within the bounds above,
// ParseCommitMessage(FormatCommitMessage(m)) gives m back with exactly
// these changes (tests/fuzz/gen_meta_fuzz.cc checks it).
std::string FormatCommitMessage(const GenMeta& meta);

// Parses a commit message written by FormatCommitMessage. Commit messages
// may come from another repository (pull, clone): any text is safe to
// parse. A message without a Txdir-Generation trailer, or with a trailer
// whose value is malformed or out of range, is Corruption.
Result<GenMeta> ParseCommitMessage(const std::string& text);

// ISO-8601 UTC with milliseconds, "2026-11-27T02:11:12.123Z"; times outside
// [kMinTimeMs, kMaxTimeMs] are clamped to the bounds.
std::string FormatTime(int64_t time_ms);
int64_t NowMs();

}  // namespace txdir::store
