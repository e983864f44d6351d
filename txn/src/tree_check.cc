#include "txn/src/tree_check.h"

#include <cstring>
#include <memory>
#include <set>

#include "txn/src/path_check.h"

namespace txdir::internal {

namespace {

// git's order of tree entries (base_name_compare): bytes, with a folder's
// name compared as if it ended in '/'.
int GitOrder(const std::string& a, bool a_dir, const std::string& b, bool b_dir) {
  const size_t n = std::min(a.size(), b.size());
  if (int c = std::memcmp(a.data(), b.data(), n); c != 0) return c;
  const unsigned char ca = n < a.size() ? a[n] : a_dir ? '/' : '\0';
  const unsigned char cb = n < b.size() ? b[n] : b_dir ? '/' : '\0';
  return ca < cb ? -1 : ca > cb ? 1 : 0;
}

Status Refuse(const std::string& why, const std::string& path) {
  return MakeError(Code::kInvalidArgument, why, Printable(path));
}

// A store error with the path it was met at.
tl::unexpected<Error> Within(Error e, const std::string& path) {
  if (!path.empty()) e.message += " (at '" + Printable(path) + "')";
  return tl::unexpected<Error>(std::move(e));
}

}  // namespace

Status TreeChecker::Walk(const git_oid& tree_id, const std::string& prefix, size_t depth) {
  if (!seen_.emplace(std::make_pair(store::OidHex(tree_id), depth * 100000 + prefix.size()), true)
           .second)
    return Ok();
  auto entries = store_.ReadTreeEntries(tree_id);
  if (!entries) return Within(entries.error(), prefix);
  std::set<std::string> names;
  std::string prev_name;
  bool prev_dir = false;
  for (size_t i = 0; i < entries->size(); ++i) {
    const store::TreeEntry& e = (*entries)[i];
    const std::string& name = e.name;
    const std::string path = prefix + name;
    TXDIR_CHECK(CheckName(name, path));
    TXDIR_CHECK(CheckRelativePath(path));
    // The raw mode: libgit2 would map 100664 to 100644 and the like,
    // which git fsck reports and we never write.
    const uint32_t mode = e.mode;
    const bool dir = mode == store::kModeTree;
    if (!names.insert(name).second) return Refuse("the same name twice in one folder", path);
    if (i > 0 && GitOrder(prev_name, prev_dir, name, dir) >= 0)
      return Refuse("folder entries not in git's order", path);
    prev_name = name;
    prev_dir = dir;
    store::ObjectType want;
    switch (mode) {
      case store::kModeFile:
      case store::kModeExecutable:
      case store::kModeLink:
        want = store::ObjectType::kBlob;
        break;
      case store::kModeTree:
        want = store::ObjectType::kTree;
        break;
      case store::kModeSubmodule:
        return Refuse("a submodule (mode 160000), not a file, link or folder", path);
      default: {
        char octal[16];
        (void)std::snprintf(octal, sizeof octal, "%o", mode);
        return Refuse(std::string("mode ") + octal + ", not a file, link or folder", path);
      }
    }
    const git_oid* id = &e.oid;
    if (dir) {
      TXDIR_CHECK(Walk(*id, path + "/", depth + 1));
      continue;
    }
    auto type = store_.TypeOf(*id);
    if (!type) return Within(type.error(), path);
    if (*type != want) return Refuse("a file or link whose object is not a blob", path);
    if (mode == store::kModeLink) {
      const uint64_t size = TXDIR_TRY(store_.ObjectSize(*id));
      // Read only when small: a target is at most kMaxPathLength bytes.
      if (size > kMaxPathLength)
        return Refuse(
            "invalid symlink (target longer than " + std::to_string(kMaxPathLength) + " bytes)",
            path);
      const std::string target = TXDIR_TRY(store_.ReadBlob(*id));
      TXDIR_CHECK(CheckLinkTarget(path, target, links_outside_));
    }
  }
  return Ok();
}

Status CheckParentNumbers(const store::GitStore& store, const git_oid& commit, uint64_t number) {
  const std::vector<git_oid> parents = TXDIR_TRY(store.CommitParents(commit));
  for (const git_oid& parent : parents) {
    auto meta = store.ReadMeta(parent);
    if (!meta)
      return MakeError(Code::kCorruption,
                       "parent " + store::OidHex(parent) + " of commit " + store::OidHex(commit) +
                           " is not a txdir generation: " + meta.error().message);
    if (meta->number >= number)
      return MakeError(Code::kCorruption,
                       "generation numbers do not decrease along the history: commit " +
                           store::OidHex(commit) + " has generation " + std::to_string(number) +
                           ", its parent " + store::OidHex(parent) + " generation " +
                           std::to_string(meta->number));
  }
  return Ok();
}

}  // namespace txdir::internal
