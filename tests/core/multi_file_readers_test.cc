// Multi-process: one writer publishes 11 files per
// generation while readers read all 11 files in a loop.
//
// Every file starts with "seq=<n> manifest=<hash>" where <hash> is computed
// over the bodies of all 11 files of round n, so a reader can tell from the
// bytes alone whether the 11 files it read belong together.
//  - Snapshot readers (the library's reader API) must never see a mix.
//  - Naive readers open <root>/current/<file> for each file separately; they
//    do see mixes, which shows the check is able to fail.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "test_util.h"

namespace txdir {
namespace {

constexpr int kFiles = 11;
constexpr int kSnapshotReaders = 4;
constexpr int kNaiveReaders = 2;

std::string FileName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "table_%02d.sdn", i);
  return buf;
}

// The body of file i in round `seq`: a small SDN-like table whose values
// depend on both.
std::string Body(int i, uint64_t seq) {
  std::string s = "table" + std::to_string(i) + " |id, value|\n";
  for (int row = 0; row < 20; ++row)
    s += "  " + std::to_string(row) + ", " + std::to_string(seq * 131 + row * 7 + i) + "\n";
  return s;
}

uint64_t Fnv1a(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The manifest hash over the 11 bodies of one round.
uint64_t Manifest(const std::vector<std::string>& bodies) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& b : bodies) h = Fnv1a(Fnv1a(h, b), "\x1f");
  return h;
}

std::string Header(uint64_t seq, uint64_t manifest) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "seq=%" PRIu64 " manifest=%016" PRIx64 "\n", seq, manifest);
  return buf;
}

void WriteRound(const std::string& src, uint64_t seq) {
  std::vector<std::string> bodies;
  for (int i = 0; i < kFiles; ++i) bodies.push_back(Body(i, seq));
  const std::string header = Header(seq, Manifest(bodies));
  for (int i = 0; i < kFiles; ++i) testing::WriteFile(src + "/" + FileName(i), header + bodies[i]);
}

struct Parsed {
  bool ok = false;
  uint64_t seq = 0, manifest = 0;
  std::string body;
};

Parsed Parse(const std::string& data) {
  Parsed p;
  size_t nl = data.find('\n');
  if (nl == std::string::npos) return p;
  p.ok = std::sscanf(data.c_str(), "seq=%" SCNu64 " manifest=%" SCNx64, &p.seq, &p.manifest) == 2;
  p.body = data.substr(nl + 1);
  return p;
}

// True when the 11 files belong to one round: same seq, same manifest, and
// the manifest matches the bodies read.
bool Consistent(const std::vector<Parsed>& files) {
  std::vector<std::string> bodies;
  for (const auto& f : files) {
    if (!f.ok || f.seq != files[0].seq || f.manifest != files[0].manifest) return false;
    bodies.push_back(f.body);
  }
  return Manifest(bodies) == files[0].manifest;
}

// Counters shared by all processes (an anonymous shared mapping).
struct Shared {
  std::atomic<int> writer_done{0};
  std::atomic<uint64_t> generations{0};
  std::atomic<uint64_t> snapshot_reads{0};
  std::atomic<uint64_t> torn{0};
  std::atomic<uint64_t> wrong_generation{0};
  std::atomic<uint64_t> naive_reads{0};
  std::atomic<uint64_t> naive_mixed{0};
  std::atomic<uint64_t> errors{0};
  char first_error[512];
};

void RecordError(Shared* sh, const std::string& what) {
  if (sh->errors.fetch_add(1) == 0)
    std::snprintf(sh->first_error, sizeof sh->first_error, "%s", what.c_str());
}

void RunWriter(Shared* sh, const std::string& root, const std::string& src, uint64_t rounds) {
  auto repo = Repository::Open(root);
  if (!repo) {
    RecordError(sh, "writer open: " + repo.error().ToString());
  } else {
    for (uint64_t seq = 1; seq <= rounds; ++seq) {
      WriteRound(src, seq);
      auto g = (*repo)->Publish(src, PublishOptions{.message = "round " + std::to_string(seq)});
      if (!g) {
        RecordError(sh, "publish: " + g.error().ToString());
        break;
      }
      sh->generations.fetch_add(1);
    }
  }
  sh->writer_done.store(1);
}

