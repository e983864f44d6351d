#include "store/odb_backend.h"

#include <fcntl.h>
#include <zlib.h>

#include <cstring>
#include <new>

#include "store/failpoint.h"
#include "store/fs_util.h"

namespace txdir::store {

namespace {

// libgit2 sees this struct; `parent` must be first so it can cast.
struct CBackend {
  git_odb_backend parent;
  OdbBackend* self;
};

int CWrite(git_odb_backend* b, const git_oid* oid, const void* data, size_t len,
           git_object_t type) {
  return reinterpret_cast<CBackend*>(b)->self->WriteObject(oid, data, len, type);
}

void CFree(git_odb_backend* b) {
  auto* cb = reinterpret_cast<CBackend*>(b);
  delete cb->self;
  delete cb;
}

// Loose-object encoding: zlib("<type> <len>\0<data>").
Result<std::string> Deflate(const void* data, size_t len, git_object_t type) {
  std::string header = std::string(git_object_type2string(type)) + " " + std::to_string(len);
  header.push_back('\0');
  z_stream zs{};
  if (deflateInit(&zs, Z_BEST_SPEED) != Z_OK)
    return MakeError(Code::kInternal, "zlib deflateInit failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(header.size() + len)));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  zs.next_in = reinterpret_cast<Bytef*>(header.data());
  zs.avail_in = static_cast<uInt>(header.size());
  int rc = deflate(&zs, Z_NO_FLUSH);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<void*>(data));
  zs.avail_in = static_cast<uInt>(len);
  if (rc == Z_OK) rc = deflate(&zs, Z_FINISH);
  size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return MakeError(Code::kInternal, "zlib deflate failed");
  out.resize(produced);
  return out;
}

}  // namespace

OdbBackend::OdbBackend(Env* env, std::string objects_dir, StoreOptions options)
    : env_(env), objects_dir_(std::move(objects_dir)), options_(std::move(options)) {}

Result<OdbBackend*> OdbBackend::Attach(git_odb* odb, Env* env, const std::string& objects_dir,
                                       const StoreOptions& options) {
  auto* cb = new CBackend{};
  if (git_odb_init_backend(&cb->parent, GIT_ODB_BACKEND_VERSION) < 0) {
    delete cb;
    return MakeError(Code::kInternal, "cannot initialize odb backend");
  }
  cb->self = new OdbBackend(env, objects_dir, options);
  cb->parent.write = CWrite;
  cb->parent.free = CFree;
  // libgit2's loose backend has priority 1 and packs 2; higher comes first.
  if (int rc = git_odb_add_backend(odb, &cb->parent, 100); rc < 0) {
    CFree(&cb->parent);
    return MakeError(Code::kInternal, "cannot add odb backend");
  }
  // git_odb_write tries each backend until one succeeds: a failure of ours
  // (EIO, ENOSPC) would fall through to libgit2's loose backend, which
  // writes outside the Env (unseen by fault injection and the power-loss
  // recorder, a new fan-out directory never fsynced) and hides the error.
  // Ours is the only writer; the others stay for reading.
  for (size_t i = 0, n = git_odb_num_backends(odb); i < n; ++i) {
    git_odb_backend* b = nullptr;
    if (git_odb_get_backend(&b, odb, i) != 0 || b == &cb->parent) continue;
    b->write = nullptr;
    b->writestream = nullptr;  // git_odb_write falls back to a stream too
    // git_odb_write first "freshens" an existing object: the loose backend
    // calls utimensat on it, outside the Env, one system call per unchanged
    // file and tree of every publish. Nothing in txdir reads object mtimes
    // (gc works by reachability), so existence is all we need: without a
    // freshen callback libgit2 asks `exists` instead, which only looks.
    b->freshen = nullptr;
  }
  return cb->self;
}

int OdbBackend::WriteObject(const git_oid* oid, const void* data, size_t len, git_object_t type) {
  auto s = DoWrite(oid, data, len, type);
  if (!s) {
    git_error_set_str(GIT_ERROR_OS, s.error().ToString().c_str());
    return -1;
  }
  return 0;
}

Status OdbBackend::DoWrite(const git_oid* oid, const void* data, size_t len, git_object_t type) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, oid);
  const std::string fan(hex, 2), rest(hex + 2);
  std::string encoded = TXDIR_TRY(Deflate(data, len, type));

  Fd objects = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, objects_dir_));
  auto mk = env_->MkdirAt(objects.get(), fan, 0755);
  if (mk) {
    dirty_dirs_.insert("");  // the new fan-out directory's entry
  } else if (mk.error().code != Code::kExists) {
    return tl::unexpected(mk.error());
  }
  Fd dir = TXDIR_TRY(fs::OpenDir(env_, objects.get(), fan));
  // Another process may already have this object: objects are immutable and
  // named by content, so an existing file is as good as ours.
  if (env_->StatAt(dir.get(), rest, false)) return Ok();
  // The temp file goes to options_.tmp_dir when set (the repository's
  // tmp/, which recovery empties), so no scan of objects/ is ever needed to
  // find leftovers.
  Fd tmp_owner;
  int tmp_dir = dir.get();
  if (!options_.tmp_dir.empty()) {
    tmp_owner = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, options_.tmp_dir));
    tmp_dir = tmp_owner.get();
  }
  const std::string tmp = fs::UniqueName("tmp_obj_");
  bool sync = options_.sync_each_object && !TXDIR_BROKEN("libgit2-no-fsync") &&
              !TXDIR_BROKEN("no-file-fsync");
  auto s = fs::WriteNewFile(env_, tmp_dir, tmp, encoded, 0444, sync);
  if (s) s = env_->RenameAt(tmp_dir, tmp, dir.get(), rest);
  if (!s) {
    (void)env_->UnlinkAt(tmp_dir, tmp, 0);
    return s;
  }
  dirty_dirs_.insert(fan);
  return Ok();
}

Status OdbBackend::Sync() {
  if (TXDIR_BROKEN("libgit2-no-fsync") || !options_.sync_each_object) {
    dirty_dirs_.clear();
    return Ok();
  }
  // Fan-out directories first, then objects/ (which names them).
  for (auto it = dirty_dirs_.rbegin(); it != dirty_dirs_.rend(); ++it) {
    TXDIR_CHECK(fs::FsyncPath(env_, fs::JoinPath(objects_dir_, *it)));
  }
  dirty_dirs_.clear();
  return Ok();
}

}  // namespace txdir::store
