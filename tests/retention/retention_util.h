// Helpers shared by the retention tests: a repository on /dev/shm (these
// tests check logic, not durability), publishing small trees, listing the
// materialized generations.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"
#include "tests/core/test_util.h"
#include "txdir/fsck.h"
#include "txdir/repository.h"
#include "txdir/retention.h"

namespace txdir::testing {

inline std::string FastTmpBase() {
  struct stat st {};
  return ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "";
}

struct RetentionFixture {
  TempDir tmp{FastTmpBase()};
  std::string root = tmp / "repo";
  std::string src = tmp / "src";
  std::unique_ptr<Repository> repo;

  RetentionFixture() {
    auto r = Repository::Init(root);
    if (!r) {
      ADD_FAILURE() << "Init: " << r.error().ToString();
      return;
    }
    repo = std::move(*r);
  }

  // Publishes {a.txt: "v<i>", same.txt: "same"} (plus `extra`); returns its number.
  uint64_t Publish(int i, const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> files = {{"a.txt", "v" + std::to_string(i) + "\n"},
                                                {"same.txt", "same\n"}};
    files.insert(extra.begin(), extra.end());
    MakeTree(src, files);
    auto g = repo->Publish(src, PublishOptions{.message = "gen " + std::to_string(i)});
    if (!g) {
      ADD_FAILURE() << "Publish: " << g.error().ToString();
      return 0;
    }
    return g->number;
  }

  // Numbers of the directories under .txdir/gens, sorted.
  std::vector<uint64_t> Materialized() const {
    std::vector<uint64_t> out;
    for (const auto& e : stdfs::directory_iterator(root + "/.txdir/gens")) {
      const std::string name = e.path().filename().string();
      if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit))
        out.push_back(std::stoull(name));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Re-opens the repository (after a CLI changed its config).
  void Reopen() {
    repo.reset();
    auto r = Repository::Open(root);
    ASSERT_TRUE(r) << r.error().ToString();
    repo = std::move(*r);
  }
};

inline std::vector<uint64_t> Seq(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

}  // namespace txdir::testing
