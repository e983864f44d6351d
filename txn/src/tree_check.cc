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

}  // namespace

Status TreeChecker::Walk(const git_oid& tree_id, const std::string& prefix, size_t depth) {
  if (!seen_.emplace(std::make_pair(store::OidHex(tree_id), depth * 100000 + prefix.size()), true)
           .second)
    return Ok();
  git_tree* raw = nullptr;
  if (int rc = git_tree_lookup(&raw, store_.repo(), &tree_id); rc < 0)
    return store::GitError(rc, "cannot read tree " + store::OidHex(tree_id) +
                                   (prefix.empty() ? "" : " of '" + Printable(prefix) + "'"));
  std::unique_ptr<git_tree, void (*)(git_tree*)> tree(raw, git_tree_free);
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, store_.repo()); rc < 0)
    return store::GitError(rc, "no object database");
  std::unique_ptr<git_odb, void (*)(git_odb*)> odb_owner(odb, git_odb_free);
  std::set<std::string> names;
  std::string prev_name;
  bool prev_dir = false;
  for (size_t i = 0, n = git_tree_entrycount(tree.get()); i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
    const std::string name = git_tree_entry_name(e);
    const std::string path = prefix + name;
    TXDIR_CHECK(CheckName(name, path));
    TXDIR_CHECK(CheckRelativePath(path));
    // The raw mode: git_tree_entry_filemode() maps 100664 to 100644 and
    // the like, which git fsck reports and we never write.
    const uint32_t mode = git_tree_entry_filemode_raw(e);
    const bool dir = mode == GIT_FILEMODE_TREE;
    if (!names.insert(name).second) return Refuse("the same name twice in one folder", path);
    if (i > 0 && GitOrder(prev_name, prev_dir, name, dir) >= 0)
      return Refuse("folder entries not in git's order", path);
    prev_name = name;
    prev_dir = dir;
    git_object_t want;
    switch (mode) {
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE:
      case GIT_FILEMODE_LINK:
        want = GIT_OBJECT_BLOB;
        break;
      case GIT_FILEMODE_TREE:
        want = GIT_OBJECT_TREE;
        break;
      case GIT_FILEMODE_COMMIT:
        return Refuse("a submodule (mode 160000), not a file, link or folder", path);
      default: {
        char octal[16];
        (void)std::snprintf(octal, sizeof octal, "%o", mode);
        return Refuse(std::string("mode ") + octal + ", not a file, link or folder", path);
      }
    }
    const git_oid* id = git_tree_entry_id(e);
    if (dir) {
      TXDIR_CHECK(Walk(*id, path + "/", depth + 1));
      continue;
    }
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (int rc = git_odb_read_header(&size, &type, odb_owner.get(), id); rc < 0)
      return store::GitError(
          rc, "cannot read object " + store::OidHex(*id) + " of '" + Printable(path) + "'");
    if (type != want) return Refuse("a file or link whose object is not a blob", path);
    if (mode == GIT_FILEMODE_LINK) {
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
  git_commit* raw = nullptr;
  if (int rc = git_commit_lookup(&raw, store.repo(), &commit); rc < 0)
    return store::GitError(rc, "cannot read commit " + store::OidHex(commit));
  std::unique_ptr<git_commit, void (*)(git_commit*)> c(raw, git_commit_free);
  for (unsigned i = 0, n = git_commit_parentcount(c.get()); i < n; ++i) {
    const git_oid parent = *git_commit_parent_id(c.get(), i);
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
