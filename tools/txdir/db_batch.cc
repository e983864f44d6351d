// `txdir db DIR --batch`: many record changes, one transaction.
#include "tools/txdir/db_batch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "tools/txdir/db_edit.h"
#include "txdir/sdn.h"
#include "txdir/transaction.h"

namespace txdir::cli {

namespace {

// Insertion-ordered, so an insert into a new table gets its columns in the
// caller's order and reports print their keys in a fixed order.
using ojson = nlohmann::ordered_json;

// One physical line of input, without its '\n'.
struct InputLine {
  size_t number = 0;
  std::string text;
  bool too_long = false;  // over kBatchMaxLineBytes: text is dropped
};

// Reads lines in chunks, so that a line of any length costs at most
// kBatchMaxLineBytes of memory and the whole input at most
// kBatchMaxInputBytes of reading.
class LineReader {
 public:
  explicit LineReader(std::FILE* in) : in_(in), buf_(size_t{64} << 10) {}

  // The next line; nullopt at the end of the input or when reading stopped
  // (see stopped()).
  std::optional<InputLine> Next() {
    InputLine line{number_ + 1, {}, false};
    bool any = false;
    while (pos_ < len_ || Fill()) {
      any = true;
      const char* start = buf_.data() + pos_;
      const auto* nl = static_cast<const char*>(std::memchr(start, '\n', len_ - pos_));
      const size_t n = nl != nullptr ? static_cast<size_t>(nl - start) : len_ - pos_;
      if (!line.too_long && line.text.size() + n > kBatchMaxLineBytes) {
        line.too_long = true;
        std::string().swap(line.text);
      }
      if (!line.too_long) line.text.append(start, n);
      pos_ += n + (nl != nullptr ? 1 : 0);
      if (nl != nullptr) break;
    }
    if (!any || stopped_) return std::nullopt;  // a line cut short is not an operation
    number_ = line.number;
    return line;
  }

  // Why reading stopped before the end of the input, if it did.
  const std::optional<Error>& stopped() const { return stopped_; }
  size_t lines() const { return number_; }

 private:
  bool Fill() {
    if (eof_ || stopped_) return false;
    if (total_ >= kBatchMaxInputBytes) {
      stopped_ = Error{Code::kInvalidArgument, "the input is over 1 GiB; stopped reading in line " +
                                                   std::to_string(number_ + 1)};
      return false;
    }
    pos_ = 0;
    len_ = std::fread(buf_.data(), 1, buf_.size(), in_);
    total_ += len_;
    if (len_ > 0) return true;
    eof_ = true;
    if (std::ferror(in_)) stopped_ = Error{Code::kIo, "cannot read standard input", "", errno};
    return false;
  }

  std::FILE* in_;
  std::vector<char> buf_;
  size_t pos_ = 0, len_ = 0, number_ = 0;
  uint64_t total_ = 0;
  bool eof_ = false;
  std::optional<Error> stopped_;
};

// One operation line and what became of it.
struct BatchLine {
  size_t number = 0;
  DbOp op;              // for a line that did not parse: what it named, for the report
  bool parsed = false;  // op is complete and will be applied
  std::optional<Error> error;
  std::string result;  // DbChange::result once applied
};

// The deepest nesting of arrays and objects in `text`, counted before
// parsing so that a line of a million '[' cannot exhaust the stack.
int JsonDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

tl::unexpected<Error> Invalid(std::string message) {
  return MakeError(Code::kInvalidArgument, std::move(message));
}

// A cell value: a JSON string as it is; an integer or a boolean as its JSON
// text. A fraction or exponent would come back re-rendered (85.50 -> 85.5),
// and null, arrays and objects have no cell form, so they are refused.
Result<std::string> CellValue(const ojson& v, const std::string& what) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.find('\0') != std::string::npos) return Invalid(what + " contains a NUL character");
    return s;
  }
  if (v.is_number_integer() || v.is_boolean()) return v.dump();
  if (v.is_number_float())
    return Invalid(what +
                   " is a number with a fraction or exponent (or out of range); give it "
                   "as a JSON string, e.g. \"85.50\", so its text is kept as written");
  if (v.is_null()) return Invalid(what + " is null; give \"\" for an empty cell");
  return Invalid(what + " is " + (v.is_array() ? "an array" : "an object") +
                 "; a value is a string, an integer or a boolean");
}

