#include "store/odb_backend.h"

#include <fcntl.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/failpoint.h"
#include "store/fs_util.h"

namespace txdir::store {

namespace {

// Output and input buffers of the streaming paths: large enough that a
// big object costs few system calls, small enough that memory stays bounded
// whatever the object's size.
constexpr size_t kZBuffer = size_t{256} * 1024;

// libgit2 sees these structs; `parent` must be first so it can cast.
struct CBackend {
  git_odb_backend parent;
  OdbBackend* self;
};

struct CStream {
  git_odb_stream parent;
  std::unique_ptr<LooseObjectWriter> writer;  // a loose object, or
  std::string held;                           // the content of a batched one
  git_object_t type = GIT_OBJECT_INVALID;
};

int ReportToLibgit2(const Status& s) {
  if (s) return 0;
  git_error_set_str(GIT_ERROR_OS, s.error().ToString().c_str());
  return -1;
}

int CWrite(git_odb_backend* b, const git_oid* oid, const void* data, size_t len,
           git_object_t type) {
  return reinterpret_cast<CBackend*>(b)->self->WriteObject(oid, data, len, type);
}

// A loose object is read here (bounded, through the Env); one that is not
// loose is left to the next backend (packs) by GIT_ENOTFOUND.
int ReportRead(const Status& s) {
  if (s) return 0;
  if (s.error().code == Code::kNotFound) return GIT_ENOTFOUND;
  // The class decides the Code that GitError gives back: OS for I/O, ODB
  // (the caller's default, Corruption) for damage.
  git_error_set_str(s.error().code == Code::kIo ? GIT_ERROR_OS : GIT_ERROR_ODB,
                    s.error().ToString().c_str());
  return -1;
}

int CRead(void** data, size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
  auto w = reinterpret_cast<CBackend*>(b)->self->ReadObject(*oid, /*header_only=*/false);
  if (!w) return ReportRead(tl::unexpected(w.error()));
  *data = w->data;
  *len = static_cast<size_t>(w->size);
  *type = w->type;
  return 0;
}

int CReadHeader(size_t* len, git_object_t* type, git_odb_backend* b, const git_oid* oid) {
  auto w = reinterpret_cast<CBackend*>(b)->self->ReadObject(*oid, /*header_only=*/true);
  if (!w) return ReportRead(tl::unexpected(w.error()));
  if (w->size >= SIZE_MAX) return ReportRead(MakeError(Code::kCorruption, "object too large"));
  *len = static_cast<size_t>(w->size);
  *type = w->type;
  return 0;
}

int CExists(git_odb_backend* b, const git_oid* oid) {
  return reinterpret_cast<CBackend*>(b)->self->Exists(*oid) ? 1 : 0;
}

int CStreamWrite(git_odb_stream* st, const char* buf, size_t len) {
  auto* cs = reinterpret_cast<CStream*>(st);
  if (!cs->writer) {
    cs->held.append(buf, len);
    return 0;
  }
  return ReportToLibgit2(cs->writer->Append(buf, len));
}

int CStreamFinalize(git_odb_stream* st, const git_oid* oid) {
  auto* cs = reinterpret_cast<CStream*>(st);
  if (!cs->writer)
    return reinterpret_cast<CBackend*>(st->backend)
        ->self->WriteObject(oid, cs->held.data(), cs->held.size(), cs->type);
  return ReportToLibgit2(cs->writer->Finish(*oid));
}

void CStreamFree(git_odb_stream* st) { delete reinterpret_cast<CStream*>(st); }

// git_odb_open_wstream: libgit2 hashes the bytes as they pass and hands the
// id to finalize_write, so a blob of any size is written without ever being
// whole in memory.
int CWriteStream(git_odb_stream** out, git_odb_backend* b, git_object_size_t len,
                 git_object_t type) {
  OdbBackend* self = reinterpret_cast<CBackend*>(b)->self;
  // libgit2 writes every blob through a stream, even one it holds whole
  // (git_blob_create_from_buffer). In a batch, small ones are gathered
  // whole and handed to WriteObject at the end; big ones stay streamed.
  auto* cs = new CStream{};
  cs->parent.backend = b;
  cs->parent.mode = GIT_STREAM_WRONLY;
  cs->parent.write = CStreamWrite;
  cs->parent.finalize_write = CStreamFinalize;
  cs->parent.free = CStreamFree;
  if (self->Batching() && len <= OdbBackend::kBatchMaxObject) {
    cs->held.reserve(static_cast<size_t>(len));
    cs->type = type;
    *out = &cs->parent;
    return 0;
  }
  auto writer = self->Begin(len, type);
  if (!writer) {
    delete cs;
    return ReportToLibgit2(tl::unexpected(writer.error()));
  }
  cs->writer = std::move(*writer);
  *out = &cs->parent;
  return 0;
}

void CFree(git_odb_backend* b) {
  auto* cb = reinterpret_cast<CBackend*>(b);
  delete cb->self;
  delete cb;
}

std::string ObjectHeader(uint64_t len, git_object_t type) {
  std::string header = std::string(git_object_type2string(type)) + " " + std::to_string(len);
  header.push_back('\0');
  return header;
}

}  // namespace

// --- LooseObjectWriter

struct LooseObjectWriter::ZState {
  z_stream zs{};
  bool live = false;
  // Sized per object (most are small): at most kZBuffer, never initialized.
  std::unique_ptr<char[]> out;
  size_t out_size = 0;
  ~ZState() {
    if (live) deflateEnd(&zs);
  }
};

LooseObjectWriter::LooseObjectWriter(OdbBackend* backend) : backend_(backend) {}

LooseObjectWriter::~LooseObjectWriter() {
  file_ = Fd();
  if (!placed_ && !tmp_name_.empty()) (void)backend_->env_->UnlinkAt(tmp_dir_, tmp_name_, 0);
}

Status LooseObjectWriter::Start(uint64_t len, git_object_t type) {
  z_ = std::make_unique<ZState>();
  // Loose objects favour speed over size, as git's core.looseCompression.
  if (deflateInit(&z_->zs, Z_BEST_SPEED) != Z_OK)
    return MakeError(Code::kInternal, "zlib deflateInit failed");
  z_->live = true;
  const std::string header = ObjectHeader(len, type);
  z_->out_size = static_cast<size_t>(
      std::min<uint64_t>(kZBuffer, deflateBound(&z_->zs, static_cast<uLong>(std::min<uint64_t>(
                                                             len + header.size(), kZBuffer)))));
  z_->out = std::make_unique_for_overwrite<char[]>(z_->out_size);
  z_->zs.next_out = reinterpret_cast<Bytef*>(z_->out.get());
  z_->zs.avail_out = static_cast<uInt>(z_->out_size);
  TXDIR_CHECK(Append(header.data(), header.size()));
  // Kept from here on: the content, not the header.
  len_ = len;
  keep_ = type == GIT_OBJECT_BLOB && len <= OdbBackend::kRecentMaxBlob;
  if (keep_) kept_.reserve(static_cast<size_t>(len));
  return Ok();
}

Status LooseObjectWriter::WriteOut(const char* data, size_t len) {
  // The temp file is created with the first output: libgit2 hashes a
  // blob's stream before it asks whether the store has it, so a stream for
  // an object that exists ends without ever reaching the disk.
  if (!file_.valid()) {
    Env* env = backend_->env_;
    // The temp file goes to options_.tmp_dir when set (the repository's
    // tmp/, which recovery empties), so no scan of objects/ is ever needed
    // to find leftovers.
    tmp_dir_ = TXDIR_TRY(backend_->TmpDir());
    std::string name = fs::UniqueName("tmp_obj_");
    file_ = TXDIR_TRY(env->OpenAt(tmp_dir_, name, O_WRONLY | O_CREAT | O_EXCL, 0444));
    tmp_name_ = std::move(name);
  }
  return backend_->env_->Write(file_.get(), data, len);
}

Status LooseObjectWriter::Pump(int flush) {
  // Output is written only when the buffer is full, and the rest at the
  // end: a small object is one write(2), as before streaming.
  z_stream& zs = z_->zs;
  for (;;) {
    int rc = deflate(&zs, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      return MakeError(Code::kInternal, "zlib deflate failed");
    if (zs.avail_out == 0) {
      TXDIR_CHECK(WriteOut(z_->out.get(), z_->out_size));
      zs.next_out = reinterpret_cast<Bytef*>(z_->out.get());
      zs.avail_out = static_cast<uInt>(z_->out_size);
      continue;
    }
    if (flush != Z_FINISH) {
      if (zs.avail_in == 0) return Ok();
      continue;
    }
    if (rc == Z_STREAM_END) {
      const size_t pending = z_->out_size - zs.avail_out;
      if (pending > 0) TXDIR_CHECK(WriteOut(z_->out.get(), pending));
      return Ok();
    }
  }
}

Status LooseObjectWriter::Append(const void* data, size_t len) {
  if (keep_) kept_.append(static_cast<const char*>(data), len);
  const auto* p = static_cast<const Bytef*>(data);
  // zlib counts input in uInt (32 bits): feed it in pieces.
  while (len > 0) {
    const size_t piece = std::min(len, kZBuffer);
    z_->zs.next_in = const_cast<Bytef*>(p);
    z_->zs.avail_in = static_cast<uInt>(piece);
    TXDIR_CHECK(Pump(Z_NO_FLUSH));
    p += piece;
    len -= piece;
  }
  return Ok();
}

Status LooseObjectWriter::Finish(const git_oid& oid) {
  Env* env = backend_->env_;
  z_->zs.next_in = nullptr;
  z_->zs.avail_in = 0;
  TXDIR_CHECK(Pump(Z_FINISH));
  const bool sync = backend_->options_.sync_each_object && !TXDIR_BROKEN("libgit2-no-fsync") &&
                    !TXDIR_BROKEN("no-file-fsync");
  if (sync) TXDIR_CHECK(env->Fsync(file_.get()));
  file_ = Fd();

  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  const std::string fan(hex, 2), name = fan + "/" + (hex + 2);
  // Relative to objects/, opened once: no open of objects/ or of the
  // fan-out directory per object.
  const int objects = TXDIR_TRY(backend_->ObjectsDir());
  auto mk = env->MkdirAt(objects, fan, 0755);
  if (mk) {
    backend_->dirty_dirs_.insert("");  // the new fan-out directory's entry
  } else if (mk.error().code != Code::kExists) {
    return tl::unexpected(mk.error());
  }
  // Another process may already have this object: as good as ours. The
  // destructor removes our temp file.
  if (!env->StatAt(objects, name, false)) {
    TXDIR_CHECK(env->RenameAt(tmp_dir_, tmp_name_, objects, name));
    placed_ = true;
    backend_->dirty_dirs_.insert(fan);
  }
  if (keep_ && kept_.size() == len_) backend_->RememberBlob(oid, std::move(kept_));
  return Ok();
}

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
  cb->self->c_backend_ = &cb->parent;
  cb->parent.read = CRead;
  cb->parent.read_header = CReadHeader;
  cb->parent.write = CWrite;
  cb->parent.writestream = CWriteStream;
  cb->parent.exists = CExists;
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
    if (b->refresh != nullptr) cb->self->refreshers_.emplace_back(b, b->refresh);
  }
  return cb->self;
}

