// History browsing: what each generation changed, the file-level diff of two
// generations, and export of a generation as plain files.
#include "txdir/history.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "store/fs_util.h"
#include "store/history_walk.h"
#include "txn/src/config.h"
#include "txn/src/history_util.h"
#include "txn/src/path_check.h"
#include "txn/src/spawn.h"

namespace txdir {

namespace internal {

std::string NormalizeSelector(const std::string& path) {
  std::string s = path;
  while (!s.empty() && s.back() == '/') s.pop_back();
  while (s.rfind("./", 0) == 0) s.erase(0, 2);
  return s == "." ? std::string() : s;
}

bool PathSelected(const std::string& path, const std::string& selector) {
  if (selector.empty() || path == selector) return true;
  return path.size() > selector.size() && path.compare(0, selector.size(), selector) == 0 &&
         path[selector.size()] == '/';
}

Result<std::optional<git_oid>> GenerationTree(Repository::Impl& r, uint64_t gen) {
  if (gen == 0) return std::optional<git_oid>();  // what precedes the first generation
  git_oid commit = TXDIR_TRY(FindGeneration(r, gen));
  return std::optional<git_oid>(TXDIR_TRY(r.store->CommitTree(commit)));
}

Result<std::vector<FileChange>> ChangesOf(Repository::Impl& r, const store::TreeDiff& diff,
                                          const std::string& selector) {
  auto size_of = [&](const git_oid& oid) -> Result<uint64_t> {
    auto size = r.store->ObjectSize(oid);
    // A blob a tree names that cannot be found: the store is damaged.
    if (!size && size.error().code == Code::kNotFound) size.error().code = Code::kCorruption;
    return size;
  };
  std::vector<FileChange> out;
  for (const store::TreeChange& d : diff.changes()) {
    if (!PathSelected(d.path, selector)) continue;
    FileChange c;
    switch (d.kind) {
      case store::TreeChange::Kind::kAdded:
        c.kind = ChangeKind::kAdded;
        break;
      case store::TreeChange::Kind::kRemoved:
        c.kind = ChangeKind::kRemoved;
        break;
      case store::TreeChange::Kind::kModified:
        c.kind = ChangeKind::kModified;
        break;
    }
    c.path = d.path;
    if (c.kind != ChangeKind::kAdded) {
      c.old_mode = d.old_mode;
      c.old_blob = store::OidHex(d.old_blob);
      c.old_size = TXDIR_TRY(size_of(d.old_blob));
    }
    if (c.kind != ChangeKind::kRemoved) {
      c.new_mode = d.new_mode;
      c.new_blob = store::OidHex(d.new_blob);
      c.new_size = TXDIR_TRY(size_of(d.new_blob));
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const FileChange& a, const FileChange& b) { return a.path < b.path; });
  return out;
}

}  // namespace internal

namespace {

Status CheckSelector(const std::string& selector) {
  if (selector.empty()) return Ok();
  return internal::CheckRelativePath(selector);
}

}  // namespace

Result<std::vector<HistoryEntry>> History(Repository& repo, const HistoryOptions& options) {
  std::vector<HistoryEntry> out;
  TXDIR_CHECK(ForEachHistoryEntry(repo, options, [&](const HistoryEntry& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}

Status ForEachHistoryEntry(Repository& repo, const HistoryOptions& options,
                           const std::function<bool(const HistoryEntry&)>& fn) {
  Repository::Impl& r = internal::ImplOf(repo);
  const std::string selector = internal::NormalizeSelector(options.path);
  TXDIR_CHECK(CheckSelector(selector));
  size_t given = 0;
  const auto head = TXDIR_TRY(r.store->Head());
  if (!head) return Ok();

  // Totals of the head by listing it once; each older generation's totals
  // follow from its child's by undoing the child's changes.
  uint64_t files = 0, bytes = 0;
  for (const auto& f : TXDIR_TRY(r.store->ListTree(TXDIR_TRY(r.store->CommitTree(*head))))) {
    ++files;
    bytes += TXDIR_TRY(r.store->ObjectSize(f.oid));
  }
  store::GenerationWalk walk(*r.store, *head);
  while (TXDIR_TRY(walk.Next())) {
    if (options.limit != 0 && given >= options.limit) break;
    HistoryEntry e;
    e.info = TXDIR_TRY(internal::DescribeCommit(r, walk.commit()));
    const auto parent = TXDIR_TRY(walk.Parent());  // kept: Next() moves there
    const git_oid tree = TXDIR_TRY(r.store->CommitTree(walk.commit()));
    std::optional<git_oid> parent_tree;
    if (parent) parent_tree = TXDIR_TRY(r.store->CommitTree(*parent));
    // Without a parent, the first generation added every file; the oldest
    // one a prune kept changed something unknown, so nothing is counted.
    std::vector<FileChange> changes;
    if (parent || !e.info.history_pruned) {
      const store::TreeDiff diff = TXDIR_TRY(store::TreeDiff::Compare(*r.store, parent_tree, tree));
      changes = TXDIR_TRY(internal::ChangesOf(r, diff, ""));
      if (options.changed_bytes)
        TXDIR_CHECK(diff.CountChangedBytes(&e.changes.bytes_added, &e.changes.bytes_removed));
    }
    e.changes.files = files;
    e.changes.bytes = bytes;
    bool touches = selector.empty();
    for (const auto& c : changes) {
      if (internal::PathSelected(c.path, selector)) touches = true;
      switch (c.kind) {
        case ChangeKind::kAdded:
          ++e.changes.added;
          --files;
          bytes -= c.new_size;
          break;
        case ChangeKind::kModified:
          ++e.changes.modified;
          bytes = bytes - c.new_size + c.old_size;
          break;
        case ChangeKind::kRemoved:
          ++e.changes.removed;
          ++files;
          bytes += c.old_size;
          break;
      }
    }
    e.changes.bytes_changed = e.changes.bytes_added + e.changes.bytes_removed;
    e.changes.changed = std::move(changes);
    bool recent = !options.since_ms || e.info.time_ms >= *options.since_ms;
    if (touches && recent) {
      ++given;
      if (!fn(e)) break;
    }
  }
  return Ok();
}

Result<std::vector<FileChange>> DiffGenerations(Repository& repo, uint64_t from, uint64_t to,
                                                const std::string& path) {
  Repository::Impl& r = internal::ImplOf(repo);
  const std::string selector = internal::NormalizeSelector(path);
  TXDIR_CHECK(CheckSelector(selector));
  const store::TreeDiff diff =
      TXDIR_TRY(store::TreeDiff::Compare(*r.store, TXDIR_TRY(internal::GenerationTree(r, from)),
                                         TXDIR_TRY(internal::GenerationTree(r, to))));
  return internal::ChangesOf(r, diff, selector);
}

// --- export

namespace {

// Creates the directories leading to `path` under `dir` (mkdir -p of its
// parent), remembering what exists.
Status MakeParents(Env* env, int dir, const std::string& path, std::set<std::string>* made) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string d = path.substr(0, slash);
    if (made->count(d)) continue;
    TXDIR_CHECK(env->MkdirAt(dir, d, 0755));
    made->insert(d);
  }
  return Ok();
}

Status WriteExport(Repository::Impl& r, int dir, const std::vector<store::TreeFile>& files,
                   const ProgressFn& progress) {
  Env* env = r.env;
  std::set<std::string> made;
  uint64_t done = 0, bytes = 0;
  auto report = [&] {
    if (progress) progress(Progress{"writing files", ++done, files.size(), bytes});
  };
  for (const auto& f : files) {
    TXDIR_CHECK(internal::CheckRelativePath(f.path));
    TXDIR_CHECK(MakeParents(env, dir, f.path, &made));
    if (f.mode == 0120000) {
      TXDIR_CHECK(env->SymlinkAt(TXDIR_TRY(r.store->ReadBlob(f.oid)), dir, f.path));
      report();
      continue;
    }
    // 0644 / 0755; the process umask applies, as for any new file.
    mode_t mode = f.mode == 0100755 ? 0755 : 0644;
    Fd fd = TXDIR_TRY(env->OpenAt(dir, f.path, O_WRONLY | O_CREAT | O_EXCL, mode));
    // Streamed: exporting a large file takes a piece of memory, not its size.
    TXDIR_CHECK(r.store->ReadBlobStream(f.oid, [&](std::string_view piece) {
      bytes += piece.size();
      return env->Write(fd.get(), piece.data(), piece.size());
    }));
    report();
  }
  // One barrier for the whole copy before it appears under its name.
  return env->Syncfs(dir);
}

}  // namespace

namespace {

// Whether the directory open as `dir` is `target` or below it, walking up
// through "..".
Result<bool> IsAtOrBelow(Env* env, int dir, const struct stat& target) {
  Fd owner;
  int cur = dir;
  for (int depth = 0; depth < 4096; ++depth) {
    const struct stat st = TXDIR_TRY(env->Fstat(cur));
    if (st.st_dev == target.st_dev && st.st_ino == target.st_ino) return true;
    Fd up = TXDIR_TRY(env->OpenAt(cur, "..", O_RDONLY | O_DIRECTORY));
    const struct stat up_st = TXDIR_TRY(env->Fstat(up.get()));
    if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino) return false;  // at "/"
    owner = std::move(up);
    cur = owner.get();
  }
  return false;
}

}  // namespace

Status ExportGeneration(Repository& repo, uint64_t gen, const std::string& out_arg,
                        const ProgressFn& progress) {
  Repository::Impl& r = internal::ImplOf(repo);
  Env* env = r.env;
  if (out_arg.empty()) return MakeError(Code::kInvalidArgument, "empty output path");
  const std::string out = fs::AbsolutePath(out_arg);
  const std::string parent = fs::Dirname(out), name = fs::Basename(out);
  if (name.empty() || name == "." || name == "..")
    return MakeError(Code::kInvalidArgument, "not a usable output path", out);
  git_oid commit = TXDIR_TRY(internal::FindGeneration(r, gen));
  auto files = TXDIR_TRY(r.store->ListTree(TXDIR_TRY(r.store->CommitTree(commit))));

  Fd pdir = TXDIR_TRY(fs::OpenDir(env, Env::kCwd, parent));
  // Plain files written into .txdir would be taken for the repository's
  // own (a stray folder in gens/ or tmp/); compared by identity, so no
  // spelling of the path and no symbolic link hides it.
  if (auto meta = env->StatAt(Env::kCwd, r.layout.meta, /*follow=*/false); meta) {
    if (TXDIR_TRY(IsAtOrBelow(env, pdir.get(), *meta)))
      return MakeError(Code::kInvalidArgument,
                       "output path is inside the repository's metadata folder", out);
  }
  if (auto st = env->StatAt(pdir.get(), name, /*follow=*/false); st) {
    if (!S_ISDIR(st->st_mode))
      return MakeError(Code::kExists, "output path exists and is not a directory", out);
    Fd existing = TXDIR_TRY(fs::OpenDir(env, pdir.get(), name));
    if (!TXDIR_TRY(env->ListDir(existing.get())).empty())
      return MakeError(Code::kExists, "output directory is not empty", out);
  } else if (st.error().code != Code::kNotFound) {
    return tl::unexpected(st.error());
  }

  const std::string tmp = fs::UniqueName(name + ".tmp-");
  TXDIR_CHECK(env->MkdirAt(pdir.get(), tmp, 0755));
  Status done = [&]() -> Status {
    Fd tdir = TXDIR_TRY(fs::OpenDir(env, pdir.get(), tmp));
    TXDIR_CHECK(WriteExport(r, tdir.get(), files, progress));
    // rename(2) replaces an empty directory; a non-empty one (filled since
    // the check above) fails with ENOTEMPTY/EEXIST -> kExists.
    if (auto rn = env->RenameAt(pdir.get(), tmp, pdir.get(), name); !rn) {
      if (rn.error().code == Code::kExists)
        return MakeError(Code::kExists, "output directory is not empty", out);
      return rn;
    }
    return fs::FsyncDir(env, pdir.get());
  }();
  if (!done) (void)fs::RemoveTree(env, pdir.get(), tmp);
  return done;
}

Result<int> RunInGeneration(const Snapshot& snap, const std::vector<std::string>& argv) {
  // Checked first: posix_spawn reports a directory it cannot enter with the
  // same errno as a missing program.
  if (::access(snap.path().c_str(), X_OK) != 0)
    return ErrnoError("cannot enter the generation's directory", snap.path(), errno);
  const internal::SpawnOutcome run = TXDIR_TRY(internal::Spawn(
      internal::SpawnSpec{.argv = argv,
                          .what = "the program",
                          .cwd = snap.path(),
                          .env = {"TXDIR_GENERATION=" + std::to_string(snap.generation()),
                                  "TXDIR_GENERATION_DIR=" + snap.path(), "PWD=" + snap.path()},
                          .like_system = true}));
  return run.ExitCode();
}

// --- generation references

namespace {

constexpr const char* kRefGrammar =
    "a generation number, or 'live', optionally followed by ~K or ^ steps back, "
    "as in live~1 or 12^";

// A decimal number of at most 19 digits (so that it fits in 64 bits) at
// `*pos`; advances past it. nullopt when there are no digits or too many.
std::optional<uint64_t> TakeNumber(std::string_view s, size_t* pos) {
  size_t end = *pos;
  uint64_t n = 0;
  while (end < s.size() && s[end] >= '0' && s[end] <= '9') {
    if (end - *pos == 19) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(s[end] - '0');
    ++end;
  }
  if (end == *pos) return std::nullopt;
  *pos = end;
  return n;
}

}  // namespace

Result<GenerationRef> ParseGenerationRef(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return MakeError(Code::kInvalidArgument, "'" + PrintablePath(text) +
                                                 "' is not a generation reference: " + why + " (" +
                                                 kRefGrammar + ")");
  };
  GenerationRef ref;
  size_t pos = 0;
  if (text.substr(0, 4) == "live") {
    pos = 4;
  } else {
    auto n = TakeNumber(text, &pos);
    if (!n) return bad(text.empty() ? "it is empty" : "it does not start with a number or 'live'");
    if (*n == 0) return bad("generations are numbered from 1");
    ref.number = *n;
  }
  while (pos < text.size()) {
    const char c = text[pos++];
    uint64_t k = 1;
    if (c == '~') {
      if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        auto n = TakeNumber(text, &pos);
        if (!n) return bad("the number after '~' is too long");
        k = *n;
      }
    } else if (c == '^') {
      if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        return bad("'^' takes no number: a generation has one parent (use ~K for K steps)");
    } else {
      return bad("unexpected '" + PrintablePath(std::string_view(&text[pos - 1], 1)) + "'");
    }
    if (ref.back > UINT64_MAX - k) return bad("too many steps back");
    ref.back += k;
  }
  return ref;
}

