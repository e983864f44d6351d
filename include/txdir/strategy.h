// How a commit resolves a file (or an SDN record) changed both by the
// committing transaction ("ours") and by a commit published since its base
// ("theirs"). Record-level semantics: record_merge.h.
#pragma once

#include <optional>
#include <string_view>

namespace txdir {

enum class Strategy {
  kError,             // a change on both sides is a Conflict; nothing is published
  kLastWriteWins,     // ours wins
  kLastModifiedWins,  // per record, the newer last_modified wins (ties: ours)
  kMerge,             // three-way merge; overlapping changes are conflicts
};

// "error", "last-write-wins", "last-modified-wins", "merge".
std::string_view StrategyName(Strategy strategy);
// The inverse of StrategyName (also accepts '_' for '-'); nullopt if unknown.
std::optional<Strategy> ParseStrategy(std::string_view name);

}  // namespace txdir