OdbBackend::NoPackRescan::NoPackRescan(OdbBackend* b) : b_(b) {
  if (b_->no_rescan_depth_++ == 0)
    for (auto& [backend, refresh] : b_->refreshers_) backend->refresh = nullptr;
}

OdbBackend::NoPackRescan::~NoPackRescan() {
  if (--b_->no_rescan_depth_ == 0)
    for (auto& [backend, refresh] : b_->refreshers_) backend->refresh = refresh;
}

Result<int> OdbBackend::ObjectsDir() {
  if (!objects_fd_.valid()) objects_fd_ = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, objects_dir_));
  return objects_fd_.get();
}

Result<int> OdbBackend::TmpDir() {
  if (options_.tmp_dir.empty()) return ObjectsDir();
  if (!tmp_fd_.valid()) tmp_fd_ = TXDIR_TRY(fs::OpenDir(env_, Env::kCwd, options_.tmp_dir));
  return tmp_fd_.get();
}

Result<std::unique_ptr<LooseObjectWriter>> OdbBackend::Begin(uint64_t len, git_object_t type) {
  std::unique_ptr<LooseObjectWriter> w(new LooseObjectWriter(this));
  TXDIR_CHECK(w->Start(len, type));
  return w;
}

int OdbBackend::WriteObject(const git_oid* oid, const void* data, size_t len, git_object_t type) {
  if (batch_ && len <= kBatchMaxObject)
    return ReportToLibgit2(
        AddToBatch(*oid, type, std::string_view(static_cast<const char*>(data), len)));
  // libgit2 asks whether the object exists before it comes here (its
  // "freshen" step falls back to `exists`, see Attach); Finish looks again
  // for another process's copy.
  auto write = [&]() -> Status {
    auto w = TXDIR_TRY(Begin(len, type));
    TXDIR_CHECK(w->Append(data, len));
    return w->Finish(*oid);
  };
  return ReportToLibgit2(write());
}

