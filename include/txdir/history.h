// Browsing history and change notification: what each generation changed,
// differences between two generations (files, text, SDN records), exporting
// a generation as plain files, and waiting for the next generation.
//
//   auto log  = txdir::History(*repo, {.since_ms = now - 7 * 86400000});
//   auto diff = txdir::DiffGenerations(*repo, 4, 7, "tables");
//   auto gen  = txdir::WaitForGeneration("/srv/dash", std::nullopt, 30s);
//
// Everything here reads the store (any retained generation works, whether
// materialized or not) and never takes the writer lock; a concurrent publish
// is simply not seen yet. Free functions over a Repository, which must not be
// used by another thread during the call (see repository.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "txdir/env.h"
#include "txdir/error.h"
#include "txdir/progress.h"
#include "txdir/repository.h"
#include "txdir/snapshot.h"

namespace txdir {

struct ChangeSummary {
  size_t added = 0, modified = 0, removed = 0;
  uint64_t files = 0;  // files in the generation
  uint64_t bytes = 0;  // total size of the generation's files
  // What the change is in bytes, as a line diff counts it: the bytes of the
  // lines added and of the lines removed (without context), a binary file
  // counting whole (its old contents removed, its new contents added); an
  // added file counts all its bytes as added, a removed one as removed.
  uint64_t bytes_added = 0, bytes_removed = 0;
  uint64_t bytes_changed = 0;  // bytes_added + bytes_removed
  // The files that differ from the parent generation, by path (all of them
  // for the first generation). Empty, with the counts 0, for the oldest
  // generation a gc --prune-history kept: what it changed is not known.
  std::vector<FileChange> changed;
};

struct HistoryEntry {
  GenerationInfo info;
  ChangeSummary changes;
};

struct HistoryOptions {
  size_t limit = 0;                 // at most this many entries (after filtering); 0: all
  std::optional<int64_t> since_ms;  // only generations created at or after (epoch ms)
  // Only generations that changed this path: a file, or a directory and
  // everything under it. Empty: every generation. A trailing '/' is ignored.
  std::string path;
  // Fill ChangeSummary's bytes_added/removed/changed, which costs a line
  // diff of every changed file (reading both versions); the rest of the
  // summary needs only the trees. false: they stay 0.
  bool changed_bytes = true;
};

// Generations newest first with what each changed, filtered by `options`.
// Errors: Corruption (damaged store), InvalidArgument (bad path).
Result<std::vector<HistoryEntry>> History(Repository& repo, const HistoryOptions& options = {});

// The same entries, handed to `fn` one at a time as the walk reaches them
// (newest first), so a caller can show the newest before the oldest is
// read. `fn` returns false to stop the walk. Errors as History.
Status ForEachHistoryEntry(Repository& repo, const HistoryOptions& options,
                           const std::function<bool(const HistoryEntry&)>& fn);

// The files that differ between generations `from` and `to` (either order;
// `from` is the old side), sorted by path. `from` 0 is the empty set of
// files that precedes generation 1 (every file of `to` added); so in
// FormatDiff and DiffRecords. `path` limits to a file or a
// directory as in HistoryOptions. NotFound when a generation does not exist.
Result<std::vector<FileChange>> DiffGenerations(Repository& repo, uint64_t from, uint64_t to,
                                                const std::string& path = "");

// --- Text diffs

enum class DiffFormat {
  kPatch,       // unified diff per changed file ("binary files differ" for binary ones)
  kStat,        // " PATH | +A -D" per file and a summary line
  kNameStatus,  // "A\tPATH", "M\tPATH", "D\tPATH"
};

// The difference between generations `from` and `to` as text, in the format
// given, ending with a newline unless empty (no differences). Paths in the
// kStat and kNameStatus forms are escaped with PrintablePath.
Result<std::string> FormatDiff(Repository& repo, uint64_t from, uint64_t to, DiffFormat format,
                               const std::string& path = "");

// --- SDN record diffs

struct FieldChange {
  std::string field, old_value, new_value;
};

enum class RecordChangeKind { kAdded, kRemoved, kChanged };

struct RecordChange {
  RecordChangeKind kind = RecordChangeKind::kChanged;
  std::string id;                   // value of the key column
  std::vector<FieldChange> fields;  // kChanged only; in column order
};

// One table of one file. Records are matched by the `id` column, else the
// first column; the n-th record with a given id matches the n-th on the
// other side. Only columns both sides have are compared; columns added or
// dropped are listed once.
struct TableDiff {
  std::string name;
  std::string key;  // the key column
  bool table_added = false, table_removed = false;
  std::vector<std::string> columns_added, columns_removed;
  std::vector<RecordChange> records;  // old side's order, then added records in new order
  bool empty() const {
    return !table_added && !table_removed && columns_added.empty() && columns_removed.empty() &&
           records.empty();
  }
};

struct FileRecordDiff {
  std::string path;
  ChangeKind kind = ChangeKind::kModified;
  // Set when a side could not be parsed as SDN; `tables` is
  // then empty and the file should be shown as text instead.
  std::string parse_error;
  std::vector<TableDiff> tables;  // tables with differences only, in file order
};

// Record-level differences of every changed *.sdn file between `from` and
// `to` (other files are skipped), limited to `path` as above.
Result<std::vector<FileRecordDiff>> DiffRecords(Repository& repo, uint64_t from, uint64_t to,
                                                const std::string& path = "");
// The same for two parsed tables files (the pure part, for tests and tools).
std::vector<TableDiff> DiffTables(std::string_view old_text, std::string_view new_text,
                                  std::string* parse_error);

// A field's value as FormatRecordDiffs (and `log --record`) prints it:
// in '"', with '"', '\\' and control characters escaped.
std::string QuoteValue(std::string_view value);

// The record diffs as text, one line per change:
//   == tables/todos.sdn
//   table todos: 1 added, 1 removed, 1 changed
//     added 7
//     removed 3
//     changed 5: status: "open" -> "done", line: "12" -> "14"
// Values are quoted with '"', '\\' and control characters escaped.
std::string FormatRecordDiffs(const std::vector<FileRecordDiff>& diffs);

// --- Record history and blame

// One change of one record, in the generation `info`.
struct RecordEvent {
  GenerationInfo info;
  RecordChangeKind kind = RecordChangeKind::kChanged;
  // kChanged: the fields that differ, old -> new, in the new side's column
  // order (a column only one side has counts, with "" on the other);
  // kAdded: every field (old_value ""); kRemoved: every field (new_value "").
  std::vector<FieldChange> fields;
};

// The generations, newest first, in which the record whose key is `id` (the
// `id` column, else the first; see DiffTables) in table `table` of the SDN
// file `path` was added, changed or removed, walking the history from the
// head along parent links. At most `limit` events (0: all). The oldest
// retained generation counts as adding what it holds; when older ones were
// pruned its `info.history_pruned` says that the record may be older.
// Cost: one tree lookup per generation; the file is read and parsed only
// where its blob differs from the parent's, each version once.
// Errors: InvalidArgument (bad path; a version of the file that is not SDN,
// naming its generation), Corruption.
Result<std::vector<RecordEvent>> RecordHistory(Repository& repo, const std::string& path,
                                               const std::string& table, const std::string& id,
                                               size_t limit = 0);

// Who last changed what, as of generation `gen`.
struct BlameLine {
  std::string id;       // the record's key
  std::string field;    // with per-field blame: the column; else ""
  std::string value;    // with per-field blame: its value in `gen`; else ""
  GenerationInfo info;  // the generation that added the record or last changed it (the field)
};

// For each record of `table` in the SDN file `path` as generation `gen` has
// it (only record `id` when given), in table order, the generation that
// last changed it: added it, or changed any field (with `fields`: one line
// per field, the generation that last changed that field's value). Walks
// back from `gen` and stops as soon as every line is resolved; what is
// unchanged since the oldest retained generation is blamed on it (see
// RecordHistory for pruned history). Errors: NotFound (no such generation,
// file, table or record in `gen`), InvalidArgument as RecordHistory.
Result<std::vector<BlameLine>> Blame(Repository& repo, uint64_t gen, const std::string& path,
                                     const std::string& table, const std::optional<std::string>& id,
                                     bool fields);

// --- Export

// Writes the files of generation `gen` (read from the store, so any retained
// generation works) as plain writable files under `out`: regular files
// 0644, executables 0755, directories 0755 (all minus the umask), links as
// links. `out` must not exist or be an empty directory; its parent must
// exist. Atomic: everything is written into a sibling `out.tmp-*`, made
// durable with one syncfs, then renamed to `out`; on error nothing is left.
// `progress`: stage "writing files" (files written of the generation's,
// bytes). Errors: Exists (out not empty), NotFound (no such generation), Io.
Status ExportGeneration(Repository& repo, uint64_t gen, const std::string& out,
                        const ProgressFn& progress = {});

// --- Change notification

// Blocks until the live link of the repository at `root` shows a generation
// newer than `after` and returns that generation. `after` nullopt: the
// generation live when the call starts (0 when nothing is published yet).
// Returns at once when a newer one is already live.
//
// Watches the live link's directory with inotify (a new link renamed over
// the live path, IN_MOVED_TO/IN_CREATE/IN_ATTRIB for its name); when
// inotify is unavailable it polls every 100 ms. It also re-reads the link
// at least once a second, so a lost event costs at most that.
// `timeout` negative: no limit.
// Errors: kTimeout when no newer generation went live in time; NotFound when
// `root` is not a repository; Corruption when the live link is not ours.
// Opens no store and takes no lock.
Result<uint64_t> WaitForGeneration(const std::string& root, std::optional<uint64_t> after,
                                   std::chrono::milliseconds timeout, Env* env = nullptr);

// Runs argv inside `snap`'s generation, as `txdir run` does: the program's
// working directory (and PWD) is the generation's directory, and
// TXDIR_GENERATION and TXDIR_GENERATION_DIR name it; while it runs, SIGINT
// and SIGQUIT are ignored here and left to the program, as system(3) does.
// The pin is `snap`'s, held by the caller throughout. Returns the program's
// exit status, 128 + N when signal N ended it. Errors: "cannot run PROGRAM"
// with the errno of the failed start (ENOENT: no such program), or Io when
// the generation's directory cannot be entered.
Result<int> RunInGeneration(const Snapshot& snap, const std::vector<std::string>& argv);

// --- Naming generations

// A generation reference, as every command and the web view take one: a
// base, "N" (a generation number) or "live" (the generation the live link
// shows), then any number of steps back along the history, "~K" (K back;
// "~" alone is one) and "^" (one back): "live~1", "12^^", "live~2^".
struct GenerationRef {
  std::optional<uint64_t> number;  // the base; nullopt for "live"
  uint64_t back = 0;               // steps back from the base
};

// Parses `text` in that grammar. InvalidArgument naming `text` and the
// grammar otherwise (a zero or over-long number, "^2", anything else).
Result<GenerationRef> ParseGenerationRef(std::string_view text);

// The generation number `text` names in `repo`. A step back follows the
// store's parent link, so it lands on the generation published before,
// whatever its number. A plain "N" is returned without a lookup (the call
// that reads it reports a missing one). Errors: InvalidArgument (syntax),
// NotFound: nothing is live ("live"), no generation N, or the retained
// history ends before the last step (named, with where it ends).
Result<uint64_t> ResolveGenerationRef(Repository& repo, std::string_view text);

// --- Helpers shared with the CLI

// A duration as ParseDuration (retention.h) reads it, "7d", "12h", "1d12h",
// "500ms" (that long before `now_ms`), or an ISO-8601
// UTC date/time "2026-11-27", "2026-11-27T02:11", "2026-11-27T02:11:12[.123][Z]"
// (a space may replace the 'T'). Returns epoch milliseconds.
// InvalidArgument otherwise.
Result<int64_t> ParseSince(std::string_view text, int64_t now_ms);

// A time as generations record it (GenerationInfo::time_ms, epoch
// milliseconds) in ISO-8601 UTC with milliseconds,
// "2026-11-27T02:11:12.123Z"; times outside years 0000..9999 are clamped.
std::string FormatTime(int64_t time_ms);
// The current time in epoch milliseconds: the clock generations are stamped
// with, and the `now` ParseSince counts back from.
int64_t NowMs();

// A path or value safe to print on a terminal: control bytes and DEL become
// \xNN, a backslash becomes \\ (so the escaping is unambiguous).
std::string PrintablePath(std::string_view s);

}  // namespace txdir
