// The content-addressed store: a bare git repository holding every
// generation as a commit on refs/heads/main whose tree is the complete file
// set. Objects are written through the Env (see odb_backend.h); the head
// ref is updated by this class through the Env as a compare-and-swap — the
// single commit point of every operation.
//
// Thread safety: a GitStore is used by one thread at a time. Writers must
// hold the repository's writer lock (txn/) around WriteCommit..SetHead.
#pragma once

#include <git2.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/gen_meta.h"
#include "txdir/env.h"
#include "txdir/error.h"

namespace txdir::store {

inline constexpr const char* kHeadRef = "refs/heads/main";

// Initializes libgit2 once per process and turns its fsync on.
void EnsureLibgit2();

// Converts the last libgit2 error into an Error (the only place that does).
tl::unexpected<Error> GitError(int rc, const std::string& what, Code code = Code::kCorruption);

// GitError for a tree or blob read because a commit or a tree of the store
// names it: one that cannot be found means the store is damaged (a
// truncated pack, for one, is not even opened), so kCorruption, not the
// kNotFound of something the caller asked for that does not exist.
tl::unexpected<Error> NamedObjectError(int rc, const std::string& what);

// Length of an id in raw bytes.
inline constexpr size_t kOidRawSize = 20;

std::string OidHex(const git_oid& oid);
Result<git_oid> OidFromHex(const std::string& hex);
// The id whose 20 raw bytes start at `raw`.
git_oid OidFromRaw(const unsigned char* raw);
bool OidEqual(const git_oid& a, const git_oid& b);
// Byte order of ids, for ordered containers.
struct OidLess {
  bool operator()(const git_oid& a, const git_oid& b) const;
};

// Modes of tree entries, as git writes them.
inline constexpr uint32_t kModeTree = 0040000;
inline constexpr uint32_t kModeFile = 0100644;
inline constexpr uint32_t kModeExecutable = 0100755;
inline constexpr uint32_t kModeLink = 0120000;
inline constexpr uint32_t kModeSubmodule = 0160000;

enum class ObjectType { kBlob, kTree, kCommit, kTag, kOther };

// One entry of one tree, as stored: the raw mode, not normalized (a
// 100664 that git fsck reports stays 100664, so a check can refuse it).
struct TreeEntry {
  std::string name;
  git_oid oid;
  uint32_t mode;
};

// A reference of the store and the object it resolves to; nullopt when it
// does not resolve (a symbolic ref to nothing, an unreadable ref).
struct RefTarget {
  std::string name;
  std::optional<git_oid> target;
};

// A file of a tree, by full path ("dir/sub/file").
struct TreeFile {
  std::string path;
  git_oid oid;
  uint32_t mode;  // 0100644, 0100755 or 0120000
};

class OdbBackend;

// Pieces bigger than this are what the streaming paths hand around; files
// up to this size are simply read whole.
inline constexpr size_t kStreamPiece = 1 << 20;

// The git blob id of `size` bytes that `read` delivers in pieces (as
// WriteBlobStream), without storing anything and holding one piece at most.
Result<git_oid> HashBlobStream(uint64_t size,
                               const std::function<Result<size_t>(char*, size_t)>& read);
// The git blob id of `data`, without storing anything.
Result<git_oid> HashBlob(std::string_view data);

struct StoreOptions {
  // Directory (same file system as the store) where object temp files are
  // written before their rename into objects/xx/. Empty: objects/xx/ itself.
  std::string tmp_dir;
  // True: each object file is fsynced as it is written and SyncObjects()
  // fsyncs the directories. False: neither; the caller makes objects
  // durable with one file-system-wide barrier (syncfs) before it references
  // them (see SetHead's barrier).
  bool sync_each_object = true;
};

class GitStore {
 public:
  // Creates a new bare repository at `git_dir` (which must not exist).
  static Result<std::unique_ptr<GitStore>> Init(Env* env, const std::string& git_dir);
  static Result<std::unique_ptr<GitStore>> Open(Env* env, const std::string& git_dir,
                                                const StoreOptions& options = {});
  ~GitStore();

  // The repository directory (".txdir/store" or wherever it was opened).
  const std::string& dir() const { return git_dir_; }
  Env* env() const { return env_; }

  // --- objects. Written objects are durable only after SyncObjects().
  Result<git_oid> WriteBlob(std::string_view data);
  // Writes a blob of exactly `size` bytes that `read` delivers in pieces
  // (read(buf, n) fills at most n bytes and returns how many; 0 is the end),
  // holding at most one piece in memory: for files too big to read whole.
  // kInvalidArgument when `read` ends before `size` bytes or has more.
  Result<git_oid> WriteBlobStream(uint64_t size,
                                  const std::function<Result<size_t>(char*, size_t)>& read);
  // Builds nested trees from a flat list of files. Paths must be validated
  // and unique; directories are implied.
  Result<git_oid> WriteTree(const std::vector<TreeFile>& files);
  Result<git_oid> WriteCommit(const git_oid& tree, const std::optional<git_oid>& parent,
                              const GenMeta& meta, const std::string& author);
  // A commit with any number of parents, first parent first (a pull that
  // resolves a divergence records the remote head, then the local one).
  Result<git_oid> WriteCommit(const git_oid& tree, const std::vector<git_oid>& parents,
                              const GenMeta& meta, const std::string& author);
  // The durability barrier for every object written so far.
  Status SyncObjects();

