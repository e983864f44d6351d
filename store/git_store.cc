#include "store/git_store.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/git_handles.h"
#include "store/odb_backend.h"
#include "store/pack_reader.h"
#include "store/tls_certificates.h"

namespace txdir::store {

namespace {

// A directory of the tree being built: its files and subdirectories.
struct DirNode {
  std::map<std::string, const TreeFile*> files;
  std::map<std::string, DirNode> dirs;
};

}  // namespace

void EnsureLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The CA bundle is parsed on first use, not here (tls_certificates.h).
    internal::BeginTlsDeferral();
    git_libgit2_init();
    internal::EndTlsDeferral();
    // Off by default in libgit2; txdir's durability depends on it for
    // everything libgit2 writes itself (config, fetched packs, reflogs).
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, TXDIR_BROKEN("libgit2-no-fsync") ? 0 : 1);
    // On by default in libgit2: every git_treebuilder_insert then reads the
    // header of the object it names (access + open + read of a loose
    // object), so building a tree cost one object read per file of the
    // whole tree on every publish, even for a 1-file change. txdir only
    // names objects it has just written or found in the store (a stat-cache
    // hit is checked with HasObject unless the cache was written for the
    // head, whose blobs gc keeps); fsck checks the result. Entry names are
    // still validated (that check does not depend on this option).
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
    // libgit2 reads packs through mmap windows and by default keeps up to
    // 8 GiB of them mapped: materializing a generation from a large pack
    // (pack_writer.h) would map all of it, and the touched pages count in
    // the process's resident size. 64 MiB of windows, 8 MiB each, read a
    // pack of any size at no measurable cost.
    // On by default in libgit2: every object read is hashed again (SHA-1DC,
    // the slowest step of materializing a generation from a pack: 100 MB
    // of blobs in a first publish). git itself does not re-hash on read;
    // nor does txdir's own loose-object reader. Damage is still caught:
    // every stored object is a zlib stream whose Adler-32 inflate checks,
    // and `txdir fsck` / `verify` hash every blob explicitly.
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, size_t{8} << 20);
    git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, size_t{64} << 20);
    // The store is txdir's private repository: the user's and the system's
    // git configuration (~/.gitconfig, $XDG_CONFIG_HOME/git, /etc/gitconfig)
    // must not change how it behaves, and a reader whose $HOME it cannot
    // read (a service account, `sudo -u`) must still work — libgit2 fails a
    // diff with "failed to stat '/root/.gitconfig'" otherwise.
    for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                      GIT_CONFIG_LEVEL_PROGRAMDATA})
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
  });
}

tl::unexpected<Error> GitError(int rc, const std::string& what, Code code) {
  const git_error* e = git_error_last();  // may be null
  std::string msg = what;
  if (e != nullptr && e->message != nullptr) msg += ": " + std::string(e->message);
  if (rc == GIT_ENOTFOUND) code = Code::kNotFound;
  if (rc == GIT_ELOCKED) code = Code::kLocked;
  if (rc == GIT_EMODIFIED) code = Code::kConflict;
  // An operating-system error (EACCES, EIO, ENOSPC…) says nothing about the
  // store's integrity: report it as I/O, not as the caller's default.
  if (e != nullptr && e->klass == GIT_ERROR_OS && code == Code::kCorruption) code = Code::kIo;
  return MakeError(code, msg);
}

std::string OidHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

Result<git_oid> OidFromHex(const std::string& hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) < 0)
    return MakeError(Code::kCorruption, "not an object id: '" + hex + "'");
  return oid;
}

bool OidEqual(const git_oid& a, const git_oid& b) { return git_oid_equal(&a, &b) != 0; }

bool OidLess::operator()(const git_oid& a, const git_oid& b) const {
  return git_oid_cmp(&a, &b) < 0;
}

git_oid OidFromRaw(const unsigned char* raw) {
  git_oid oid;
  git_oid_fromraw(&oid, raw);
  return oid;
}

tl::unexpected<Error> NamedObjectError(int rc, const std::string& what) {
  auto e = GitError(rc, what);
  if (e.value().code == Code::kNotFound) e.value().code = Code::kCorruption;
  return e;
}

