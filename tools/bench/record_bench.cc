// txdir-record-bench: record updates per second with 1, 4 and 8 concurrent
// writer processes, txdir against SQLite, in the same run.
//
//   txdir-record-bench [--records N] [--updates U] [--writers 1,4,8] [--rounds R]
//                      [--dir PARENT] [--json FILE] [--quick] [--keep]
//
// For each writer count W, R rounds (default 3; the median is reported), each
// on a fresh repository and a fresh database under
// PARENT (default /tmp: a real disk, since the point is what durability
// costs):
//   txdir:  todo_db.sdn with N records (Database<Todo>). W processes (fork)
//           apply U updates in total; each update is one optimistic
//           transaction (Begin, Read, Commit with Strategy::kMerge) that
//           increments one record's `line` and sets its description:
//           `edits` reads that record (sdn::FindRecord) and makes a record
//           edit (EditRecords), as SQLite's UPDATE reads and writes one row;
//           `write` loads the whole table (Database<Todo> Load/Get/Update/
//           Save) and writes it back (Write).
//   sqlite: the same N records in an equivalent table; journal_mode=WAL,
//           synchronous=FULL, one connection per process; each update is one
//           UPDATE statement in its own transaction (autocommit).
// Writer w updates only the records r with r % W == w, in turn, so updates of
// different processes never touch the same record (merge never conflicts).
// Timing: from a barrier all W processes wait on after opening, to the last
// exit. Afterwards both stores are checked: every record's counter equals the
// number of updates applied to it (0 lost).
//
// Rounds alternate which of the two runs first, and nothing is deleted
// until the end (deleting files makes creating them dearer on ext4 without
// a journal, which would bill one round's clean-up to the next).
//
// --quick: 100 records, 48 updates, 1 round, W = 1,4,8; checks correctness, makes no
// timing claims (the CI smoke test, through ctest process_bench_quick).
// Build in Release for real figures.
#include <pthread.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "txdir/database.h"
#include "txdir/repository.h"
#include "txdir/sdn.h"
#include "txdir/simple_records.h"
#include "txdir/transaction.h"

#ifndef TXDIR_BUILD_TYPE
#define TXDIR_BUILD_TYPE "unknown"
#endif

namespace {

namespace stdfs = std::filesystem;
using txdir::Database;
using txdir::Todo;

constexpr const char* kFile = "todo_db.sdn";

// Shared between the parent and its writer processes.
struct Shared {
  pthread_barrier_t start;
  std::atomic<uint64_t> conflicts{0};  // txdir commits retried after kConflict
  std::atomic<uint64_t> merged{0};     // txdir commits that merged a concurrent change
  std::atomic<uint64_t> busy{0};       // sqlite statements retried after SQLITE_BUSY
  std::atomic<int> errors{0};
  char first_error[512] = {};

