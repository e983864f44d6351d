// Streaming read of a blob from a pack. libgit2 reads a packed object
// whole (it has no streaming reader for packs), so a 200 MB file that came
// with a pull or clone cost 200 MB of memory — twice, with the copy — each
// time it was materialized or verified. A blob stored whole in a pack (not
// as a delta) is one zlib stream at a known offset: this reads the pack's
// index (.idx version 2) for the offset and inflates the stream piece by
// piece, through the Env.
#pragma once

#include <git2.h>

#include <functional>
#include <string>
#include <string_view>

#include "txdir/env.h"
#include "txdir/error.h"

namespace txdir::store {

// Delivers blob `oid` from the packs in `pack_dir` (objects/pack) to `sink`
// in pieces of at most a few hundred KiB; `on_size` first gets its length.
// False, having delivered nothing, when no pack index lists the object or
// the pack stores it as a delta (its base is needed: the caller reads it
// through libgit2). Corruption when the pack or its index is damaged or
// the object is not a blob.
Result<bool> ReadPackedBlob(Env* env, const std::string& pack_dir, const git_oid& oid,
                            const std::function<Status(std::string_view)>& sink,
                            const std::function<Status(uint64_t)>& on_size);

}  // namespace txdir::store
