// A libgit2 object-database backend that writes loose objects through the
// Env, so object writes take part in fault injection and power-loss
// simulation like every other write, and so a generation's objects share one
// durability barrier instead of one directory fsync per object.
//
// Each object: deflate (streaming, in bounded buffers), write to a temp
// file, fsync, rename into place. The directory entries (new fan-out directories and renames)
// become durable at Sync(), which fsyncs each directory touched since the last Sync once.
//
// Loose objects are also read here (git_odb_read, git_odb_read_header and
// the streaming ReadLoose), through the Env and in bounded time: a damaged
// one (truncated, emptied, bytes changed, a header that does not match the
// data) is a kCorruption error naming it. libgit2's own loose reader spins
// forever on a truncated one. Packed objects are left to libgit2's pack
// backend, which stops on damage.
#pragma once

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/git_store.h"
#include "store/pack_writer.h"
#include "txdir/env.h"

namespace txdir::store {

class OdbBackend;

// One loose object on its way into objects/xx/: its bytes are deflated into
// a temp file as they arrive, so an object of any size needs only a bounded
// buffer, and Finish renames the file into place under its id. Destroyed
// before Finish (an error, a source that changed, an object that already
// existed) it removes its temp file.
class LooseObjectWriter {
 public:
  ~LooseObjectWriter();
  LooseObjectWriter(const LooseObjectWriter&) = delete;
  LooseObjectWriter& operator=(const LooseObjectWriter&) = delete;

  // `len` more bytes of the object's content (any number of calls; the total
  // must be the length given to OdbBackend::Begin).
  Status Append(const void* data, size_t len);
  // Finishes the deflate stream, fsyncs the file when the store syncs each
  // object, and renames it to objects/xx/<rest of `oid`> — or drops it when
  // that object exists already (objects are immutable and named by content).
  Status Finish(const git_oid& oid);

 private:
  friend class OdbBackend;
  explicit LooseObjectWriter(OdbBackend* backend);
  Status Start(uint64_t len, git_object_t type);
  // Runs deflate over the pending input with `flush`, writing each full
  // output buffer to the temp file.
  Status Pump(int flush);
  // Writes deflated output to the temp file, creating it on first use.
  Status WriteOut(const char* data, size_t len);

  OdbBackend* backend_;
  struct ZState;
  std::unique_ptr<ZState> z_;
  int tmp_dir_ = -1;  // where the temp file is (the backend's TmpDir())
  std::string tmp_name_;
  Fd file_;
  bool placed_ = false;
  // A blob small enough for OdbBackend::RecentBlob: its content, kept as
  // it arrives and handed over by Finish.
  bool keep_ = false;
  uint64_t len_ = 0;
  std::string kept_;
};

class OdbBackend {
 public:
  // Registers a new backend on `odb` with a priority above libgit2's own,
  // so writes come here. The odb owns the returned object.
  static Result<OdbBackend*> Attach(git_odb* odb, Env* env, const std::string& objects_dir,
                                    const StoreOptions& options);

  Status Sync();

  // While one is alive, a lookup that misses does not make libgit2 rescan
  // objects/pack (git_odb_refresh: a stat, an open of multi-pack-index and
  // a directory read — seven system calls for every new object, since
  // every new object is first a miss). For writers under the writer lock:
  // no txdir process can add a pack meanwhile (pull and gc hold the lock),
  // and a pack missed anyway costs only a duplicate loose object. Readers
  // keep the rescan, so a long-lived reader sees packs made by others.
  class NoPackRescan {
   public:
    explicit NoPackRescan(OdbBackend* b);
    ~NoPackRescan();
    NoPackRescan(const NoPackRescan&) = delete;
    NoPackRescan& operator=(const NoPackRescan&) = delete;

   private:
    OdbBackend* b_;
  };

  // Starts a loose object of `len` content bytes of `type`. git_odb_write
  // and git_odb_open_wstream both come here (through the C callbacks).
  Result<std::unique_ptr<LooseObjectWriter>> Begin(uint64_t len, git_object_t type);

  // Streams the content of the loose object `oid` to `sink` in pieces of
  // at most a few hundred KiB, read through the Env. kNotFound when the
  // object is not loose (it may be in a pack: use libgit2's reader then).
  // `on_size`, if given, gets the length from the object's header before
  // the first piece.
  Status ReadLoose(const git_oid& oid, const std::function<Status(std::string_view)>& sink,
                   const std::function<Status(uint64_t)>& on_size = nullptr);

