// The record types of the Simple tooling's databases (todo_db.sdn,
// feature_db.sdn, task_db.sdn), library txdir::simple. Field names and order
// are those of the Simple tooling's SDN format; records.h says how any
// application defines its own.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "txdir/records.h"

namespace txdir {

// One entry of todo_db.sdn's `todos` table.
struct Todo {
  std::string id;                // numeric text; new ids are max + 1, the first is 0
  std::string keyword = "TODO";  // TODO or FIXME
  std::string area;
  std::string priority = "P2";  // P0..P3
  std::string description;
  std::string file;
  int64_t line = 0;
  std::string issue;            // "" = none
  std::string blocked;          // comma-joined ids
  std::string status = "open";  // open, blocked, stale, done
  bool valid = true;            // false: not seen in the last scan, record kept
  int64_t version = 0;          // 0: never changed with versioning on
  std::string last_modified;    // ISO-8601 UTC, "" when unknown
  bool operator==(const Todo&) const = default;
};

// One entry of feature_db.sdn's `features` table.
struct Feature {
  std::string id;  // e.g. "100" or "1.2"
  std::string category;
  std::string name;
  std::string description;
  std::string spec;
  std::string mode_interpreter;  // supported / not_supported
  std::string mode_jit;
  std::string mode_smf_cranelift;
  std::string mode_smf_llvm;
  std::string platforms;
  std::string status = "planned";  // planned, in_progress, complete, failed, ignored
  bool valid = true;
  int64_t version = 0;
  std::string last_modified;
  bool operator==(const Feature&) const = default;
};

// One entry of task_db.sdn's `tasks` table.
struct Task {
  std::string id;
  std::string category;
  std::string name;
  std::string description;
  std::string priority = "medium";  // high, medium, low
  std::string status = "planned";   // planned, in_progress, complete
  bool valid = true;
  int64_t version = 0;
  std::string last_modified;
  bool operator==(const Task&) const = default;
};

template <>
struct RecordTraits<Todo> {
  static constexpr std::string_view kTable = "todos";
  static std::span<const Field<Todo>> Fields();
};
template <>
struct RecordTraits<Feature> {
  static constexpr std::string_view kTable = "features";
  static std::span<const Field<Feature>> Fields();
};
template <>
struct RecordTraits<Task> {
  static constexpr std::string_view kTable = "tasks";
  static std::span<const Field<Task>> Fields();
};

}  // namespace txdir