Result<std::string> TextKey(const ojson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return Invalid(std::string("\"") + key + "\" is missing");
  if (!it->is_string()) return Invalid(std::string("\"") + key + "\" must be a string");
  if (it->get_ref<const std::string&>().empty())
    return Invalid(std::string("\"") + key + "\" is empty");
  return it->get<std::string>();
}

// The keys each op takes; anything else is refused rather than ignored, so a
// misspelt "feilds" cannot turn a set into a no-op.
Status CheckKeys(const ojson& j, const std::string& op) {
  static const std::map<std::string, std::vector<std::string>> kAllowed = {
      {"set", {"file", "table", "op", "id", "fields"}},
      {"insert", {"file", "table", "op", "fields"}},
      {"delete", {"file", "table", "op", "id"}}};
  const auto& allowed = kAllowed.at(op);
  for (const auto& item : j.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    std::string list;
    for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
    std::string hint = op == "insert" && item.key() == "id" ? "; the key goes in \"fields\"" : "";
    return Invalid("\"" + item.key() + "\" is not allowed in " + op + " (keys: " + list + ")" +
                   hint);
  }
  return Ok();
}

Result<DbFields> Fields(const ojson& j, const std::string& op) {
  auto it = j.find("fields");
  if (it == j.end()) {
    if (op == "insert") return DbFields{};  // a record with the next id, all cells empty
    return Invalid("\"fields\" is missing");
  }
  if (!it->is_object()) return Invalid("\"fields\" must be an object of FIELD: VALUE");
  if (op == "set" && it->empty()) return Invalid("\"fields\" is empty; set changes at least one");
  DbFields out;
  for (const auto& item : it->items())
    out.emplace_back(item.key(),
                     TXDIR_TRY(CellValue(item.value(), "field \"" + item.key() + "\"")));
  return out;
}

// Fills `op` from one JSON line: what it names first, for the report, then
// the checks.
Status ParseOp(const std::string& text, DbOp& op) {
  if (JsonDepth(text) > kBatchMaxJsonDepth)
    return Invalid("nested more than " + std::to_string(kBatchMaxJsonDepth) + " levels deep");
  ojson j;
  try {  // nlohmann reports a syntax error only by exception; it stops here
    j = ojson::parse(text);
  } catch (const ojson::exception& e) {
    std::string what = e.what();
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != what.npos)
      what = what.substr(close + 2);
    return Invalid("not valid JSON: " + what);
  }
  if (!j.is_object()) return Invalid("not a JSON object");
  for (auto [key, field] : {std::pair{"op", &op.op}, {"file", &op.file}, {"table", &op.table}})
    if (auto it = j.find(key); it != j.end() && it->is_string()) *field = it->get<std::string>();
  op.op = TXDIR_TRY(TextKey(j, "op"));
  if (op.op != "set" && op.op != "insert" && op.op != "delete")
    return Invalid("unknown op \"" + op.op + "\" (set, insert, delete)");
  TXDIR_CHECK(CheckKeys(j, op.op));
  op.file = TXDIR_TRY(TextKey(j, "file"));
  op.table = TXDIR_TRY(TextKey(j, "table"));
  if (op.op != "insert") {
    auto id = j.find("id");
    if (id == j.end()) return Invalid("\"id\" is missing");
    op.id = TXDIR_TRY(CellValue(*id, "\"id\""));
    if (op.id.empty()) return Invalid("\"id\" is empty");
  }
  if (op.op != "delete") op.fields = TXDIR_TRY(Fields(j, op.op));
  return Ok();
}

