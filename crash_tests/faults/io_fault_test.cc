// Injected I/O faults: fail the N-th mutating or syncing call of an
// operation with EIO, ENOSPC, EDQUOT, EROFS or a short write, for every N,
// through the library's Env seam (crash_tests/faults/fault_env.h). Each
// time: the operation returns an error naming the failing call's path (or
// succeeds, when the library legitimately tolerates that call failing);
// readers still see the previous generation, verified; and once the fault
// is gone, recovery and the next publish succeed (common/invariants.h).
//
// A failure after the commit point (the head ref moved) must not be
// reported as an error: the caller would publish again. The operation then
// succeeds, with live_pending when the live link could not follow, and
// readers may see old or new until recovery; an error with the head moved
// is a violation. Before the commit point an error must leave old.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "crash_tests/common/fixtures.h"
#include "crash_tests/common/invariants.h"
#include "crash_tests/faults/fault_env.h"
#include "tests/core/loop_mount.h"
#include "txdir/fsck.h"
#include "txdir/repository.h"
#include "txdir/retention.h"
#include "txdir/transaction.h"

namespace txdir::crash {
namespace {

constexpr FaultKind kKinds[] = {FaultKind::kEio, FaultKind::kEnospc, FaultKind::kEdquot,
                                FaultKind::kErofs, FaultKind::kShortWrite};

struct Op {
  std::string name;
  // Builds the starting state under dir/repo; fills the expectation with
  // old = the live generation and new = old + 1.
  std::function<void(const std::string& dir, Expectation* e)> prepare;
  std::function<Result<GenerationInfo>(Repository& repo, const std::string& dir)> run;
};

struct Tally {
  size_t points = 0, errors = 0, tolerated = 0, post_commit_errors = 0, not_reached = 0,
         live_pending = 0;
  std::map<std::string, size_t> tolerated_by_call;  // "write lock" -> count
  std::vector<std::string> violations;
};

void Common(const std::string& dir, Expectation* e) {
  e->next_source = dir + "/next";
  WriteTree(e->next_source, TreeNext());
  e->next_contents = TreeNext();
}

// Generations 1, 2 and 3 (TreeA, TreeB, TreeC) published in dir/repo.
void ThreeGenerationsIn(const std::string& dir) {
  InitRepo(dir + "/repo");
  PublishTree(dir + "/repo", dir + "/src", TreeA());
  PublishTree(dir + "/repo", dir + "/src", TreeB());
  PublishTree(dir + "/repo", dir + "/src", TreeC());
}

std::optional<uint64_t> CommittedHead(const std::string& root) {
  auto repo = Repository::Open(root);
  if (!repo) return std::nullopt;
  auto st = (*repo)->Status();
  if (!st) return std::nullopt;
  return st->committed.value_or(0);
}

// One operation with the n-th call failing as `kind`.
void RunOne(const Op& op, FaultKind kind, long n, Tally* t) {
  const std::string where = op.name + " " + FaultKindName(kind) + " #" + std::to_string(n) + ": ";
  ScratchDir d("fault");
  Expectation e;
  op.prepare(d.path(), &e);
  const uint64_t old_gen = *e.acceptable.begin();
  const uint64_t new_gen = *e.acceptable.rbegin();

  FaultEnv env;
  env.Arm(kind, n);
  Result<GenerationInfo> result = MakeError(Code::kInternal, "not run");
  {
    auto repo = Repository::Open(d / "repo", OpenOptions{.env = &env});
    if (!repo) {
      t->violations.push_back(where + "open failed: " + repo.error().ToString());
      return;
    }
    result = op.run(**repo, d.path());
  }
  const std::string call = env.failed_call() + " " + env.failed_path();
  if (!env.fired()) {
    ++t->not_reached;
    if (!result)
      t->violations.push_back(where + "failed without a fault: " + result.error().ToString());
    return;
  }
  ++t->points;
  const auto head = CommittedHead(d / "repo");
  if (result) {
    // The library survived the failed call (a diagnostic write, a hard
    // link it replaces by a copy, a clean-up): then it must have published.
    ++t->tolerated;
    ++t->tolerated_by_call
          [env.failed_call() + ":" +
           std::filesystem::path(env.failed_path()).filename().string().substr(0, 8)];
    if (result->number != new_gen)
      t->violations.push_back(where + "succeeded but published generation " +
                              std::to_string(result->number));
    e.acknowledged.push_back(new_gen);
    // live_pending: committed and durable, but the live link could not be
    // moved (the fault hit the swap); readers may still see the old
    // generation until recovery, which must then show the new one.
    e.acceptable =
        result->live_pending ? std::set<uint64_t>{old_gen, new_gen} : std::set<uint64_t>{new_gen};
    if (result->live_pending) ++t->live_pending;
  } else {
    ++t->errors;
    const std::string msg = result.error().ToString();
    if (msg.find(env.failed_path()) == std::string::npos)
      t->violations.push_back(where + "error does not name the failing call's path (" + call +
                              "): " + msg);
    if (head && *head == new_gen) {
      ++t->post_commit_errors;
      t->violations.push_back(where + "committed generation " + std::to_string(new_gen) +
                              " but reported an error [" + call + ": " + msg + "]");
    } else {
      // Before the commit point nothing may have changed for readers.
      Expectation strict = e;
      strict.acceptable = {old_gen};
      for (const auto& v : CheckReaderView(d / "repo", strict, "after the failed operation"))
        t->violations.push_back(where + v + " [" + call + ": " + msg + "]");
    }
  }
  if (!head || (*head != old_gen && *head != new_gen))
    t->violations.push_back(where + "committed head is not old or new");
  for (const auto& v : CheckInvariants(d / "repo", e))
    t->violations.push_back(where + v + " [" + call + "]");
}

void RunOp(const Op& op) {
  Tally t;
  for (FaultKind kind : kKinds) {
    // A fault-free run counts the calls this kind can fail.
    long calls = 0;
    {
      ScratchDir d("fault");
      Expectation e;
      op.prepare(d.path(), &e);
      FaultEnv env;
      env.Arm(kind, 0);
      auto repo = Repository::Open(d / "repo", OpenOptions{.env = &env});
      ASSERT_TRUE(repo) << repo.error().ToString();
      auto r = op.run(**repo, d.path());
      ASSERT_TRUE(r) << r.error().ToString();
      calls = env.count();
    }
    for (long n = 1; n <= calls + 1; ++n) RunOne(op, kind, n, &t);
  }
  std::printf(
      "IO_FAULTS op=%s points=%zu kinds=5 violations=%zu errors=%zu tolerated=%zu "
      "post_commit_errors=%zu live_pending=%zu not_reached=%zu\n",
      op.name.c_str(), t.points, t.violations.size(), t.errors, t.tolerated, t.post_commit_errors,
      t.live_pending, t.not_reached);
  std::string tolerated;
  for (const auto& [call, count] : t.tolerated_by_call)
    tolerated += " " + call + "=" + std::to_string(count);
  std::printf("IO_FAULTS op=%s tolerated_by_call:%s\n", op.name.c_str(), tolerated.c_str());
  std::fflush(stdout);
  EXPECT_GE(t.points, 50u);
  EXPECT_TRUE(t.violations.empty()) << FormatViolations(t.violations, 40);
}

TEST(IoFaults, Publish) {
  RunOp(Op{"publish",
           [](const std::string& dir, Expectation* e) {
             InitRepo(dir + "/repo");
             PublishTree(dir + "/repo", dir + "/src", TreeA());
             WriteTree(dir + "/src", TreeB());
             Common(dir, e);
             e->acknowledged = {1};
             e->acceptable = {1, 2};
             e->contents = {{1, TreeA()}, {2, TreeB()}};
           },
           [](Repository& repo, const std::string& dir) { return repo.Publish(dir + "/src"); }});
}

TEST(IoFaults, Rollback) {
  RunOp(Op{"rollback",
           [](const std::string& dir, Expectation* e) {
             InitRepo(dir + "/repo");
             PublishTree(dir + "/repo", dir + "/src", TreeA());
             PublishTree(dir + "/repo", dir + "/src", TreeB());
             Common(dir, e);
             e->acknowledged = {1, 2};
             e->acceptable = {2, 3};
             e->contents = {{1, TreeA()}, {2, TreeB()}, {3, TreeA()}};
           },
           [](Repository& repo, const std::string&) { return repo.Rollback(std::nullopt); }});
}

// A transaction commit that must merge: its base is generation 1, another
// writer published generation 2 meanwhile (record 1 of todo.sdn changed),
// and the transaction changes record 2 of the same table and adds a file.
// The commit merges record-wise and publishes generation 3.
FileMap TodoTree(const std::string& status1, const std::string& status2) {
  FileMap f = TreeA();
  f["todo.sdn"] = "todos |id, status|\n    1, " + status1 + "\n    2, " + status2 + "\n";
  return f;
}

TEST(IoFaults, TransactionCommitWithMerge) {
  RunOp(Op{"tx-merge",
           [](const std::string& dir, Expectation* e) {
             InitRepo(dir + "/repo");
             PublishTree(dir + "/repo", dir + "/src", TodoTree("open", "open"));
             Common(dir, e);
             e->acknowledged = {1};
             FileMap merged = TodoTree("done", "done");
             merged["added.txt"] = "from the transaction\n";
             e->acceptable = {2, 3};
             e->contents = {{1, TodoTree("open", "open")}, {2, TodoTree("done", "open")}};
             // Generation 3's table is the canonical SDN the merge writes;
             // checked through the store by the invariant's hash check.
           },
           [](Repository& repo, const std::string& dir) -> Result<GenerationInfo> {
             auto tx = TXDIR_TRY(repo.Begin());
             {
               // Another writer, on the plain Env: not subject to the fault.
               auto other = TXDIR_TRY(Repository::Open(dir + "/repo"));
               WriteTree(dir + "/src", TodoTree("done", "open"));
               TXDIR_CHECK(other->Publish(dir + "/src"));
             }
             TXDIR_CHECK(tx->Write("todo.sdn", "todos |id, status|\n    1, open\n    2, done\n"));
             TXDIR_CHECK(tx->Write("added.txt", "from the transaction\n"));
             auto c = TXDIR_TRY(tx->Commit(CommitOptions{.strategy = Strategy::kMerge}));
             if (c.merged.empty())
               return MakeError(Code::kInternal, "the commit did not merge todo.sdn");
             return c.generation;
           }});
}

// ---- gc --prune-history: a rewrite of the history, not a new generation.

struct PruneTally {
  size_t points = 0, errors = 0, tolerated = 0, errors_after_head_moved = 0, head_not_durable = 0,
         not_reached = 0;
  std::vector<std::string> violations;
};

// The newest generation's commit id (hex), or "" when it cannot be read.
std::string HeadCommit(const std::string& root) {
  auto repo = Repository::Open(root);
  if (!repo) return "";
  auto log = (*repo)->Log(1);
  return log && !log->empty() ? log->front().commit : "";
}

// `git rev-list --objects COMMIT` through git itself: every object the
// history from COMMIT reaches is present and readable.
bool HistoryIsWhole(const std::string& root, const std::string& commit) {
  RunResult r = RunCommand(
      {"/usr/bin/git", "--git-dir=" + root + "/.txdir/store.git", "rev-list", "--objects", commit});
  return r.exit_code == 0;
}

// Three generations, then `gc --keep 1 --prune-history` with the n-th call
// failing as `kind`. `tmpl` holds the three-generation repository, copied
// to `dir` (the same path each time) before the run.
void RunPruneOne(const std::string& tmpl, const std::string& dir, FaultKind kind, long n,
                 PruneTally* t) {
  const std::string where =
      std::string("prune ") + FaultKindName(kind) + " #" + std::to_string(n) + ": ";
  const std::string root = dir + "/repo";
  RemoveAll(dir);
  RunResult cp = RunCommand({"/usr/bin/cp", "-a", tmpl, dir});
  if (cp.exit_code != 0) {
    t->violations.push_back(where + "copying the repository: " + cp.Describe());
    return;
  }
  const std::string old_head = HeadCommit(root);
  FaultEnv env;
  env.Arm(kind, n);
  Result<GcReport> result = MakeError(Code::kInternal, "not run");
  {
    auto repo = Repository::Open(root, OpenOptions{.env = &env});
    if (!repo) {
      t->violations.push_back(where + "open failed: " + repo.error().ToString());
      return;
    }
    result = CollectGarbage(**repo, GcOptions{.keep = 1, .prune_history = true});
  }
  const std::string call = env.failed_call() + " " + env.failed_path();
  if (!env.fired()) {
    ++t->not_reached;
    if (!result)
      t->violations.push_back(where + "failed without a fault: " + result.error().ToString());
    return;
  }
  ++t->points;
  const std::string head = HeadCommit(root);
  if (head.empty()) t->violations.push_back(where + "the head cannot be read [" + call + "]");
  if (result) {
    ++t->tolerated;
    if (head == old_head)
      t->violations.push_back(where + "succeeded but did not rewrite the history [" + call + "]");
  } else {
    ++t->errors;
    const std::string msg = result.error().ToString();
    if (msg.find(env.failed_path()) == std::string::npos)
      t->violations.push_back(where + "error does not name the failing call's path (" + call +
                              "): " + msg);
    // After the commit point, a failure to delete what the old history
    // alone needs is an error and harmless. But a head that moved without
    // becoming durable ("commit outcome unknown") could come back as the
    // old one after a power loss: the old history must still be whole.
    if (head != old_head) {
      ++t->errors_after_head_moved;
      if (msg.find("commit outcome unknown") != std::string::npos) {
        ++t->head_not_durable;
        if (!HistoryIsWhole(root, old_head))
          t->violations.push_back(where +
                                  "the head may not be durable, yet objects of the old "
                                  "history were deleted [" +
                                  call + ": " + msg + "]");
      }
    }
  }
  // Whatever happened: generation 3 stays live with its files, recovery
  // and the next publish work (CheckInvariants), and the next prune leaves
  // one pack, no loose objects, and a store git fsck accepts.
  Expectation e;
  Common(dir, &e);
  e.acknowledged = {3};
  e.acceptable = {3};
  e.contents = {{3, TreeC()}};
  for (const auto& v : CheckInvariants(root, e))
    t->violations.push_back(where + v + " [" + call + "]");
  auto repo = Repository::Open(root);
  auto again = repo ? CollectGarbage(**repo, GcOptions{.keep = 1, .prune_history = true})
                    : Result<GcReport>(tl::unexpected(repo.error()));
  if (!again) {
    t->violations.push_back(where + "the next prune failed: " + again.error().ToString());
    return;
  }
  size_t packs = 0, loose = 0;
  for (const auto& f :
       std::filesystem::recursive_directory_iterator(root + "/.txdir/store.git/objects")) {
    if (f.path().extension() == ".pack") ++packs;
    if (f.is_regular_file() && f.path().parent_path().filename().string().size() == 2) ++loose;
  }
  if (packs != 1 || loose != 0)
    t->violations.push_back(where + "after the next prune: " + std::to_string(packs) +
                            " packs and " + std::to_string(loose) + " loose objects");
  RunResult git = RunCommand({"/usr/bin/git", "--git-dir=" + root + "/.txdir/store.git", "fsck",
                              "--full", "--no-dangling"});
  if (git.exit_code != 0) t->violations.push_back(where + "git fsck: " + git.Describe());
}

// The prune's commit point is the one every write passes (MoveHead): the
// faults before it must leave the old history standing, those after it the
// new one, and a failed durability of the head must keep what the old
// history needs. EIO and a short write: the other kinds take the same
// paths (the publish tests above run all five).
TEST(IoFaults, GcPruneHistory) {
  ScratchDir d("fault-gc");
  const std::string tmpl = d / "template";
  const std::string work = d / "work";
  {
    ThreeGenerationsIn(work);
    RunResult mv = RunCommand({"/usr/bin/mv", work, tmpl});
    ASSERT_EQ(mv.exit_code, 0) << mv.Describe();
  }
  PruneTally t;
  for (FaultKind kind : {FaultKind::kEio, FaultKind::kShortWrite}) {
    long calls = 0;
    {
      RemoveAll(work);
      ASSERT_EQ(RunCommand({"/usr/bin/cp", "-a", tmpl, work}).exit_code, 0);
      FaultEnv env;
      env.Arm(kind, 0);
      auto repo = Repository::Open(work + "/repo", OpenOptions{.env = &env});
      ASSERT_TRUE(repo) << repo.error().ToString();
      auto r = CollectGarbage(**repo, GcOptions{.keep = 1, .prune_history = true});
      ASSERT_TRUE(r) << r.error().ToString();
      ASSERT_EQ(r->history_pruned.size(), 2u);
      calls = env.count();
    }
    for (long n = 1; n <= calls + 1; ++n) RunPruneOne(tmpl, work, kind, n, &t);
  }
  std::printf(
      "IO_FAULTS op=gc-prune-history points=%zu violations=%zu errors=%zu tolerated=%zu "
      "errors_after_head_moved=%zu head_not_durable=%zu not_reached=%zu\n",
      t.points, t.violations.size(), t.errors, t.tolerated, t.errors_after_head_moved,
      t.head_not_durable, t.not_reached);
  std::fflush(stdout);
  EXPECT_GE(t.points, 20u);
  EXPECT_GE(t.errors, 1u);
  // The fsync of refs/heads/ after the rename failed at least once.
  EXPECT_GE(t.head_not_durable, 1u);
  EXPECT_TRUE(t.violations.empty()) << FormatViolations(t.violations, 40);
}

// ---- A real full disk: a loop-mounted ext4 image (tests/core/loop_mount.h).

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(IoFaults, RealEnospcOnLoopMountedExt4) {
  ScratchDir d("enospc");
  testing::LoopMount loop(d.path());
  if (!loop.reason().empty()) GTEST_SKIP() << loop.reason();
  const std::string root = loop.mnt() + "/repo";
  const std::string ballast = loop.mnt() + "/ballast";
  InitRepo(root);
  {
    // Space to give back after the disk fills.
    std::mt19937_64 rng(1);
    WriteTree(d / "ballast", {{"b", RandomBytes(rng, 3 << 20)}});
    std::filesystem::copy_file(d / "ballast/b", ballast);
  }
  // Incompressible files: each generation costs its size twice (the object
  // store and the materialized copy), so the disk fills within a few.
  std::mt19937_64 rng(42);
  Expectation e;
  uint64_t last_ok = 0;
  Result<GenerationInfo> failed = MakeError(Code::kInternal, "never failed");
  for (int i = 0; i < 20; ++i) {
    FileMap files = {{"a.bin", RandomBytes(rng, 1 << 20)}, {"b.bin", RandomBytes(rng, 1 << 20)}};
    WriteTree(d / "src", files);
    auto repo = Repository::Open(root);
    ASSERT_TRUE(repo) << repo.error().ToString();
    auto gen = (*repo)->Publish(d / "src");
    if (!gen) {
      failed = gen;
      e.contents[last_ok + 1] = files;
      break;
    }
    last_ok = gen->number;
    e.acknowledged.push_back(last_ok);
    e.contents[last_ok] = files;
  }
  ASSERT_FALSE(failed) << "the disk never filled";
  ASSERT_GE(last_ok, 1u) << "not even one generation fit: " << failed.error().ToString();
  const std::string msg = failed.error().ToString();
  std::printf("ENOSPC after %llu generations: %s\n", static_cast<unsigned long long>(last_ok),
              msg.c_str());
  EXPECT_NE(msg.find(std::strerror(ENOSPC)), std::string::npos) << msg;

  const auto head = CommittedHead(root);
  ASSERT_TRUE(head);
  e.acceptable = {last_ok, last_ok + 1};
  if (*head == last_ok) {
    Expectation strict = e;
    strict.acceptable = {last_ok};
    auto v = CheckReaderView(root, strict, "disk full");
    EXPECT_TRUE(v.empty()) << FormatViolations(v);
  }
  // Free space, then recovery and the next publish must work.
  std::filesystem::remove(ballast);
  Common(d.path(), &e);
  auto v = CheckInvariants(root, e);
  EXPECT_TRUE(v.empty()) << FormatViolations(v);
}

// Fills the file system under `path` to the last byte: big writes, then
// single bytes until even those fail.
void FillToTheLastByte(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  std::string chunk(1 << 16, 'x');
  for (size_t size = chunk.size(); size > 0; size /= 2)
    while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
    }
  ::close(fd);
}

uint64_t FreeBytes(const std::string& path) {
  struct statvfs v;
  return ::statvfs(path.c_str(), &v) == 0 ? uint64_t{v.f_bavail} * v.f_frsize : 0;
}

// On a disk with no byte free, the commands that give space back must
// still work: they take the writer lock, whose holder record is written in
// place (writer_lock.h), and then only remove.
TEST(IoFaults, SpaceFreeingCommandsWorkOnAFullDisk) {
  ScratchDir d("fulldisk");
  testing::LoopMount loop(d.path());
  if (!loop.reason().empty()) GTEST_SKIP() << loop.reason();
  const std::string root = loop.mnt() + "/repo";
  InitRepo(root);
  std::mt19937_64 rng(7);
  uint64_t published = 0;
  for (int i = 0; i < 4; ++i) {
    WriteTree(d / "src", {{"a.bin", RandomBytes(rng, 1 << 20)}, {"i", std::to_string(i)}});
    auto repo = Repository::Open(root);
    ASSERT_TRUE(repo) << repo.error().ToString();
    auto gen = (*repo)->Publish(d / "src");
    ASSERT_TRUE(gen) << gen.error().ToString();
    published = gen->number;
  }
  FillToTheLastByte(loop.mnt() + "/filler");
  EXPECT_LT(FreeBytes(loop.mnt()), 4096u);
  auto repo = Repository::Open(root);
  ASSERT_TRUE(repo) << repo.error().ToString();
  // A publish fails and changes nothing.
  WriteTree(d / "src", {{"a.bin", RandomBytes(rng, 1 << 20)}});
  auto full = (*repo)->Publish(d / "src");
  ASSERT_FALSE(full) << "published on a full disk";
  EXPECT_NE(full.error().ToString().find(std::strerror(ENOSPC)), std::string::npos)
      << full.error().ToString();
  auto rec = (*repo)->Recover();
  EXPECT_TRUE(rec) << rec.error().ToString();
  auto check = Fsck(**repo, FsckOptions{.repair = true});
  EXPECT_TRUE(check) << check.error().ToString();
  if (check) {
    EXPECT_TRUE(check->clean());
  }
  const uint64_t before = FreeBytes(loop.mnt());
  auto gc = CollectGarbage(**repo, GcOptions{.keep = 1});
  ASSERT_TRUE(gc) << gc.error().ToString();
  EXPECT_EQ(gc->removed.size(), published - 1);
  EXPECT_GT(FreeBytes(loop.mnt()), before + (1u << 20)) << "gc freed no space";
  auto st = (*repo)->Status();
  ASSERT_TRUE(st) << st.error().ToString();
  EXPECT_EQ(st->live, published);
}

}  // namespace
}  // namespace txdir::crash
