// txdir-sample-dashboard: writes the Simple dashboard's 11 SDN tables into
// OUT_DIR, one plain file write after another, as the real dashboard does.
//
//   txdir-sample-dashboard OUT_DIR [--seed N] [--run R] [--rows K]
//
// The same seed, run and rows give the same bytes. A later --run changes
// what a dashboard refresh changes (timestamps, test counts, durations,
// statuses), so publishing run 1, 2, 3 ... gives realistic generations.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "tools/sample_dashboard/sample_data.h"

int main(int argc, char** argv) {
  namespace sample = txdir::sample;
  CLI::App app{"Write the Simple dashboard's 11 SDN tables (sample data) into OUT_DIR"};
  std::string out_dir;
  sample::Options o;
  bool quiet = false;
  app.add_option("OUT_DIR", out_dir, "Directory to write the tables into (created if missing)")
      ->required();
  app.add_option("--seed", o.seed, "Seed: the same seed, run and rows give the same files")
      ->capture_default_str();
  app.add_option("--run", o.run,
                 "Dashboard run (1, 2, ...): each run changes what a refresh "
                 "changes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--rows", o.rows, "Rows scale (the big tables have this many rows)")
      ->check(CLI::Range(4, 1000000))
      ->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "Print nothing");
  CLI11_PARSE(app, argc, argv);

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