GitStore::GitStore(Env* env, std::string git_dir, git_repository* repo, OdbBackend* backend)
    : env_(env), git_dir_(std::move(git_dir)), repo_(repo), backend_(backend) {}

GitStore::~GitStore() { git_repository_free(repo_); }

Result<std::unique_ptr<GitStore>> GitStore::Init(Env* env, const std::string& git_dir) {
  EnsureLibgit2();
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags =
      GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  opts.initial_head = "main";
  git_repository* repo = nullptr;
  if (int rc = git_repository_init_ext(&repo, git_dir.c_str(), &opts); rc < 0)
    return GitError(rc, "cannot create store at " + git_dir, Code::kIo);
  git_repository_free(repo);
  // Directory entries libgit2 created: make them durable before use.
  for (const char* d : {"objects", "refs/heads", "refs", ""})
    TXDIR_CHECK(fs::FsyncPath(env, fs::JoinPath(git_dir, d)));
  return Open(env, git_dir);
}

Result<std::unique_ptr<GitStore>> GitStore::Open(Env* env, const std::string& git_dir,
                                                 const StoreOptions& options) {
  EnsureLibgit2();
  git_repository* repo = nullptr;
  if (int rc = git_repository_open_bare(&repo, git_dir.c_str()); rc < 0)
    return GitError(rc, "cannot open store at " + git_dir);
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo); rc < 0) {
    git_repository_free(repo);
    return GitError(rc, "cannot open object database");
  }
  OdbPtr odb_owner(odb);
  auto backend = OdbBackend::Attach(odb, env, fs::JoinPath(git_dir, "objects"), options);
  if (!backend) {
    git_repository_free(repo);
    return tl::unexpected(backend.error());
  }
  return std::unique_ptr<GitStore>(new GitStore(env, git_dir, repo, *backend));
}

Result<git_oid> GitStore::WriteBlob(std::string_view data) {
  git_oid oid;
  OdbBackend::NoPackRescan writing(backend_);
  if (int rc = git_blob_create_from_buffer(&oid, repo_, data.data(), data.size()); rc < 0)
    return GitError(rc, "cannot write blob", Code::kIo);
  return oid;
}

namespace {

// A blob of `size` bytes on its way into a write stream of an odb, pushed
// piece by piece: libgit2 hashes the bytes as they pass to the backend, and
// Finish checks the length and returns the id. The one place that drives a
// libgit2 write stream (StreamBlob pulls from a reader, HashStoredBlob
// pushes what the store delivers).
class BlobStream {
 public:
  static Result<BlobStream> Open(git_odb* odb, uint64_t size, const std::string& what) {
    git_odb_stream* raw = nullptr;
    if (int rc = git_odb_open_wstream(&raw, odb, size, GIT_OBJECT_BLOB); rc < 0)
      return GitError(rc, "cannot start " + what, Code::kIo);
    return BlobStream(OdbStreamPtr(raw), what);
  }
  Status Write(std::string_view piece) {
    if (int rc = git_odb_stream_write(stream_.get(), piece.data(), piece.size()); rc < 0)
      return GitError(rc, "cannot write " + what_, Code::kIo);
    return Ok();
  }
  // Fails when fewer or more bytes than `size` were written.
  Result<git_oid> Finish() {
    git_oid oid;
    if (int rc = git_odb_stream_finalize_write(&oid, stream_.get()); rc < 0)
      return GitError(rc, "cannot finish " + what_, Code::kIo);
    return oid;
  }

