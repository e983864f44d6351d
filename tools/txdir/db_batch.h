// `txdir db DIR --batch`: JSON lines of set/insert/delete operations read
// from a stream and committed as one transaction (docs/cli.md, "db --batch").
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tools/txdir/cli.h"
#include "txdir/strategy.h"

namespace txdir::cli {

// Input limits: hostile input is refused, never a crash or an unbounded wait
// on memory. A longer line, more operations or more bytes are errors.
inline constexpr size_t kBatchMaxLineBytes = size_t{1} << 20;  // 1 MiB
inline constexpr size_t kBatchMaxOps = 1'000'000;
inline constexpr uint64_t kBatchMaxInputBytes = uint64_t{1} << 30;  // 1 GiB
inline constexpr int kBatchMaxJsonDepth = 16;

struct DbBatchOptions {
  std::string dir;
  Strategy strategy = Strategy::kMerge;
  std::string message;      // empty: "db --batch: N operations"
  bool versioning = false;  // as `db --versioning`, for every operation
};

// Reads every line of `in`, applies the operations in order (each SDN file
// parsed once, written once), prints one JSON line per operation and a final
// JSON line to stdout, and publishes one generation when every operation
// succeeded and something changed. Returns the exit code: the first failed
// line's (nothing is published then), or the commit's.
int RunDbBatch(const Globals& g, const DbBatchOptions& o, std::FILE* in);

}  // namespace txdir::cli