struct BatchInput {
  std::vector<BatchLine> lines;
  std::optional<Error> stopped;  // the input was cut short: nothing may be published
};

BatchInput ReadBatch(std::FILE* in, bool versioning) {
  LineReader reader(in);
  BatchInput b;
  while (auto line = reader.Next()) {
    if (line->text.find_first_not_of(" \t\r") == std::string::npos && !line->too_long)
      continue;  // blank lines are not operations
    if (b.lines.size() == kBatchMaxOps) {
      b.stopped =
          Error{Code::kInvalidArgument, "more than 1,000,000 operations; stopped reading at line " +
                                            std::to_string(line->number)};
      return b;
    }
    BatchLine l;
    l.number = line->number;
    l.op.versioning = versioning;
    Status parsed = line->too_long ? Invalid("longer than 1 MiB") : ParseOp(line->text, l.op);
    l.parsed = parsed.has_value();
    if (!parsed) l.error = parsed.error();
    b.lines.push_back(std::move(l));
  }
  b.stopped = reader.stopped();
  return b;
}

// One SDN file of the batch: read and parsed once, edited by every line that
// names it, written once.
struct BatchFile {
  sdn::Document doc;
  std::optional<Error> error;  // why the file cannot be edited
  bool missing = false;        // absent: only an insert may create it
  bool changed = false;
  DbKeyIndex index;  // many operations on one table stay linear
};

BatchFile OpenBatchFile(const Transaction& tx, const std::string& file) {
  BatchFile f;
  auto bytes = tx.Read(file);
  if (!bytes) {
    f.error = bytes.error();
    f.missing = bytes.error().code == Code::kNotFound;
    return f;
  }
  auto doc = LoadDbDocument(file, *bytes);
  if (doc)
    f.doc = std::move(*doc);
  else
    f.error = doc.error();
  return f;
}

// As the single-operation db: a missing file is created by an insert.
void ApplyLine(BatchFile& f, BatchLine& l) {
  if (f.error && !(f.missing && l.op.op == "insert")) {
    l.error = f.error;
    return;
  }
  auto done = ApplyDbOp(l.op, f.doc, &f.index);
  if (!done) {
    l.error = done.error();
    return;
  }
  if (f.missing) {  // created by this insert
    f.missing = false;
    f.error.reset();
  }
  f.changed = f.changed || done->changed;
  l.result = done->result;
  l.op.id = done->id;
}

// The transaction's body. Every line is applied, even after a failure, so
// that the caller sees every problem at once; then a failure publishes
// nothing.
Status ApplyBatch(Transaction& tx, BatchInput& input) {
  std::map<std::string, BatchFile> files;
  bool failed = input.stopped.has_value();
  for (auto& l : input.lines) {
    if (l.parsed) {
      auto it = files.find(l.op.file);
      if (it == files.end()) it = files.emplace(l.op.file, OpenBatchFile(tx, l.op.file)).first;
      ApplyLine(it->second, l);
    }
    failed = failed || l.error.has_value();
  }
  if (failed) return Invalid("the batch has failed operations");  // reported per line
  // Checked against this transaction's version; staged as record edits, so
  // that a file another writer changed meanwhile in other records takes
  // them as they are, without a merge of the whole file
  // (Transaction::EditRecords). An insert is staged with the key it got
  // here, so the key reported is the one committed (or renumbered, and
  // reported, by the merge).
  std::map<std::string, std::vector<RecordEdit>> edits;
  for (const auto& l : input.lines) {
    RecordEdit e = l.op.Edit();
    const sdn::Table* t = files.at(l.op.file).doc.Find(e.table);
    const bool numbered = t != nullptr && t->columns[t->KeyIndex()] == "id" &&
                          std::none_of(e.fields.begin(), e.fields.end(),
                                       [](const auto& f) { return f.first == "id"; });
    if (e.op == "insert" && numbered) e.fields.emplace(e.fields.begin(), "id", l.op.id);
    edits[l.op.file].push_back(std::move(e));
  }
  for (auto& [name, f] : files)
    if (f.changed) TXDIR_CHECK(tx.EditRecords(name, std::move(edits[name])));
  return Ok();
}