 private:
  BlobStream(OdbStreamPtr stream, std::string what)
      : stream_(std::move(stream)), what_(std::move(what)) {}
  OdbStreamPtr stream_;
  std::string what_;
};

// Feeds `size` bytes from `read` into a write stream of `odb` and finalizes
// it: libgit2 hashes the bytes on their way to the backend.
Result<git_oid> StreamBlob(git_odb* odb, uint64_t size,
                           const std::function<Result<size_t>(char*, size_t)>& read) {
  BlobStream stream = TXDIR_TRY(BlobStream::Open(odb, size, "blob"));
  auto buf = std::make_unique_for_overwrite<char[]>(kStreamPiece);
  uint64_t done = 0;
  for (;;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kStreamPiece, size - done));
    // One byte more than remains at the end: a source longer than `size`
    // is caught here rather than stored cut short.
    size_t n = TXDIR_TRY(read(buf.get(), want == 0 ? 1 : want));
    if (n == 0) break;
    if (want == 0)
      return MakeError(Code::kInvalidArgument,
                       "content is longer than its size of " + std::to_string(size) + " bytes");
    TXDIR_CHECK(stream.Write(std::string_view(buf.get(), n)));
    done += n;
  }
  if (done != size)
    return MakeError(Code::kInvalidArgument, "content ended after " + std::to_string(done) +
                                                 " of " + std::to_string(size) + " bytes");
  return stream.Finish();
}

// A backend that accepts a write stream and keeps nothing: with it, a
// private odb turns libgit2's streaming hash into a blob hasher.
struct NullBackend {
  git_odb_backend parent;
};

int NullWrite(git_odb_stream*, const char*, size_t) { return 0; }
int NullFinalize(git_odb_stream*, const git_oid*) { return 0; }
void NullStreamFree(git_odb_stream* st) { delete st; }
int NullWriteStream(git_odb_stream** out, git_odb_backend* b, git_object_size_t, git_object_t) {
  auto* st = new git_odb_stream{};
  st->backend = b;
  st->mode = GIT_STREAM_WRONLY;
  st->write = NullWrite;
  st->finalize_write = NullFinalize;
  st->free = NullStreamFree;
  *out = st;
  return 0;
}
void NullFree(git_odb_backend* b) { delete reinterpret_cast<NullBackend*>(b); }

Result<git_oid> WriteDir(git_repository* repo, const DirNode& node) {
  git_treebuilder* raw = nullptr;
  if (int rc = git_treebuilder_new(&raw, repo, nullptr); rc < 0)
    return GitError(rc, "cannot build tree", Code::kInternal);
  TreeBuilderPtr tb(raw);
  for (const auto& [name, f] : node.files) {
    if (int rc = git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &f->oid,
                                        static_cast<git_filemode_t>(f->mode));
        rc < 0)
      return GitError(rc, "cannot add '" + f->path + "' to tree", Code::kInvalidArgument);
  }
  for (const auto& [name, sub] : node.dirs) {
    git_oid sub_oid = TXDIR_TRY(WriteDir(repo, sub));
    if (int rc =
            git_treebuilder_insert(nullptr, tb.get(), name.c_str(), &sub_oid, GIT_FILEMODE_TREE);
        rc < 0)
      return GitError(rc, "cannot add directory '" + name + "' to tree", Code::kInvalidArgument);
  }
  git_oid oid;
  if (int rc = git_treebuilder_write(&oid, tb.get()); rc < 0)
    return GitError(rc, "cannot write tree", Code::kIo);
  return oid;
}

}  // namespace

Result<git_oid> GitStore::WriteTree(const std::vector<TreeFile>& files) {
  OdbBackend::NoPackRescan writing(backend_);
  DirNode root;
  for (const TreeFile& f : files) {
    DirNode* node = &root;
    size_t start = 0;
    for (size_t slash; (slash = f.path.find('/', start)) != std::string::npos; start = slash + 1) {
      std::string part = f.path.substr(start, slash - start);
      if (node->files.count(part))
        return MakeError(Code::kInvalidArgument, "path is both a file and a directory", f.path);
      node = &node->dirs[part];
    }
    std::string leaf = f.path.substr(start);
    if (node->dirs.count(leaf) || !node->files.emplace(leaf, &f).second)
      return MakeError(Code::kInvalidArgument, "duplicate path in tree", f.path);
  }
  return WriteDir(repo_, root);
}

Result<git_oid> GitStore::WriteCommit(const git_oid& tree_id, const std::optional<git_oid>& parent,
                                      const GenMeta& meta, const std::string& author) {
  std::vector<git_oid> parents;
  if (parent) parents.push_back(*parent);
  return WriteCommit(tree_id, parents, meta, author);
}

