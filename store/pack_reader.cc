#include "store/pack_reader.h"

#include <fcntl.h>
#include <zlib.h>

#include <cstring>
#include <memory>
#include <optional>

namespace txdir::store {

namespace {

constexpr size_t kPiece = size_t{256} * 1024;

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

Status ReadExactly(Env* env, int fd, void* buf, size_t n, off_t off, const std::string& what) {
  size_t got = 0;
  while (got < n) {
    size_t k = TXDIR_TRY(
        env->PRead(fd, static_cast<char*>(buf) + got, n - got, off + static_cast<off_t>(got)));
    if (k == 0) return MakeError(Code::kCorruption, "truncated pack file", what);
    got += k;
  }
  return Ok();
}

// The offset of `oid` in the pack of index `idx` (version 2: header,
// fan-out, sorted ids, CRCs, 4-byte offsets, 8-byte offsets), or nullopt.
Result<std::optional<uint64_t>> FindInIndex(Env* env, int idx, const git_oid& oid,
                                            const std::string& what) {
  unsigned char head[8 + 256 * 4];
  TXDIR_CHECK(ReadExactly(env, idx, head, sizeof head, 0, what));
  if (std::memcmp(head, "\377tOc", 4) != 0 || Be32(head + 4) != 2)
    return MakeError(Code::kCorruption, "not a version 2 pack index", what);
  const unsigned char* fan = head + 8;
  const uint32_t n = Be32(fan + size_t{255} * 4);
  const unsigned char first = oid.id[0];
  uint32_t lo = first == 0 ? 0 : Be32(fan + (size_t{first} - 1) * 4),
           hi = Be32(fan + size_t{first} * 4);
  if (lo > hi || hi > n) return MakeError(Code::kCorruption, "damaged pack index fan-out", what);
  const off_t ids = sizeof head;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    unsigned char id[GIT_OID_RAWSZ] = {};
    TXDIR_CHECK(ReadExactly(env, idx, id, sizeof id, ids + off_t{mid} * GIT_OID_RAWSZ, what));
    const int c = std::memcmp(id, oid.id, GIT_OID_RAWSZ);
    if (c == 0) {
      const off_t offsets = ids + off_t{n} * (GIT_OID_RAWSZ + 4);
      unsigned char b[8];
      TXDIR_CHECK(ReadExactly(env, idx, b, 4, offsets + off_t{mid} * 4, what));
      const uint32_t small = Be32(b);
      if ((small & 0x80000000u) == 0) return std::optional<uint64_t>(small);
      const off_t large = offsets + off_t{n} * 4 + off_t{small & 0x7fffffffu} * 8;
      TXDIR_CHECK(ReadExactly(env, idx, b, 8, large, what));
      return std::optional<uint64_t>((uint64_t{Be32(b)} << 32) | Be32(b + 4));
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::optional<uint64_t>();
}

}  // namespace

Result<bool> ReadPackedBlob(Env* env, const std::string& pack_dir, const git_oid& oid,
                            const std::function<Status(std::string_view)>& sink,
                            const std::function<Status(uint64_t)>& on_size) {
  auto dir = env->OpenAt(Env::kCwd, pack_dir, O_RDONLY | O_DIRECTORY);
  if (!dir) {
    if (dir.error().code == Code::kNotFound) return false;
    return tl::unexpected(dir.error());
  }
  for (const auto& e : TXDIR_TRY(env->ListDir(dir->get()))) {
    const std::string& name = e.name;
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".idx") != 0) continue;
    const std::string stem = name.substr(0, name.size() - 4);
    const std::string what = pack_dir + "/" + name;
    auto idx = env->OpenAt(dir->get(), name, O_RDONLY);
    if (!idx) continue;  // removed meanwhile (gc): another pack or libgit2
    const auto offset = TXDIR_TRY(FindInIndex(env, idx->get(), oid, what));
    if (!offset) continue;
    const std::string pack_what = pack_dir + "/" + stem + ".pack";
    Fd pack = TXDIR_TRY(env->OpenAt(dir->get(), stem + ".pack", O_RDONLY));
    // Object header: type in bits 4-6 of the first byte, the length in
    // its low 4 bits and 7 bits of each following byte while bit 7 is set.
    unsigned char h[16] = {};
    const size_t got = TXDIR_TRY(env->PRead(pack.get(), h, sizeof h, static_cast<off_t>(*offset)));
    if (got == 0) return MakeError(Code::kCorruption, "truncated pack file", pack_what);
    const int type = (h[0] >> 4) & 7;
    uint64_t size = h[0] & 15;
    size_t used = 1;
    for (int shift = 4; h[used - 1] & 0x80; shift += 7) {
      if (used >= got || shift > 57)
        return MakeError(Code::kCorruption, "damaged object header in pack", pack_what);
      size |= uint64_t{h[used] & 0x7fu} << shift;
      ++used;
    }
    if (type == GIT_OBJECT_OFS_DELTA || type == GIT_OBJECT_REF_DELTA) return false;
    if (type != GIT_OBJECT_BLOB)
      return MakeError(
          Code::kCorruption,
          "object " + std::string(git_oid_tostr_s(&oid)) + " in the pack is not a blob", pack_what);
    if (on_size) TXDIR_CHECK(on_size(size));

    struct Inflater {
      z_stream zs{};
      bool live = false;
      ~Inflater() {
        if (live) inflateEnd(&zs);
      }
    } inf;
    if (inflateInit(&inf.zs) != Z_OK) return MakeError(Code::kInternal, "zlib inflateInit failed");
    inf.live = true;
    auto in = std::make_unique_for_overwrite<char[]>(kPiece);
    auto out = std::make_unique_for_overwrite<char[]>(kPiece);
    off_t at = static_cast<off_t>(*offset + used);
    uint64_t delivered = 0;
    int rc = Z_OK;
    auto bad = [&](const std::string& why) {
      return MakeError(Code::kCorruption,
                       "damaged object " + std::string(git_oid_tostr_s(&oid)) + " in pack: " + why,
                       pack_what);
    };
    while (rc != Z_STREAM_END) {
      const size_t n = TXDIR_TRY(env->PRead(pack.get(), in.get(), kPiece, at));
      if (n == 0) return bad("truncated");
      at += static_cast<off_t>(n);
      inf.zs.next_in = reinterpret_cast<Bytef*>(in.get());
      inf.zs.avail_in = static_cast<uInt>(n);
      do {
        inf.zs.next_out = reinterpret_cast<Bytef*>(out.get());
        inf.zs.avail_out = static_cast<uInt>(kPiece);
        rc = inflate(&inf.zs, Z_NO_FLUSH);
        if (rc == Z_BUF_ERROR) break;  // needs more input
        if (rc != Z_OK && rc != Z_STREAM_END) return bad("not a zlib stream");
        const size_t produced = kPiece - inf.zs.avail_out;
        delivered += produced;
        if (delivered > size) return bad("longer than its header says");
        if (produced > 0) TXDIR_CHECK(sink(std::string_view(out.get(), produced)));
      } while (rc != Z_STREAM_END && (inf.zs.avail_in > 0 || inf.zs.avail_out == 0));
    }
    if (delivered != size) return bad("shorter than its header says");
    return true;
  }
  return false;
}

}  // namespace txdir::store
