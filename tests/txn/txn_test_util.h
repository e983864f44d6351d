// Helpers for the transaction tests: a repository on a fast file system,
// todo_db.sdn contents, and the pieces multi-process tests need (shared
// counters, a process-shared barrier, fork/wait).
#pragma once

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <new>
#include <string>
#include <thread>

#include "tests/core/test_util.h"
#include "txdir/database.h"
#include "txdir/repository.h"
#include "txdir/simple_records.h"
#include "txdir/transaction.h"

namespace txdir::testing {

inline constexpr const char* kTodoFile = "todo_db.sdn";

// /dev/shm when it exists: these tests check logic, not durability, and
// tmpfs keeps the many publishes fast. Otherwise $TMPDIR or /tmp.
inline std::string FastTmpBase() {
  return ::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "";
}

// A Todo with id `id` and recognisable field values.
inline Todo MakeTodo(int id) {
  Todo t;
  t.id = std::to_string(id);
  t.area = "area" + std::to_string(id % 7);
  t.description = "task " + std::to_string(id);
  t.file = "src/f" + std::to_string(id) + ".cc";
  t.line = 0;
  return t;
}

// todo_db.sdn holding records 0..n-1 (MakeTodo), canonical form.
inline std::string TodoDb(int n) {
  auto db = Database<Todo>::Load("");
  for (int i = 0; i < n; ++i) (void)db->Insert(MakeTodo(i));
  return *db->Save();
}

// Parses todo bytes; fails the test (and returns an empty database) on error.
inline Database<Todo> MustLoadTodos(const std::string& bytes, DatabaseOptions options = {}) {
  auto db = Database<Todo>::Load(bytes, std::move(options));
  EXPECT_TRUE(db.has_value()) << (db ? "" : db.error().ToString());
  return db ? std::move(*db) : *Database<Todo>::Load("");
}

// Reads todo_db.sdn in `tx`, applies `edit` to its Database and writes it back.
inline Status EditTodos(Transaction& tx, const std::function<Status(Database<Todo>&)>& edit,
                        DatabaseOptions options = {}) {
  auto bytes = TXDIR_TRY(tx.Read(kTodoFile));
  auto db = TXDIR_TRY(Database<Todo>::Load(bytes, std::move(options)));
  TXDIR_CHECK(edit(db));
  return tx.Write(kTodoFile, TXDIR_TRY(db.Save()));
}

// Sets one field of record `id` through Database<Todo>.
inline Status SetTodo(Transaction& tx, int id, const std::function<void(Todo&)>& change,
                      DatabaseOptions options = {}) {
  return EditTodos(
      tx,
      [&](Database<Todo>& db) -> Status {
        Todo t = TXDIR_TRY(db.Get(std::to_string(id)));
        change(t);
        return db.Update(t);
      },
      std::move(options));
}

// The group-commit queue's files of the repository at `root` with this
// suffix (".req", ".claimed", ".done"; "" for all). 0 before the first
// writer made the folder.
inline size_t QueueFiles(const std::string& root, const std::string& suffix) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root + "/.txdir/queue", ec))
    if (e.path().filename().string().ends_with(suffix)) ++n;
  return n;
}

// Waits up to 20 s for `n` queued requests.
inline bool WaitForQueued(const std::string& root, size_t n) {
  for (int i = 0; i < 2000; ++i) {
    if (QueueFiles(root, ".req") >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// A writer on a thread of its own, on its own handle, with its own
// transaction (group-commit tests).
struct ThreadWriter {
  std::unique_ptr<Repository> handle;
  std::thread thread;
  Result<CommitResult> result = MakeError(Code::kInternal, "not run");
};

// A repository in a fresh directory on the fast file system.
struct TxFixture : RepoFixture {
  TxFixture() : RepoFixture(FastTmpBase()) {}

  // A second, independent handle on the same repository (another writer).
  // `lock_timeout`: as OpenOptions (negative: the default, zero: fail at once).
  std::unique_ptr<Repository> OpenAnother(
      std::chrono::milliseconds lock_timeout = std::chrono::milliseconds(-1)) {
    OpenOptions o;
    o.lock_timeout = lock_timeout;
    auto r = Repository::Open(root, o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().ToString());
    return r ? std::move(*r) : nullptr;
  }

  std::string LiveFile(const std::string& rel) const { return ReadFile(live() + "/" + rel); }

  // The committed head's generation number (0 before the first publish).
  uint64_t Head() {
    auto s = repo->Status();
    EXPECT_TRUE(s.has_value());
    return s && s->committed ? *s->committed : 0;
  }

  // Head and live agree and the live generation verifies.
  void ExpectClean(uint64_t generation) {
    auto s = repo->Status();
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    EXPECT_EQ(s->committed, generation);
    EXPECT_EQ(s->live, generation);
    EXPECT_TRUE(s->consistent);
    auto v = repo->VerifyGeneration(generation);
    ASSERT_TRUE(v.has_value()) << v.error().ToString();
    EXPECT_TRUE(v->ok()) << v->issues.size() << " issue(s), first: "
                         << (v->issues.empty() ? ""
                                               : v->issues[0].path + ": " + v->issues[0].problem);
  }
};

// An object of type T in memory shared with forked children.
template <class T>
T* MapShared() {
  void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return new (p) T();
}
template <class T>
void UnmapShared(T* p) {
  p->~T();
  ::munmap(p, sizeof(T));
}

// A barrier for `n` processes, living in shared memory (MapShared).
struct ProcessBarrier {
  pthread_barrier_t barrier;
  void Init(unsigned n) {
    pthread_barrierattr_t attr;
    pthread_barrierattr_init(&attr);
    pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&barrier, &attr, n);
    pthread_barrierattr_destroy(&attr);
  }
  void Wait() { pthread_barrier_wait(&barrier); }
};

// The first error any process reports, for the parent to print.
struct SharedErrors {
  std::atomic<uint64_t> count{0};
  char first[512] = {};
  void Record(const std::string& what) {
    if (count.fetch_add(1) == 0) std::snprintf(first, sizeof first, "%s", what.c_str());
  }
};

// Runs `body` in a child process, which exits with its return value without
// running the parent's destructors or atexit handlers (the parent's
// TempDirs must survive it).
inline pid_t ForkChild(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (...) {
      rc = 99;
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  if (pid < 0) ADD_FAILURE() << "fork failed";
  return pid;
}

// Waits for `pid`; its exit code, or 128 + signal.
inline int WaitChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace txdir::testing
