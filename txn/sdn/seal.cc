// The `#sdn-crc32:` seal of the Simple tooling's databases: CRC-32/ISO-HDLC
// (zlib's crc32) of every byte after the first line's '\n', written in
// unsigned decimal right after the prefix (docs/sdn.md, "The seal").
#include <array>
#include <charconv>

#include "sdn_source.h"
#include "txdir/sdn.h"

namespace txdir::sdn {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// The digits of the seal line: [prefix end, first non-digit).
std::string_view SealDigits(std::string_view text) {
  size_t begin = internal::kSealPrefix.size(), end = begin;
  while (end < text.size() && internal::IsDigit(text[end])) ++end;
  return text.substr(begin, end - begin);
}

std::string_view Body(std::string_view text) {
  size_t nl = text.find('\n');
  return nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool IsSealed(std::string_view text) {
  return text.substr(0, internal::kSealPrefix.size()) == internal::kSealPrefix;
}

Status VerifySeal(std::string_view text) {
  if (!IsSealed(text)) return Ok();
  std::string_view digits = SealDigits(text);
  uint64_t stated = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), stated);
  if (digits.empty() || ec != std::errc() || stated > 0xFFFFFFFFu) {
    return MakeError(Code::kCorruption,
                     "the seal line `#sdn-crc32:` does not hold a CRC-32 in decimal");
  }
  const uint32_t actual = Crc32(Body(text));
  if (stated != actual) {
    return MakeError(Code::kCorruption, "the seal says #sdn-crc32:" + std::string(digits) +
                                            " but the body's CRC-32 is " + std::to_string(actual) +
                                            " (the file was changed without resealing)");
  }
  return Ok();
}

std::string Reseal(std::string_view text) {
  if (!IsSealed(text)) return std::string(text);
  std::string_view digits = SealDigits(text);
  std::string out(text.substr(0, internal::kSealPrefix.size()));
  out += std::to_string(Crc32(Body(text)));
  out += text.substr(internal::kSealPrefix.size() + digits.size());
  return out;
}

}  // namespace txdir::sdn
