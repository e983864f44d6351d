#include "txn/src/single_flush.h"

#include <fcntl.h>

#include <string>
#include <vector>

#include "store/added_objects.h"
#include "store/failpoint.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

std::string AckRecordName(uint64_t number) { return number % 2 == 0 ? "ack.0" : "ack.1"; }

// The parents `commit` must have to be one step above `expected`.
bool OneStep(const std::vector<git_oid>& parents, const std::optional<git_oid>& expected) {
  if (!expected) return parents.empty();
  return parents.size() == 1 && store::OidEqual(parents[0], *expected);
}

// What a failed read of the pending commit's objects means: a missing or
// damaged object (the barrier never completed) answers "not whole"; any
// other error is the read's, and is returned.
Result<bool> NotWhole(const Error& e) {
  if (e.code == Code::kCorruption || e.code == Code::kNotFound) return false;
  return tl::unexpected(e);
}

// `e` with the record's full path (the Env names only what it was given).
Error AtRecord(const Repository::Impl& r, uint64_t number, Error e) {
  e.path = r.layout.meta + "/" + AckRecordName(number);
  return e;
}

}  // namespace

Result<bool> SingleFlushEligible(Repository::Impl& r, const git_oid& commit, const git_oid& tree,
                                 const std::optional<git_oid>& expected) {
  if (!SingleFlushSync(r)) return false;
  if (!OneStep(TXDIR_TRY(r.store->CommitParents(commit)), expected)) return false;
  std::optional<git_oid> base;
  if (expected) base = TXDIR_TRY(r.store->CommitTree(*expected));
  auto added = TXDIR_TRY(store::AddedObjects(*r.store, tree, base, kSingleFlushMaxObjects));
  return added.has_value();
}

Status WriteAckRecord(Repository::Impl& r, uint64_t number, const git_oid& commit) {
  // TXDIR_BROKEN: a deliberately broken variant for the power-loss self-test.
  if (TXDIR_BROKEN("no-ack-record")) return Ok();
  Fd meta = TXDIR_TRY(OpenMetaDir(r.env, r.layout, ""));
  // Every record has the same length, so writing over the old one from
  // offset 0 leaves no tail to cut.
  auto f = r.env->OpenAt(meta.get(), AckRecordName(number), O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
  if (!f) return tl::unexpected(AtRecord(r, number, f.error()));
  const std::string line = store::OidHex(commit) + "\n";
  if (auto s = r.env->Write(f->get(), line.data(), line.size()); !s)
    return tl::unexpected(AtRecord(r, number, s.error()));
  return Ok();
}

Result<bool> AckedAfterOneFlush(Repository::Impl& r, const git_oid& pending, uint64_t number) {
  Fd meta = TXDIR_TRY(OpenMetaDir(r.env, r.layout, ""));
  auto f = r.env->OpenAt(meta.get(), AckRecordName(number), O_RDONLY | O_NOFOLLOW);
  if (!f) {
    if (f.error().code == Code::kNotFound) return false;
    return tl::unexpected(AtRecord(r, number, f.error()));
  }
  auto text = r.env->ReadAll(f->get());
  if (!text) return tl::unexpected(AtRecord(r, number, text.error()));
  if (*text != store::OidHex(pending) + "\n") return false;

  const auto head = TXDIR_TRY(r.store->Head());
  std::optional<git_oid> base;
  if (head) {
    auto head_meta = TXDIR_TRY(r.store->ReadMeta(*head));
    if (number != head_meta.number + 1) return false;
    base = TXDIR_TRY(r.store->CommitTree(*head));
  } else if (number != 1) {
    return false;
  }
  // From here on every read is of what the interrupted publish wrote.
  if (auto s = r.store->VerifyObject(pending); !s) return NotWhole(s.error());
  auto parents = r.store->CommitParents(pending);
  if (!parents) return NotWhole(parents.error());
  if (!OneStep(*parents, head)) return false;
  auto tree = r.store->CommitTree(pending);
  if (!tree) return NotWhole(tree.error());
  // TXDIR_BROKEN: recovery trusts the ack record without reading the
  // objects back (power-loss self-test).
  if (TXDIR_BROKEN("roll-forward-unverified")) return true;
  auto added = store::AddedObjects(*r.store, *tree, base, kSingleFlushMaxObjects);
  if (!added) return NotWhole(added.error());
  if (!*added) return false;  // too large to have been acknowledged this way
  if (auto s = store::VerifyAddedObjects(*r.store, **added); !s) return NotWhole(s.error());
  return true;
}

}  // namespace txdir::internal
