// Atomic replacement of a single file: readers see the old bytes or the new
// bytes, never a mix, and after a crash the file holds one of the two.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "txdir/env.h"
#include "txdir/error.h"

namespace txdir {

struct AtomicWriteOptions {
  // Mode for a new file. When the file exists, its mode is kept.
  mode_t mode = 0644;
  // Env to use; nullptr means Env::Default().
  Env* env = nullptr;
};

// Writes `data` to a temporary file in the same directory as `path`, fsyncs
// it, renames it over `path` and fsyncs the directory. When this returns Ok
// the new content is durable. On failure `path` is unchanged and the
// temporary file has been removed (best effort; recovery removes leftovers,
// which are named ".<name>.tmp-*").
Status AtomicWriteFile(const std::string& path, std::string_view data,
                       const AtomicWriteOptions& options = {});

// As above, relative to the open directory `dir`; `name` has no '/'.
Status AtomicWriteFileAt(Env* env, int dir, const std::string& name, std::string_view data,
                         mode_t mode = 0644);

}  // namespace txdir
