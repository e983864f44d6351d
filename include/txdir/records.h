// Record types: the traits that let Database<T> store a struct as the rows
// of one SDN table, and the cell conversions they share. The Simple
// tooling's types are a module of their own (simple_records.h).
//
// To add a record type: a struct with `std::string id`, `int64_t version`,
// `std::string last_modified` and its other fields (std::string, int64_t or
// bool), and a RecordTraits specialisation giving the table name and the
// fields in file order. Record<T> checks both.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "txdir/error.h"

namespace txdir {

// A record as column name -> cell text.
using Row = std::map<std::string, std::string, std::less<>>;

// The two opt-in versioning columns (see DatabaseOptions::versioning).
inline constexpr std::string_view kVersionColumn = "version";
inline constexpr std::string_view kLastModifiedColumn = "last_modified";

// A field of record type T: its column name and where it lives.
template <class T>
struct Field {
  std::string_view name;
  std::variant<std::string T::*, int64_t T::*, bool T::*> member;
};

// Specialise with: static constexpr std::string_view kTable; and
// static std::span<const Field<T>> Fields() (file order, id first, without
// the versioning columns).
template <class T>
struct RecordTraits;

template <class T>
concept Record = std::regular<T> && requires(T t) {
  { t.id } -> std::same_as<std::string&>;
  { t.version } -> std::same_as<int64_t&>;
  { t.last_modified } -> std::same_as<std::string&>;
  { RecordTraits<T>::kTable } -> std::convertible_to<std::string_view>;
  { RecordTraits<T>::Fields() } -> std::same_as<std::span<const Field<T>>>;
};

// Cell conversions shared by all record types. An integer is optional '-'
// and decimal digits within int64; a bool is "true" or "false". An empty
// cell leaves the field's default (the reference loaders treat a missing
// value the same way). Errors: kInvalidArgument.
Status ParseIntCell(std::string_view text, int64_t& out);
Status ParseBoolCell(std::string_view text, bool& out);

// The next free numeric id among `ids`: max + 1 over the ids made only of
// digits (any length, leading zeros ignored), "0" when there are none.
std::string NextNumericId(std::span<const std::string> ids);
// True when `id` is non-empty and made only of ASCII digits.
bool IsNumericId(std::string_view id);

// "YYYY-MM-DDTHH:MM:SSZ" for `t`, in UTC.
std::string FormatUtc(std::chrono::system_clock::time_point t);

// The record's fields (not the versioning columns) as a Row.
template <Record T>
Row RecordToRow(const T& record) {
  Row row;
  for (const Field<T>& f : RecordTraits<T>::Fields()) {
    std::string& cell = row[std::string(f.name)];
    std::visit(
        [&](auto member) {
          const auto& v = record.*member;
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>)
            cell = v;
          else if constexpr (std::is_same_v<V, bool>)
            cell = v ? "true" : "false";
          else
            cell = std::to_string(v);
        },
        f.member);
  }
  return row;
}

// Fills the fields of `record` present in `row`; absent columns keep their
// defaults. Errors: kInvalidArgument naming the field and value.
template <Record T>
Status RecordFromRow(const Row& row, T& record) {
  for (const Field<T>& f : RecordTraits<T>::Fields()) {
    auto it = row.find(f.name);
    if (it == row.end()) continue;
    Status s = std::visit(
        [&](auto member) -> Status {
          auto& v = record.*member;
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) {
            v = it->second;
            return Ok();
          } else if constexpr (std::is_same_v<V, bool>) {
            return ParseBoolCell(it->second, v);
          } else {
            return ParseIntCell(it->second, v);
          }
        },
        f.member);
    if (!s) {
      return MakeError(Code::kInvalidArgument,
                       "field '" + std::string(f.name) + "': " + s.error().message);
    }
  }
  return Ok();
}

}  // namespace txdir
