#include "txn/src/stat_cache.h"

#include <fcntl.h>

#include <cstring>

#include "store/fs_util.h"
#include "store/logging.h"

namespace txdir::internal {

namespace {

// Format (all integers little-endian as the host writes them; a cache is
// never moved between machines, and a foreign one fails the checksum or
// the magic and is rebuilt):
//   "TXDIRSC1"  limit_ns:i64  source_dev:u64  source_ino:u64
//   head:40 hex chars (or 40 '0')  count:u64
//   count x { path_len:u32 path size:u64 mtime_ns:i64 ctime_ns:i64
//             ino:u64 dev:u64 mode:u32 oid:20 }
//   sha1 of everything before:20
constexpr char kMagic[] = "TXDIRSC1";
constexpr size_t kMagicLen = 8;
constexpr size_t kHeadLen = 40;

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

struct Reader {
  const std::string& data;
  size_t pos = 0;
  bool ok = true;
  template <typename T>
  T Get() {
    T v{};
    if (data.size() - pos < sizeof v) {
      ok = false;
      return v;
    }
    std::memcpy(&v, data.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  std::string Bytes(size_t n) {
    if (data.size() - pos < n) {
      ok = false;
      return {};
    }
    std::string s = data.substr(pos, n);
    pos += n;
    return s;
  }
};

git_oid Checksum(const char* data, size_t len) {
  // Hashing memory cannot fail; a zero id would only make the check fail.
  return store::HashBlob(std::string_view(data, len)).value_or(git_oid{});
}

}  // namespace

StatCache StatCache::Load(Env* env, const std::string& dir_path, const std::string& name) {
  StatCache c;
  auto fail = [&](const std::string& why) {
    store::LogDebug("stat cache ", dir_path, "/", name, " ignored: ", why);
    return StatCache();
  };
  auto dir = fs::OpenDir(env, Env::kCwd, dir_path);
  if (!dir) return fail(dir.error().ToString());
  auto fd = env->OpenAt(dir->get(), name, O_RDONLY | O_NOFOLLOW);
  if (!fd) return fail(fd.error().ToString());
  auto data = env->ReadAll(fd->get());
  if (!data) return fail(data.error().ToString());
  const std::string& d = *data;
  if (d.size() < kMagicLen + store::kOidRawSize || d.compare(0, kMagicLen, kMagic) != 0)
    return fail("not a stat cache of this version");
  const size_t body = d.size() - store::kOidRawSize;
  git_oid sum = Checksum(d.data(), body);
  if (std::memcmp(sum.id, d.data() + body, store::kOidRawSize) != 0)
    return fail("checksum mismatch");
  Reader r{d, kMagicLen};
  c.limit_ns_ = r.Get<int64_t>();
  c.source_dev_ = r.Get<uint64_t>();
  c.source_ino_ = r.Get<uint64_t>();
  c.head_ = r.Bytes(kHeadLen);
  if (c.head_ == std::string(kHeadLen, '0')) c.head_.clear();
  const uint64_t count = r.Get<uint64_t>();
  if (!r.ok || count > body) return fail("bad header");
  c.entries_.reserve(count);
  for (uint64_t i = 0; i < count && r.ok; ++i) {
    const uint32_t len = r.Get<uint32_t>();
    std::string path = r.Bytes(len);
    Entry e;
    e.size = r.Get<uint64_t>();
    e.mtime_ns = r.Get<int64_t>();
    e.ctime_ns = r.Get<int64_t>();
    e.ino = r.Get<uint64_t>();
    e.dev = r.Get<uint64_t>();
    e.mode = r.Get<uint32_t>();
    std::string raw = r.Bytes(store::kOidRawSize);
    if (!r.ok) break;
    e.oid = store::OidFromRaw(reinterpret_cast<const unsigned char*>(raw.data()));
    // Entries are recorded only below the limit; anything else is not ours.
    if (e.mtime_ns >= c.limit_ns_ || e.ctime_ns >= c.limit_ns_) return fail("racy entry");
    c.entries_.emplace(std::move(path), e);
  }
  if (!r.ok || r.pos != body) return fail("truncated or trailing data");
  return c;
}

const git_oid* StatCache::Lookup(const std::string& path, const struct stat& st) const {
  auto it = entries_.find(path);
  if (it == entries_.end()) return nullptr;
  const Entry& e = it->second;
  if (e.size != static_cast<uint64_t>(st.st_size) || e.mtime_ns != StatNs(st.st_mtim) ||
      e.ctime_ns != StatNs(st.st_ctim) || e.ino != static_cast<uint64_t>(st.st_ino) ||
      e.dev != static_cast<uint64_t>(st.st_dev) || e.mode != static_cast<uint32_t>(st.st_mode))
    return nullptr;
  return &e.oid;
}

void StatCache::Reset(const std::string& head, const struct stat& source_root,
                      int64_t scan_start_ns) {
  head_ = head;
  source_dev_ = static_cast<uint64_t>(source_root.st_dev);
  source_ino_ = static_cast<uint64_t>(source_root.st_ino);
  limit_ns_ = scan_start_ns;
  entries_.clear();
}

void StatCache::Record(const std::string& path, const struct stat& st, const git_oid& oid) {
  const int64_t m = StatNs(st.st_mtim), c = StatNs(st.st_ctim);
  if (m >= limit_ns_ || c >= limit_ns_) return;  // racy: hash it again next time
  Entry e;
  e.size = static_cast<uint64_t>(st.st_size);
  e.mtime_ns = m;
  e.ctime_ns = c;
  e.ino = static_cast<uint64_t>(st.st_ino);
  e.dev = static_cast<uint64_t>(st.st_dev);
  e.mode = static_cast<uint32_t>(st.st_mode);
  e.oid = oid;
  entries_[path] = e;
}

Status StatCache::Save(Env* env, const std::string& dir, const std::string& name) const {
  std::string out;
  out.reserve(64 + entries_.size() * 96);
  out.append(kMagic, kMagicLen);
  Put<int64_t>(&out, limit_ns_);
  Put<uint64_t>(&out, source_dev_);
  Put<uint64_t>(&out, source_ino_);
  out.append(head_.size() == kHeadLen ? head_ : std::string(kHeadLen, '0'));
  Put<uint64_t>(&out, entries_.size());
  for (const auto& [path, e] : entries_) {
    Put<uint32_t>(&out, static_cast<uint32_t>(path.size()));
    out.append(path);
    Put<uint64_t>(&out, e.size);
    Put<int64_t>(&out, e.mtime_ns);
    Put<int64_t>(&out, e.ctime_ns);
    Put<uint64_t>(&out, e.ino);
    Put<uint64_t>(&out, e.dev);
    Put<uint32_t>(&out, e.mode);
    out.append(reinterpret_cast<const char*>(e.oid.id), store::kOidRawSize);
  }
  git_oid sum = Checksum(out.data(), out.size());
  out.append(reinterpret_cast<const char*>(sum.id), store::kOidRawSize);

  // Rewritten in place, not replaced by a new file: creating a file (an
  // inode) is the costliest step of a small publish on ext4. A write cut
  // short by a crash fails the checksum, and the cache is then ignored.
  Fd target = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, dir));
  Fd fd =
      TXDIR_TRY(env->OpenAt(target.get(), name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  TXDIR_CHECK(env->Write(fd.get(), out.data(), out.size()));
  return env->Ftruncate(fd.get(), static_cast<off_t>(out.size()));
}

}  // namespace txdir::internal
