// A transactional directory: a set of files published as whole generations.
//
//   auto repo = txdir::Repository::Init("/srv/dash", {.live_path = "/srv/dash/tables"});
//   auto gen  = (*repo)->Publish("/tmp/build/tables", {.message = "nightly"});
//   auto snap = (*repo)->OpenSnapshot();   // readers: one generation, pinned
//
// Every generation is a commit in a git store under <root>/.txdir/store.git;
// the live path is a symlink to the generation's read-only directory under
// <root>/.txdir/gens/<N>. docs/commit_protocol.md gives the protocol.
//
// Thread safety: a Repository is used by one thread at a time; use one per
// thread or process. Writers in any number of processes are serialized by
// the writer lock (<root>/.txdir/lock), held only inside a write call.
// Every write call first runs recovery (see Recover) under that lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "txdir/env.h"
#include "txdir/error.h"
#include "txdir/progress.h"
#include "txdir/snapshot.h"

namespace txdir {

class Transaction;
struct BeginOptions;
namespace internal {
struct RepoAccess;  // txn/src/repo_impl.h: the library's own way to the Impl
}  // namespace internal

struct GenerationInfo {
  uint64_t number = 0;
  std::string kind;                  // publish | rollback | transaction | exec | pull
  std::optional<uint64_t> restores;  // for a rollback: the generation restored
  // The generation before it in the history (its commit's parent): usually
  // number - 1. nullopt for the first generation, and for the oldest one a
  // `gc --prune-history` kept (`history_pruned` then says so).
  std::optional<uint64_t> parent;
  bool history_pruned = false;  // no parent, yet not the first: older ones were pruned
  std::string message;
  std::string author;
  std::string host;
  int64_t pid = 0;
  int64_t time_ms = 0;  // Unix epoch milliseconds
  std::string commit;   // git commit id (hex)
  std::string tree;     // git tree id (hex)
  // Set by a write call only: the generation is committed and durable, but
  // the live link could not be moved to it (e.g. an I/O error); the next
  // write or Recover() moves it. `live_error` says why.
  bool live_pending = false;
  std::string live_error;
  // Set by a write when the automatic gc (config gc.auto) that ran after it
  // removed generation directories: which, and the bytes they held.
  std::vector<uint64_t> auto_gc_removed;
  uint64_t auto_gc_bytes = 0;
};

// --- What changed between two trees

enum class ChangeKind : char { kAdded = 'A', kModified = 'M', kRemoved = 'D' };

// One path that differs. A file that became a link (or back) is kModified;
// renames are not detected (a removal and an addition).
struct FileChange {
  ChangeKind kind = ChangeKind::kModified;
  std::string path;       // relative, '/'-separated
  uint32_t old_mode = 0;  // 0 when added
  uint32_t new_mode = 0;  // 0 when removed
  std::string old_blob;   // hex; empty when added
  std::string new_blob;   // hex; empty when removed
  uint64_t old_size = 0;  // bytes
  uint64_t new_size = 0;
};

// What one generation changed relative to its parent (generation 1: relative
// to nothing, so every file is added).
struct FileInfo {
  std::string path;   // relative, '/'-separated
  std::string blob;   // git blob id (hex)
  uint32_t mode = 0;  // 0100644, 0100755 or 0120000
  uint64_t size = 0;
};

// Who holds the writer lock; written by the holder for diagnostics only.
struct LockHolder {
  int64_t pid = 0;
  std::string host;
  std::string command;
  int64_t since_ms = 0;
};

struct RepoStatus {
  std::string root;
  std::string live_path;
  std::optional<uint64_t> live;       // generation the live link shows
  std::optional<uint64_t> committed;  // generation the store's head records
  bool consistent = false;            // live == committed
  // live != committed only because a writer holding the lock is between its
  // commit point (the head moved) and the live-link swap: not damage, and the
  // link moves as soon as that writer finishes. False when consistent.
  bool publish_in_progress = false;
  std::optional<LockHolder> lock_holder;
  // Single-flush mode (config sync): a generation published after one
  // flush (and so possibly acknowledged) whose head move a power loss or a
  // crash left to recovery; its commit is whole. Readers see `live` until
  // the next write or Recover() completes it. nullopt otherwise, and while
  // a writer holds the lock.
  std::optional<uint64_t> awaiting_recovery;
};

struct RecoveryReport {
  std::vector<std::string> actions;  // one line per thing repaired; empty: nothing to do
  std::optional<uint64_t> live;      // the live generation afterwards
};

// One thing wrong with a materialized generation.
struct VerifyIssue {
  std::string path;     // relative to the generation directory
  std::string problem;  // "content does not match its hash", "missing", ...
};

struct VerifyReport {
  uint64_t generation = 0;
  size_t files_checked = 0;
  std::vector<VerifyIssue> issues;
  bool ok() const { return issues.empty(); }
};

struct InitOptions {
  // Where the live symlink goes. Empty: <root>/current. If it names an
  // existing directory, its files become generation 1 and the directory is
  // replaced by the link.
  std::string live_path;
  Env* env = nullptr;  // nullptr: Env::Default()
};

// The longest a writer waits for the writer lock: one week. Longer
// configured values are refused (config lock_timeout_ms) or, when they come
// from an OpenOptions or a hand-edited config file, cut to this bound.
inline constexpr std::chrono::milliseconds kMaxLockTimeout{7LL * 24 * 3600 * 1000};

struct OpenOptions {
  Env* env = nullptr;
  // How long a writer waits for the writer lock; negative: the repository's
  // configured value (default 10 s). Zero fails at once when it is held.
  // At most kMaxLockTimeout.
  std::chrono::milliseconds lock_timeout{-1};
};

enum class SymlinkPolicy {
  kInsideOnly,  // links that stay inside the source are stored as links; others refused
  kKeepAll,     // every link is stored as a link, never followed
};

// How far a publish has read its source: files read (or reused from the
// stat cache) of the files to read, and their bytes.
struct PublishOptions {
  std::string message;
  std::string author;  // empty: $TXDIR_AUTHOR, else the user name
  SymlinkPolicy symlinks = SymlinkPolicy::kInsideOnly;
  // Guards against wiping the set by mistake (a wrong or half-filled
  // source). Unless allowed, Publish fails with InvalidArgument, publishing
  // nothing, when the source holds no file, or when none of the previous
  // generation's files would remain (every one removed or renamed).
  bool allow_empty = false;
  bool allow_remove_all = false;
  // Stage "reading files" as the source is read (after each file: files
  // done of the files found, bytes read).
  ProgressFn progress;
};

class Repository {
 public:
  // Creates the metadata folder <root>/.txdir (atomically: it appears
  // complete or not at all). <root> is created if missing. Exists if
  // <root>/.txdir is already there.
  static Result<std::unique_ptr<Repository>> Init(const std::string& root,
                                                  const InitOptions& options = {});
  // Opens an existing repository. Does not lock and does not recover:
  // readers never write. Write calls recover under the lock.
  static Result<std::unique_ptr<Repository>> Open(const std::string& root,
                                                  const OpenOptions& options = {});
  ~Repository();