namespace {

// The most a deflate stream can expand: 258 bytes from one 2-bit match
// code is zlib's ratio of 1032:1 (zlib's FAQ). An object header that claims
// more than its file could ever inflate to is damage, found before anything
// of that size is allocated.
constexpr uint64_t kMaxInflateRatio = 1032;

}  // namespace

// Every loose object read goes through here, so every one is bounded:
// libgit2 1.5's own loose reader loops forever, at full CPU, on a zlib
// stream that ends early (git_zstream_get_output treats inflate's
// Z_BUF_ERROR, "no progress possible", as a reason to call it again with the
// same nothing; libgit2 issue 7342). Here each pass of the outer loop reads
// more of a finite file, and each inflate call either makes progress or
// ends the inner loop: Z_BUF_ERROR with input left is damage, and without
// input it means "read more", which at the end of the file is a truncation.
Status OdbBackend::InflateLoose(int fd, const git_oid& oid, const LooseBuffers& buf,
                                const std::function<Status(git_object_t, uint64_t)>& on_header,
                                const std::function<Status(std::string_view)>* sink) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &oid);
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kCorruption, "damaged loose object " + std::string(hex) + ": " + why,
                     LoosePath(oid));
  };
  struct Inflater {
    z_stream zs{};
    bool live = false;
    ~Inflater() {
      if (live) inflateEnd(&zs);
    }
  } inf;
  if (inflateInit(&inf.zs) != Z_OK) return MakeError(Code::kInternal, "zlib inflateInit failed");
  inf.live = true;
  z_stream& zs = inf.zs;
  std::string header;  // "<type> <len>\0", then the content follows
  bool in_header = true;
  uint64_t expected = 0, delivered = 0;
  for (;;) {
    const size_t n = TXDIR_TRY(env_->Read(fd, buf.in, buf.in_size));
    if (n == 0) return bad(in_header ? "truncated in its header" : "truncated");
    zs.next_in = reinterpret_cast<Bytef*>(buf.in);
    zs.avail_in = static_cast<uInt>(n);
    // Until this input is used up and zlib holds no more output for us (a
    // full output buffer may leave some inside it).
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf.out);
      zs.avail_out = static_cast<uInt>(buf.out_size);
      const int rc = inflate(&zs, Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR) {
        if (zs.avail_in > 0) return bad("zlib made no progress");
        break;  // needs more input
      }
      if (rc != Z_OK && rc != Z_STREAM_END)
        return bad(std::string("not a valid zlib stream") +
                   (zs.msg ? std::string(" (") + zs.msg + ")" : ""));
      std::string_view got(buf.out, buf.out_size - zs.avail_out);
      if (in_header) {
        const size_t nul = got.find('\0');
        header.append(got.substr(0, nul));
        if (header.size() > 64) return bad("no object header");
        if (nul != std::string_view::npos) {
          in_header = false;
          got.remove_prefix(nul + 1);
          const size_t sp = header.find(' ');
          const git_object_t type = sp == std::string::npos
                                        ? GIT_OBJECT_INVALID
                                        : git_object_string2type(header.substr(0, sp).c_str());
          if (!git_object_typeisloose(type)) return bad("no object header");
          const std::string digits = header.substr(sp + 1);
          auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expected);
          if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
            return bad("bad length in object header");
          TXDIR_CHECK(on_header(type, expected));
          if (sink == nullptr) return Ok();
        }
      }
      if (!in_header) {
        delivered += got.size();
        if (delivered > expected) return bad("longer than its header says");
        if (!got.empty()) TXDIR_CHECK((*sink)(got));
      }
      if (rc == Z_STREAM_END) {
        if (in_header) return bad("no object header");
        if (delivered != expected) return bad("shorter than its header says");
        if (zs.avail_in > 0) return bad("bytes after the end of its zlib stream");
        return Ok();
      }
    } while (zs.avail_in > 0 || zs.avail_out == 0);
  }
}

