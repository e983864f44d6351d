// libFuzzer target for the generation metadata (commit trailer) parser,
// store/gen_meta.h. Commit messages come from other repositories too (pull,
// clone), so any text may reach ParseCommitMessage: it must never crash,
// and what it accepts must survive a format/parse cycle unchanged. A
// second property builds metadata from the input and checks that
// ParseCommitMessage(FormatCommitMessage(m)) gives m back, modulo the
// normalization FormatCommitMessage documents. Built by run_fuzz.sh.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "store/gen_meta.h"

namespace {

using txdir::store::GenMeta;

void Require(bool ok) {
  if (!ok) std::abort();
}

bool Same(const GenMeta& a, const GenMeta& b) {
  return a.number == b.number && a.kind == b.kind && a.restores == b.restores &&
         a.message == b.message && a.host == b.host && a.pid == b.pid && a.time_ms == b.time_ms &&
         a.queued == b.queued;
}

std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace txdir::store;
  // 1. Arbitrary text.
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseCommitMessage(text);
  if (parsed) {
    auto again = ParseCommitMessage(FormatCommitMessage(*parsed));
    Require(again.has_value());
    auto third = ParseCommitMessage(FormatCommitMessage(*again));
    // The first cycle may normalize text (a message's trailing blanks, a
    // carriage return in the kind); after that the text is a fixed point.
    // Numbers and times never change.
    Require(third.has_value() && Same(*again, *third));
    Require(again->number == parsed->number && again->restores == parsed->restores &&
            again->pid == parsed->pid && again->time_ms == parsed->time_ms);
  } else {
    Require(parsed.error().code == txdir::Code::kCorruption);
  }

  // 2. Metadata built from the input: format then parse gives it back.
  FuzzedDataProvider in(data, size);
  GenMeta m;
  m.number = in.ConsumeIntegralInRange<uint64_t>(1, UINT64_MAX);
  if (in.ConsumeBool()) m.restores = in.ConsumeIntegral<uint64_t>();
  m.kind = in.ConsumeRandomLengthString(32);
  m.host = in.ConsumeRandomLengthString(64);
  m.pid = in.ConsumeIntegral<int64_t>();
  m.time_ms = in.ConsumeIntegralInRange<int64_t>(kMinTimeMs, kMaxTimeMs);
  m.message = in.ConsumeRemainingBytesAsString();
  auto back = ParseCommitMessage(FormatCommitMessage(m));
  Require(back.has_value());
  GenMeta want = m;
  want.kind = OneLine(m.kind);
  want.host = OneLine(m.host);
  while (!want.message.empty() && (want.message.back() == '\n' || want.message.back() == ' '))
    want.message.pop_back();
  if (want.message.empty()) want.message = "generation " + std::to_string(m.number);
  Require(Same(*back, want));
  return 0;
}
