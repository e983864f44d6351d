#include "crash_tests/common/fixtures.h"

#include <stdexcept>

#include "txdir/repository.h"

namespace txdir::crash {

FileMap TreeA() {
  return {{"index.html", "<h1>alpha</h1>\n"},
          {"data/table.sdn", "id name\n1 alpha\n2 bravo\n"},
          {"data/deep/notes.txt", "kept across generations\n"},
          {"bin/run.sh", "#!/bin/sh\necho run\n"},
          {"latest", "-> index.html"}};
}

FileMap TreeB() {
  FileMap b = TreeA();
  b["index.html"] = "<h1>bravo</h1>\n";
  b.erase("data/table.sdn");
  b["data/extra.sdn"] = "id value\n1 42\n";
  return b;
}

FileMap TreeC() {
  FileMap c = TreeB();
  c["index.html"] = "<h1>charlie</h1>\n";
  c["data/deep/more.txt"] = "more\n";
  return c;
}

FileMap TreeNext() {
  return {{"index.html", "<h1>after recovery</h1>\n"},
          {"data/deep/notes.txt", "kept across generations\n"}};
}

void InitRepo(const std::string& root) {
  auto repo = Repository::Init(root);
  if (!repo) throw std::runtime_error("init " + root + ": " + repo.error().ToString());
}

uint64_t PublishTree(const std::string& root, const std::string& source, const FileMap& files) {
  WriteTree(source, files);
  auto repo = Repository::Open(root);
  if (!repo) throw std::runtime_error("open " + root + ": " + repo.error().ToString());
  // A crash test may replace the whole set: the publish guard is not what it tests.
  auto gen = (*repo)->Publish(source, {.allow_remove_all = true});
  if (!gen) throw std::runtime_error("publish " + source + ": " + gen.error().ToString());
  return gen->number;
}

std::string CliPath() {
#ifdef TXDIR_CLI
  return TXDIR_CLI;
#else
  return "txdir";
#endif
}

}  // namespace txdir::crash
