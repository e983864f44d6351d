// The three-way file-set merge shared by transactions and pull (see
// tree_merge.h).
#include "txn/src/tree_merge.h"

#include <algorithm>
#include <cstring>

#include "store/fs_util.h"

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
constexpr size_t kKeptReadBytes = size_t{1} << 20;
}  // namespace

Result<std::string> MergeCache::Read(const store::GitStore& store, const git_oid& blob) {
  const std::string id = store::OidHex(blob);
  if (auto it = pending_.find(id); it != pending_.end()) return it->second;
  if (auto it = provisional_.find(id); it != provisional_.end()) return sdn::Write(*it->second);
  // Read once per group: a version is often both parsed (the newer side)
  // and scanned (BaseRecords), and blobs another process wrote are inflated
  // on every read. Up to 1 MiB each: a group holds few tables, and larger
  // files are merged once.
  if (auto it = read_.find(id); it != read_.end()) return it->second;
  std::string text = TXDIR_TRY(store.ReadBlob(blob));
  if (text.size() <= kKeptReadBytes) read_.emplace(id, text);
  return text;
}

Result<git_oid> MergeCache::Put(std::string text) {
  const git_oid oid = TXDIR_TRY(store::HashBlob(text));
  pending_.emplace(store::OidHex(oid), std::move(text));
  return oid;
}

Status MergeCache::Flush(store::GitStore& store, std::map<std::string, store::TreeFile>* files) {
  for (auto& [path, f] : *files) {
    if (auto it = provisional_.find(store::OidHex(f.oid)); it != provisional_.end()) {
      f.oid = TXDIR_TRY(store.WriteBlob(sdn::Write(*it->second)));
      continue;
    }
    auto it = pending_.find(store::OidHex(f.oid));
    if (it == pending_.end()) continue;
    const git_oid written = TXDIR_TRY(store.WriteBlob(it->second));
    if (!store::OidEqual(written, f.oid))
      return MakeError(Code::kInternal, "merged blob of " + path + " hashed differently");
    pending_.erase(it);  // once, even if several paths hold it
  }
  pending_.clear();
  provisional_.clear();
  docs_.clear();
  read_.clear();
  return Ok();
}

Result<std::shared_ptr<const sdn::Document>> MergeCache::ReadDocument(const store::GitStore& store,
                                                                      const std::string& path,
                                                                      const git_oid& blob) {
  const std::string id = store::OidHex(blob);
  if (auto it = provisional_.find(id); it != provisional_.end()) return it->second;
  if (auto it = docs_.find(id); it != docs_.end()) return it->second;
  const std::string text = TXDIR_TRY(Read(store, blob));
  auto doc = std::make_shared<sdn::Document>(TXDIR_TRY(LoadRecordDocument(path, text)));
  docs_.emplace(id, doc);
  return doc;
}

Result<std::shared_ptr<sdn::Document>> MergeCache::TakeDocument(const store::GitStore& store,
                                                                const std::string& path,
                                                                const git_oid& blob, bool own) {
  auto doc = TXDIR_TRY(ReadDocument(store, path, blob));
  const std::string id = store::OidHex(blob);
  for (auto* kept : {&provisional_, &docs_}) {
    auto it = kept->find(id);
    // Held only by the cache and `doc`: nobody else sees it change.
    if (!own || it == kept->end() || it->second.use_count() != 2) continue;
    std::shared_ptr<sdn::Document> taken = std::move(it->second);
    kept->erase(it);
    return taken;
  }
  return std::make_shared<sdn::Document>(*doc);
}

void MergeCache::Restore(const git_oid& blob, std::shared_ptr<sdn::Document> doc) {
  const std::string id = store::OidHex(blob);
  (made_.count(id) ? provisional_ : docs_)[id] = std::move(doc);
}

git_oid MergeCache::PutDocument(std::shared_ptr<sdn::Document> doc) {
  // Random: it names no object, now or later (2^-160 against a real one).
  git_oid oid;
  for (size_t i = 0; i < sizeof oid.id; i += sizeof(uint64_t)) {
    const uint64_t r = fs::RandomU64();
    std::memcpy(oid.id + i, &r, std::min(sizeof r, sizeof oid.id - i));
  }
  const std::string id = store::OidHex(oid);
  made_.insert(id);
  provisional_[id] = std::move(doc);
  return oid;
}

Result<const FileMap*> MergeCache::CommitFiles(const store::GitStore& store,
                                               const git_oid& commit) {
  const std::string id = store::OidHex(commit);
  if (auto it = commit_files_.find(id); it != commit_files_.end()) return &it->second;
  auto tree = store.CommitTree(commit);
  if (!tree) return nullptr;
  return &commit_files_.emplace(id, TXDIR_TRY(TreeMap(store, *tree))).first->second;
}

void MergeCache::WantRecord(const git_oid& blob, const std::string& table, const std::string& key) {
  Records& r = records_[{store::OidHex(blob), table}];
  if (!r.scanned) r.keys.insert(key);
}