  void Error(const std::string& what) {
    if (errors.fetch_add(1) == 0)
      first_error[what.copy(first_error, sizeof first_error - 1)] = '\0';
  }
};

Shared* NewShared(unsigned parties) {
  void* p =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  auto* sh = new (p) Shared();
  pthread_barrierattr_t attr;
  pthread_barrierattr_init(&attr);
  pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_barrier_init(&sh->start, &attr, parties);
  pthread_barrierattr_destroy(&attr);
  return sh;
}

void FreeShared(Shared* sh) {
  pthread_barrier_destroy(&sh->start);
  sh->~Shared();
  ::munmap(sh, sizeof(Shared));
}

// The k-th update of writer w of W: which record it changes.
int RecordFor(int w, int writers, int k, int records) {
  const int owned = (records - w + writers - 1) / writers;  // ids w, w+W, ...
  return w + writers * (k % owned);
}

// How many updates writer w applies out of `total`.
int UpdatesOf(int w, int writers, int total) {
  return total / writers + (w < total % writers ? 1 : 0);
}

std::string Description(int w, int k) {
  return "updated by writer " + std::to_string(w) + ", update " + std::to_string(k);
}

Todo Initial(int id) {
  Todo t;
  t.id = std::to_string(id);
  t.area = "area" + std::to_string(id % 13);
  t.priority = "P" + std::to_string(id % 4);
  t.description = "record " + std::to_string(id);
  t.file = "src/module" + std::to_string(id % 50) + "/file" + std::to_string(id) + ".cc";
  t.line = 0;
  return t;
}

// Runs body(w) in W child processes after a common start; returns seconds
// from the start to the last exit, or a negative value on failure.
double RunWriters(int writers, Shared* sh, const std::function<int(int)>& body) {
  std::vector<pid_t> pids;
  for (int w = 0; w < writers; ++w) {
    (void)std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(body(w));
    if (pid < 0) {
      std::perror("fork");
      (void)std::fflush(nullptr);
      std::_Exit(1);  // not exit(), which is not thread-safe
    }
    pids.push_back(pid);
  }
  pthread_barrier_wait(&sh->start);
  const auto t0 = std::chrono::steady_clock::now();
  bool ok = true;
  for (pid_t p : pids) {
    int status = 0;
    while (::waitpid(p, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ok ? s : -1;
}

// --- txdir

std::string InitialFile(int records) {
  auto db = Database<Todo>::Load("");
  for (int i = 0; i < records; ++i) (void)db->Insert(Initial(i));
  return *db->Save();
}

// `edits`: the update is a record edit (Transaction::EditRecords) of the
// fields read, applied at commit; otherwise the whole table is saved and
// written (Database<Todo>::Save, Transaction::Write) and merged at commit.
int TxdirWriter(const std::string& root, int w, int writers, int total, int records, bool edits,
                Shared* sh) {
  txdir::OpenOptions options;
  options.lock_timeout = std::chrono::minutes(10);
  auto repo = txdir::Repository::Open(root, options);
  pthread_barrier_wait(&sh->start);
  if (!repo) {
    sh->Error("open: " + repo.error().ToString());
    return 2;
  }
  const int n = UpdatesOf(w, writers, total);
  for (int k = 0; k < n; ++k) {
    const std::string id = std::to_string(RecordFor(w, writers, k, records));
    for (;;) {
      auto body = [&](txdir::Transaction& tx) -> txdir::Status {
        auto bytes = TXDIR_TRY(tx.Read(kFile));
        if (edits) {
          // One record read, one record edit: what SQLite's UPDATE does.
          auto found = TXDIR_TRY(txdir::sdn::FindRecord(bytes, "todos", id));
          const int line_col = found ? found->ColumnIndex("line") : -1;
          if (!found || found->rows.empty() || line_col < 0)
            return txdir::MakeError(txdir::Code::kNotFound, "no todos record " + id, kFile);
          const std::string& cell = found->rows[0][static_cast<size_t>(line_col)];
          int64_t line = 0;
          if (std::from_chars(cell.data(), cell.data() + cell.size(), line).ptr !=
              cell.data() + cell.size())
            return txdir::MakeError(txdir::Code::kCorruption, "line is not a number: " + cell,
                                    kFile);
          return tx.EditRecords(kFile, {txdir::RecordEdit{"todos",
                                                          "set",
                                                          id,
                                                          {{"line", std::to_string(line + 1)},
                                                           {"description", Description(w, k)}}}});
        }
        auto db = TXDIR_TRY(Database<Todo>::Load(bytes));
        Todo t = TXDIR_TRY(db.Get(id));
        ++t.line;
        t.description = Description(w, k);
        TXDIR_CHECK(db.Update(t));
        return tx.Write(kFile, TXDIR_TRY(db.Save()));
      };
      auto tx = (*repo)->Begin();
      if (!tx) {
        sh->Error("begin: " + tx.error().ToString());
        return 3;
      }
      if (auto s = body(**tx); !s) {
        sh->Error("update: " + s.error().ToString());
        return 4;
      }
      auto r = (*tx)->Commit(txdir::CommitOptions{.strategy = txdir::Strategy::kMerge});
      if (r) {
        if (!r->merged.empty()) sh->merged.fetch_add(1);
        break;
      }
      if (r.error().code != txdir::Code::kConflict) {
        sh->Error("commit: " + r.error().ToString());
        return 5;
      }
      sh->conflicts.fetch_add(1);
    }
  }
  return 0;
}

// Counters per record after a run; empty on error.
std::map<int, int64_t> TxdirCounters(const std::string& root) {
  std::map<int, int64_t> out;
  auto snap = txdir::Snapshot::OpenLive(root);
  if (!snap) return out;
  auto bytes = snap->ReadFile(kFile);
  if (!bytes) return out;
  auto db = Database<Todo>::Load(*bytes);
  if (!db) return out;
  for (const Todo& t : db->All()) out[std::stoi(t.id)] = t.line;
  return out;
}

// --- SQLite

bool Exec(sqlite3* db, const char* sql, Shared* sh) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sh->Error(std::string(sql) + ": " + (err ? err : "?"));
    sqlite3_free(err);
    return false;
  }
  return true;
}

sqlite3* OpenSqlite(const std::string& path, Shared* sh) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sh->Error("sqlite3_open " + path);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 600000);
  if (!Exec(db, "PRAGMA journal_mode=WAL", sh) || !Exec(db, "PRAGMA synchronous=FULL", sh)) {
    sqlite3_close(db);
    return nullptr;
  }
  return db;
}

