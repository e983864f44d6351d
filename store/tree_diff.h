// Differences between two trees of the store: which files were added,
// removed or changed, and for each one its patch (unified diff text, line
// counts, binary or not). What `log`, `diff` and the web view show.
//
// Thread safety: a TreeDiff is used by one thread at a time, like the
// GitStore it reads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/git_store.h"

namespace txdir::store {

struct TreeChange {
  enum class Kind { kAdded, kRemoved, kModified };
  Kind kind;
  // The file's path: the new one, or the old one for a removal.
  std::string path;
  // The side that does not exist has mode 0 and a zero id. A file that
  // became a link (or the reverse) is one kModified change.
  uint32_t old_mode = 0, new_mode = 0;
  git_oid old_blob{}, new_blob{};
};

// One change's patch, as git would print it.
struct FilePatch {
  bool binary = false;
  // Text files only: lines added and removed.
  size_t lines_added = 0, lines_removed = 0;
  // Both sides' sizes in bytes (0 for a side that does not exist).
  uint64_t old_size = 0, new_size = 0;
  // The unified diff ("diff --git a/... b/...", hunks), when asked for and
  // the file is text; empty otherwise.
  std::string text;
};

class TreeDiff {
 public:
  // Compares tree `from` with tree `to` (nullopt: the empty tree).
  // Corruption when either tree cannot be read (a tree a commit names).
  static Result<TreeDiff> Compare(const GitStore& store, const std::optional<git_oid>& from,
                                  const std::optional<git_oid>& to);
  TreeDiff(TreeDiff&&) noexcept;
  TreeDiff& operator=(TreeDiff&&) noexcept;
  ~TreeDiff();

  // Every changed file, in git's order (by path).
  const std::vector<TreeChange>& changes() const { return changes_; }

  // The patch of changes()[i]; with `text`, its unified diff too.
  Result<FilePatch> Patch(size_t i, bool text) const;

  // The bytes of the lines every change adds and removes (text content,
  // without context, headers or "no newline" markers); a binary file counts
  // whole, its old contents removed and its new contents added.
  Status CountChangedBytes(uint64_t* added, uint64_t* removed) const;

 private:
  struct State;
  TreeDiff(std::unique_ptr<State> state, std::vector<TreeChange> changes);

  std::unique_ptr<State> state_;
  std::vector<TreeChange> changes_;
};

}  // namespace txdir::store
