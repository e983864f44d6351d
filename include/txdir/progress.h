// Progress of long operations (publish, export, clone, pull, push, gc,
// fsck), reported to the caller for a display such as the CLI's progress
// line. An operation goes through named stages ("receiving objects", then
// "resolving deltas"); within one, `done` only grows.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace txdir {

struct Progress {
  std::string_view stage;  // what is being done now, e.g. "reading files"
  uint64_t done = 0;       // units (files, objects, generations) done in this stage
  uint64_t total = 0;      // units in this stage; 0: not known in advance
  uint64_t bytes = 0;      // bytes handled so far in this stage; 0: not counted
};

// Called on the thread doing the work, possibly once per unit: it must be
// cheap (a display throttles itself) and must not call back into the
// repository.
using ProgressFn = std::function<void(const Progress&)>;

}  // namespace txdir
