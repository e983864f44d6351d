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
// one unsynced write that is zeroed or half written instead. The sets
// enumerated are: none, each one op, pairs of ops (sampled), and all of
// them (the disk kept nothing since the last flush).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crash_tests/powerloss/recording_env.h"
#include "txdir/error.h"

namespace txdir::powerloss {

enum class StateClass { kPrefix, kOneDrop, kTwoDrop, kData, kAllDrop };
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

// TreeDigest of trees that share files (hard links) with one base tree,
// such as the crash states built from the pre-operation copy: the content
// of a file that is one of the base's inodes is taken from the base's
// digest instead of being read again. Valid while the base's files are not
// changed in place (the power-loss run checks the base's digest at the end).
class TreeDigester {
 public:
  explicit TreeDigester(const std::string& base);
  const std::string& base_digest() const { return base_digest_; }
  // Equal to TreeDigest(root).
  std::string Digest(const std::string& root) const;

 private:
  std::map<FileId, std::string> known_;  // content digest of each base inode
  std::string base_digest_;
};

// The files of the pre-operation tree that nobody writes in place (objects
// and generation files): a crash state shares them with `pre` (hard links)
// instead of copying them.
bool PreShared(const std::string& rel);

// Builds the crash state `s` at `dst`: a copy of `pre` (the operation's
// root before it ran, PreShared files shared), then ReplayState.
Status BuildState(const std::string& pre, const std::string& dst, const std::string& orig_root,
                  const std::vector<Op>& ops, const CrashState& s);

// Replays every op of the state `s` on the copy of the pre-operation tree
// at `dst`, with paths under `orig_root` moved to `dst`. Ops that cannot
// happen because of a lost op are skipped.
void ReplayState(const std::string& dst, const std::string& orig_root, const std::vector<Op>& ops,
                 const CrashState& s);

// A tree read once into memory (names, modes, symlink targets, the content
// of files not shared, the inodes of those shared), so that a directory
// can be made equal to it again after each crash state by changing only
// what the state and its check changed: the thousands of states of a run
// then do not copy and delete the whole tree each.
class BaseTree {
 public:
  struct Node;

  // Reads the tree at `base`; files for which `share(rel)` is true are
  // taken as hard links to the base's file.
  static Result<BaseTree> Load(const std::string& base,
                               const std::function<bool(const std::string& rel)>& share);
  BaseTree();
  ~BaseTree();
  BaseTree(BaseTree&&) noexcept;
  BaseTree& operator=(BaseTree&&) noexcept;

  // Makes `dst` (created if missing) a copy of the base: equal TreeDigest,
  // shared files the base's own inodes (hard links), the others copies.
  Status ResetTo(const std::string& dst) const;

 private:
  std::string base_;
  std::unique_ptr<Node> root_;
};

// Ok when every mutating op of the log is under `root` (the simulator only
// rebuilds that tree); otherwise names the first that is not.
Status CheckLogConfined(const std::vector<Op>& ops, const std::string& root);

}  // namespace txdir::powerloss
