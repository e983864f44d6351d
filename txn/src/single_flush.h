// Single-flush mode (config sync = "single-flush"): a small generation is
// acknowledged after the one barrier before its commit point, without the
// flush after the head's and the live link's renames. What makes that safe
// (docs/commit_protocol.md, "Single-flush mode"):
//
//  - Before the barrier, the publish writes an ack record naming its
//    commit (.txdir/ack.0 or ack.1, by the generation's parity). The
//    barrier makes it durable with the objects, gens/N and main.lock.
//  - After a power loss that undid the renames, recovery finds main.lock
//    and the ack record naming the same commit, one generation above the
//    head, whose added objects all read back whole: the publish may have
//    been acknowledged, so the head move is completed, not undone.
//  - A record is only ever overwritten by a generation two above it, which
//    comes after a generation in between whose own barrier (or fsyncs)
//    made the earlier renames durable: a record is never lost while it is
//    the only trace of an acknowledged commit.
//
// Small means: one generation above its parent (no pulled chain), and at
// most kSingleFlushMaxObjects added objects (store/added_objects.h), so
// that recovery's check reads a bounded number of objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "store/git_store.h"
#include "txn/src/repo_impl.h"

namespace txdir::internal {

// The most objects (trees and blobs, the commit not counted) a generation
// may add and still be acknowledged after one flush: the loose-object
// range (a larger publish writes a pack, OdbBackend::kPackMinObjects).
inline constexpr size_t kSingleFlushMaxObjects = 255;

// True when `commit` (generation `number`, tree `tree`) may be acknowledged
// after one flush: single-flush mode, its only parent is `expected` (or it
// has none and there is no head), and it adds at most
// kSingleFlushMaxObjects objects over the parent's tree.
Result<bool> SingleFlushEligible(Repository::Impl& r, const git_oid& commit, const git_oid& tree,
                                 const std::optional<git_oid>& expected);

// Writes the ack record of generation `number`: the commit's id and a
// newline, in place (no new file after the first two), unsynced; the
// barrier that follows makes it durable.
Status WriteAckRecord(Repository::Impl& r, uint64_t number, const git_oid& commit);

// Recovery: true when `pending` (refs/heads/main.lock's commit, generation
// `number`) was published in single-flush mode and is whole, so it may have
// been acknowledged and its head move must be completed: the ack record of
// its parity names it, its only parent is the head (none: no head), its
// number is the head's + 1, and the commit and every object it adds read
// back whole. False for anything damaged or missing; errors only for a read
// that failed (kIo), which must not decide.
Result<bool> AckedAfterOneFlush(Repository::Impl& r, const git_oid& pending, uint64_t number);

}  // namespace txdir::internal
