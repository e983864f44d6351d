// The three-way file-set merge shared by transactions and pull (see
// tree_merge.h).
#include "txn/src/tree_merge.h"

#include "txdir/sdn.h"

namespace txdir::internal {

bool SameFile(const std::optional<store::TreeFile>& a, const std::optional<store::TreeFile>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (store::OidEqual(a->oid, b->oid) && a->mode == b->mode);
}

Result<FileMap> TreeMap(const store::GitStore& store, const git_oid& tree) {
  FileMap m;
  for (auto& f : TXDIR_TRY(store.ListTree(tree))) m.emplace(f.path, f);
  return m;
}

namespace {

std::optional<store::TreeFile> Lookup(const FileMap& m, const std::string& path) {
  auto it = m.find(path);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

// Resolves one path changed on both sides. Returns the file to publish
// (nullopt: removed), or adds to the conflicts of `out`.
struct Resolver {
  store::GitStore& store;
  Strategy strategy;
  int64_t theirs_time_ms;
  TreeMerge* out;

  Result<std::optional<store::TreeFile>> Resolve(const std::string& path,
                                                 const std::optional<store::TreeFile>& base,
                                                 const std::optional<store::TreeFile>& ours,
                                                 int64_t ours_time,
                                                 const std::optional<store::TreeFile>& theirs) {
    const bool sdn_merge =
        sdn::IsTablesPath(path) && ours && theirs &&
        (strategy == Strategy::kMerge || strategy == Strategy::kLastModifiedWins);
    switch (strategy) {
      case Strategy::kError:
        out->conflicts.push_back(path);
        return ours;
      case Strategy::kLastWriteWins:
        out->merged.push_back(path);
        return ours;
      case Strategy::kLastModifiedWins:
      case Strategy::kMerge:
        if (sdn_merge) return MergeSdn(path, base, *ours, *theirs);
        if (strategy == Strategy::kMerge) {
          out->conflicts.push_back(path);
          return ours;
        }
        // Not a table: the later write wins. Theirs was written no later
        // than theirs_time_ms.
        if (ours_time >= theirs_time_ms) {
          out->merged.push_back(path);
          return ours;
        }
        out->theirs_kept.push_back(path);
        return theirs;
    }
    return MakeError(Code::kInternal, "unknown strategy");
  }

  Result<sdn::Document> ParseSide(const std::string& path, const std::string& bytes,
                                  const char* side) {
    auto doc = sdn::Parse(bytes);
    if (!doc)
      return MakeError(Code::kInvalidArgument,
                       std::string("cannot merge: ") + side +
                           " version is not valid SDN: " + doc.error().message,
                       path);
    return doc;
  }

  Result<std::optional<store::TreeFile>> MergeSdn(const std::string& path,
                                                  const std::optional<store::TreeFile>& base,
                                                  const store::TreeFile& ours,
                                                  const store::TreeFile& theirs) {
    std::string base_bytes = base ? TXDIR_TRY(store.ReadBlob(base->oid)) : std::string();
    auto b = TXDIR_TRY(ParseSide(path, base_bytes, "the base"));
    auto o = TXDIR_TRY(ParseSide(path, TXDIR_TRY(store.ReadBlob(ours.oid)), "this transaction's"));
    auto t = TXDIR_TRY(ParseSide(path, TXDIR_TRY(store.ReadBlob(theirs.oid)), "the published"));
    auto merged = MergeDocument(b, o, t, MergeOptions{.strategy = strategy});
    if (!merged) {
      Error e = merged.error();
      e.path = path;
      return tl::unexpected(e);
    }
    if (!merged->conflicts.empty()) {
      for (auto c : merged->conflicts) {
        c.table = path + ":" + c.table;
        out->record_conflicts.push_back(std::move(c));
      }
      return std::optional<store::TreeFile>(ours);
    }
    for (auto& rn : merged->renumbered) out->renumbered.push_back(rn);
    out->merged.push_back(path);
    git_oid oid = TXDIR_TRY(store.WriteBlob(sdn::Write(merged->document)));
    return std::optional<store::TreeFile>(store::TreeFile{path, oid, ours.mode});
  }
};

}  // namespace

Result<TreeMerge> MergeTrees(store::GitStore& store, Strategy strategy, const FileMap& base,
                             const std::map<std::string, OurChange>& ours, const FileMap& theirs,
                             int64_t theirs_time_ms) {
  TreeMerge out;
  out.files = theirs;
  Resolver rs{store, strategy, theirs_time_ms, &out};
  for (const auto& [path, change] : ours) {
    auto b = Lookup(base, path);
    if (SameFile(change.file, b)) continue;  // no net change of ours
    auto t = Lookup(theirs, path);
    std::optional<store::TreeFile> final_file = change.file;
    if (!SameFile(b, t) && !SameFile(change.file, t))
      final_file = TXDIR_TRY(rs.Resolve(path, b, change.file, change.time_ms, t));
    if (final_file) {
      out.files[path] = *final_file;
      out.files[path].path = path;
    } else {
      out.files.erase(path);
    }
  }
  return out;
}

}  // namespace txdir::internal
