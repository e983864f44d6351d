// StoreReader: the store's read side by immutable id, over a GitStore of
// the reader's own (libgit2 objects are not shared between threads).
#include "txdir/store_reader.h"

#include "store/git_store.h"
#include "store/history_walk.h"
#include "txdir/history.h"
#include "txn/src/path_check.h"
#include "txn/src/repo_impl.h"

namespace txdir {

struct StoreReader::Impl {
  Env* env = nullptr;
  internal::Layout layout;
  std::unique_ptr<store::GitStore> store;
};

namespace {

const char* KindName(store::ObjectType t) {
  switch (t) {
    case store::ObjectType::kBlob:
      return "blob";
    case store::ObjectType::kTree:
      return "tree";
    case store::ObjectType::kCommit:
      return "commit";
    case store::ObjectType::kTag:
      return "tag";
    case store::ObjectType::kOther:
      break;
  }
  return "object of another kind";
}

// An id from the caller, which may have come from anywhere (a URL).
Result<git_oid> ParseId(const std::string& hex, store::ObjectType want) {
  auto oid = store::OidFromHex(hex);
  if (!oid)
    return MakeError(Code::kInvalidArgument, std::string("not a ") + KindName(want) +
                                                 " id (40 hex digits): '" + PrintablePath(hex) +
                                                 "'");
  return *oid;
}

// Why a lookup of caller-supplied id `oid` as a `want` failed: NotFound
// when the store does not hold it, InvalidArgument when it is another kind
// of object, else the lookup's own error (damage). The store's lookups
// call a missing object damage, since they follow ids the store itself
// recorded. Asked only after a failure, so a read costs one lookup.
Error Classify(const store::GitStore& st, const git_oid& oid, store::ObjectType want,
               Error lookup) {
  auto got = st.TypeOf(oid);
  if (!got) {
    if (got.error().code != Code::kNotFound) return lookup;
    return Error{Code::kNotFound,
                 "no " + std::string(KindName(want)) + " " + store::OidHex(oid) + " in the store"};
  }
  if (*got != want)
    return Error{Code::kInvalidArgument,
                 store::OidHex(oid) + " is a " + KindName(*got) + ", not a " + KindName(want)};
  return lookup;
}

StoredFile ToStored(store::TreeFile f) {
  return StoredFile{std::move(f.path), store::OidHex(f.oid), f.mode};
}

}  // namespace

StoreReader::StoreReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreReader::~StoreReader() = default;

Result<std::unique_ptr<StoreReader>> StoreReader::Open(const Repository& repo) {
  const Repository::Impl& r = internal::ImplOf(repo);
  auto impl = std::make_unique<Impl>();
  impl->env = r.env;
  impl->layout = r.layout;
  // Read-only: the store options that shape writes do not matter.
  impl->store = TXDIR_TRY(store::GitStore::Open(r.env, r.store->dir()));
  return std::unique_ptr<StoreReader>(new StoreReader(std::move(impl)));
}

Result<std::optional<std::string>> StoreReader::Head() {
  auto head = TXDIR_TRY(impl_->store->Head());
  if (!head) return std::optional<std::string>();
  return std::optional<std::string>(store::OidHex(*head));
}

Status StoreReader::ForEachGeneration(const std::string& commit,
                                      const std::function<bool(const GenerationInfo&)>& fn) {
  const store::GitStore& st = *impl_->store;
  const git_oid start = TXDIR_TRY(ParseId(commit, store::ObjectType::kCommit));
  store::GenerationWalk walk(st, start);
  // A failure at the first generation is about the caller's id; later
  // ones are the store's own history.
  auto describe_next = [&]() -> Result<std::optional<GenerationInfo>> {
    if (!TXDIR_TRY(walk.Next())) return std::optional<GenerationInfo>();
    return std::optional<GenerationInfo>(TXDIR_TRY(internal::DescribeCommit(st, walk.commit())));
  };
  auto g = describe_next();
  if (!g) return tl::unexpected(Classify(st, start, store::ObjectType::kCommit, g.error()));
  while (*g && fn(**g)) g = TXDIR_TRY(describe_next());
  return Ok();
}

Result<std::vector<StoredFile>> StoreReader::ListTree(const std::string& tree) {
  const git_oid id = TXDIR_TRY(ParseId(tree, store::ObjectType::kTree));
  auto files = impl_->store->ListTree(id);
  if (!files)
    return tl::unexpected(Classify(*impl_->store, id, store::ObjectType::kTree, files.error()));
  std::vector<StoredFile> out;
  out.reserve(files->size());
  for (auto& f : *files) out.push_back(ToStored(std::move(f)));
  return out;
}

Result<std::optional<StoredFile>> StoreReader::FindFile(const std::string& tree,
                                                        const std::string& path) {
  const git_oid id = TXDIR_TRY(ParseId(tree, store::ObjectType::kTree));
  TXDIR_CHECK(internal::CheckRelativePath(path));
  auto f = impl_->store->FindFile(id, path);
  if (f) return std::optional<StoredFile>(ToStored(std::move(*f)));
  // NotFound: the tree was read, and has no file there (or a directory).
  // A tree that cannot be read, or a subtree on the way, is Corruption.
  if (f.error().code == Code::kNotFound) return std::optional<StoredFile>();
  return tl::unexpected(Classify(*impl_->store, id, store::ObjectType::kTree, f.error()));
}

Result<std::string> StoreReader::ReadBlob(const std::string& blob) {
  const git_oid id = TXDIR_TRY(ParseId(blob, store::ObjectType::kBlob));
  auto data = impl_->store->ReadBlob(id);
  if (!data)
    return tl::unexpected(Classify(*impl_->store, id, store::ObjectType::kBlob, data.error()));
  return data;
}

Result<std::optional<uint64_t>> StoreReader::LiveGeneration() {
  return internal::ReadLiveGeneration(impl_->env, impl_->layout);
}

}  // namespace txdir
