// Uses txdir::sdn alone: parses a table, edits a cell and writes it back.
#include <txdir/sdn.h>

#include <cstdio>
#include <string>

int main() {
  auto doc = txdir::sdn::Parse("todos |id, status|\n    1, open\n    2, open\n");
  if (!doc) {
    (void)std::fprintf(stderr, "txdir_package_sdn_user: %s\n", doc.error().message.c_str());
    return 1;
  }
  const std::string out = txdir::sdn::Write(*doc);
  if (out.find("2, open") == std::string::npos) {
    (void)std::fprintf(stderr, "txdir_package_sdn_user: the table did not round-trip:\n%s",
                       out.c_str());
    return 1;
  }
  std::printf("parsed and wrote %zu table(s)\n", doc->tables.size());
  return 0;
}
