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

// An id from the caller, which may have come from anywhere (a URL):
// checked to be an id, of an object the store holds, of the kind wanted.
// (The store's own lookups call a missing object damage, since they follow
// ids the store itself recorded.)
Result<git_oid> Resolve(const store::GitStore& st, const std::string& hex, store::ObjectType want) {
  auto oid = store::OidFromHex(hex);
  if (!oid)
    return MakeError(Code::kInvalidArgument, std::string("not a ") + KindName(want) +
                                                 " id (40 hex digits): '" + PrintablePath(hex) +
                                                 "'");
  const store::ObjectType got = TXDIR_TRY(st.TypeOf(*oid));
  if (got != want)
    return MakeError(Code::kInvalidArgument,
                     hex + " is a " + KindName(got) + ", not a " + KindName(want));
  return *oid;
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
  const git_oid start = TXDIR_TRY(Resolve(*impl_->store, commit, store::ObjectType::kCommit));
  store::GenerationWalk walk(*impl_->store, start);
  while (TXDIR_TRY(walk.Next())) {
    if (!fn(TXDIR_TRY(internal::DescribeCommit(*impl_->store, walk.commit())))) break;
  }
  return Ok();
}

Result<std::vector<StoredFile>> StoreReader::ListTree(const std::string& tree) {
  const git_oid id = TXDIR_TRY(Resolve(*impl_->store, tree, store::ObjectType::kTree));
  std::vector<StoredFile> out;
  for (auto& f : TXDIR_TRY(impl_->store->ListTree(id))) out.push_back(ToStored(std::move(f)));
  return out;
}

Result<std::optional<StoredFile>> StoreReader::FindFile(const std::string& tree,
                                                        const std::string& path) {
  const git_oid id = TXDIR_TRY(Resolve(*impl_->store, tree, store::ObjectType::kTree));
  TXDIR_CHECK(internal::CheckRelativePath(path));
  auto f = impl_->store->FindFile(id, path);
  if (f) return std::optional<StoredFile>(ToStored(std::move(*f)));
  // NotFound: the tree was read, and has no file there (or a directory);
  // a subtree on the way that cannot be read is Corruption.
  if (f.error().code == Code::kNotFound) return std::optional<StoredFile>();
  return tl::unexpected(f.error());
}

Result<std::string> StoreReader::ReadBlob(const std::string& blob) {
  return impl_->store->ReadBlob(TXDIR_TRY(Resolve(*impl_->store, blob, store::ObjectType::kBlob)));
}

Result<std::optional<uint64_t>> StoreReader::LiveGeneration() {
  return internal::ReadLiveGeneration(impl_->env, impl_->layout);
}

}  // namespace txdir