void PrintLine(const BatchLine& l) {
  ojson j = {{"line", l.number}};
  if (!l.op.op.empty()) j["op"] = l.op.op;
  if (!l.op.file.empty()) j["file"] = l.op.file;
  if (!l.op.table.empty()) j["table"] = l.op.table;
  if (!l.op.id.empty()) j["id"] = l.op.id;
  if (l.error)
    j["error"] = l.error->ToString();
  else if (!l.result.empty())
    j["result"] = l.result;
  else
    j["result"] = "not applied";  // the transaction ended before this line's turn
  std::cout << j.dump(-1, ' ', false, kJsonReplace) << '\n';
}

// The final line: what the batch as a whole did.
ojson Summary(const BatchInput& input, const Result<CommitResult>& done) {
  size_t failed = 0, changed = 0;
  for (const auto& l : input.lines) {
    failed += l.error ? 1 : 0;
    changed += !l.result.empty() && l.result != "no change" ? 1 : 0;
  }
  ojson j = {{"published", done && done->published}};
  if (done) j["generation"] = done->generation.number;
  j["operations"] = input.lines.size();
  j["changed"] = changed;
  j["failed"] = failed;
  if (done && !done->published)
    j["reason"] = input.lines.empty() ? "no operations" : "nothing changed";
  if (input.stopped)
    j["reason"] = input.stopped->ToString() + "; nothing was published";
  else if (failed > 0)
    j["reason"] = std::to_string(failed) + " operations failed; nothing was published";
  else if (!done)
    j["reason"] = done.error().ToString();
  if (done && !done->merged.empty()) j["merged"] = done->merged;
  if (done && !done->theirs_kept.empty()) j["theirs_kept"] = done->theirs_kept;
  if (done && !done->renumbered.empty()) {
    ojson r = ojson::array();
    for (const auto& n : done->renumbered)
      r.push_back({{"table", n.table}, {"old_id", n.old_id}, {"new_id", n.new_id}});
    j["renumbered"] = r;
  }
  return j;
}

// The error a failed batch exits with: its first failed line's, so the exit
// code is the one that line would have had alone.
Error FirstFailure(const BatchInput& input) {
  size_t failed = 0;
  const BatchLine* first = nullptr;
  for (const auto& l : input.lines)
    if (l.error) {
      ++failed;
      if (first == nullptr) first = &l;
    }
  if (first == nullptr) return *input.stopped;
  Error e = *first->error;
  e.message = std::to_string(failed) + " of " + std::to_string(input.lines.size()) +
              " operations failed, the first on line " + std::to_string(first->number) + ": " +
              e.message + "; nothing was published";
  return e;
}

}  // namespace

int RunDbBatch(const Globals& g, const DbBatchOptions& o, std::FILE* in) {
  auto repo = OpenRepo(o.dir, g);
  if (!repo) return Fail(repo.error());
  BatchInput input = ReadBatch(in, o.versioning);
  CommitOptions co;
  co.strategy = o.strategy;
  co.message = o.message.empty()
                   ? "db --batch: " + std::to_string(input.lines.size()) + " operations"
                   : o.message;
  // An empty batch still opens a transaction: the summary names the live
  // generation, and nothing is written, so nothing is published.
  auto done = RunTransaction(
      **repo, [&](Transaction& tx) { return ApplyBatch(tx, input); }, co, /*max_attempts=*/1);
  for (const auto& l : input.lines) PrintLine(l);
  std::cout << Summary(input, done).dump(-1, ' ', false, kJsonReplace) << '\n';
  bool failed = input.stopped.has_value();
  for (const auto& l : input.lines) failed = failed || l.error.has_value();
  if (failed) return Fail(FirstFailure(input));
  if (!done) return Fail(done.error());
  return done->published ? CommittedExit(done->generation, g) : static_cast<int>(kExitOk);
}

}  // namespace txdir::cli