std::string OdbBackend::LoosePath(const git_oid& oid) const {
  const std::string hex = OidHex(oid);
  return objects_dir_ + "/" + hex.substr(0, 2) + "/" + hex.substr(2);
}

Result<Fd> OdbBackend::OpenLoose(const git_oid& oid) {
  const std::string hex = OidHex(oid);
  return env_->OpenAt(TXDIR_TRY(ObjectsDir()), hex.substr(0, 2) + "/" + hex.substr(2), O_RDONLY);
}

Status OdbBackend::ReadLoose(const git_oid& oid,
                             const std::function<Status(std::string_view)>& sink,
                             const std::function<Status(uint64_t)>& on_size) {
  Fd fd = TXDIR_TRY(OpenLoose(oid));
  // The buffers live as long as the backend: materializing a generation
  // reads every new file through here, and most are small.
  if (!read_in_) {
    read_in_ = std::make_unique_for_overwrite<char[]>(kZBuffer);
    read_out_ = std::make_unique_for_overwrite<char[]>(kZBuffer);
  }
  const LooseBuffers buf{read_in_.get(), kZBuffer, read_out_.get(), kZBuffer};
  return InflateLoose(
      fd.get(), oid, buf,
      [&](git_object_t type, uint64_t size) -> Status {
        if (type != GIT_OBJECT_BLOB)
          return MakeError(Code::kCorruption, "object " + OidHex(oid) + " is a " +
                                                  git_object_type2string(type) + ", not a blob");
        return on_size ? on_size(size) : Ok();
      },
      &sink);
}