Result<git_oid> GitStore::WriteCommit(const git_oid& tree_id, const std::vector<git_oid>& parents,
                                      const GenMeta& meta, const std::string& author) {
  git_tree* tree_raw = nullptr;
  if (int rc = git_tree_lookup(&tree_raw, repo_, &tree_id); rc < 0)
    return GitError(rc, "tree not found " + OidHex(tree_id));
  TreePtr tree(tree_raw);
  std::vector<CommitPtr> parent_commits;
  std::vector<const git_commit*> parent_ptrs;
  for (const git_oid& id : parents) {
    git_commit* p = nullptr;
    if (int rc = git_commit_lookup(&p, repo_, &id); rc < 0)
      return GitError(rc, "parent commit not found " + OidHex(id));
    parent_commits.emplace_back(p);
    parent_ptrs.push_back(p);
  }
  git_signature* sig_raw = nullptr;
  std::string email = meta.host.empty() ? "txdir@localhost" : "txdir@" + meta.host;
  if (int rc = git_signature_new(&sig_raw, author.empty() ? "txdir" : author.c_str(), email.c_str(),
                                 meta.time_ms / 1000, 0);
      rc < 0)
    return GitError(rc, "invalid author '" + author + "'", Code::kInvalidArgument);
  SigPtr sig(sig_raw);
  git_oid oid;
  std::string message = FormatCommitMessage(meta);
  if (int rc =
          git_commit_create(&oid, repo_, nullptr, sig.get(), sig.get(), "UTF-8", message.c_str(),
                            tree.get(), parent_ptrs.size(), parent_ptrs.data());
      rc < 0)
    return GitError(rc, "cannot write commit", Code::kIo);
  return oid;
}

GitStore::Batch::Batch(GitStore* store) : store_(store) { store_->backend_->BeginBatch(); }

GitStore::Batch::~Batch() {
  if (open_) store_->backend_->AbortBatch();
}

Status GitStore::Batch::End() {
  open_ = false;
  return store_->backend_->EndBatch();
}

Status GitStore::SyncObjects() { return backend_->Sync(); }

Result<GenMeta> GitStore::ReadMeta(const git_oid& commit) const {
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo_, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr owner(c);
  auto meta = ParseCommitMessage(git_commit_message(c));
  if (!meta) {
    Error e = meta.error();
    e.message += " (commit " + OidHex(commit) + ")";
    return tl::unexpected(e);
  }
  return meta;
}

Result<git_oid> GitStore::CommitTree(const git_oid& commit) const {
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo_, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr owner(c);
  return *git_commit_tree_id(c);
}

Result<std::optional<git_oid>> GitStore::CommitParent(const git_oid& commit) const {
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo_, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr owner(c);
  if (git_commit_parentcount(c) == 0) return std::optional<git_oid>();
  return std::optional<git_oid>(*git_commit_parent_id(c, 0));
}

Result<std::vector<git_oid>> GitStore::CommitParents(const git_oid& commit) const {
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo_, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr owner(c);
  std::vector<git_oid> parents;
  for (unsigned i = 0, n = git_commit_parentcount(c); i < n; ++i)
    parents.push_back(*git_commit_parent_id(c, i));
  return parents;
}

Result<std::string> GitStore::CommitAuthor(const git_oid& commit) const {
  git_commit* c = nullptr;
  if (int rc = git_commit_lookup(&c, repo_, &commit); rc < 0)
    return GitError(rc, "commit not found " + OidHex(commit));
  CommitPtr owner(c);
  const git_signature* a = git_commit_author(c);
  return std::string(a && a->name ? a->name : "");
}

