#include "store/pack_writer.h"

#include <fcntl.h>
#include <mbedtls/sha1.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "store/failpoint.h"
#include "store/fs_util.h"

namespace txdir::store {

namespace {

constexpr size_t kFlushAt = size_t{1} << 20;  // body bytes buffered before a write
constexpr size_t kCopyPiece = size_t{1} << 20;

void PutBe32(std::string* out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

// SHA-1 of what passes through, for the pack's and the index's trailers
// (the file formats require SHA-1 there; object ids come from libgit2).
// mbedTLS's, which libgit2 links anyway: OpenSSL's would link libcrypto's
// tables into every start of `txdir` (store/ssh_on_demand.cc).
class Sha1 {
 public:
  Sha1() {
    mbedtls_sha1_init(&ctx_);
    ok_ = mbedtls_sha1_starts_ret(&ctx_) == 0;
  }
  ~Sha1() { mbedtls_sha1_free(&ctx_); }
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;
  void Update(std::string_view d) {
    ok_ = ok_ && mbedtls_sha1_update_ret(&ctx_, reinterpret_cast<const unsigned char*>(d.data()),
                                         d.size()) == 0;
  }
  Result<std::string> Final() {
    unsigned char md[GIT_OID_RAWSZ];
    if (!ok_ || mbedtls_sha1_finish_ret(&ctx_, md) != 0)
      return MakeError(Code::kInternal, "SHA-1 of the pack failed (mbedTLS)");
    return std::string(reinterpret_cast<const char*>(md), sizeof md);
  }

 private:
  mbedtls_sha1_context ctx_;
  bool ok_ = false;
};

std::string Hex(const std::string& raw) {
  static const char kDigits[] = "0123456789abcdef";
  std::string h;
  for (unsigned char c : raw) {
    h.push_back(kDigits[c >> 4]);
    h.push_back(kDigits[c & 15]);
  }
  return h;
}

}  // namespace

size_t PackWriter::OidHash::operator()(const std::string& raw) const {
  size_t h = 0;  // ids are uniformly distributed already
  std::memcpy(&h, raw.data(), std::min(sizeof h, raw.size()));
  return h;
}

PackWriter::PackWriter(Env* env, int tmp_dir) : env_(env), tmp_dir_(tmp_dir) {}

PackWriter::~PackWriter() {
  body_ = Fd();
  if (!finished_)
    for (const auto& name : temps_) (void)env_->UnlinkAt(tmp_dir_, name, 0);
}

bool PackWriter::Has(const git_oid& oid) const {
  return seen_.count(std::string(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ)) != 0;
}

Status PackWriter::Add(const git_oid& oid, git_object_t type, std::string_view data) {
  std::string raw(reinterpret_cast<const char*>(oid.id), GIT_OID_RAWSZ);
  if (seen_.count(raw)) return Ok();
  if (!body_.valid()) {
    body_name_ = fs::UniqueName("tmp_obj_packbody_");
    body_ =
        TXDIR_TRY(env_->OpenAt(tmp_dir_, body_name_, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    temps_.push_back(body_name_);
  }
  // Entry header: type and size, 4 bits of size then 7 per byte.
  std::string entry;
  uint64_t size = data.size();
  auto c = static_cast<unsigned char>((static_cast<unsigned>(type) << 4) | (size & 15));
  size >>= 4;
  while (size != 0) {
    entry.push_back(static_cast<char>(c | 0x80));
    c = static_cast<unsigned char>(size & 0x7f);
    size >>= 7;
  }
  entry.push_back(static_cast<char>(c));
  const size_t header = entry.size();
  // One zlib stream per object, as git's pack format has it; level 1 like
  // loose objects. compress2 fits: pack objects are small (large blobs are
  // streamed as loose objects, see OdbBackend).
  uLongf bound = compressBound(static_cast<uLong>(data.size()));
  entry.resize(header + bound);
  if (compress2(reinterpret_cast<Bytef*>(entry.data() + header), &bound,
                reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
                Z_BEST_SPEED) != Z_OK)
    return MakeError(Code::kInternal, "zlib compress failed for a pack entry");
  entry.resize(header + bound);
  const auto crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(entry.data()), static_cast<uInt>(entry.size())));
  entries_.push_back(Entry{oid, crc, offset_});
  seen_.insert(std::move(raw));
  offset_ += entry.size();
  out_ += entry;
  if (out_.size() >= kFlushAt) TXDIR_CHECK(Flush());
  return Ok();
}

Status PackWriter::Flush() {
  if (out_.empty()) return Ok();
  TXDIR_CHECK(env_->Write(body_.get(), out_.data(), out_.size()));
  out_.clear();
  return Ok();
}

Result<std::string> PackWriter::Finish(int pack_dir, bool sync) {
  if (entries_.empty()) return std::string();
  TXDIR_CHECK(Flush());
  const auto count = static_cast<uint32_t>(entries_.size());
  if (count != entries_.size())
    return MakeError(Code::kInvalidArgument, "too many objects for one pack");

  // The pack: header, the body copied from its temp file, SHA-1 trailer.
  const std::string pack_tmp = fs::UniqueName("tmp_obj_pack_");
  Fd pack =
      TXDIR_TRY(env_->OpenAt(tmp_dir_, pack_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  temps_.push_back(pack_tmp);
  Sha1 pack_sum;
  std::string head = "PACK";
  PutBe32(&head, 2);
  PutBe32(&head, count);
  pack_sum.Update(head);
  TXDIR_CHECK(env_->Write(pack.get(), head.data(), head.size()));
  std::string piece(kCopyPiece, '\0');
  for (uint64_t at = 0, end = offset_ - 12; at < end;) {
    size_t n = TXDIR_TRY(env_->PRead(body_.get(), piece.data(),
                                     static_cast<size_t>(std::min<uint64_t>(kCopyPiece, end - at)),
                                     static_cast<off_t>(at)));
    if (n == 0) return MakeError(Code::kIo, "pack body temp file ended early", body_name_);
    pack_sum.Update(std::string_view(piece.data(), n));
    TXDIR_CHECK(env_->Write(pack.get(), piece.data(), n));
    at += n;
  }
  const std::string pack_sha = TXDIR_TRY(pack_sum.Final());
  TXDIR_CHECK(env_->Write(pack.get(), pack_sha.data(), pack_sha.size()));

  // The index, version 2: fan-out, sorted ids, CRCs, offsets, trailers.
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return std::memcmp(a.oid.id, b.oid.id, GIT_OID_RAWSZ) < 0;
  });
  std::string idx = "\377tOc";
  PutBe32(&idx, 2);
  uint32_t fan[256] = {};
  for (const Entry& e : entries_) ++fan[e.oid.id[0]];
  for (uint32_t i = 0, sum = 0; i < 256; ++i) PutBe32(&idx, sum += fan[i]);
  for (const Entry& e : entries_)
    idx.append(reinterpret_cast<const char*>(e.oid.id), GIT_OID_RAWSZ);
  for (const Entry& e : entries_) PutBe32(&idx, e.crc);
  std::string large;
  uint32_t n_large = 0;
  for (const Entry& e : entries_) {
    if (e.offset < 0x80000000ULL) {
      PutBe32(&idx, static_cast<uint32_t>(e.offset));
    } else {
      PutBe32(&idx, 0x80000000U | n_large++);
      PutBe32(&large, static_cast<uint32_t>(e.offset >> 32));
      PutBe32(&large, static_cast<uint32_t>(e.offset));
    }
  }
  idx += large;
  idx += pack_sha;
  Sha1 idx_sum;
  idx_sum.Update(idx);
  idx += TXDIR_TRY(idx_sum.Final());
  const std::string idx_tmp = fs::UniqueName("tmp_obj_idx_");
  temps_.push_back(idx_tmp);
  TXDIR_CHECK(fs::WriteNewFile(env_, tmp_dir_, idx_tmp, idx, 0444, sync));
  if (sync) TXDIR_CHECK(env_->Fsync(pack.get()));
  pack = Fd();
  TXDIR_FAILPOINT("pack.written");

  // Pack first, index last: the index is what makes git use the pack.
  const std::string base = "pack-" + Hex(pack_sha);
  TXDIR_CHECK(env_->RenameAt(tmp_dir_, pack_tmp, pack_dir, base + ".pack"));
  TXDIR_FAILPOINT("pack.pack_renamed");
  TXDIR_CHECK(env_->RenameAt(tmp_dir_, idx_tmp, pack_dir, base + ".idx"));
  finished_ = true;
  body_ = Fd();
  (void)env_->UnlinkAt(tmp_dir_, body_name_, 0);  // a leftover is removed by recovery
  TXDIR_FAILPOINT("pack.done");
  return base;
}

}  // namespace txdir::store