Result<const sdn::Table*> MergeCache::BaseRecords(const store::GitStore& store,
                                                  const std::string& path, const git_oid& blob,
                                                  const std::string& table,
                                                  const std::string& key) {
  Records& r = records_[{store::OidHex(blob), table}];
  if (!r.scanned || (r.table && !r.keys.count(key))) {
    // Not scanned for this key (nobody said it was wanted): scan again for
    // all of them.
    r.keys.insert(key);
    const std::string text = TXDIR_TRY(Read(store, blob));
    auto named = [&](Error e) {
      e.message = path + ": " + e.message;  // as LoadRecordDocument names them
      return tl::unexpected(std::move(e));
    };
    if (Status seal = sdn::VerifySeal(text); !seal) return named(seal.error());
    auto found = sdn::FindRecords(text, table, r.keys);
    if (!found) return named(found.error());
    r.table = std::move(*found);
    r.scanned = true;
  }
  return r.table ? &*r.table : nullptr;
}

MergeDriver::Cache* MergeCache::DriverCache(const MergeDriver& driver) {
  auto it = driver_caches_.find(&driver);
  if (it == driver_caches_.end()) it = driver_caches_.emplace(&driver, driver.NewCache()).first;
  return it->second.get();
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
  const MergeDrivers& drivers;
  Strategy strategy;
  int64_t theirs_time_ms;
  TreeMerge* out;
  MergeCache* cache;

  Result<std::optional<store::TreeFile>> Resolve(const std::string& path,
                                                 const std::optional<store::TreeFile>& base,
                                                 const std::optional<store::TreeFile>& ours,
                                                 int64_t ours_time,
                                                 const std::optional<store::TreeFile>& theirs) {
    const MergeDriver* driver = nullptr;
    if (ours && theirs && (strategy == Strategy::kMerge || strategy == Strategy::kLastModifiedWins))
      driver = DriverFor(path);
    switch (strategy) {
      case Strategy::kError:
        out->conflicts.push_back(path);
        return ours;
      case Strategy::kLastWriteWins:
        out->merged.push_back(path);
        return ours;
      case Strategy::kLastModifiedWins:
      case Strategy::kMerge:
        if (driver) return MergeWith(*driver, path, base, *ours, *theirs);
        if (strategy == Strategy::kMerge) {
          out->conflicts.push_back(path);
          return ours;
        }
        // No driver: the later write wins. Theirs was written no later
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

  // The first driver that handles `path`; nullptr when none does.
  const MergeDriver* DriverFor(const std::string& path) const {
    for (const auto& d : drivers)
      if (d->Handles(path)) return d.get();
    return nullptr;
  }

  // `f` for a driver; its bytes come through the cache, since a group's
  // earlier merge may have made them and not written them yet.
  MergeSide Side(const store::TreeFile& f) const {
    return MergeSide(store::OidHex(f.oid), [this, oid = f.oid] { return cache->Read(store, oid); });
  }

  // The file `driver` merges from the three sides (it keeps ours's mode),
  // or ours with its conflicts added to `out`.
  Result<std::optional<store::TreeFile>> MergeWith(const MergeDriver& driver,
                                                   const std::string& path,
                                                   const std::optional<store::TreeFile>& base,
                                                   const store::TreeFile& ours,
                                                   const store::TreeFile& theirs) {
    MergeInput in{.path = path,
                  .strategy = strategy,
                  .base = base ? std::optional<MergeSide>(Side(*base)) : std::nullopt,
                  .ours = Side(ours),
                  .theirs = Side(theirs)};
    MergeOutput merged = TXDIR_TRY(driver.Merge(in, cache->DriverCache(driver)));
    if (merged.conflicted()) {
      if (merged.conflict) out->conflicts.push_back(path);
      for (auto c : merged.record_conflicts) {
        c.table = path + ":" + c.table;
        out->record_conflicts.push_back(std::move(c));
      }
      return std::optional<store::TreeFile>(ours);
    }
    for (auto& rn : merged.renumbered) out->renumbered.push_back(std::move(rn));
    out->merged.push_back(path);
    git_oid oid = TXDIR_TRY(cache->Put(std::move(merged.bytes)));
    return std::optional<store::TreeFile>(store::TreeFile{path, oid, ours.mode});
  }
};

}  // namespace

Result<TreeMerge> MergeTrees(store::GitStore& store, const MergeDrivers& drivers, Strategy strategy,
                             const FileMap& base, const std::map<std::string, OurChange>& ours,
                             const FileMap& theirs, int64_t theirs_time_ms, MergeCache* cache) {
  TreeMerge out;
  out.files = theirs;
  MergeCache own;  // without the caller's: this merge's alone, flushed below
  Resolver rs{store, drivers, strategy, theirs_time_ms, &out, cache ? cache : &own};
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
  if (!cache) TXDIR_CHECK(own.Flush(store, &out.files));
  return out;
}

}  // namespace txdir::internal