Result<uint64_t> ResolveGenerationRef(Repository& repo, std::string_view text) {
  const GenerationRef ref = TXDIR_TRY(ParseGenerationRef(text));
  uint64_t base = 0;
  if (ref.number) {
    base = *ref.number;
  } else {
    auto st = TXDIR_TRY(repo.Status());
    if (!st.live) return MakeError(Code::kNotFound, "'live': nothing has been published yet");
    base = *st.live;
  }
  if (ref.back == 0) return base;
  Repository::Impl& r = internal::ImplOf(repo);
  store::GenerationWalk walk(*r.store, TXDIR_TRY(internal::FindGeneration(r, base)));
  TXDIR_CHECK(walk.Next());  // onto generation `base` itself: reads nothing
  uint64_t number = base;
  for (uint64_t step = 0; step < ref.back; ++step) {
    if (!TXDIR_TRY(walk.Next()))
      return MakeError(Code::kNotFound, "'" + PrintablePath(text) + "' goes back past generation " +
                                            std::to_string(number) +
                                            ", the oldest in the history (" + std::to_string(step) +
                                            " of " + std::to_string(ref.back) + " steps back)");
    number = TXDIR_TRY(walk.Meta()).number;
  }
  return number;
}

// --- helpers

std::string FormatTime(int64_t time_ms) { return store::FormatTime(time_ms); }

