// Validation of a tree that is already in the store but did not come from
// this repository's own publish: a pull or clone brings in trees that
// another repository wrote, and git allows there much that publish never
// writes. One walk, the same rules as publish (path_check.h).
#pragma once

#include <map>
#include <string>
#include <utility>

#include "store/git_store.h"
#include "txdir/error.h"

namespace txdir::internal {

// Checks tree `tree` of the store and every tree below it, so that
// materializing it, reading it by path and checking it out behave as for a
// published generation:
//  - every name passes CheckName (no '/', not empty, "." or "..", no
//    control bytes, valid UTF-8, no spelling of ".git"), every path
//    CheckRelativePath (length, depth);
//  - entries are in git's order (folders compare as "name/") with no name
//    twice: libgit2 looks names up by binary search, so an unsorted tree
//    hides files from `cat --gen` that `current/` shows;
//  - modes are exactly 100644, 100755, 120000 or 40000 (no submodule, no
//    zero-padded or group-writable variants) and each entry's object has
//    the type its mode says;
//  - symlinks pass CheckLinkTarget (relative and inside the generation
//    unless `links_outside`, no git control file by that name).
// InvalidArgument naming the path (escaped) otherwise; Corruption when an
// object is missing or unreadable. Reads no blob but symlink targets.
class TreeChecker {
 public:
  TreeChecker(const store::GitStore& store, bool links_outside)
      : store_(store), links_outside_(links_outside) {}

  Status Check(const git_oid& tree) { return Walk(tree, "", 1); }

 private:
  Status Walk(const git_oid& tree, const std::string& prefix, size_t depth);

  const store::GitStore& store_;
  bool links_outside_;
  // Trees already checked, by id and by where they were (depth, length of
  // the prefix): the result depends on nothing else, and generations share
  // most of their folders.
  std::map<std::pair<std::string, size_t>, bool> seen_;
};

// Generation numbers grow along every parent edge: `commit` (generation
// `number`) must be above each of its parents. Corruption naming both
// otherwise, or when a parent is not a txdir generation. Pull and clone
// check every commit they bring in with it; AdoptCommit's check of the
// head against the local head is the same rule.
Status CheckParentNumbers(const store::GitStore& store, const git_oid& commit, uint64_t number);

}  // namespace txdir::internal
