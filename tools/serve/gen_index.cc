#include "tools/serve/gen_index.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace txdir::serve {

namespace {
constexpr size_t kMaxCachedTrees = 64;
// Bounds on the other caches; each is dropped whole when full (entries are
// small, and refilling costs one lookup or parse each).
constexpr size_t kMaxCachedFiles = 200'000;
// A parsed table takes several times its text; pages need only a few.
constexpr size_t kMaxCachedDocuments = 64;
// Most threads of a ParallelRead (at most the cores).
constexpr size_t kMaxReadThreads = 8;
}  // namespace

std::vector<std::pair<std::string, bool>> TreeIndex::Children(const std::string& dir) const {
  const std::string prefix = dir.empty() ? "" : dir + "/";
  std::map<std::string, bool> out;
  for (auto it = files.lower_bound(prefix); it != files.end(); ++it) {
    const std::string& p = it->first;
    if (p.compare(0, prefix.size(), prefix) != 0) break;
    std::string rest = p.substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos)
      out[rest] = false;
    else
      out[rest.substr(0, slash)] = true;
  }
  return {out.begin(), out.end()};
}

std::vector<TreeChange> DiffTreeIndexes(const TreeIndex* before, const TreeIndex& after) {
  static const std::map<std::string, StoredFile> kNone;
  const auto& a = before ? before->files : kNone;
  const auto& b = after.files;
  std::vector<TreeChange> out;
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      out.push_back({ia->first, ChangeKind::kRemoved});
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      out.push_back({ib->first, ChangeKind::kAdded});
      ++ib;
    } else {
      if (ia->second.blob != ib->second.blob || ia->second.mode != ib->second.mode)
        out.push_back({ib->first, ChangeKind::kModified});
      ++ia;
      ++ib;
    }
  }
  return out;
}

GenIndex::~GenIndex() = default;

Result<StoreReader*> GenIndex::Reader() {
  if (!reader_) reader_ = TXDIR_TRY(StoreReader::Open(*repo_));
  return reader_.get();
}