  // Objects written while a Batch is open are held back and, when there are
  // many (OdbBackend::kPackMinObjects), written as one pack instead of one
  // loose file each (pack_writer.h). They cannot be read until End(); a
  // Batch destroyed without End() writes nothing. Streamed blobs
  // (WriteBlobStream) stay loose. One Batch at a time per store.
  class Batch {
   public:
    explicit Batch(GitStore* store);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    // Writes the held objects (a pack, or loose objects when few) and makes
    // them readable. Durable after SyncObjects(), like every object.
    Status End();

   private:
    GitStore* store_;
    bool open_ = true;
  };

  // --- reading
  Result<GenMeta> ReadMeta(const git_oid& commit) const;
  Result<git_oid> CommitTree(const git_oid& commit) const;
  Result<std::optional<git_oid>> CommitParent(const git_oid& commit) const;
  // Every parent, first parent first.
  Result<std::vector<git_oid>> CommitParents(const git_oid& commit) const;
  Result<std::string> CommitAuthor(const git_oid& commit) const;
  // Every file of the tree, recursively, sorted by path.
  Result<std::vector<TreeFile>> ListTree(const git_oid& tree) const;
  // The blob's content. ReadBlob and ReadBlobStream serve a blob this store
  // wrote lately from memory (OdbBackend::RecentBlob: the last 8 MiB of
  // blobs up to 1 MiB each), so a generation's files are materialized, and
  // a table is read back for the next record edit, without inflating what
  // was just deflated. That content is what was hashed to the blob's id.
  // HashStoredBlob and VerifyObject always read the stored object.
  Result<std::string> ReadBlob(const git_oid& blob) const;
  // Delivers the blob's content to `sink` in pieces. A loose blob, and a
  // blob over kStreamPiece stored whole in a pack (after pull, clone or
  // prune), is inflated piece by piece, so memory stays bounded whatever
  // its size; a packed blob stored as a delta is read whole by libgit2,
  // which has no streaming reader for packs.
  // `on_size`, if given, gets the blob's length before the first piece.
  Status ReadBlobStream(const git_oid& blob, const std::function<Status(std::string_view)>& sink,
                        const std::function<Status(uint64_t)>& on_size = nullptr) const;
  // The id that the stored content of blob `oid` hashes to (equal to `oid`
  // unless the object is damaged), computed piece by piece as
  // ReadBlobStream reads: one read of the object, in bounded memory.
  Result<git_oid> HashStoredBlob(const git_oid& oid) const;
  // The blob at `path` in `tree` (a file's bytes, or a link's target);
  // NotFound when absent or a directory, with a message ending "in
  // generation" for the caller to name the generation.
  Result<TreeFile> FindFile(const git_oid& tree, const std::string& path) const;
  Result<bool> HasObject(const git_oid& oid) const;
  // Size of an object without reading it whole.
  Result<uint64_t> ObjectSize(const git_oid& oid) const;
  // Type of an object without reading it whole.
  Result<ObjectType> TypeOf(const git_oid& oid) const;
  // The entries of one tree (not recursive), in stored order.
  Result<std::vector<TreeEntry>> ReadTreeEntries(const git_oid& tree) const;
  // Reads object `oid` whole and checks that its content hashes to `oid`
  // (libgit2's own check on read is off, see EnsureLibgit2): Corruption
  // "content hashes to <id>" when damaged, the read's error when missing or
  // unreadable. For commits and trees; blobs stream (HashStoredBlob).
  Status VerifyObject(const git_oid& oid) const;
  // Every reference of the store (refs/heads/main, remote-tracking refs,
  // ...), with what it resolves to.
  Result<std::vector<RefTarget>> ListRefs() const;
  // The object that reference `name` resolves to; nullopt when there is no
  // such reference.
  Result<std::optional<git_oid>> ResolveRef(const std::string& name) const;

  // --- the head ref
  // The commit refs/heads/main points at; nullopt before the first commit.
  Result<std::optional<git_oid>> Head() const;
  // THE COMMIT POINT. Atomically moves refs/heads/main from `expected`
  // (nullopt: unborn) to `next`: lock file, fsync, rename, directory fsync.
  // Fails with kConflict, changing nothing, when the ref is not `expected`.
  // When it returns Ok the new head is durable.
  //
  // With a `barrier`, nothing is fsynced here: `barrier` (e.g. one syncfs)
  // runs after the lock file is written and before the rename, and must
  // make it — and whatever the new head refers to — durable; and the
  // caller makes the rename durable, by a flush of its own after it. Until
  // then a power loss may undo the rename and leave the lock file:
  // PendingHead and CompletePendingHead finish such a move.
  Status SetHead(const git_oid& next, const std::optional<git_oid>& expected,
                 const std::function<Status()>& barrier = nullptr);
  // The commit an interrupted SetHead was moving the head to: the id its
  // lock file (refs/heads/main.lock) holds. nullopt when there is no lock
  // file, or it holds anything but a commit id (a torn or foreign file).
  Result<std::optional<git_oid>> PendingHead() const;
  // Renames that lock file over refs/heads/main and fsyncs the directory.
  // Only under the writer lock, after checking that the pending head is
  // one to complete (recovery).
  Status CompletePendingHead();

 private:
  friend struct StoreAccess;  // store/git_store_access.h
  GitStore(Env* env, std::string git_dir, git_repository* repo, OdbBackend* backend);

  // ReadBlobStream without the recently written blobs: the stored object.
  Status ReadStoredBlobStream(const git_oid& blob,
                              const std::function<Status(std::string_view)>& sink,
                              const std::function<Status(uint64_t)>& on_size) const;

  Env* env_;
  std::string git_dir_;
  git_repository* repo_;
  OdbBackend* backend_;  // owned by the repository's odb
};

}  // namespace txdir::store