int64_t NowMs() { return store::NowMs(); }

Result<int64_t> ParseSince(std::string_view text, int64_t now_ms) {
  auto bad = [&] {
    return MakeError(
        Code::kInvalidArgument,
        "'" + PrintablePath(text) +
            "' is neither a duration (7d, 12h, 30m, 1d12h, 500ms) nor an ISO date/time "
            "(2026-11-27, 2026-11-27T02:11:12Z)");
  };
  if (text.empty()) return bad();
  // A duration, in the grammar every command uses (ParseDurationMs). An
  // ISO time starts with a digit too, and may end in 'Z': it is not one.
  if (std::isdigit(static_cast<unsigned char>(text.front()))) {
    if (auto ms = internal::ParseDurationMs(std::string(text))) {
      if (*ms > now_ms)  // before 1970: no generation is that old, so a typo
        return MakeError(Code::kInvalidArgument,
                         "'" + PrintablePath(text) + "' ago is before 1970-01-01");
      return now_ms - *ms;
    }
  }
  // ISO-8601, UTC.
  std::string s(text);
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.pop_back();
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  int used = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10) return bad();
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad();
    ++pos;
    if (std::sscanf(s.c_str() + pos, "%2d:%2d%n", &h, &mi, &used) != 2 || used != 5) return bad();
    pos += 5;
    if (pos < s.size()) {
      if (std::sscanf(s.c_str() + pos, ":%2d%n", &sec, &used) != 1 || used != 3) return bad();
      pos += 3;
      if (pos < s.size()) {
        if (s[pos] != '.' || pos + 1 >= s.size()) return bad();
        std::string frac = s.substr(pos + 1);
        if (frac.size() > 9 || !std::all_of(frac.begin(), frac.end(), ::isdigit)) return bad();
        frac.resize(3, '0');
        ms = std::stoi(frac);
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(::timegm(&tm)) * 1000 + ms;
}

std::string PrintablePath(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace txdir
