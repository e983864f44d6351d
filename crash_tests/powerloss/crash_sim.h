// The power-loss simulator: from the pre-operation directory and the op log
// of one operation (recording_env.h), enumerate the states a power failure
// could leave under a weak persistence model, and build each as a real
// directory.
//
// The model (docs/durability.md):
//   - only fsync orders operations; nothing issued is durable until the
//     fsync (or syncfs) that covers it returns;
//   - a write, truncate or chmod is durable after an fsync of its inode;
//     until then its data may be lost, zeroed or half written;
//   - a directory entry (create, mkdir, symlink, link, unlink, rmdir,
//     rename) is durable after an fsync of the directory holding it (for a
//     rename: the destination's directory); until then it may not have
//     happened at all;
//   - ops that depend on a lost op (a write into a file whose creation was
//     lost, a rename of a name that is not there) cannot happen either.
// A crash state is: a prefix of the log (the ops issued before the crash),
// a set of those ops that were not yet durable and are lost, and at most
// one unsynced write that is zeroed or half written instead.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "crash_tests/powerloss/recording_env.h"
#include "txdir/error.h"

namespace txdir::powerloss {

enum class StateClass { kPrefix, kOneDrop, kTwoDrop, kData };
enum class DataVariant { kNone, kZeroed, kHalf };

struct CrashState {
  StateClass cls = StateClass::kPrefix;
  size_t prefix = 0;            // ops [0, prefix) were issued
  std::vector<size_t> dropped;  // not-yet-durable ops that are lost
  DataVariant variant = DataVariant::kNone;
  size_t variant_op = 0;  // the write damaged by `variant`
  bool acked = false;     // the whole log of an operation that returned Ok

  std::string Describe(const std::vector<Op>& ops) const;
};

struct EnumerateOptions {
  bool one_drop = true;
  bool data_variants = true;
  // Upper bound on two-drop states; when there are more pairs, an evenly
  // spaced (deterministic) sample of this many. 0: none.
  size_t max_two_drop = 0;
};

// For each op, the index of the first later op that makes it durable
// (npos: never within the log).
std::vector<size_t> DurableAt(const std::vector<Op>& ops);

// The ops of [0, prefix) that a crash right after op prefix-1 may lose.
std::vector<size_t> VolatileAt(const std::vector<Op>& ops, const std::vector<size_t>& durable_at,
                               size_t prefix);

// Every crash state of the log. `completed`: the operation returned
// success after the last op (states of the whole log are "acked").
std::vector<CrashState> EnumerateCrashStates(const std::vector<Op>& ops, bool completed,
                                             const EnumerateOptions& options);

// Copies the tree at `src` to `dst` (which must not exist) preserving
// symlinks, modes and hard links. Regular files for which `share(rel)` is
// true are hard-linked to the file in `src` instead of copied: only for
// files nobody writes in place.
Status CopyTree(const std::string& src, const std::string& dst,
                const std::function<bool(const std::string& rel)>& share = nullptr);

// rm -rf that first makes read-only directories writable.
void RemoveTreeForce(const std::string& path);

// A digest of a whole tree: names, types, permission bits, contents,
// symlink targets and which names share an inode. Equal trees, equal digest.
std::string TreeDigest(const std::string& root);

// Builds the crash state `s` at `dst`: a copy of `pre` (the operation's
// root before it ran, with immutable files shared), then every op of the
// state replayed with paths under `orig_root` moved to `dst`. Ops that
// cannot happen because of a lost op are skipped.
Status BuildState(const std::string& pre, const std::string& dst, const std::string& orig_root,
                  const std::vector<Op>& ops, const CrashState& s);

// Ok when every mutating op of the log is under `root` (the simulator only
// rebuilds that tree); otherwise names the first that is not.
Status CheckLogConfined(const std::vector<Op>& ops, const std::string& root);

}  // namespace txdir::powerloss