bool CreateSqlite(const std::string& path, int records, Shared* sh) {
  sqlite3* db = OpenSqlite(path, sh);
  if (!db) return false;
  bool ok = Exec(db,
                 "CREATE TABLE todos (id INTEGER PRIMARY KEY, keyword TEXT, area TEXT, "
                 "priority TEXT, description TEXT, file TEXT, line INTEGER, issue TEXT, "
                 "blocked TEXT, status TEXT, valid INTEGER)",
                 sh) &&
            Exec(db, "BEGIN", sh);
  sqlite3_stmt* st = nullptr;
  ok = ok && sqlite3_prepare_v2(db, "INSERT INTO todos VALUES (?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                                nullptr) == SQLITE_OK;
  for (int i = 0; ok && i < records; ++i) {
    Todo t = Initial(i);
    sqlite3_bind_int(st, 1, i);
    const std::string* text[] = {&t.keyword, &t.area, &t.priority, &t.description, &t.file};
    for (int c = 0; c < 5; ++c)
      sqlite3_bind_text(st, 2 + c, text[c]->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, t.line);
    sqlite3_bind_text(st, 8, t.issue.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, t.blocked.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, t.status.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 11, t.valid ? 1 : 0);
    ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  ok = ok && Exec(db, "COMMIT", sh);
  sqlite3_close(db);
  return ok;
}

int SqliteWriter(const std::string& path, int w, int writers, int total, int records, Shared* sh) {
  sqlite3* db = OpenSqlite(path, sh);
  sqlite3_stmt* st = nullptr;
  if (db && sqlite3_prepare_v2(db, "UPDATE todos SET line = line + 1, description = ? WHERE id = ?",
                               -1, &st, nullptr) != SQLITE_OK) {
    sh->Error(std::string("prepare: ") + sqlite3_errmsg(db));
    st = nullptr;
  }
  pthread_barrier_wait(&sh->start);
  if (!db || !st) return 2;
  const int n = UpdatesOf(w, writers, total);
  for (int k = 0; k < n; ++k) {
    const std::string d = Description(w, k);
    sqlite3_bind_text(st, 1, d.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, RecordFor(w, writers, k, records));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_BUSY) {  // past busy_timeout: rare
      sh->busy.fetch_add(1);
      sqlite3_reset(st);
    }
    if (rc != SQLITE_DONE || sqlite3_changes(db) != 1) {
      sh->Error(std::string("update: ") + sqlite3_errmsg(db));
      return 3;
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return 0;
}

std::map<int, int64_t> SqliteCounters(const std::string& path, Shared* sh) {
  std::map<int, int64_t> out;
  sqlite3* db = OpenSqlite(path, sh);
  if (!db) return out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT id, line FROM todos", -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW)
      out[sqlite3_column_int(st, 0)] = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// --- checks and output

// Updates missing from `counters` (0 when every update is present).
int64_t Lost(const std::map<int, int64_t>& counters, int writers, int total, int records) {
  std::map<int, int64_t> expected;
  for (int i = 0; i < records; ++i) expected[i] = 0;
  for (int w = 0; w < writers; ++w)
    for (int k = 0; k < UpdatesOf(w, writers, total); ++k)
      ++expected[RecordFor(w, writers, k, records)];
  if (counters.size() != expected.size()) return total;
  int64_t lost = 0;
  for (const auto& [id, n] : expected) {
    auto it = counters.find(id);
    lost += it == counters.end() ? n : std::max<int64_t>(0, n - it->second);
    if (it != counters.end() && it->second > n) return total;  // impossible: report as broken
  }
  return lost;
}

// The stores, in the order of Row's figures.
constexpr const char* kStoreNames[3] = {"edits", "write", "sqlite"};

struct Row {
  int writers = 0;
  // Updates/s, one per round: txdir with record edits, txdir writing the
  // whole table, SQLite; and their medians.
  std::vector<double> txdir_ups_rounds, write_ups_rounds, sqlite_ups_rounds;
  double txdir_ups = 0, write_ups = 0, sqlite_ups = 0;
  int64_t txdir_lost = 0, sqlite_lost = 0;
  uint64_t conflicts = 0, merged = 0, busy = 0;  // txdir: of the record-edit runs
};

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-record-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Record updates per second: txdir transactions (kMerge) against SQLite";
  int records = 1000, updates = 400, rounds = 3;
  std::string parent = "/tmp", json_file;
  bool quick = false, keep = false;
  app.Add("--records", &records, "Records in todo_db.sdn and in the table")
      .ShowDefault()
      .Range(1, std::numeric_limits<int>::max());
  app.Add("--updates", &updates, "Updates per writer count, split among the writers")
      .ShowDefault()
      .Range(1, std::numeric_limits<int>::max());
  app.Add("--rounds", &rounds,
          "Rounds per writer count, each on a fresh repository and database; the median is "
          "reported")
      .ShowDefault()
      .Range(1, 1000);
  std::string writers_text = "1,4,8";
  app.Add("--writers", &writers_text, "Writer process counts, comma-separated").ShowDefault();
  app.Add("--dir", &parent, "Parent of the temporary directories").ShowDefault();
  app.Add("--json", &json_file, "Also write the figures as JSON to FILE");
  std::string only;
  app.Add("--only", &only, "Run one store only (edits, write or sqlite), e.g. to profile it")
      .OneOf({"edits", "write", "sqlite"});
  app.Flag("--quick", &quick, "Smoke run: 100 records, 48 updates, correctness only");
  app.Flag("--keep", &keep, "Keep the temporary directories");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;
  std::vector<int> writer_counts;
  for (size_t start = 0; start <= writers_text.size();) {
    const size_t end = std::min(writers_text.find(',', start), writers_text.size());
    const std::string item = writers_text.substr(start, end - start);
    int n = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (ec != std::errc() || p != item.data() + item.size() || n < 1 || n > 64) {
      (void)std::fprintf(stderr,
                         "txdir-record-bench: usage error: --writers: '%s' is not a "
                         "count from 1 to 64\n",
                         item.c_str());
      return 2;
    }
    writer_counts.push_back(n);
    start = end + 1;
  }
  if (quick) {
    records = 100;
    updates = 48;
    rounds = 1;
  }
  for (int w : writer_counts) {
    if (w <= 0 || w > records) {
      (void)std::fprintf(stderr, "txdir-record-bench: --writers must be in 1..records\n");
      return 2;
    }
  }

  std::string tmpl = parent + "/txdir-record-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror(("mkdtemp " + tmpl).c_str());
    return 1;
  }
  const std::string work = tmpl;
  const std::string fs_type = txdir::bench::FsName(work);
  std::printf(
      "txdir-record-bench: %d records, %d updates per writer count, dir %s (%s), build %s%s\n",
      records, updates, work.c_str(), fs_type.c_str(), TXDIR_BUILD_TYPE,
      quick ? ", --quick (no timing claims)" : "");
  (void)std::fflush(stdout);

  std::vector<Row> rows;
  bool all_ok = true;
  // Nothing is deleted until every round has run: ext4 without a journal
  // makes creating a file dearer after deletions (docs/performance.md), and
  // a clean-up between rounds would bill that to the next round. Rounds
  // alternate which of the two goes first.
  int round_no = 0;
  for (int writers : writer_counts) {
    Row row;
    row.writers = writers;
    for (int round = 0; round < rounds; ++round, ++round_no) {
      const std::string case_dir =
          work + "/w" + std::to_string(writers) + "-r" + std::to_string(round);
      const std::string src = case_dir + "/src", sqlite_path = case_dir + "/todo.sqlite";
      const std::string roots[2] = {case_dir + "/repo-edits", case_dir + "/repo-write"};
      stdfs::create_directories(src);
      std::ofstream(src + "/" + kFile) << InitialFile(records);
      for (const std::string& root : roots) {
        auto repo = txdir::Repository::Init(root);
        if (!repo || !(*repo)->Publish(src)) {
          (void)std::fprintf(stderr, "txdir-record-bench: cannot set up %s\n", root.c_str());
          return 1;
        }
      }
      Shared* sh = NewShared(static_cast<unsigned>(writers) + 1);
      if (!CreateSqlite(sqlite_path, records, sh)) {
        (void)std::fprintf(stderr, "txdir-record-bench: sqlite setup: %s\n", sh->first_error);
        return 1;
      }
      // 0: txdir with record edits, 1: txdir writing the table, 2: SQLite.
      double seconds[3] = {0, 0, 0};
      bool ran[3] = {false, false, false};
      auto run = [&](int which) {
        sh->conflicts = 0;
        sh->merged = 0;
        seconds[which] = RunWriters(writers, sh, [&](int w) {
          if (which == 2) return SqliteWriter(sqlite_path, w, writers, updates, records, sh);
          return TxdirWriter(roots[which], w, writers, updates, records, which == 0, sh);
        });
        if (which == 0) {
          row.conflicts += sh->conflicts.load();
          row.merged += sh->merged.load();
        }
      };
      for (int i = 0; i < 3; ++i) {  // each goes first in turn
        const int which = (i + round_no) % 3;
        if (!only.empty() && only != kStoreNames[which]) continue;
        run(which);
        ran[which] = true;
      }
      row.busy += sh->busy.load();
      if (sh->errors.load() != 0 || seconds[0] < 0 || seconds[1] < 0 || seconds[2] < 0) {
        (void)std::fprintf(stderr, "txdir-record-bench: %d writers: a writer failed: %s\n", writers,
                           sh->first_error);
        all_ok = false;
      }
      const int64_t lost[3] = {
          ran[0] ? Lost(TxdirCounters(roots[0]), writers, updates, records) : 0,
          ran[1] ? Lost(TxdirCounters(roots[1]), writers, updates, records) : 0,
          ran[2] ? Lost(SqliteCounters(sqlite_path, sh), writers, updates, records) : 0};
      if (lost[0] != 0 || lost[1] != 0 || lost[2] != 0) {
        (void)std::fprintf(stderr,
                           "txdir-record-bench: %d writers: lost updates: txdir %lld (edits), "
                           "%lld (write), sqlite %lld\n",
                           writers, static_cast<long long>(lost[0]),
                           static_cast<long long>(lost[1]), static_cast<long long>(lost[2]));
        all_ok = false;
      }
      row.txdir_lost += lost[0] + lost[1];
      row.sqlite_lost += lost[2];
      FreeShared(sh);
      auto ups = [&](double s) { return s > 0 ? updates / s : 0; };
      row.txdir_ups_rounds.push_back(ups(seconds[0]));
      row.write_ups_rounds.push_back(ups(seconds[1]));
      row.sqlite_ups_rounds.push_back(ups(seconds[2]));
    }
    row.txdir_ups = txdir::bench::Quantile(row.txdir_ups_rounds, 0.5);
    row.write_ups = txdir::bench::Quantile(row.write_ups_rounds, 0.5);
    row.sqlite_ups = txdir::bench::Quantile(row.sqlite_ups_rounds, 0.5);
    rows.push_back(row);
  }

  std::printf("\nmedians of %d round(s); updates/s:\n%8s  %14s  %14s  %14s  %13s  %s\n", rounds,
              "writers", "txdir edits", "txdir write", "sqlite", "txdir/sqlite",
              "edits merged / retried, lost (txdir, sqlite)");
  for (const Row& r : rows) {
    std::printf(
        "%8d  %14.1f  %14.1f  %14.1f  %12.3fx  %llu / %llu, lost %lld, %lld\n", r.writers,
        r.txdir_ups, r.write_ups, r.sqlite_ups, r.sqlite_ups > 0 ? r.txdir_ups / r.sqlite_ups : 0.0,
        static_cast<unsigned long long>(r.merged), static_cast<unsigned long long>(r.conflicts),
        static_cast<long long>(r.txdir_lost), static_cast<long long>(r.sqlite_lost));
  }
  std::printf("%s\n", all_ok ? "all updates present in every store" : "FAILED");

  if (!json_file.empty()) {
    nlohmann::json j = {
        {"records", records},    {"updates_per_writer_count", updates}, {"dir", work},
        {"filesystem", fs_type}, {"build_type", TXDIR_BUILD_TYPE},      {"quick", quick},
        {"ok", all_ok},          {"results", nlohmann::json::array()}};
    for (const Row& r : rows) {
      j["results"].push_back(
          {{"writers", r.writers},
           {"rounds", r.txdir_ups_rounds.size()},
           {"txdir_updates_per_s", r.txdir_ups},
           {"txdir_updates_per_s_rounds", r.txdir_ups_rounds},
           {"txdir_write_updates_per_s", r.write_ups},
           {"txdir_write_updates_per_s_rounds", r.write_ups_rounds},
           {"sqlite_updates_per_s", r.sqlite_ups},
           {"sqlite_updates_per_s_rounds", r.sqlite_ups_rounds},
           {"ratio_txdir_over_sqlite", r.sqlite_ups > 0 ? r.txdir_ups / r.sqlite_ups : 0.0},
           {"txdir_edits_merged", r.merged},
           {"txdir_conflict_retries", r.conflicts},
           {"sqlite_busy_retries", r.busy},
           {"txdir_lost", r.txdir_lost},
           {"sqlite_lost", r.sqlite_lost}});
    }
    std::ofstream out(json_file);
    out << j.dump(2) << "\n";
    if (!out) {
      (void)std::fprintf(stderr, "txdir-record-bench: cannot write %s\n", json_file.c_str());
      all_ok = false;
    }
  }
  if (!keep) txdir::bench::RemoveTree(work);
  return all_ok ? 0 : 1;
}