void RunSnapshotReader(Shared* sh, const std::string& root) {
  while (sh->writer_done.load() == 0) {
    auto snap = Snapshot::OpenLive(root);
    if (!snap) {
      RecordError(sh, "OpenLive: " + snap.error().ToString());
      continue;
    }
    std::vector<Parsed> files;
    for (int i = 0; i < kFiles; ++i) {
      auto data = snap->ReadFile(FileName(i));
      if (!data) {
        RecordError(sh, "snapshot read: " + data.error().ToString());
        break;
      }
      files.push_back(Parse(*data));
    }
    if (files.size() != kFiles) continue;
    sh->snapshot_reads.fetch_add(1);
    if (!Consistent(files)) sh->torn.fetch_add(1);
    // Generation 1 is round 0: the snapshot's number must match the bytes.
    else if (files[0].seq + 1 != snap->generation())
      sh->wrong_generation.fetch_add(1);
    // Leave the writer some CPU on a small machine; reads stay plentiful.
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void RunNaiveReader(Shared* sh, const std::string& root) {
  const std::string live = root + "/current/";
  while (sh->writer_done.load() == 0) {
    std::vector<Parsed> files;
    for (int i = 0; i < kFiles; ++i) {
      files.push_back(Parse(testing::ReadFile(live + FileName(i))));
      // The pause a real reader spends between files (parsing, say).
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    sh->naive_reads.fetch_add(1);
    if (!Consistent(files)) sh->naive_mixed.fetch_add(1);
  }
}

uint64_t Rounds() {
  if (const char* s = std::getenv("TXDIR_SCENARIO_B_GENERATIONS"))
    return std::strtoull(s, nullptr, 10);
  return 500;
}

// Where to run. This test checks what readers see, not durability, so it
// prefers a tmpfs (/dev/shm): on a disk, the fsyncs of 500 publishes take
// minutes. TXDIR_SCENARIO_B_DIR overrides; otherwise $TMPDIR or /tmp.
std::string BaseDir() {
  if (const char* d = std::getenv("TXDIR_SCENARIO_B_DIR"); d && *d) return d;
  if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return "";
}

TEST(MultiFileReaders, SnapshotReadersNeverSeeMixedGenerations) {
  testing::TempDir tmp(BaseDir());
  std::printf("SCENARIO_B directory %s\n", tmp.path().c_str());
  const std::string root = tmp / "dash", src = tmp / "src";
  {
    auto repo = Repository::Init(root);
    ASSERT_TRUE(repo) << repo.error().ToString();
    WriteRound(src, 0);
    auto g = (*repo)->Publish(src);
    ASSERT_TRUE(g) << g.error().ToString();
    ASSERT_EQ(g->number, 1u);
  }
  void* mem =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  Shared* sh = new (mem) Shared();
  const uint64_t rounds = Rounds();

  auto start = std::chrono::steady_clock::now();
  std::vector<pid_t> readers;
  auto spawn = [&](auto fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
      fn();
      ::_exit(0);
    }
    return pid;
  };
  for (int i = 0; i < kSnapshotReaders; ++i)
    readers.push_back(spawn([&] { RunSnapshotReader(sh, root); }));
  for (int i = 0; i < kNaiveReaders; ++i)
    readers.push_back(spawn([&] { RunNaiveReader(sh, root); }));
  pid_t writer = spawn([&] { RunWriter(sh, root, src, rounds); });

  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer died";
  sh->writer_done.store(1);  // also when the writer crashed
  for (pid_t r : readers) {
    ASSERT_EQ(::waitpid(r, &status, 0), r);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader died";
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf(
      "SCENARIO_B generations=%" PRIu64 " snapshot_reads=%" PRIu64 " torn=%" PRIu64
      " naive_reads=%" PRIu64 " naive_mixed=%" PRIu64 " (%.1f s, %d snapshot readers, %d naive)\n",
      sh->generations.load(), sh->snapshot_reads.load(), sh->torn.load(), sh->naive_reads.load(),
      sh->naive_mixed.load(), secs, kSnapshotReaders, kNaiveReaders);
  std::fflush(stdout);

  EXPECT_EQ(sh->errors.load(), 0u) << "first error: " << sh->first_error;
  EXPECT_EQ(sh->generations.load(), rounds);
  EXPECT_GT(sh->snapshot_reads.load(), 0u);
  EXPECT_EQ(sh->torn.load(), 0u) << "a Snapshot reader saw files of different generations";
  EXPECT_EQ(sh->wrong_generation.load(), 0u) << "Snapshot::generation() disagrees with its files";
  EXPECT_GT(sh->naive_reads.load(), 0u);
  EXPECT_GT(sh->naive_mixed.load(), 0u)
      << "naive per-file reads never saw a mix: the check would not catch torn reads";

  // The last generation is live and whole.
  auto snap = Snapshot::OpenLive(root);
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->generation(), rounds + 1);
  sh->~Shared();
  ::munmap(mem, sizeof(Shared));
}

// The checker itself: a set of files from two rounds is detected.
TEST(MultiFileReaders, CheckerDetectsAMix) {
  std::vector<Parsed> files;
  for (int i = 0; i < kFiles; ++i) {
    std::vector<std::string> bodies;
    uint64_t seq = i == 5 ? 8 : 7;
    for (int k = 0; k < kFiles; ++k) bodies.push_back(Body(k, seq));
    files.push_back(Parse(Header(seq, Manifest(bodies)) + bodies[i]));
  }
  EXPECT_FALSE(Consistent(files));
  files[5] = files[4];
  EXPECT_FALSE(Consistent(files)) << "right header, wrong body";
  std::vector<std::string> bodies;
  for (int k = 0; k < kFiles; ++k) bodies.push_back(Body(k, 7));
  std::vector<Parsed> whole;
  for (int i = 0; i < kFiles; ++i) whole.push_back(Parse(Header(7, Manifest(bodies)) + bodies[i]));
  EXPECT_TRUE(Consistent(whole));
}

}  // namespace
}  // namespace txdir
