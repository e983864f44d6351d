#include "txdir/strategy.h"

#include <string>

namespace txdir {

std::string_view StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kError:
      return "error";
    case Strategy::kLastWriteWins:
      return "last-write-wins";
    case Strategy::kLastModifiedWins:
      return "last-modified-wins";
    case Strategy::kMerge:
      return "merge";
  }
  return "unknown";
}

std::optional<Strategy> ParseStrategy(std::string_view name) {
  std::string normal(name);
  for (char& c : normal)
    if (c == '_') c = '-';
  for (Strategy s : {Strategy::kError, Strategy::kLastWriteWins, Strategy::kLastModifiedWins,
                     Strategy::kMerge}) {
    if (normal == StrategyName(s)) return s;
  }
  return std::nullopt;
}

}  // namespace txdir
