// The group-commit queue's files (group_commit.h). Applying the claimed
// transactions is Transaction::Commit's work (transaction.cc).
#include "txn/src/group_commit.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "store/failpoint.h"
#include "store/fs_util.h"
#include "store/history_walk.h"
#include "txn/src/path_check.h"
#include "txn/src/trust.h"

namespace txdir::internal {

namespace {

using json = nlohmann::json;

constexpr const char* kQueue = "queue";
// Requests: 1, or 2 when a change carries record edits (a holder that
// knows only 1 refuses those as damaged rather than take them for
// removals). Outcomes: 1.
constexpr int kFormat = 1;
constexpr int kFormatEdits = 2;
// A request file is small: a few hundred bytes per changed path.
constexpr size_t kMaxRequestBytes = 16 << 20;

Result<Fd> OpenQueue(Repository::Impl& r, bool create) {
  auto q = OpenMetaDir(r.env, r.layout, kQueue);
  if (q || q.error().code != Code::kNotFound || !create) return q;
  // Repositories made before group commit have no queue folder yet.
  Fd meta = TXDIR_TRY(OpenMetaDir(r.env, r.layout, ""));
  TXDIR_CHECK(fs::EnsureDir(r.env, meta.get(), kQueue, 0755));
  return OpenMetaDir(r.env, r.layout, kQueue);
}

// Ids sort in the order they were made, which is the order ClaimQueued
// applies requests in: the wall-clock time in nanoseconds, fixed width,
// then the process and a per-process sequence number (two requests of one
// process within one clock tick), then a random part.
std::string NewId() {
  static std::atomic<uint32_t> sequence{0};
  timespec now{};
  (void)::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  char buf[80];
  (void)std::snprintf(buf, sizeof buf, "%020" PRId64 "-%010d-%08x-%08x", ns,
                      static_cast<int>(::getpid()), sequence.fetch_add(1),
                      static_cast<unsigned>(fs::RandomU64()));
  return buf;
}

Result<std::string> ReadSmallFile(Env* env, int fd, size_t max) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = TXDIR_TRY(env->Read(fd, buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > max) return MakeError(Code::kCorruption, "queue file too large");
  }
  return out;
}

// A queue file's first line: the request. An outcome written into the
// request file follows it on a second line (WriteOutcome); neither JSON
// text holds a newline.
std::string_view RequestLine(std::string_view text) {
  return text.substr(0, std::min(text.find('\n'), text.size()));
}

// Writes `data` as queue/<name> complete: a temp file in tmp/, renamed in.
Status PublishQueueFile(Repository::Impl& r, int queue, const std::string& name,
                        const std::string& data, Fd* keep_open) {
  Fd tmp = TXDIR_TRY(OpenMetaDir(r.env, r.layout, "tmp"));
  // Recovery empties tmp/ only while no writer pins it (recovery.cc, step 1).
  TXDIR_CHECK(r.env->Flock(tmp.get(), LockMode::kShared, /*wait=*/true));
  const std::string temp = fs::UniqueName("queue-");
  Fd f = TXDIR_TRY(r.env->OpenAt(tmp.get(), temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  // The writer's liveness flag is taken before the request is visible.
  if (keep_open) TXDIR_CHECK(r.env->Flock(f.get(), LockMode::kExclusive, /*wait=*/false));
  Status st = r.env->Write(f.get(), data.data(), data.size());
  if (st) st = r.env->RenameAt(tmp.get(), temp, queue, name);
  if (!st) {
    (void)r.env->UnlinkAt(tmp.get(), temp, 0);
    return st;
  }
  if (keep_open) *keep_open = std::move(f);
  return Ok();
}

// True when the process that queued the request at `fd` has gone: its
// exclusive flock is free. The shared lock taken to find out is dropped.
Result<bool> WriterGone(Env* env, int fd) {
  auto l = env->Flock(fd, LockMode::kShared, /*wait=*/false);
  if (!l) {
    if (l.error().code == Code::kLocked) return false;
    return tl::unexpected(l.error());
  }
  TXDIR_CHECK(env->Unlock(fd));
  return true;
}

json EditsJson(const std::vector<RecordEdit>& edits) {
  json out = json::array();
  for (const RecordEdit& e : edits) {
    json fields = json::array();
    for (const auto& [name, value] : e.fields) fields.push_back({name, value});
    out.push_back({{"table", e.table},
                   {"op", e.op},
                   {"id", e.id},
                   {"fields", std::move(fields)},
                   {"versioning", e.versioning}});
  }
  return out;
}

// Record edits from a request; every member checked, as for any file
// another process wrote.
std::optional<std::vector<RecordEdit>> EditsFromJson(const json& a) {
  if (!a.is_array() || a.empty()) return std::nullopt;
  std::vector<RecordEdit> out;
  for (const json& e : a) {
    if (!e.is_object()) return std::nullopt;
    const json* table = e.contains("table") ? &e["table"] : nullptr;
    const json* op = e.contains("op") ? &e["op"] : nullptr;
    const json* id = e.contains("id") ? &e["id"] : nullptr;
    const json* fields = e.contains("fields") ? &e["fields"] : nullptr;
    const json* versioning = e.contains("versioning") ? &e["versioning"] : nullptr;
    if (!table || !table->is_string() || !op || !op->is_string() || !id || !id->is_string() ||
        !fields || !fields->is_array() || !versioning || !versioning->is_boolean())
      return std::nullopt;
    RecordEdit edit{table->get<std::string>(),
                    op->get<std::string>(),
                    id->get<std::string>(),
                    {},
                    versioning->get<bool>()};
    for (const json& f : *fields) {
      if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string())
        return std::nullopt;
      edit.fields.emplace_back(f[0].get<std::string>(), f[1].get<std::string>());
    }
    if (!CheckRecordEdit(edit)) return std::nullopt;
    out.push_back(std::move(edit));
  }
  return out;
}

std::string ToJson(const PendingTx& tx) {
  json j;
  const bool edits = std::any_of(tx.changes.begin(), tx.changes.end(),
                                 [](const auto& c) { return !c.second.edits.empty(); });
  j["format"] = edits ? kFormatEdits : kFormat;
  j["id"] = tx.id;
  j["base"] = tx.base_commit ? store::OidHex(*tx.base_commit) : std::string();
  j["base_generation"] = tx.base_gen;
  j["strategy"] = std::string(StrategyName(tx.strategy));
  j["message"] = tx.message;
  j["author"] = tx.author;
  j["kind"] = tx.kind;
  // This writer reads its outcome from its own request file (WriteOutcome).
  j["answer"] = "in-file";
  json changes = json::array();
  for (const auto& [path, c] : tx.changes) {
    json e;
    e["path"] = path;
    e["time_ms"] = c.time_ms;
    if (!c.edits.empty()) {
      e["edits"] = EditsJson(c.edits);
    } else if (c.file) {
      e["blob"] = store::OidHex(c.file->oid);
      e["mode"] = c.file->mode;
    }
    changes.push_back(std::move(e));
  }
  j["changes"] = std::move(changes);
  // Paths and messages are bytes, not always UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<PendingTx> FromJson(const std::string& id, const std::string& text) {
  auto bad = [&](const std::string& what) {
    return MakeError(Code::kCorruption, "queued request " + id + " is damaged: " + what);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto fmt = j.find("format");
  if (fmt == j.end() || !fmt->is_number_integer() ||
      (fmt->get<int>() != kFormat && fmt->get<int>() != kFormatEdits))
    return bad("unknown format");
  PendingTx tx;
  tx.id = id;
  tx.request_bytes = text.size();
  tx.answer_in_file = str("answer") == "in-file";
  if (str("id") != id) return bad("its id does not match its name");
  auto base = str("base");
  if (!base) return bad("no base");
  if (!base->empty()) tx.base_commit = TXDIR_TRY(store::OidFromHex(*base));
  auto gen = j.find("base_generation");
  if (gen == j.end() || !gen->is_number_unsigned()) return bad("no base generation");
  tx.base_gen = gen->get<uint64_t>();
  auto strategy = str("strategy");
  auto parsed = strategy ? ParseStrategy(*strategy) : std::nullopt;
  if (!parsed) return bad("unknown strategy");
  tx.strategy = *parsed;
  auto message = str("message"), author = str("author"), kind = str("kind");
  if (!message || !author || !kind) return bad("no message, author or kind");
  tx.message = *message;
  tx.author = *author;
  tx.kind = *kind;
  auto changes = j.find("changes");
  if (changes == j.end() || !changes->is_array()) return bad("no changes");
  for (const json& e : *changes) {
    if (!e.is_object()) return bad("a change is not an object");
    auto p = e.find("path");
    auto t = e.find("time_ms");
    if (p == e.end() || !p->is_string() || t == e.end() || !t->is_number_integer())
      return bad("a change without path or time");
    const std::string path = p->get<std::string>();
    if (auto st = CheckRelativePath(path); !st) return bad(st.error().ToString());
    OurChange c;
    c.time_ms = t->get<int64_t>();
    auto b = e.find("blob");
    if (auto ed = e.find("edits"); ed != e.end()) {
      if (b != e.end() || fmt->get<int>() != kFormatEdits)
        return bad("a change with edits and a blob");
      auto edits = EditsFromJson(*ed);
      if (!edits) return bad("a change with bad record edits");
      c.edits = std::move(*edits);
    } else if (b != e.end()) {
      auto m = e.find("mode");
      if (!b->is_string() || m == e.end() || !m->is_number_unsigned())
        return bad("a change with a bad blob or mode");
      const uint32_t mode = m->get<uint32_t>();
      if (mode != 0100644 && mode != 0100755 && mode != 0120000) return bad("a change's mode");
      c.file = store::TreeFile{path, TXDIR_TRY(store::OidFromHex(b->get<std::string>())), mode};
    }
    tx.changes[path] = std::move(c);
  }
  return tx;
}

std::string OutcomeJson(const Result<CommitResult>& o) {
  json j;
  j["format"] = kFormat;
  if (!o) {
    j["ok"] = false;
    j["code"] = static_cast<int>(o.error().code);
    j["message"] = o.error().message;
    j["path"] = o.error().path;
    j["errno"] = o.error().sys_errno;
  } else {
    j["ok"] = true;
    j["published"] = o->published;
    j["commit"] = o->generation.commit;
    j["live_pending"] = o->generation.live_pending;
    j["live_error"] = o->generation.live_error;
    j["merged"] = o->merged;
    j["theirs_kept"] = o->theirs_kept;
    json ren = json::array();
    for (const auto& n : o->renumbered) ren.push_back({n.table, n.old_id, n.new_id});
    j["renumbered"] = std::move(ren);
    json edits = json::array();
    for (const auto& e : o->record_edits) edits.push_back({e.table, e.id, e.result, e.changed});
    j["record_edits"] = std::move(edits);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Result<CommitResult>> OutcomeFromJson(Repository::Impl& r, const std::string& text) {
  auto bad = [](const std::string& what) {
    return MakeError(Code::kCorruption, "the outcome of a queued transaction is damaged: " + what);
  };
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) return bad("no result");
  if (!j["ok"].get<bool>()) {
    Error e;
    const json& code = j["code"];
    if (!code.is_number_integer() || code.get<int>() < static_cast<int>(Code::kInvalidArgument) ||
        code.get<int>() > static_cast<int>(Code::kTimeout))
      return bad("error code");
    e.code = static_cast<Code>(code.get<int>());
    if (!j["message"].is_string() || !j["path"].is_string() || !j["errno"].is_number_integer())
      return bad("error fields");
    e.message = j["message"].get<std::string>();
    e.path = j["path"].get<std::string>();
    e.sys_errno = j["errno"].get<int>();
    return Result<CommitResult>(tl::unexpected(std::move(e)));
  }
  CommitResult out;
  if (!j["published"].is_boolean() || !j["commit"].is_string() || !j["live_pending"].is_boolean() ||
      !j["live_error"].is_string())
    return bad("result fields");
  out.published = j["published"].get<bool>();
  const std::string commit = j["commit"].get<std::string>();
  if (!commit.empty())
    out.generation = TXDIR_TRY(DescribeCommit(r, TXDIR_TRY(store::OidFromHex(commit))));
  out.generation.live_pending = j["live_pending"].get<bool>();
  out.generation.live_error = j["live_error"].get<std::string>();
  for (const char* key : {"merged", "theirs_kept"}) {
    const json& a = j[key];
    if (!a.is_array()) return bad(key);
    auto& dst = std::string_view(key) == "merged" ? out.merged : out.theirs_kept;
    for (const json& p : a) {
      if (!p.is_string()) return bad(key);
      dst.push_back(p.get<std::string>());
    }
  }
  const json& ren = j["renumbered"];
  if (!ren.is_array()) return bad("renumbered");
  for (const json& n : ren) {
    if (!n.is_array() || n.size() != 3 || !n[0].is_string() || !n[1].is_string() ||
        !n[2].is_string())
      return bad("renumbered");
    out.renumbered.push_back(
        {n[0].get<std::string>(), n[1].get<std::string>(), n[2].get<std::string>()});
  }
  // Absent from the outcomes of holders that know no record edits.
  const json edits = j.contains("record_edits") ? j["record_edits"] : json::array();
  if (!edits.is_array()) return bad("record edits");
  for (const json& e : edits) {
    if (!e.is_array() || e.size() != 4 || !e[0].is_string() || !e[1].is_string() ||
        !e[2].is_string() || !e[3].is_boolean())
      return bad("record edits");
    out.record_edits.push_back(RecordEditResult{e[0].get<std::string>(), e[1].get<std::string>(),
                                                e[2].get<std::string>(), e[3].get<bool>()});
  }
  return Result<CommitResult>(std::move(out));
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The id in "<id><suffix>", if it is one.
std::optional<std::string> IdOf(const std::string& name, std::string_view suffix) {
  if (!EndsWith(name, suffix)) return std::nullopt;
  std::string id = name.substr(0, name.size() - suffix.size());
  if (!store::ValidQueueId(id)) return std::nullopt;
  return id;
}

// Whether generation commits from the head back to (not including) `base`
// took request `id` in; looks at most `limit` commits back.
Result<std::optional<git_oid>> LandedIn(Repository::Impl& r, const std::string& id,
                                        const std::optional<git_oid>& base, int limit = 64) {
  store::GenerationWalk walk(*r.store, TXDIR_TRY(r.store->Head()));
  for (int i = 0; TXDIR_TRY(walk.Next()) && i < limit; ++i) {
    if (base && store::OidEqual(walk.commit(), *base)) break;
    const store::GenMeta meta = TXDIR_TRY(walk.Meta());
    if (std::find(meta.queued.begin(), meta.queued.end(), id) != meta.queued.end())
      return std::optional<git_oid>(walk.commit());
  }
  return std::optional<git_oid>();
}

// Removes `name` unless it is gone already: its owner may remove it at the
// same time (a writer reading its outcome while recovery lists the queue).
// True when this call removed it.
Result<bool> RemoveIfPresent(Repository::Impl& r, int dir, const std::string& name) {
  auto st = r.env->UnlinkAt(dir, name, 0);
  if (st) return true;
  if (st.error().code == Code::kNotFound) return false;
  return tl::unexpected(st.error());
}

}  // namespace

QueuedRequest::~QueuedRequest() = default;

Result<QueuedRequest> Enqueue(Repository::Impl& r, const PendingTx& tx_in) {
  PendingTx tx = tx_in;
  tx.id = NewId();
  Fd queue = TXDIR_TRY(OpenQueue(r, /*create=*/true));
  Fd held;
  TXDIR_CHECK(PublishQueueFile(r, queue.get(), tx.id + ".req", ToJson(tx), &held));
  TXDIR_FAILPOINT("group.queued");
  return QueuedRequest(tx.id, std::move(queue), std::move(held));
}

Result<bool> Cancel(Repository::Impl& r, const QueuedRequest& q) {
  auto st = r.env->UnlinkAt(q.queue(), q.id() + ".req", 0);
  if (st) return true;
  if (st.error().code == Code::kNotFound) return false;
  return tl::unexpected(st.error());
}

Result<bool> StillQueued(Repository::Impl& r, const QueuedRequest& q) {
  auto s = r.env->StatAt(q.queue(), q.id() + ".req", /*follow=*/false);
  if (s) return true;
  if (s.error().code == Code::kNotFound) return false;
  return tl::unexpected(s.error());
}

Result<std::optional<Result<CommitResult>>> TakeOutcome(Repository::Impl& r,
                                                        const QueuedRequest& q) {
  // One system call while the outcome is not there: the writer polls this.
  const std::string name = q.id() + ".done";
  auto f = r.env->OpenAt(q.queue(), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (!f) {
    if (f.error().code == Code::kNotFound) return std::optional<Result<CommitResult>>();
    return tl::unexpected(f.error());
  }
  const std::string text = TXDIR_TRY(ReadSmallFile(r.env, f->get(), kMaxRequestBytes));
  const size_t nl = text.find('\n');
  if (nl != std::string::npos) {
    // The request file itself, renamed to <id>.done with the outcome after
    // the request: this writer's flock on it (QueuedRequest) tells
    // recovery that its reader lives until it is gone.
    TXDIR_CHECK(RemoveIfPresent(r, q.queue(), name));
    return std::optional<Result<CommitResult>>(TXDIR_TRY(OutcomeFromJson(r, text.substr(nl + 1))));
  }
  // An outcome file of its own (an older holder's). The claim's flock has
  // told recovery that someone will still read the outcome; before the
  // claim goes, a flock on the outcome itself takes over, held until the
  // outcome is gone too. So recovery, which lists the folder while this
  // runs, never takes a writer that is cleaning up for one that died
  // (RecoverQueue).
  TXDIR_CHECK(r.env->Flock(f->get(), LockMode::kExclusive, /*wait=*/true));
  TXDIR_CHECK(RemoveIfPresent(r, q.queue(), q.id() + ".claimed"));
  TXDIR_CHECK(RemoveIfPresent(r, q.queue(), name));
  return std::optional<Result<CommitResult>>(TXDIR_TRY(OutcomeFromJson(r, text)));
}

Result<std::vector<Claimed>> ClaimQueued(Repository::Impl& r, size_t max, const std::string& must) {
  std::vector<Claimed> out;
  auto queue = OpenQueue(r, /*create=*/false);
  if (!queue) {
    if (queue.error().code == Code::kNotFound) return out;  // never used
    return tl::unexpected(queue.error());
  }
  std::vector<std::string> ids;
  for (const auto& e : TXDIR_TRY(r.env->ListDir(queue->get())))
    if (auto id = IdOf(e.name, ".req")) ids.push_back(*id);
  // Ids start with the time they were queued: oldest first.
  std::sort(ids.begin(), ids.end());
  if (!must.empty()) {
    // The caller's own request goes in at its place among the first `max`.
    auto it = std::find(ids.begin(), ids.end(), must);
    if (it != ids.end() && static_cast<size_t>(it - ids.begin()) >= max) {
      ids.erase(it);
      ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(max - 1), must);
    }
  }
  for (const std::string& id : ids) {
    if (out.size() >= max) break;
    const std::string claimed = id + ".claimed";
    auto mv = r.env->RenameAt(queue->get(), id + ".req", queue->get(), claimed);
    if (!mv) {
      if (mv.error().code == Code::kNotFound) continue;  // its writer cancelled it
      return tl::unexpected(mv.error());
    }
    Fd f = TXDIR_TRY(r.env->OpenAt(queue->get(), claimed, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (TXDIR_TRY(WriterGone(r.env, f.get()))) {
      TXDIR_CHECK(r.env->UnlinkAt(queue->get(), claimed, 0));
      continue;
    }
    Claimed c;
    c.id = id;
    auto text = ReadSmallFile(r.env, f.get(), kMaxRequestBytes);
    auto tx = text ? FromJson(id, std::string(RequestLine(*text)))
                   : Result<PendingTx>(tl::unexpected(text.error()));
    if (tx) {
      c.tx = std::move(*tx);
    } else {
      c.error = tx.error();
    }
    out.push_back(std::move(c));
  }
  if (!out.empty()) TXDIR_FAILPOINT("group.claimed");
  return out;
}

Status WriteOutcome(Repository::Impl& r, const std::string& id, const Result<CommitResult>& o,
                    const PendingTx* tx) {
  Fd queue = TXDIR_TRY(OpenQueue(r, /*create=*/false));
  const std::string claimed = id + ".claimed";
  auto f = r.env->OpenAt(queue.get(), claimed, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (!f && f.error().code != Code::kNotFound) return tl::unexpected(f.error());
  if (f && !TXDIR_TRY(WriterGone(r.env, f->get()))) {
    if (tx != nullptr && tx->answer_in_file) {
      // The outcome goes after the request in its own file, which the
      // rename to <id>.done shows complete: no second file per queued
      // transaction to create and delete. What a holder that died while
      // writing here left after the request is cut off first.
      auto w = r.env->OpenAt(queue.get(), claimed, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
      if (w) {
        TXDIR_CHECK(r.env->Ftruncate(w->get(), static_cast<off_t>(tx->request_bytes)));
        const std::string line = "\n" + OutcomeJson(o);
        TXDIR_CHECK(r.env->Write(w->get(), line.data(), line.size()));
        return r.env->RenameAt(queue.get(), claimed, queue.get(), id + ".done");
      }
      const int err = w.error().sys_errno;
      if (err != EACCES && err != EPERM) return tl::unexpected(w.error());
      // Not ours to write: an outcome file of its own, which its writer
      // reads as well.
    }
    // The writer removes the outcome and the claim once it has read them.
    return PublishQueueFile(r, queue.get(), id + ".done", OutcomeJson(o), nullptr);
  }
  auto st = r.env->UnlinkAt(queue.get(), claimed, 0);
  if (!st && st.error().code != Code::kNotFound) return st;
  return Ok();
}

Status RemoveClaim(Repository::Impl& r, const std::string& id) {
  Fd queue = TXDIR_TRY(OpenQueue(r, /*create=*/false));
  auto st = r.env->UnlinkAt(queue.get(), id + ".claimed", 0);
  if (!st && st.error().code != Code::kNotFound) return st;
  return Ok();
}

Status RecoverQueue(Repository::Impl& r, std::vector<std::string>* actions) {
  auto queue = OpenQueue(r, /*create=*/false);
  if (!queue) {
    if (queue.error().code == Code::kNotFound) return Ok();
    return tl::unexpected(queue.error());
  }
  std::set<std::string> claimed, answered;
  for (const auto& e : TXDIR_TRY(r.env->ListDir(queue->get()))) {
    if (auto id = IdOf(e.name, ".claimed")) claimed.insert(*id);
    if (auto id = IdOf(e.name, ".done")) answered.insert(*id);
    auto id = IdOf(e.name, ".req");
    if (!id) continue;
    // A request whose writer has died: nobody would hear of it.
    auto f = r.env->OpenAt(queue->get(), e.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (!f) {
      if (f.error().code == Code::kNotFound) continue;
      return tl::unexpected(f.error());
    }
    if (!TXDIR_TRY(WriterGone(r.env, f->get()))) continue;
    TXDIR_CHECK(r.env->UnlinkAt(queue->get(), e.name, 0));
    actions->push_back("removed queued transaction " + *id +
                       " of a writer that died (not applied)");
  }
  for (const std::string& id : answered) {
    if (claimed.count(id)) continue;
    // Read: its writer holds a flock on it while it removes the claim and
    // then the outcome (TakeOutcome). Free: the writer died before removing
    // it.
    auto f = r.env->OpenAt(queue->get(), id + ".done", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (!f) {
      if (f.error().code == Code::kNotFound) continue;
      return tl::unexpected(f.error());
    }
    if (!TXDIR_TRY(WriterGone(r.env, f->get()))) continue;
    if (TXDIR_TRY(RemoveIfPresent(r, queue->get(), id + ".done")))
      actions->push_back("removed the read outcome of queued transaction " + id);
  }
  for (const std::string& id : claimed) {
    const std::string name = id + ".claimed";
    auto f = r.env->OpenAt(queue->get(), name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (!f) {
      if (f.error().code == Code::kNotFound) continue;
      return tl::unexpected(f.error());
    }
    const bool gone = TXDIR_TRY(WriterGone(r.env, f->get()));
    if (answered.count(id)) {
      if (!gone) continue;  // its writer will read the outcome
      const bool removed = TXDIR_TRY(RemoveIfPresent(r, queue->get(), id + ".done"));
      if (!TXDIR_TRY(RemoveIfPresent(r, queue->get(), name)) && !removed) continue;
      actions->push_back("removed the unread outcome of queued transaction " + id +
                         " (its writer died)");
      continue;
    }
    // Claimed and not answered: the holder that took it died.
    auto text = ReadSmallFile(r.env, f->get(), kMaxRequestBytes);
    auto tx = text ? FromJson(id, std::string(RequestLine(*text)))
                   : Result<PendingTx>(tl::unexpected(text.error()));
    std::optional<git_oid> landed;
    if (tx) landed = TXDIR_TRY(LandedIn(r, id, tx->base_commit));
    if (landed) {
      CommitResult res;
      res.published = true;
      res.generation = TXDIR_TRY(DescribeCommit(r, *landed));
      TXDIR_CHECK(WriteOutcome(r, id, res, &*tx));
      actions->push_back("answered queued transaction " + id + ": it is in generation " +
                         std::to_string(res.generation.number));
    } else if (gone || !tx) {
      TXDIR_CHECK(WriteOutcome(r, id,
                               tx ? Result<CommitResult>(tl::unexpected(
                                        Error{Code::kIo, "the process that took it died"}))
                                  : Result<CommitResult>(tl::unexpected(tx.error())),
                               tx ? &*tx : nullptr));
      actions->push_back("removed queued transaction " + id + " (not applied)");
    } else {
      TXDIR_CHECK(r.env->RenameAt(queue->get(), name, queue->get(), id + ".req"));
      actions->push_back("queued transaction " + id + " again (the holder that took it died)");
    }
  }
  return Ok();
}

}  // namespace txdir::internal
