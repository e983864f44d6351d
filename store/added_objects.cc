#include "store/added_objects.h"

#include <map>
#include <string>

namespace txdir::store {

namespace {

// Appends what `tree` adds over `base` (same path); false once past `cap`.
Result<bool> Walk(const GitStore& store, const git_oid& tree, const std::optional<git_oid>& base,
                  size_t cap, std::vector<AddedObject>& out) {
  if (base && OidEqual(tree, *base)) return true;
  out.push_back(AddedObject{tree, /*is_tree=*/true});
  if (out.size() > cap) return false;
  std::map<std::string, TreeEntry, std::less<>> before;
  if (base) {
    for (TreeEntry& e : TXDIR_TRY(store.ReadTreeEntries(*base))) before.emplace(e.name, e);
  }
  for (const TreeEntry& e : TXDIR_TRY(store.ReadTreeEntries(tree))) {
    const bool is_tree = e.mode == kModeTree;
    std::optional<git_oid> old;
    if (auto it = before.find(e.name);
        it != before.end() && (it->second.mode == kModeTree) == is_tree)
      old = it->second.oid;
    if (is_tree) {
      if (!TXDIR_TRY(Walk(store, e.oid, old, cap, out))) return false;
      continue;
    }
    if (old && OidEqual(*old, e.oid)) continue;
    out.push_back(AddedObject{e.oid, /*is_tree=*/false});
    if (out.size() > cap) return false;
  }
  return true;
}

}  // namespace

Result<std::optional<std::vector<AddedObject>>> AddedObjects(
    const GitStore& store, const git_oid& tree, const std::optional<git_oid>& base_tree,
    size_t cap) {
  std::vector<AddedObject> out;
  if (!TXDIR_TRY(Walk(store, tree, base_tree, cap, out)))
    return std::optional<std::vector<AddedObject>>();
  return std::optional<std::vector<AddedObject>>(std::move(out));
}

Status VerifyAddedObjects(const GitStore& store, const std::vector<AddedObject>& objects) {
  for (const AddedObject& o : objects) {
    if (o.is_tree) {
      TXDIR_CHECK(store.VerifyObject(o.oid));
      continue;
    }
    const git_oid actual = TXDIR_TRY(store.HashStoredBlob(o.oid));
    if (!OidEqual(actual, o.oid))
      return MakeError(
          Code::kCorruption,
          "object " + OidHex(o.oid) + " is damaged: its content hashes to " + OidHex(actual));
  }
  return Ok();
}

}  // namespace txdir::store
