// txdir-sample-dashboard: writes the Simple dashboard's 11 SDN tables into
// OUT_DIR, one plain file write after another, as the real dashboard does.
//
//   txdir-sample-dashboard OUT_DIR [--seed N] [--run R] [--rows K]
//
// The same seed, run and rows give the same bytes. A later --run changes
// what a dashboard refresh changes (timestamps, test counts, durations,
// statuses), so publishing run 1, 2, 3 ... gives realistic generations.
#include <cstdio>
#include <limits>
#include <string>

#include "tools/cmdline/cmdline.h"
#include "tools/sample_dashboard/sample_data.h"

int main(int argc, char** argv) {
  namespace sample = txdir::sample;
  txdir::cmdline::Program program;
  program.name = "txdir-sample-dashboard";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Write the Simple dashboard's 11 SDN tables (sample data) into OUT_DIR";
  std::string out_dir;
  sample::Options o;
  bool quiet = false;
  app.Add("OUT_DIR", &out_dir, "Directory to write the tables into (created if missing)")
      .Required();
  app.Add("--seed", &o.seed, "Seed: the same seed, run and rows give the same files").ShowDefault();
  app.Add("--run", &o.run,
          "Dashboard run (1, 2, ...): each run changes what a refresh "
          "changes")
      .Range(1, std::numeric_limits<int>::max())
      .ShowDefault();
  app.Add("--rows", &o.rows, "Rows scale (the big tables have this many rows)")
      .Range(4, 1000000)
      .ShowDefault();
  app.Flag("-q,--quiet", &quiet, "Print nothing");
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;

  std::string error;
  if (!sample::WriteDashboard(out_dir, o, &error)) {
    // A failed write to stderr has nowhere to be reported; the exit code is.
    (void)std::fprintf(stderr, "txdir-sample-dashboard: error: %s\n", error.c_str());
    return 1;
  }
  if (!quiet) {
    size_t bytes = 0;
    for (size_t t = 0; t < sample::kTableCount; ++t) bytes += sample::RenderTable(t, o).size();
    std::printf("wrote %zu tables (%zu bytes, seed %llu, run %llu) to %s\n", sample::kTableCount,
                bytes, static_cast<unsigned long long>(o.seed),
                static_cast<unsigned long long>(o.run), out_dir.c_str());
  }
  return 0;
}
