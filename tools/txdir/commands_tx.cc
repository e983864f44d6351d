// Commands that change files through transactions: exec and db.
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/txdir/cli.h"
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
  return c.published ? CommittedExit(c.generation) : static_cast<int>(kExitOk);
}

// --- db: one table of an SDN file, one transaction per change.

struct DbArgs {
  std::string dir, file, table, op;
  std::vector<std::string> rest;
  std::string strategy = "merge";
  bool json = false;
  bool versioning = false;
  std::string message;
};

// Parses a file for db, refusing one whose seal does not match its body: the
// Simple tooling loads such a database as nil, so an edit must not bless it.
Result<sdn::Document> LoadDoc(const std::string& file, const std::string& bytes) {
  auto named = [&](Error e) {
    e.message = file + ": " + e.message;
    return tl::unexpected(std::move(e));
  };
  if (Status seal = sdn::VerifySeal(bytes); !seal) return named(seal.error());
  auto doc = sdn::Parse(bytes);
  if (!doc) return named(doc.error());
  return doc;
}

json RowJson(const sdn::Table& t, const std::vector<std::string>& row) {
  json j = json::object();
  for (size_t c = 0; c < t.columns.size(); ++c) j[t.columns[c]] = row[c];
  return j;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseAssignments(
    const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : args) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return MakeError(Code::kInvalidArgument, "expected FIELD=VALUE, got '" + a + "'");
    out.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

int ColumnOrAdd(sdn::Table& t, const std::string& col) {
  int i = t.ColumnIndex(col);
  if (i >= 0) return i;
  t.columns.push_back(col);
  for (auto& r : t.rows) r.emplace_back();
  return static_cast<int>(t.columns.size()) - 1;
}

void Touch(sdn::Table& t, size_t row) {
  int v = ColumnOrAdd(t, std::string(kVersionColumn));
  int m = ColumnOrAdd(t, std::string(kLastModifiedColumn));
  auto& cells = t.rows[row];
  long long cur = std::atoll(cells[static_cast<size_t>(v)].c_str());
  cells[static_cast<size_t>(v)] = std::to_string(cur + 1);
  cells[static_cast<size_t>(m)] = FormatUtc(std::chrono::system_clock::now());
}

// What one change did: the line to print, and whether any value changed.
struct DbChange {
  std::string message;
  bool changed = true;
};

std::string ColumnList(const sdn::Table& t) {
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + col;
  return cols;
}

Result<DbChange> SetFields(const DbArgs& a, sdn::Table& t) {
  if (a.rest.size() < 2)
    return MakeError(Code::kInvalidArgument, "set takes an ID and FIELD=VALUE pairs");
  auto sets = TXDIR_TRY(ParseAssignments({a.rest.begin() + 1, a.rest.end()}));
  int i = t.FindRow(a.rest[0]);
  if (i < 0) return MakeError(Code::kNotFound, "no record " + a.rest[0] + " in " + a.table);
  const std::string& key = t.columns[t.KeyIndex()];
  bool changed = false;
  for (const auto& [field, value] : sets) {
    int c = t.ColumnIndex(field);
    if (field == key) return MakeError(Code::kInvalidArgument, "the key of a record cannot be set");
    if (c < 0) {
      return MakeError(Code::kInvalidArgument,
                       "no field '" + field + "' in " + a.table + " (fields: " + ColumnList(t) + ")");
    }
    std::string& cell = t.rows[static_cast<size_t>(i)][static_cast<size_t>(c)];
    changed = changed || cell != value;
    cell = value;
  }
  if (!changed) return DbChange{a.table + " record " + a.rest[0] + ": no change", false};
  if (a.versioning) Touch(t, static_cast<size_t>(i));
  return DbChange{a.table + " record " + a.rest[0] + " updated", true};
}

// Insert keyed by the table's key column (`id`, else the first column); only
// an `id` key is numbered automatically.
Result<DbChange> InsertRecord(const DbArgs& a, sdn::Table& t) {
  auto sets = TXDIR_TRY(ParseAssignments(a.rest));
  for (const auto& [f, v] : sets)
    if (t.ColumnIndex(f) < 0) {
      if (!t.rows.empty())
        return MakeError(Code::kInvalidArgument,
                         "no field '" + f + "' in " + a.table + " (fields: " + ColumnList(t) + ")");
      t.columns.push_back(f);
    }
  const size_t key = t.KeyIndex();
  const std::string& key_name = t.columns[key];
  std::string id;
  for (const auto& [f, v] : sets)
    if (f == key_name) id = v;
  if (id.empty() && key_name != "id")
    return MakeError(Code::kInvalidArgument, "insert into " + a.table + " needs " + key_name +
                                                 "=VALUE (its key column)");
  if (id.empty()) {
    std::vector<std::string> ids;
    for (const auto& r : t.rows) ids.push_back(r[key]);
    id = NextNumericId(ids);
  } else if (t.FindRow(id) >= 0) {
    return MakeError(Code::kExists, "record " + id + " already exists in " + a.table);
  }
  std::vector<std::string> row(t.columns.size());
  row[key] = id;
  for (const auto& [f, v] : sets) row[static_cast<size_t>(t.ColumnIndex(f))] = v;
  t.rows.push_back(std::move(row));
  if (a.versioning) Touch(t, t.rows.size() - 1);
  return DbChange{a.table + " record " + id + " inserted", true};
}

// Applies one change to the document.
Result<DbChange> ApplyDbChange(const DbArgs& a, sdn::Document& doc) {
  sdn::Table* t = doc.Find(a.table);
  if (t == nullptr) {
    if (a.op != "insert")
      return MakeError(Code::kNotFound, "no table '" + a.table + "' in " + a.file);
    doc.tables.push_back(sdn::Table{a.table, {"id"}, {}});
    t = &doc.tables.back();
  }
  if (a.op == "delete") {
    if (a.rest.size() != 1) return MakeError(Code::kInvalidArgument, "delete takes one ID");
    int i = t->FindRow(a.rest[0]);
    if (i < 0) return MakeError(Code::kNotFound, "no record " + a.rest[0] + " in " + a.table);
    t->rows.erase(t->rows.begin() + i);
    return DbChange{a.table + " record " + a.rest[0] + " deleted", true};
  }
  if (a.op == "set") return SetFields(a, *t);
  return InsertRecord(a, *t);
}

int RunDb(const Globals& g, const DbArgs& a) {
  static const std::set<std::string> kOps = {"list", "get", "set", "insert", "delete"};
  if (!kOps.count(a.op))
    return UsageError("unknown db operation '" + a.op + "' (list, get, set, insert, delete)");
  auto strategy = StrategyArg(a.strategy);
  if (!strategy) return UsageError(strategy.error().message);
  if (a.op == "list" || a.op == "get") {
    if ((a.op == "get") != (a.rest.size() == 1))
      return UsageError(a.op == "get" ? "get takes one ID" : "list takes no arguments");
    auto snap = Snapshot::OpenLive(a.dir);
    if (!snap) return Fail(snap.error());
    auto bytes = snap->ReadFile(a.file);
    if (!bytes) return Fail(bytes.error());
    auto doc = LoadDoc(a.file, *bytes);
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
  auto repo = OpenRepo(a.dir, g);
  if (!repo) return Fail(repo.error());
  DbChange what;
  auto body = [&](Transaction& tx) -> txdir::Status {
    sdn::Document doc;
    auto bytes = tx.Read(a.file);
    if (bytes) {
      doc = TXDIR_TRY(LoadDoc(a.file, *bytes));
    } else if (bytes.error().code != Code::kNotFound || a.op != "insert") {
      return tl::unexpected(bytes.error());
    }
    what = TXDIR_TRY(ApplyDbChange(a, doc));
    if (!what.changed) return Ok();  // nothing to write, so nothing is published
    // Through the document model: only the changed record's bytes change.
    return tx.Write(a.file, sdn::Write(doc));
  };
  CommitOptions o;
  o.strategy = *strategy;
  o.message = a.message.empty() ? "db " + a.file + ": " + a.op : a.message;
  auto done = RunTransaction(**repo, body, o, /*max_attempts=*/1);
  if (!done) return Fail(done.error());
  if (!what.changed) {  // said once: the record already holds these values
    Out(g, what.message + "; generation " + std::to_string(done->generation.number) +
               " stays live");
    return kExitOk;
  }
  Out(g, what.message);
  return PrintCommit(g, *done);
}

}  // namespace

void AddTxCommands(CLI::App& app, Globals& g, Runner* run) {
  {
    auto* c = app.add_subcommand(
        "exec",
        "Run a program inside a writable copy of the live files (its working directory, "
        "also in $TXDIR_STAGE); publish the copy as one generation if it exits 0");
    auto dir = std::make_shared<std::string>();
    auto argv = std::make_shared<std::vector<std::string>>();
    auto strategy = std::make_shared<std::string>("error");
    auto msg = std::make_shared<std::string>();
    c->add_option("DIR", *dir, "The transactional directory")->required();
    c->add_option("--strategy", *strategy,
                  "How to resolve files another writer changed meanwhile: error, "
                  "last-write-wins, last-modified-wins, merge (default error)");
    c->add_option("-m,--message", *msg, "Message recorded with the generation");
    auto retries = std::make_shared<int>(0);
    c->add_option("--retry", *retries,
                  "On a conflict, run the program again on a fresh copy of the newer live "
                  "files, up to N more times (default 0)")
        ->check(CLI::Range(0, 1000));
    c->add_option("COMMAND", *argv, "The program and its arguments (after --)")->required();
    c->callback([=, &g] {
      *run = [=, &g] {
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
    });
  }
  {
    auto* c = app.add_subcommand(
        "db", "Read or change one record of an SDN table (each change is one transaction)");
    auto a = std::make_shared<DbArgs>();
    c->add_option("DIR", a->dir, "The transactional directory")->required();
    c->add_option("FILE", a->file, "The SDN file, e.g. todo_db.sdn")->required();
    c->add_option("TABLE", a->table, "The table, e.g. todos")->required();
    c->add_option("OP", a->op,
                  "list | get ID | set ID FIELD=VALUE... | insert FIELD=VALUE... | "
                  "delete ID")
        ->required();
    c->add_option("ARGS", a->rest, "ID and/or FIELD=VALUE pairs");
    c->add_option("--strategy", a->strategy,
                  "Resolution of concurrent changes (default merge: record-level)");
    c->add_flag("--json", a->json, "Print JSON (list, get)");
    c->add_flag("--versioning", a->versioning,
                "Increment the record's version and set last_modified (columns added if missing)");
    c->add_option("-m,--message", a->message, "Message recorded with the generation");
    c->callback([=, &g] { *run = [=, &g] { return RunDb(g, *a); }; });
  }
}

}  // namespace txdir::cli
