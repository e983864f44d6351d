// txdir-sdn-edit-bench: the in-process cost of one record edit of a large SDN
// table: Parse + one cell changed + Write, on a generated table of N rows
// (default 3,000, about 600 KB) in the dashboard writer's style.
//
//   txdir-sdn-edit-bench [--rows N] [--runs R]
//
// Prints the text size, then the median, p10 and p90 over R runs (default
// 200) of parse+edit+write, and of each step alone. Build in Release for real
// figures; the goal is a median of 2 ms or less for 3,000 rows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tools/bench/bench_util.h"
#include "tools/cmdline/cmdline.h"
#include "txdir/sdn.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Stats {
  double median, p10, p90;
};

Stats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  return Stats{at(0.5), at(0.1), at(0.9)};
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  txdir::cmdline::Program program;
  program.name = "txdir-sdn-edit-bench";
  txdir::cmdline::Command& app = program.globals;
  app.help = "Parse + one edit + write of a large SDN table";
  int rows = 3000, runs = 200;
  app.Add("--rows", &rows, "Rows in the generated table").Range(1, 10000000);
  app.Add("--runs", &runs, "Measured runs").Range(1, 100000);
  if (auto code = txdir::cmdline::ParseMain(program, argc, argv)) return *code;

  const std::string text = txdir::bench::GenerateTodoTable(rows);
  std::vector<double> total, parse, write;
  std::string out;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    auto doc = txdir::sdn::Parse(text);
    auto t1 = Clock::now();
    if (!doc) {
      (void)std::fprintf(stderr, "parse failed: %s\n", doc.error().message.c_str());
      return 1;
    }
    auto& table = doc->tables[0];
    table.rows[static_cast<size_t>(table.FindRow(std::to_string(rows / 2)))][9] = "done";
    auto t2 = Clock::now();
    out = txdir::sdn::Write(*doc);
    auto t3 = Clock::now();
    total.push_back(Ms(t3 - t0));
    parse.push_back(Ms(t1 - t0));
    write.push_back(Ms(t3 - t2));
  }
  // "open" -> "done" in a quoted column: the same length, one line differs.
  if (out.size() != text.size() || out == text) {
    (void)std::fprintf(stderr, "the edit did not change exactly one cell\n");
    return 1;
  }
  std::printf("table: %d rows, %zu bytes; %d runs\n", rows, text.size(), runs);
  for (auto [name, v] : {std::pair{"parse+edit+write", &total}, std::pair{"parse", &parse},
                         std::pair{"write", &write}}) {
    Stats s = Summarize(*v);
    std::printf("%-17s median %.3f ms  p10 %.3f ms  p90 %.3f ms\n", name, s.median, s.p10, s.p90);
  }
  return 0;
}