namespace {

Status ListInto(git_repository* repo, const git_tree* tree, const std::string& prefix,
                std::vector<TreeFile>* out) {
  size_t n = git_tree_entrycount(tree);
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree, i);
    std::string path = prefix + git_tree_entry_name(e);
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (mode == GIT_FILEMODE_TREE) {
      git_tree* sub = nullptr;
      if (int rc = git_tree_lookup(&sub, repo, git_tree_entry_id(e)); rc < 0)
        return NamedObjectError(
            rc, "cannot read tree " + OidHex(*git_tree_entry_id(e)) + " of '" + path + "'");
      TreePtr owner(sub);
      TXDIR_CHECK(ListInto(repo, sub, path + "/", out));
    } else if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
               mode == GIT_FILEMODE_LINK) {
      out->push_back(TreeFile{path, *git_tree_entry_id(e), static_cast<uint32_t>(mode)});
    } else {
      return MakeError(Code::kCorruption, "unsupported tree entry mode", path);
    }
  }
  return Ok();
}

}  // namespace

Result<std::vector<TreeFile>> GitStore::ListTree(const git_oid& tree_id) const {
  git_tree* tree = nullptr;
  if (int rc = git_tree_lookup(&tree, repo_, &tree_id); rc < 0)
    return NamedObjectError(rc, "cannot read tree " + OidHex(tree_id));
  TreePtr owner(tree);
  std::vector<TreeFile> out;
  TXDIR_CHECK(ListInto(repo_, tree, "", &out));
  std::sort(out.begin(), out.end(),
            [](const TreeFile& a, const TreeFile& b) { return a.path < b.path; });
  return out;
}

Result<std::string> GitStore::ReadBlob(const git_oid& oid) const {
  if (auto recent = backend_->RecentBlob(oid)) return *recent;
  git_blob* b = nullptr;
  if (int rc = git_blob_lookup(&b, repo_, &oid); rc < 0)
    return NamedObjectError(rc, "cannot read blob " + OidHex(oid));
  BlobPtr owner(b);
  return std::string(static_cast<const char*>(git_blob_rawcontent(b)),
                     static_cast<size_t>(git_blob_rawsize(b)));
}

Status GitStore::ReadBlobStream(const git_oid& oid,
                                const std::function<Status(std::string_view)>& sink,
                                const std::function<Status(uint64_t)>& on_size) const {
  if (auto recent = backend_->RecentBlob(oid)) {
    if (on_size) TXDIR_CHECK(on_size(recent->size()));
    // One piece: a recent blob is at most kStreamPiece long.
    static_assert(OdbBackend::kRecentMaxBlob <= kStreamPiece);
    return sink(*recent);
  }
  return ReadStoredBlobStream(oid, sink, on_size);
}

Status GitStore::ReadStoredBlobStream(const git_oid& oid,
                                      const std::function<Status(std::string_view)>& sink,
                                      const std::function<Status(uint64_t)>& on_size) const {
  auto loose = backend_->ReadLoose(oid, sink, on_size);
  if (loose || loose.error().code != Code::kNotFound) return loose;
  // Packed. A large blob stored whole in the pack is inflated piece by
  // piece from it (pack_reader.h); small ones are cheaper whole.
  if (auto size = ObjectSize(oid); size && *size > kStreamPiece) {
    if (TXDIR_TRY(ReadPackedBlob(env_, git_dir_ + "/objects/pack", oid, sink, on_size)))
      return Ok();
  }
  // Small, a delta (libgit2 applies it to its base, whole) or missing (its
  // error says so). Handed on from libgit2's buffer, without a copy.
  git_blob* b = nullptr;
  if (int rc = git_blob_lookup(&b, repo_, &oid); rc < 0)
    return NamedObjectError(rc, "cannot read blob " + OidHex(oid));
  BlobPtr owner(b);
  const auto len = static_cast<size_t>(git_blob_rawsize(b));
  if (on_size) TXDIR_CHECK(on_size(len));
  return sink(std::string_view(static_cast<const char*>(git_blob_rawcontent(b)), len));
}

Result<git_oid> GitStore::WriteBlobStream(
    uint64_t size, const std::function<Result<size_t>(char*, size_t)>& read) {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo_); rc < 0) return GitError(rc, "no object database");
  OdbPtr owner(odb);
  OdbBackend::NoPackRescan writing(backend_);
  return StreamBlob(odb, size, read);
}

