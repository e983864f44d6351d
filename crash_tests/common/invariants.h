// The invariants every crash test checks after interrupting an operation
// (kill at a failpoint or system call, injected I/O fault, simulated power
// loss). See issue 4 and docs/durability.md.
//
//   crash::Expectation e;
//   e.acknowledged = {1};      // publishes that returned success before
//   e.acceptable = {1, 2};     // old and new generation
//   e.contents = {{1, files_a}, {2, files_b}};
//   e.next_source = src_c;  e.next_contents = files_c;
//   for (auto& v : crash::CheckInvariants(root, e)) ADD_FAILURE() << v;
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crash_tests/common/harness.h"

namespace txdir::crash {

struct Expectation {
  // Generations whose operation reported success to its caller before the
  // interruption. Each must still be in the store after recovery.
  std::vector<uint64_t> acknowledged;
  // What a reader may see: the generation before the interrupted operation
  // and the one it was creating. 0 means "no live link yet" (before the
  // first publish).
  std::set<uint64_t> acceptable;
  // Optional: the exact files of some generations. Checked for whatever
  // generation is visible and for every acknowledged one.
  std::map<uint64_t, FileMap> contents;
  // Optional: the live path may also still be a plain directory holding
  // exactly these files (an interrupted `init --live` adoption).
  std::optional<FileMap> unmanaged_live;
  // Step 5: publish this source tree after recovery; empty skips the step.
  std::string next_source;
  std::optional<FileMap> next_contents;
};

// Runs the whole check in order and returns every violation found, each a
// line naming the step ("before recovery: ..."); empty means all held.
//  1. Before any recovery (readers never recover): the live path resolves to
//     an acceptable generation, which is materialized and verifies clean.
//  2. Recover(); the same again; the committed head is acceptable and the
//     live link shows it; every acknowledged generation is in the store and
//     not newer than the head.
//  3. A second Recover() reports no actions (idempotence).
//  4. No leftovers: tmp/ empty, no *.lock in the store, no temporary
//     objects, no temporary live links, no generation directory above the
//     head, no half-built metadata folder, writer lock free.
//  5. The next publish succeeds, is live and verifies.
// Never throws for a damaged repository; that is a violation.
std::vector<std::string> CheckInvariants(const std::string& root, const Expectation& e);

// Step 1 alone: what a reader sees now. Writes nothing.
std::vector<std::string> CheckReaderView(const std::string& root, const Expectation& e,
                                         const std::string& phase);

// Step 4 alone.
std::vector<std::string> CheckNoLeftovers(const std::string& root);

// "violations=N" plus the first `max` lines, for failure messages.
std::string FormatViolations(const std::vector<std::string>& v, size_t max = 20);

}  // namespace txdir::crash