Result<OdbBackend::Whole> OdbBackend::ReadObject(const git_oid& oid, bool header_only) {
  Fd fd = TXDIR_TRY(OpenLoose(oid));
  const uint64_t file_size = static_cast<uint64_t>(TXDIR_TRY(env_->Fstat(fd.get())).st_size);
  // Own buffers, not ReadLoose's: a sink of a streaming read may read
  // objects whole. Sized for the file: most objects are small.
  const size_t in_size = static_cast<size_t>(std::clamp<uint64_t>(file_size, 1, kZBuffer));
  constexpr size_t kOut = size_t{64} * 1024;
  auto in = std::make_unique_for_overwrite<char[]>(in_size);
  auto out = std::make_unique_for_overwrite<char[]>(kOut);
  Whole w;
  size_t filled = 0;
  const std::function<Status(std::string_view)> copy = [&](std::string_view piece) -> Status {
    std::memcpy(static_cast<char*>(w.data) + filled, piece.data(), piece.size());
    filled += piece.size();
    return Ok();
  };
  auto status = InflateLoose(
      fd.get(), oid, LooseBuffers{in.get(), in_size, out.get(), kOut},
      [&](git_object_t type, uint64_t size) -> Status {
        w.type = type;
        w.size = size;
        if (header_only) return Ok();
        if (size > file_size * kMaxInflateRatio || size >= SIZE_MAX)
          return MakeError(Code::kCorruption,
                           "damaged loose object " + OidHex(oid) + ": its header claims " +
                               std::to_string(size) + " bytes, more than its " +
                               std::to_string(file_size) + " compressed bytes can hold",
                           LoosePath(oid));
        // libgit2 frees it; +1 so that an empty object has a buffer too.
        w.data = git_odb_backend_data_alloc(c_backend_, static_cast<size_t>(size) + 1);
        if (w.data == nullptr)
          return MakeError(Code::kIo, "out of memory reading object " + OidHex(oid));
        return Ok();
      },
      header_only ? nullptr : &copy);
  if (!status) {
    if (w.data != nullptr) git_odb_backend_data_free(c_backend_, w.data);
    return tl::unexpected(status.error());
  }
  return w;
}

// --- batches (see the header)