Status GenIndex::ParallelRead(size_t n, const std::function<Status(StoreReader&, size_t)>& work) {
  const size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  const size_t threads = std::min({n, kMaxReadThreads, cores});
  if (threads <= 1) {
    StoreReader* reader = TXDIR_TRY(Reader());
    for (size_t i = 0; i < n; ++i) TXDIR_CHECK(work(*reader, i));
    return Ok();
  }
  while (workers_.size() < threads) workers_.push_back(TXDIR_TRY(StoreReader::Open(*repo_)));
  // Items are handed out one at a time from a shared counter, so a slow
  // item (a big version) does not leave the other threads idle.
  std::atomic<size_t> next{0};
  std::vector<Status> results(threads, Ok());
  auto run = [&](size_t t) {
    for (size_t i = next++; i < n; i = next++) {
      Status s = work(*workers_[t], i);
      if (!s && results[t]) results[t] = std::move(s);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (std::thread& th : pool) th.join();
  for (Status& s : results)
    if (!s) return s;
  return Ok();
}

Status GenIndex::Refresh() {
  StoreReader* reader = TXDIR_TRY(Reader());
  auto head = TXDIR_TRY(reader->Head());
  if (!head) {
    entries_.clear();
    known_commits_.clear();
    head_.reset();
    return Ok();
  }
  if (head_ && *head_ == *head) return Ok();

  for (int attempt = 0; attempt < 2; ++attempt) {
    bool rewritten = false;
    std::vector<GenEntry> fresh;
    // Newest first, down to the first generation already indexed.
    TXDIR_CHECK(reader->ForEachGeneration(*head, [&](const GenerationInfo& g) {
      if (known_commits_.count(g.commit)) return false;
      if (entries_.count(g.number)) {  // same number, another commit: history rewritten
        rewritten = true;
        return false;
      }
      fresh.push_back(GenEntry{g, std::nullopt});
      return true;
    }));
    if (rewritten) {
      entries_.clear();
      known_commits_.clear();
      continue;
    }
    for (auto& e : fresh) {
      known_commits_.insert(e.info.commit);
      uint64_t n = e.info.number;
      entries_.emplace(n, std::move(e));
    }
    head_ = *head;
    return Ok();
  }
  return MakeError(Code::kConflict, "history changed while it was being read");
}

Result<GenEntry> GenIndex::Find(uint64_t number) {
  auto it = entries_.find(number);
  if (it == entries_.end()) {
    TXDIR_CHECK(Refresh());
    it = entries_.find(number);
  }
  if (it == entries_.end())
    return MakeError(Code::kNotFound, "no generation " + std::to_string(number) + " in the store");
  return it->second;
}

Result<std::vector<GenEntry>> GenIndex::All() {
  TXDIR_CHECK(Refresh());
  std::vector<GenEntry> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) out.push_back(it->second);
  return out;
}

Result<std::shared_ptr<const TreeIndex>> GenIndex::Tree(const GenEntry& e) {
  const std::string& key = e.info.tree;
  if (auto it = trees_.find(key); it != trees_.end()) return it->second;
  auto t = std::make_shared<TreeIndex>();
  t->dirs.insert("");
  StoreReader* reader = TXDIR_TRY(Reader());
  for (auto& f : TXDIR_TRY(reader->ListTree(e.info.tree))) {
    for (size_t p = f.path.find('/'); p != std::string::npos; p = f.path.find('/', p + 1))
      t->dirs.insert(f.path.substr(0, p));
    std::string path = f.path;
    t->files.emplace(std::move(path), std::move(f));
  }
  if (trees_.size() >= kMaxCachedTrees) trees_.clear();
  trees_.emplace(key, t);
  return std::shared_ptr<const TreeIndex>(t);
}

Result<size_t> GenIndex::ChangedCount(uint64_t number) {
  const GenEntry e = TXDIR_TRY(Find(number));
  if (e.changed) return *e.changed;
  auto now = TXDIR_TRY(Tree(e));
  std::shared_ptr<const TreeIndex> before;
  if (e.info.parent) before = TXDIR_TRY(Tree(TXDIR_TRY(Find(*e.info.parent))));
  const size_t changed = DiffTreeIndexes(before.get(), *now).size();
  // Kept for next time, unless the index was rebuilt meanwhile.
  if (auto it = entries_.find(number);
      it != entries_.end() && it->second.info.commit == e.info.commit)
    it->second.changed = changed;
  return changed;
}

std::optional<uint64_t> GenIndex::Previous(uint64_t number) const {
  auto it = entries_.lower_bound(number);
  if (it == entries_.begin()) return std::nullopt;
  return std::prev(it)->first;
}

std::optional<uint64_t> GenIndex::Next(uint64_t number) const {
  auto it = entries_.upper_bound(number);
  if (it == entries_.end()) return std::nullopt;
  return it->first;
}

std::string GenIndex::FileKey(const std::string& tree, const std::string& path) {
  std::string key = tree;
  key += '\0';
  key += path;
  return key;
}

void GenIndex::RememberFile(std::string key, const std::optional<StoredFile>& found) {
  if (files_.size() >= kMaxCachedFiles) files_.clear();
  files_.emplace(std::move(key), found);
}

Result<std::optional<StoredFile>> GenIndex::FileAt(const GenEntry& e, const std::string& path) {
  std::string key = FileKey(e.info.tree, path);
  if (auto it = files_.find(key); it != files_.end()) return it->second;
  StoreReader* reader = TXDIR_TRY(Reader());
  std::optional<StoredFile> found = TXDIR_TRY(reader->FindFile(e.info.tree, path));
  RememberFile(std::move(key), found);
  return found;
}

Result<std::vector<std::optional<StoredFile>>> GenIndex::FilesAt(
    const std::vector<GenEntry>& entries, const std::string& path) {
  std::vector<std::optional<StoredFile>> out(entries.size());
  std::vector<std::string> keys(entries.size());
  std::vector<size_t> todo;  // entries whose lookup is not cached
  for (size_t i = 0; i < entries.size(); ++i) {
    keys[i] = FileKey(entries[i].info.tree, path);
    if (auto it = files_.find(keys[i]); it != files_.end())
      out[i] = it->second;
    else
      todo.push_back(i);
  }
  TXDIR_CHECK(ParallelRead(todo.size(), [&](StoreReader& reader, size_t k) -> Status {
    out[todo[k]] = TXDIR_TRY(reader.FindFile(entries[todo[k]].info.tree, path));
    return Ok();
  }));
  for (size_t i : todo) RememberFile(std::move(keys[i]), out[i]);
  return out;
}

Result<std::string> GenIndex::ReadBlob(const std::string& blob) {
  StoreReader* reader = TXDIR_TRY(Reader());
  return reader->ReadBlob(blob);
}

Result<std::shared_ptr<const sdn::Document>> GenIndex::Document(const std::string& blob) {
  const std::string& key = blob;
  if (auto it = docs_.find(key); it != docs_.end()) return it->second;
  auto data = TXDIR_TRY(ReadBlob(blob));
  Result<std::shared_ptr<const sdn::Document>> out =
      [&]() -> Result<std::shared_ptr<const sdn::Document>> {
    auto doc = sdn::Parse(data);
    if (!doc) return MakeError(Code::kInvalidArgument, doc.error().message);
    return std::make_shared<const sdn::Document>(std::move(*doc));
  }();
  if (docs_.size() >= kMaxCachedDocuments) docs_.clear();
  docs_.emplace(key, out);
  return out;
}

Result<std::optional<uint64_t>> GenIndex::Live() {
  StoreReader* reader = TXDIR_TRY(Reader());
  return reader->LiveGeneration();
}

}  // namespace txdir::serve