  // An object read whole, for libgit2's `read` (data allocated with
  // git_odb_backend_data_alloc, owned by the caller) or `read_header`
  // (`header_only`: no data).
  struct Whole {
    void* data = nullptr;
    uint64_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
  };
  // kNotFound when the object is not loose; kCorruption when it is damaged.
  Result<Whole> ReadObject(const git_oid& oid, bool header_only);

  // Called from the C callbacks.
  int WriteObject(const git_oid* oid, const void* data, size_t len, git_object_t type);
  bool Exists(const git_oid& oid) const;

  // A batch: objects written (whole, not streamed) until EndBatch are held
  // back. If the batch stays small (fewer than kPackMinObjects objects and
  // kPackMinBytes bytes) EndBatch writes them as loose objects, as without a
  // batch; once it grows past either, they all go into one pack instead
  // (pack_writer.h), written out by EndBatch. Batched objects count as
  // existing for libgit2 (`exists`) but cannot be read before EndBatch.
  // AbortBatch (or a new BeginBatch) drops what was not written.
  static constexpr size_t kPackMinObjects = 256;
  static constexpr size_t kPackMinBytes = size_t{8} << 20;
  // Larger objects are never held: they are written loose as they come.
  static constexpr size_t kBatchMaxObject = size_t{1} << 20;
  void BeginBatch();
  bool Batching() const { return batch_ != nullptr; }
  Status EndBatch();
  void AbortBatch();

  // The content of a blob this backend wrote lately as a loose object, or
  // null. Kept: the last kRecentBytes of blobs of at most kRecentMaxBlob
  // each, oldest dropped first. A writer reads back what it just wrote (a
  // generation's files are materialized from the store; the next record
  // edit of a table starts from its last version), and inflating it again
  // cost more than the copy. Content-addressed, so never stale; safe to
  // call from any thread.
  static constexpr size_t kRecentBytes = size_t{8} << 20;
  static constexpr size_t kRecentMaxBlob = size_t{1} << 20;
  std::shared_ptr<const std::string> RecentBlob(const git_oid& oid) const;

 private:
  friend class LooseObjectWriter;
  OdbBackend(Env* env, std::string objects_dir, StoreOptions options);

  // Input and output buffers of one read.
  struct LooseBuffers {
    char* in;
    size_t in_size;
    char* out;
    size_t out_size;
  };
  Result<Fd> OpenLoose(const git_oid& oid);
  std::string LoosePath(const git_oid& oid) const;  // for messages
  // Inflates the loose object open at `fd`: `on_header` gets its type and
  // length, then `sink` (unless null: the header is all that is wanted)
  // its content in pieces. Every damage is kCorruption, in time bounded by
  // the file's size.
  Status InflateLoose(int fd, const git_oid& oid, const LooseBuffers& buf,
                      const std::function<Status(git_object_t, uint64_t)>& on_header,
                      const std::function<Status(std::string_view)>* sink);

  Env* env_;
  git_odb_backend* c_backend_ = nullptr;  // libgit2's view of this backend
  std::string objects_dir_;
  StoreOptions options_;
  std::set<std::string> dirty_dirs_;            // relative to objects_dir_; "" is objects_dir_
  std::unique_ptr<char[]> read_in_, read_out_;  // ReadLoose's buffers
  // objects/ and the temp directory, opened on first use and kept: every
  // object written goes through both. Neither is ever replaced (recovery
  // empties tmp/, it does not recreate it).
  Result<int> ObjectsDir();
  Result<int> TmpDir();
  Fd objects_fd_, tmp_fd_;
  // libgit2's backends that rescan on a miss, and their callbacks.
  std::vector<std::pair<git_odb_backend*, int (*)(git_odb_backend*)>> refreshers_;
  int no_rescan_depth_ = 0;

  struct Batch;
  Status AddToBatch(const git_oid& oid, git_object_t type, std::string_view data);
  std::unique_ptr<Batch> batch_;

  // RecentBlob's store: by id, and the ids in the order they came.
  struct OidHash {
    size_t operator()(const git_oid& o) const;
  };
  struct OidEq {
    bool operator()(const git_oid& a, const git_oid& b) const;
  };
  void RememberBlob(const git_oid& oid, std::string content);
  mutable std::mutex recent_mu_;
  std::unordered_map<git_oid, std::shared_ptr<const std::string>, OidHash, OidEq> recent_;
  std::deque<git_oid> recent_order_;
  size_t recent_bytes_ = 0;
};

}  // namespace txdir::store