// A private odb whose only backend keeps nothing: its write streams are
// libgit2's streaming blob hash.
Result<OdbPtr> NullOdb() {
  EnsureLibgit2();
  git_odb* odb = nullptr;
  if (int rc = git_odb_new(&odb); rc < 0) return GitError(rc, "cannot hash", Code::kInternal);
  OdbPtr owner(odb);
  auto* nb = new NullBackend{};
  if (git_odb_init_backend(&nb->parent, GIT_ODB_BACKEND_VERSION) < 0) {
    delete nb;
    return MakeError(Code::kInternal, "cannot initialize odb backend");
  }
  nb->parent.writestream = NullWriteStream;
  nb->parent.free = NullFree;
  if (int rc = git_odb_add_backend(odb, &nb->parent, 1); rc < 0) {
    NullFree(&nb->parent);
    return GitError(rc, "cannot hash", Code::kInternal);
  }
  return owner;
}

Result<git_oid> HashBlobStream(uint64_t size,
                               const std::function<Result<size_t>(char*, size_t)>& read) {
  OdbPtr odb = TXDIR_TRY(NullOdb());
  return StreamBlob(odb.get(), size, read);
}

Result<git_oid> HashBlob(std::string_view data) {
  size_t at = 0;
  return HashBlobStream(data.size(), [&](char* buf, size_t n) -> Result<size_t> {
    const size_t k = std::min(n, data.size() - at);
    std::memcpy(buf, data.data() + at, k);
    at += k;
    return k;
  });
}

Result<git_oid> GitStore::HashStoredBlob(const git_oid& oid) const {
  OdbPtr odb = TXDIR_TRY(NullOdb());
  // Opened once the object's header has given its length (one read of the
  // object, not a header read and then a content read).
  std::optional<BlobStream> stream;
  TXDIR_CHECK(ReadStoredBlobStream(
      oid, [&](std::string_view piece) { return stream->Write(piece); },
      [&](uint64_t size) -> Status {
        stream.emplace(TXDIR_TRY(BlobStream::Open(odb.get(), size, "blob " + OidHex(oid))));
        return Ok();
      }));
  if (!stream) return MakeError(Code::kCorruption, "blob " + OidHex(oid) + " has no content");
  return stream->Finish();
}

Result<TreeFile> GitStore::FindFile(const git_oid& tree_id, const std::string& path) const {
  git_tree* tree = nullptr;
  if (int rc = git_tree_lookup(&tree, repo_, &tree_id); rc < 0)
    return NamedObjectError(rc, "cannot read tree " + OidHex(tree_id));
  TreePtr owner(tree);
  git_tree_entry* e = nullptr;
  // Only a missing entry is "not found": a subtree on the way that cannot
  // be read is damage, reported as such.
  if (int rc = git_tree_entry_bypath(&e, tree, path.c_str()); rc == GIT_ENOTFOUND)
    return MakeError(Code::kNotFound, "no such file in generation", path);
  else if (rc < 0)
    return NamedObjectError(rc, "cannot look up '" + path + "' in tree " + OidHex(tree_id));
  EntryPtr entry(e);
  git_filemode_t mode = git_tree_entry_filemode(e);
  if (mode == GIT_FILEMODE_TREE)
    return MakeError(Code::kNotFound, "is a directory, not a file, in generation", path);
  return TreeFile{path, *git_tree_entry_id(e), static_cast<uint32_t>(mode)};
}

Result<bool> GitStore::HasObject(const git_oid& oid) const {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo_); rc < 0) return GitError(rc, "no object database");
  OdbPtr owner(odb);
  return git_odb_exists(odb, &oid) != 0;
}

namespace {

struct ObjectHeader {
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
};

// An object's size and type without reading it whole; `what` opens the
// error's message.
Result<ObjectHeader> ReadHeader(git_repository* repo, const git_oid& oid, const std::string& what) {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo); rc < 0) return GitError(rc, "no object database");
  OdbPtr owner(odb);
  ObjectHeader h;
  if (int rc = git_odb_read_header(&h.size, &h.type, odb, &oid); rc < 0)
    return GitError(rc, what + OidHex(oid));
  return h;
}

}  // namespace

