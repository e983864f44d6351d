// Internal helpers of the record merge: the bookkeeping columns and time
// stamps. Not part of the public API.
#pragma once

#include <string_view>

#include "txdir/records.h"

namespace txdir::internal {

// `version` and `last_modified` record when a record changed, not what it
// holds, so the merge never counts them as a change of content.
inline bool IsBookkeeping(std::string_view column) {
  return column == kVersionColumn || column == kLastModifiedColumn;
}

// True when time stamp `a` is strictly later than `b`. Accepts ISO-8601
// "YYYY-MM-DD[THH:MM:SS[.fff]][Z]" (also ' ' for 'T'), read as UTC; a value
// that is not such a time stamp (e.g. "") is older than every time stamp.
bool LaterTimestamp(std::string_view a, std::string_view b);

// Sets `out`'s bookkeeping cells for a record combined from `ours` and
// `theirs`: version max + 1 (ours's text if either is not an integer), and
// the later last_modified (ours on a tie). Columns `out` lacks are skipped.
void MergeBookkeeping(const Row& ours, const Row& theirs, Row& out);

}  // namespace txdir::internal
