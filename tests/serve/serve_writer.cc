// serve_writer ROOT FIRST_RUN COUNT ROWS: publishes COUNT generations of the
// sample dashboard's 11 tables into the repository at ROOT, runs FIRST_RUN,
// FIRST_RUN+1, ..., with the run counter written as the first line of every
// table ("# txdir-run: R", an SDN comment). The writer half of the
// consistency test; a separate process, as a real publisher is.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tools/sample_dashboard/sample_data.h"
#include "txdir/repository.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: serve_writer ROOT FIRST_RUN COUNT ROWS\n");
    return 2;
  }
  const std::string root = argv[1];
  const uint64_t first = std::strtoull(argv[2], nullptr, 10);
  const uint64_t count = std::strtoull(argv[3], nullptr, 10);
  const size_t rows = std::strtoull(argv[4], nullptr, 10);
  auto repo = txdir::Repository::Open(root);
  if (!repo) {
    std::fprintf(stderr, "serve_writer: %s\n", repo.error().ToString().c_str());
    return 1;
  }
  const std::string src = root + ".writer-src";
  for (uint64_t run = first; run < first + count; ++run) {
    std::filesystem::create_directories(src);
    for (const auto& f : txdir::sample::RenderDashboard({.seed = 7, .run = run, .rows = rows})) {
      std::string error;
      const std::string text = "# txdir-run: " + std::to_string(run) + "\n" + f.content;
      if (!txdir::sample::WriteFile(src + "/" + f.name, text, &error)) {
        std::fprintf(stderr, "serve_writer: %s\n", error.c_str());
        return 1;
      }
    }
    auto g = (*repo)->Publish(src, {.message = "run " + std::to_string(run)});
    if (!g) {
      std::fprintf(stderr, "serve_writer: publish: %s\n", g.error().ToString().c_str());
      return 1;
    }
  }
  std::printf("published %llu generations\n", static_cast<unsigned long long>(count));
  return 0;
}
