// Commands that change files through transactions: exec and db.
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "tools/txdir/cli.h"
#include "tools/txdir/db_batch.h"
#include "tools/txdir/db_edit.h"
#include "txdir/exec.h"
#include "txdir/records.h"
#include "txdir/sdn.h"
#include "txdir/transaction.h"

namespace txdir::cli {

namespace {

using nlohmann::json;

Result<Strategy> StrategyArg(const std::string& s) {
  auto st = ParseStrategy(s);
  if (!st)
    return MakeError(
        Code::kInvalidArgument,
        "unknown strategy '" + s + "' (error, last-write-wins, last-modified-wins, merge)");
  return *st;
}

// Prints what a commit did; returns the exit code (CommittedExit).
int PrintCommit(const Globals& g, const CommitResult& c) {
  if (!c.published) {
    Out(g, "nothing changed; generation " + std::to_string(c.generation.number) + " stays live");
    return kExitOk;
  }
  Out(g, "published generation " + std::to_string(c.generation.number) + " (" + c.generation.kind +
             ")");
  for (const auto& p : c.merged) Out(g, "  merged concurrent change: " + p);
  for (const auto& p : c.theirs_kept) Out(g, "  kept the newer published version: " + p);
  for (const auto& r : c.renumbered)
    Out(g, "  renumbered " + r.table + " record " + r.old_id + " -> " + r.new_id);
  return c.published ? CommittedExit(c.generation, g) : static_cast<int>(kExitOk);
}

// --- db: one table of an SDN file, one transaction per change.

struct DbArgs {
  std::string dir, file, table, op;
  std::vector<std::string> rest;
  std::string strategy = "merge";
  bool json = false;
  bool versioning = false;
  bool batch = false;
  std::string message;
};

json RowJson(const sdn::Table& t, const std::vector<std::string>& row) {
  json j = json::object();
  for (size_t c = 0; c < t.columns.size(); ++c) j[t.columns[c]] = row[c];
  return j;
}

// The single change the command line asks for, checked before any I/O.
Result<DbOp> DbOpFromArgs(const DbArgs& a) {
  DbOp op{a.file, a.table, a.op, {}, {}, a.versioning};
  if (a.op == "insert") {
    op.fields = TXDIR_TRY(ParseAssignments(a.rest));
    return op;
  }
  if (a.op == "delete" && a.rest.size() != 1)
    return MakeError(Code::kInvalidArgument, "delete takes one ID");
  if (a.op == "set" && a.rest.size() < 2)
    return MakeError(Code::kInvalidArgument, "set takes an ID and FIELD=VALUE pairs");
  op.id = a.rest[0];
  op.fields = TXDIR_TRY(ParseAssignments({a.rest.begin() + 1, a.rest.end()}));
  return op;
}

// db list / get: reads the live generation, changes nothing.
int RunDbRead(const Globals& g, const DbArgs& a) {
  if ((a.op == "get") != (a.rest.size() == 1))
    return UsageError(a.op == "get" ? "get takes one ID" : "list takes no arguments");
  auto snap = Snapshot::OpenLive(a.dir);
  if (!snap) return Fail(snap.error());
  auto bytes = snap->ReadFile(a.file);
  if (!bytes) return Fail(bytes.error());
  auto doc = LoadDbDocument(a.file, *bytes);
  if (!doc) return Fail(doc.error());
  const sdn::Table* t = doc->Find(a.table);
  if (t == nullptr) return Fail(Error{Code::kNotFound, "no table '" + a.table + "'", a.file});
  if (a.op == "get") {
    int i = t->FindRow(a.rest[0]);
    if (i < 0)
      return Fail(Error{Code::kNotFound, "no record " + a.rest[0] + " in " + a.table, a.file});
    json j = RowJson(*t, t->rows[static_cast<size_t>(i)]);
    if (a.json) {
      std::cout << j.dump(2, ' ', false, kJsonReplace) << "\n";
    } else {
      for (size_t c = 0; c < t->columns.size(); ++c)
        Out(g, t->columns[c] + ": " + t->rows[static_cast<size_t>(i)][c]);
    }
    return kExitOk;
  }
  if (a.json) {
    json arr = json::array();
    for (const auto& r : t->rows) arr.push_back(RowJson(*t, r));
    std::cout << arr.dump(2, ' ', false, kJsonReplace) << "\n";
    return kExitOk;
  }
  sdn::Document one{{*t}};
  std::cout << sdn::Write(one);
  return kExitOk;
}

// db set / insert / delete: one change, one transaction.
int RunDbChange(const Globals& g, const DbArgs& a, Strategy strategy) {
  auto op = DbOpFromArgs(a);
  if (!op) return Fail(op.error());
  auto repo = OpenRepo(a.dir, g);
  if (!repo) return Fail(repo.error());
  // A record edit, applied when the transaction commits: to the file as
  // published then when only other records changed meanwhile, so a
  // concurrent writer's change needs no merge (Transaction::EditRecords).
  auto body = [&](Transaction& tx) -> txdir::Status {
    if (a.op != "insert" && !TXDIR_TRY(tx.Exists(a.file)))
      return tx.Read(a.file).map([](auto&&) {});
    return tx.EditRecords(a.file, {op->Edit()});
  };
  CommitOptions o;
  o.strategy = strategy;
  o.message = a.message.empty() ? "db " + a.file + ": " + a.op : a.message;
  auto done = RunTransaction(**repo, body, o, /*max_attempts=*/1);
  if (!done) return Fail(done.error());
  if (done->record_edits.empty()) {
    // Queued, and committed by a writer that died before it could say what
    // the edit did; recovery found it in the generation.
    Out(g, a.table + " " + a.op + (op->id.empty() ? "" : " of record " + op->id) +
               ": committed by another writer");
    return PrintCommit(g, *done);
  }
  const DbChange& what = done->record_edits.front();
  if (!what.changed) {  // said once: the record already holds these values
    Out(g,
        what.Message() + "; generation " + std::to_string(done->generation.number) + " stays live");
    return kExitOk;
  }
  Out(g, what.Message());
  return PrintCommit(g, *done);
}

int RunDb(const Globals& g, const DbArgs& a) {
  auto strategy = StrategyArg(a.strategy);
  if (!strategy) return UsageError(strategy.error().message);
  if (a.batch) {
    if (!a.file.empty() || !a.table.empty() || !a.op.empty() || !a.rest.empty())
      return UsageError(
          "db --batch reads its operations from standard input; it takes no "
          "FILE, TABLE, OP or ARGS");
    return RunDbBatch(g, DbBatchOptions{a.dir, *strategy, a.message, a.versioning}, stdin);
  }
  // Required unless --batch, so CLI11 cannot check them.
  if (a.file.empty()) return UsageError("FILE is required (or --batch)");
  if (a.table.empty()) return UsageError("TABLE is required (or --batch)");
  if (a.op.empty()) return UsageError("OP is required (or --batch)");
  static const std::set<std::string> kOps = {"list", "get", "set", "insert", "delete"};
  if (!kOps.count(a.op))
    return UsageError("unknown db operation '" + a.op + "' (list, get, set, insert, delete)");
  if (a.op == "list" || a.op == "get") return RunDbRead(g, a);
  return RunDbChange(g, a, *strategy);
}

}  // namespace

namespace {

// `txdir exec`.
cmdline::Command ExecCommand(Globals& g) {
  cmdline::Command c{
      "exec",
      "Run a program inside a writable copy of the live files (its working directory, "
      "also in $TXDIR_STAGE); publish the copy as one generation if it exits 0"};
  auto dir = std::make_shared<std::string>();
  auto argv = std::make_shared<std::vector<std::string>>();
  auto strategy = std::make_shared<std::string>("error");
  auto msg = std::make_shared<std::string>();
  c.Add("DIR", dir.get(), "The transactional directory").Required();
  c.Add("--strategy", strategy.get(),
        "How to resolve files another writer changed meanwhile: error, "
        "last-write-wins, last-modified-wins, merge (default error)");
  c.Add("-m,--message", msg.get(), "Message recorded with the generation");
  auto retries = std::make_shared<int>(0);
  c.Add("--retry", retries.get(),
        "On a conflict, run the program again on a fresh copy of the newer live "
        "files, up to N more times (default 0)")
      .Range(0, 1000);
  c.Add("COMMAND", argv.get(), "The program and its arguments (after --)").Required();
  c.run = [=, &g] {
    auto st = StrategyArg(*strategy);
    if (!st) return UsageError(st.error().message);
    auto repo = OpenRepo(*dir, g);
    if (!repo) return Fail(repo.error());
    CommitOptions o;
    o.strategy = *st;
    o.message = *msg;
    auto r = ExecTransaction(**repo, *argv, o);
    // A conflict published nothing: the program starts over on the
    // newer head, exactly as if it had been started after it.
    for (int attempt = 1; !r && r.error().code == Code::kConflict && attempt <= *retries;
         ++attempt) {
      (void)std::fprintf(stderr, "txdir: %s; running %s again (retry %d of %d)\n",
                         r.error().message.c_str(), (*argv)[0].c_str(), attempt, *retries);
      r = ExecTransaction(**repo, *argv, o);
    }
    if (!r) return Fail(r.error());
    if (r->exit_status != 0) {
      (void)std::fprintf(stderr, "txdir: %s exited with status %d; nothing was published\n",
                         (*argv)[0].c_str(), r->exit_status);
      return static_cast<int>(kExitCommandFailed);
    }
    return PrintCommit(g, *r->commit);
  };
  return c;
}

// `txdir db`.
cmdline::Command DbCommand(Globals& g) {
  cmdline::Command c{"db",
                     "Read or change records of an SDN table (each change, or each --batch, is one "
                     "transaction)"};
  auto a = std::make_shared<DbArgs>();
  c.Add("DIR", &a->dir, "The transactional directory").Required();
  // FILE, TABLE and OP are required unless --batch (checked in RunDb).
  c.Add("FILE", &a->file, "The SDN file, e.g. todo_db.sdn (not with --batch)");
  c.Add("TABLE", &a->table, "The table, e.g. todos (not with --batch)");
  c.Add("OP", &a->op,
        "list | get ID | set ID FIELD=VALUE... | insert FIELD=VALUE... | "
        "delete ID (not with --batch)");
  c.Add("ARGS", &a->rest, "ID and/or FIELD=VALUE pairs");
  c.Add("--strategy", &a->strategy,
        "Resolution of concurrent changes (default merge: record-level)");
  c.Flag("--json", &a->json, "Print JSON (list, get)");
  c.Flag("--batch", &a->batch,
         "Read JSON lines of set/insert/delete operations from stdin and commit them "
         "all as one transaction; print one JSON result line per operation");
  c.Flag("--versioning", &a->versioning,
         "Increment the record's version and set last_modified (columns added if missing)");
  c.Add("-m,--message", &a->message, "Message recorded with the generation");
  c.run = [=, &g] { return RunDb(g, *a); };
  return c;
}

}  // namespace

void AddTxCommands(Commands* out, Globals& g) {
  for (auto* make : {&ExecCommand, &DbCommand}) out->push_back(make(g));
}

}  // namespace txdir::cli