namespace {
// Objects from which a batch becomes a pack. Testing builds may lower it
// (TXDIR_PACK_MIN_OBJECTS), so the crash suites can drive small publishes
// through the pack path too.
size_t PackMinObjects() {
#ifdef TXDIR_TESTING
  if (const char* s = std::getenv("TXDIR_PACK_MIN_OBJECTS"); s != nullptr && *s != '\0')
    return std::max<size_t>(1, std::strtoull(s, nullptr, 10));
#endif
  return OdbBackend::kPackMinObjects;
}
}  // namespace

struct OdbBackend::Batch {
  struct Held {
    git_oid oid;
    git_object_t type;
    std::string data;
  };
  std::vector<Held> held;  // while small
  size_t held_bytes = 0;
  std::unique_ptr<PackWriter> pack;  // once large
};

void OdbBackend::BeginBatch() { batch_ = std::make_unique<Batch>(); }

void OdbBackend::AbortBatch() { batch_.reset(); }

bool OdbBackend::Exists(const git_oid& oid) const {
  if (!batch_) return false;
  if (batch_->pack) return batch_->pack->Has(oid);
  return std::any_of(batch_->held.begin(), batch_->held.end(),
                     [&](const Batch::Held& h) { return git_oid_equal(&h.oid, &oid) != 0; });
}

Status OdbBackend::AddToBatch(const git_oid& oid, git_object_t type, std::string_view data) {
  Batch& b = *batch_;
  if (b.pack) return b.pack->Add(oid, type, data);
  b.held.push_back(Batch::Held{oid, type, std::string(data)});
  b.held_bytes += data.size();
  if (b.held.size() < PackMinObjects() && b.held_bytes < kPackMinBytes) return Ok();
  b.pack = std::make_unique<PackWriter>(env_, TXDIR_TRY(TmpDir()));
  for (const Batch::Held& h : b.held) TXDIR_CHECK(b.pack->Add(h.oid, h.type, h.data));
  b.held.clear();
  b.held.shrink_to_fit();
  return Ok();
}

Status OdbBackend::EndBatch() {
  std::unique_ptr<Batch> b = std::move(batch_);  // writes below go loose
  if (!b) return Ok();
  if (!b->pack) {
    for (const Batch::Held& h : b->held) {
      auto w = TXDIR_TRY(Begin(h.data.size(), h.type));
      TXDIR_CHECK(w->Append(h.data.data(), h.data.size()));
      TXDIR_CHECK(w->Finish(h.oid));
    }
    return Ok();
  }
  Fd pack_dir = TXDIR_TRY(fs::OpenDir(env_, TXDIR_TRY(ObjectsDir()), "pack"));
  TXDIR_CHECK(b->pack->Finish(pack_dir.get(), options_.sync_each_object));
  dirty_dirs_.insert("pack");
  // libgit2 reads packs through its own backend, which must look again.
  for (auto& [backend, refresh] : refreshers_) {
    if (refresh(backend) < 0) {
      const git_error* e = git_error_last();
      return MakeError(Code::kIo,
                       std::string("cannot open the new pack: ") + (e ? e->message : "libgit2"),
                       objects_dir_ + "/pack");
    }
  }
  return Ok();
}

size_t OdbBackend::OidHash::operator()(const git_oid& o) const {
  size_t h = 0;  // the id is a hash already: its first bytes will do
  std::memcpy(&h, o.id, sizeof h);
  return h;
}

bool OdbBackend::OidEq::operator()(const git_oid& a, const git_oid& b) const {
  return git_oid_equal(&a, &b) != 0;
}

void OdbBackend::RememberBlob(const git_oid& oid, std::string content) {
  std::lock_guard<std::mutex> hold(recent_mu_);
  if (recent_.count(oid)) return;
  recent_bytes_ += content.size();
  recent_.emplace(oid, std::make_shared<const std::string>(std::move(content)));
  recent_order_.push_back(oid);
  while (recent_bytes_ > kRecentBytes) {
    auto it = recent_.find(recent_order_.front());
    recent_bytes_ -= it->second->size();
    recent_.erase(it);
    recent_order_.pop_front();
  }
}

std::shared_ptr<const std::string> OdbBackend::RecentBlob(const git_oid& oid) const {
  std::lock_guard<std::mutex> hold(recent_mu_);
  auto it = recent_.find(oid);
  return it == recent_.end() ? nullptr : it->second;
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