Result<uint64_t> GitStore::ObjectSize(const git_oid& oid) const {
  return static_cast<uint64_t>(
      TXDIR_TRY(ReadHeader(repo_, oid, "cannot read the header of object ")).size);
}

Result<ObjectType> GitStore::TypeOf(const git_oid& oid) const {
  switch (TXDIR_TRY(ReadHeader(repo_, oid, "cannot read object ")).type) {
    case GIT_OBJECT_BLOB:
      return ObjectType::kBlob;
    case GIT_OBJECT_TREE:
      return ObjectType::kTree;
    case GIT_OBJECT_COMMIT:
      return ObjectType::kCommit;
    case GIT_OBJECT_TAG:
      return ObjectType::kTag;
    default:
      return ObjectType::kOther;
  }
}

Result<std::vector<TreeEntry>> GitStore::ReadTreeEntries(const git_oid& tree_id) const {
  git_tree* raw = nullptr;
  if (int rc = git_tree_lookup(&raw, repo_, &tree_id); rc < 0)
    return GitError(rc, "cannot read tree " + OidHex(tree_id));
  TreePtr tree(raw);
  std::vector<TreeEntry> entries;
  entries.reserve(git_tree_entrycount(raw));
  for (size_t i = 0, n = git_tree_entrycount(raw); i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(raw, i);
    // The raw mode: git_tree_entry_filemode() maps 100664 to 100644.
    entries.push_back(
        TreeEntry{git_tree_entry_name(e), *git_tree_entry_id(e), git_tree_entry_filemode_raw(e)});
  }
  return entries;
}

Status GitStore::VerifyObject(const git_oid& oid) const {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo_); rc < 0) return GitError(rc, "no object database");
  OdbPtr owner(odb);
  git_odb_object* raw = nullptr;
  if (int rc = git_odb_read(&raw, odb, &oid); rc < 0)
    return GitError(rc, "cannot read object " + OidHex(oid));
  OdbObjectPtr obj(raw);
  git_oid actual;
  if (int rc = git_odb_hash(&actual, git_odb_object_data(raw), git_odb_object_size(raw),
                            git_odb_object_type(raw));
      rc < 0)
    return GitError(rc, "cannot hash object " + OidHex(oid));
  if (!OidEqual(actual, oid))
    return MakeError(Code::kCorruption, "object " + OidHex(oid) +
                                            " is damaged: its content hashes to " + OidHex(actual));
  return Ok();
}

Result<std::vector<RefTarget>> GitStore::ListRefs() const {
  git_reference_iterator* raw_it = nullptr;
  if (int rc = git_reference_iterator_new(&raw_it, repo_); rc < 0)
    return GitError(rc, "cannot list refs");
  RefIterPtr it(raw_it);
  std::vector<RefTarget> refs;
  git_reference* raw_ref = nullptr;
  int rc = 0;
  while ((rc = git_reference_next(&raw_ref, raw_it)) == 0) {
    RefPtr ref(raw_ref);
    RefTarget t{git_reference_name(raw_ref), std::nullopt};
    git_reference* resolved = nullptr;
    if (git_reference_resolve(&resolved, raw_ref) == 0) {
      RefPtr owner(resolved);
      if (const git_oid* target = git_reference_target(resolved); target != nullptr)
        t.target = *target;
    }
    refs.push_back(std::move(t));
  }
  if (rc != GIT_ITEROVER) return GitError(rc, "cannot list refs");
  return refs;
}

Result<std::optional<git_oid>> GitStore::ResolveRef(const std::string& name) const {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo_, name.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<git_oid>();
  if (rc < 0) return GitError(rc, "cannot read " + name);
  return std::optional<git_oid>(oid);
}

Result<std::optional<git_oid>> GitStore::Head() const {
  git_oid oid;
  int rc = git_reference_name_to_id(&oid, repo_, kHeadRef);
  if (rc == GIT_ENOTFOUND) return std::optional<git_oid>();
  if (rc < 0) return GitError(rc, std::string("cannot read ") + kHeadRef);
  return std::optional<git_oid>(oid);
}