  // Publishes the complete contents of the directory tree `source` as the
  // next generation and makes it live. When this returns Ok the generation
  // is durable and live. On error nothing is published and the previous
  // generation stays live. Errors: InvalidArgument (bad source tree),
  // Locked (lock timeout; names the holder), Io, Corruption.
  Result<GenerationInfo> Publish(const std::string& source, const PublishOptions& options = {});

  // What Publish(source, options) would change against the head now, by
  // path, with the refusals of Publish (above). Writes nothing: blob ids
  // are computed, not stored; takes no lock, so a publish that runs in
  // between is not seen. Sizes are the head's and the source's.
  Result<std::vector<FileChange>> PreviewPublish(const std::string& source,
                                                 const PublishOptions& options = {});

  // Publishes the tree of generation `target` as a NEW generation. Without
  // a target it steps back: from a rollback generation to the one before
  // the generation it restored, otherwise to live - 1.
  Result<GenerationInfo> Rollback(std::optional<uint64_t> target,
                                  const PublishOptions& options = {});

  // Takes the writer lock and repairs what an interrupted writer left:
  // staging directories, temp files, stale git lock files, orphan
  // generation directories, and a live link behind the committed head.
  // Idempotent.
  Result<RecoveryReport> Recover();

  Result<RepoStatus> Status();
  // Newest first; limit 0 means all.
  Result<std::vector<GenerationInfo>> Log(size_t limit = 0);
  Result<GenerationInfo> Generation(uint64_t number);
  Result<std::vector<FileInfo>> ListFiles(uint64_t number);
  // A file's bytes in generation `number`, read from the store; works for
  // every generation in the history, materialized or not. NotFound for an
  // unknown generation, or a path that is absent or a directory in it.
  // A stored symbolic link is refused, not read: InvalidArgument, "is a
  // symbolic link (to 'TARGET'), not a file" naming `path` — the same
  // answer Snapshot::ReadFile gives for the live copy, so that a reader
  // never mistakes a link's target text for a file's content.
  Result<std::string> ReadFile(uint64_t number, const std::string& path);
  // The target of the symbolic link at `path` in generation `number`,
  // exactly as stored, never resolved. InvalidArgument "is not a symbolic
  // link" when `path` is a file; otherwise the errors of ReadFile.
  Result<std::string> ReadLink(uint64_t number, const std::string& path);

  // Checks that the directory of generation `number` holds exactly the
  // files of its tree: each file's bytes hash to the recorded blob, its mode
  // matches (read-only, exec bit as recorded), links point where recorded,
  // nothing extra. Read-only. NotFound when it is not materialized.
  Result<VerifyReport> VerifyGeneration(uint64_t number);

  // Starts a transaction on the head (see transaction.h).
  Result<std::unique_ptr<Transaction>> Begin(const BeginOptions& options);
  Result<std::unique_ptr<Transaction>> Begin();

  // Resolves the live link once and pins that generation (see snapshot.h).
  Result<Snapshot> OpenSnapshot();

  const std::string& root() const;
  const std::string& live_path() const;

  // The state behind the handle (txn/src/repo_impl.h); opaque here.
  struct Impl;

 private:
  friend struct internal::RepoAccess;
  explicit Repository(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txdir
