// The objects one generation added to the store: what its tree reaches
// that its parent's tree does not reach at the same path. A publish in
// single-flush mode (docs/commit_protocol.md) counts them to decide whether
// one flush may acknowledge it, and recovery reads them back to decide
// whether such a publish, interrupted by a power loss, is whole.
//
// Thread safety: as the GitStore it reads.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "store/git_store.h"

namespace txdir::store {

struct AddedObject {
  git_oid oid;
  bool is_tree = false;  // a tree; otherwise a blob (a file's bytes or a link's target)
};

// The objects `tree` reaches and `base_tree` (nullopt: the empty tree) does
// not reach at the same path, `tree` itself included unless it is
// `base_tree`: the walk skips every subtree whose id is the same on both
// sides, so it reads only the trees that changed. nullopt when there are
// more than `cap`. An object that `base_tree` holds at another path (a
// file moved, a rollback's older files) is listed too: the list is a
// superset of what the generation wrote. Errors are the trees' reads
// (kCorruption or kNotFound for a tree that is missing or damaged).
Result<std::optional<std::vector<AddedObject>>> AddedObjects(
    const GitStore& store, const git_oid& tree, const std::optional<git_oid>& base_tree,
    size_t cap);

// Reads each object whole from the store and checks that it hashes to its
// id (VerifyObject for trees, HashStoredBlob for blobs). kCorruption or
// kNotFound for the first one that is damaged or missing; any other error
// (kIo) is the read's.
Status VerifyAddedObjects(const GitStore& store, const std::vector<AddedObject>& objects);

}  // namespace txdir::store