Status GitStore::SetHead(const git_oid& next, const std::optional<git_oid>& expected,
                         const std::function<Status()>& barrier) {
  auto current = TXDIR_TRY(Head());
  bool same =
      current.has_value() == expected.has_value() && (!current || OidEqual(*current, *expected));
  if (!same)
    return MakeError(Code::kConflict, std::string(kHeadRef) + " moved: expected " +
                                          (expected ? OidHex(*expected) : "none") + ", found " +
                                          (current ? OidHex(*current) : "none"));
  Fd dir = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, fs::JoinPath(git_dir_, "refs/heads")));
  // "main.lock" is git's own lock name for this ref, so a git process that
  // honours git's locking never writes the ref while we do.
  const std::string lock = "main.lock";
  std::string content = OidHex(next) + "\n";
  if (TXDIR_BROKEN("in-place-rewrite")) {  // deliberately broken, for the power-loss self-test
    Fd f = TXDIR_TRY(env_->OpenAt(dir.get(), "main", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TXDIR_CHECK(env_->Write(f.get(), content.data(), content.size()));
    return env_->Fsync(f.get());
  }
  // TXDIR_BROKEN: a deliberately broken variant for the power-loss self-test.
  auto s = fs::WriteNewFile(env_, dir.get(), lock, content, 0644,
                            /*sync=*/!barrier && !TXDIR_BROKEN("no-ref-file-fsync"));
  if (!s) {
    if (s.error().code == Code::kExists)
      return MakeError(Code::kLocked, "the head ref is locked by another git process",
                       fs::JoinPath(git_dir_, "refs/heads/" + lock));
    (void)env_->UnlinkAt(dir.get(), lock, 0);
    return s;
  }
  if (barrier) {
    if (auto b = barrier(); !b) {
      (void)env_->UnlinkAt(dir.get(), lock, 0);
      return b;
    }
  }
  TXDIR_FAILPOINT("store.sethead.before_rename");
  if (auto r = env_->RenameAt(dir.get(), lock, dir.get(), "main"); !r) {
    (void)env_->UnlinkAt(dir.get(), lock, 0);
    return r;
  }
  TXDIR_FAILPOINT("store.sethead.after_rename");
  // With a barrier, the caller's flush after the rename makes it durable.
  if (barrier) return Ok();
  // Deliberately unsafe variant for the self-test: acknowledge before the
  // rename is durable.
  if (TXDIR_BROKEN("ack-before-ref-fsync")) return Ok();
  if (auto s = fs::FsyncDir(env_, dir.get()); !s) {
    // The rename happened but may not be durable: neither "committed" nor
    // "not committed" is known, and the caller must not assume either.
    Error e = s.error();
    e.message =
        "commit outcome unknown (the head ref was renamed but its directory could not "
        "be synced; `txdir status` shows what is committed): " +
        e.message;
    return tl::unexpected(e);
  }
  return Ok();
}

Result<std::optional<git_oid>> GitStore::PendingHead() const {
  Fd dir = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, fs::JoinPath(git_dir_, "refs/heads")));
  auto f = env_->OpenAt(dir.get(), "main.lock", O_RDONLY | O_NOFOLLOW, 0);
  if (!f) {
    if (f.error().code == Code::kNotFound) return std::optional<git_oid>();
    return tl::unexpected(f.error());
  }
  // What SetHead writes: 40 hex digits and a newline. Anything else was not
  // written whole, or not by us.
  std::string text = TXDIR_TRY(env_->ReadAll(f->get()));
  if (text.size() != GIT_OID_HEXSZ + 1 || text.back() != '\n') return std::optional<git_oid>();
  text.pop_back();
  auto oid = OidFromHex(text);
  if (!oid) return std::optional<git_oid>();
  return std::optional<git_oid>(*oid);
}

Status GitStore::CompletePendingHead() {
  Fd dir = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, fs::JoinPath(git_dir_, "refs/heads")));
  TXDIR_CHECK(env_->RenameAt(dir.get(), "main.lock", dir.get(), "main"));
  return fs::FsyncDir(env_, dir.get());
}

}  // namespace txdir::store
