// txdir-db-batch-bench: whole-process cost of record updates through the
// txdir CLI, one `txdir db DIR FILE TABLE set ID status=done` process per
// update against one `txdir db DIR --batch` of the same updates, on a
// generated table (default 3,000 rows, about 600 KB).
//
//   txdir-db-batch-bench [--txdir PATH] [--rows 3000] [--updates 300] [--dir D]
//
// Each side gets its own repository seeded with the same table; both must
// end with byte-identical files, the single side with one generation per
// update and the batch side with one. Prints the wall time per update of
// both. Build txdir and this program in Release for real figures.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "txdir/repository.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Runs `txdir args...` with stdin from `in` and output discarded; its exit
// code, or -1 when it could not run or did not exit.
int Run(const std::string& txdir, std::vector<std::string> args,
        const std::string& in = "/dev/null") {
  args.insert(args.begin(), txdir);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, txdir.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  return static_cast<bool>(f.flush());
}

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

uint64_t Head(const std::string& root) {
  auto repo = txdir::Repository::Open(root);
  if (!repo) return 0;
  auto s = (*repo)->Status();
  return s && s->committed ? *s->committed : 0;
}

// A repository at `root` whose generation 1 holds todo_db.sdn = `table`.
bool Seed(const std::string& txdir, const std::string& root, const std::string& src,
          const std::string& table) {
  std::filesystem::create_directories(src);
  return WriteText(src + "/todo_db.sdn", table) && Run(txdir, {"init", root}) == 0 &&
         Run(txdir, {"publish", root, "--from", src, "-m", "seed"}) == 0;
}

struct Options {
  std::string txdir = TXDIR_CLI, dir;
  int rows = 3000, updates = 300;
};

// The record the i-th update sets: spread over the whole table.
std::string IdOf(const Options& o, int i) { return std::to_string(i * (o.rows / o.updates)); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* tmp = std::getenv("TMPDIR");
  o.dir = tmp != nullptr ? tmp : "/tmp";
  txdir::cmdline::Program program;
  program.name = "txdir-db-batch-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Whole-process txdir db set, one process per update, against one db --batch";
  app.Add("--txdir", &o.txdir, "The txdir binary (default: the one built with this)");
  app.Add("--rows", &o.rows, "Rows in the generated table").Range(1, 1000000);
  app.Add("--updates", &o.updates, "Records updated").Range(1, 100000);
  app.Add("--dir", &o.dir, "Where the repositories go (default $TMPDIR or /tmp)");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;
  if (o.updates > o.rows) {
    (void)std::fprintf(stderr, "--updates must not exceed --rows\n");
    return 2;
  }
  std::string work = o.dir + "/txdir-db-batch-bench.XXXXXX";
  if (::mkdtemp(work.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string table = txdir::bench::GenerateTodoTable(o.rows);
  const std::string one = work + "/single", many = work + "/batch";
  if (!Seed(o.txdir, one, work + "/src", table) || !Seed(o.txdir, many, work + "/src", table)) {
    (void)std::fprintf(stderr, "cannot seed the repositories with %s\n", o.txdir.c_str());
    return 1;
  }

  std::vector<double> each;
  for (int i = 0; i < o.updates; ++i) {
    auto t0 = Clock::now();
    int rc = Run(o.txdir, {"db", one, "todo_db.sdn", "todos", "set", IdOf(o, i), "status=done"});
    each.push_back(Ms(Clock::now() - t0));
    if (rc != 0) {
      (void)std::fprintf(stderr, "txdir db set %s exited %d\n", IdOf(o, i).c_str(), rc);
      return 1;
    }
  }

  std::string input;
  for (int i = 0; i < o.updates; ++i)
    input += R"({"file":"todo_db.sdn","table":"todos","op":"set","id":")" + IdOf(o, i) +
             R"(","fields":{"status":"done"}})"
             "\n";
  const std::string input_path = work + "/batch.jsonl";
  if (!WriteText(input_path, input)) return 1;
  auto t0 = Clock::now();
  int rc = Run(o.txdir, {"db", many, "--batch"}, input_path);
  const double batch_ms = Ms(Clock::now() - t0);
  if (rc != 0) {
    (void)std::fprintf(stderr, "txdir db --batch exited %d\n", rc);
    return 1;
  }

  // Both sides made the same edits; only the number of generations differs.
  const bool same =
      ReadText(one + "/current/todo_db.sdn") == ReadText(many + "/current/todo_db.sdn");
  const uint64_t gens_one = Head(one), gens_many = Head(many);
  if (!same || gens_one != static_cast<uint64_t>(o.updates) + 1 || gens_many != 2) {
    (void)std::fprintf(stderr, "results differ: same file %d, heads %llu and %llu\n", same ? 1 : 0,
                       static_cast<unsigned long long>(gens_one),
                       static_cast<unsigned long long>(gens_many));
    return 1;
  }
  std::sort(each.begin(), each.end());
  double sum = 0;
  for (double ms : each) sum += ms;
  auto at = [&](double q) {
    return each[static_cast<size_t>(q * static_cast<double>(each.size() - 1))];
  };
  std::printf("table: %d rows, %zu bytes; %d updates; %s on %s\n", o.rows, table.size(), o.updates,
              o.txdir.c_str(), txdir::bench::FsName(work).c_str());
  std::printf(
      "db set, one process per update: %.2f ms per update (median %.2f, p10 %.2f, "
      "p90 %.2f); %.0f ms in all; %d generations\n",
      sum / o.updates, at(0.5), at(0.1), at(0.9), sum, o.updates);
  std::printf("db --batch, one process:        %.3f ms per update; %.0f ms in all; 1 generation\n",
              batch_ms / o.updates, batch_ms);
  std::printf("speed-up: %.0fx\n", sum / batch_ms);
  txdir::bench::RemoveTree(work);
  return 0;
}
