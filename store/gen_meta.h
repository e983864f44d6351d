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
//
// The author is the commit's author signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "txdir/error.h"

namespace txdir::store {

struct GenMeta {
  uint64_t number = 0;
  std::string kind = "publish";      // publish | rollback | transaction | exec | pull | init
  std::optional<uint64_t> restores;  // rollback: the generation whose tree it restores
  std::string message;
  std::string host;
  int64_t pid = 0;
  int64_t time_ms = 0;  // Unix epoch, milliseconds
};

std::string FormatCommitMessage(const GenMeta& meta);

// Parses a commit message written by FormatCommitMessage. A message
// without a Txdir-Generation trailer is Corruption.
Result<GenMeta> ParseCommitMessage(const std::string& text);

std::string FormatTime(int64_t time_ms);  // ISO-8601 UTC with milliseconds
int64_t NowMs();

}  // namespace txdir::store
