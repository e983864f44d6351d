// A pre-publish validator: parses every *.sdn file under the current
// directory (the staged generation) and exits 1, naming each file that does
// not parse, if any fails. Used by the hook tests.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "txdir/sdn.h"

int main() {
  int bad = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(".")) {
    if (!e.is_regular_file() || e.path().extension() != ".sdn") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = txdir::sdn::Parse(ss.str());
    if (!doc) {
      std::fprintf(stderr, "%s: %s\n", e.path().lexically_relative(".").c_str(),
                   doc.error().message.c_str());
      ++bad;
    }
  }
  if (bad > 0) std::printf("%d table(s) failed to parse\n", bad);
  return bad > 0 ? 1 : 0;
}
