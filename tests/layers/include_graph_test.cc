// The layers of the tree are physical: every include points down
// (tools -> txn -> sdn -> store), public headers include only public
// headers, the programs in tools/ use the public API only (the benchmarks
// may also reach the store's raw-libgit2 baseline), and only store/ calls
// libgit2. The checker runs on the source
// tree and, to show it can fail, on small trees that break each rule.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

enum Layer { kStore = 0, kSdn = 1, kTxn = 2, kTools = 3 };
const char* const kLayerNames[] = {"store", "sdn", "txn", "tools"};

// The public headers that each lower layer owns; every other one under
// include/txdir/ is the transaction layer's.
const std::map<std::string, Layer> kPublicOwners = {
    {"include/txdir/error.h", kStore},       {"include/txdir/env.h", kStore},
    {"include/txdir/atomic_file.h", kStore}, {"include/txdir/progress.h", kStore},
    {"include/txdir/log.h", kStore},         {"include/txdir/sdn.h", kSdn},
    {"include/txdir/strategy.h", kSdn},      {"include/txdir/record_merge.h", kSdn},
    {"include/txdir/records.h", kSdn},       {"include/txdir/database.h", kSdn},
    {"include/txdir/database_impl.h", kSdn}, {"include/txdir/record_edit.h", kSdn},
};

std::optional<Layer> LayerOf(const std::string& rel) {
  if (auto it = kPublicOwners.find(rel); it != kPublicOwners.end()) return it->second;
  if (rel.rfind("store/", 0) == 0) return kStore;
  if (rel.rfind("txn/sdn/", 0) == 0) return kSdn;
  if (rel.rfind("txn/", 0) == 0 || rel.rfind("include/txdir/", 0) == 0) return kTxn;
  if (rel.rfind("tools/", 0) == 0) return kTools;
  return std::nullopt;
}

// Where `#include "name"` in `from` (relative to the root) points, relative
// to the root: next to `from` when that file exists, else under include/
// for "txdir/...", else from the root.
std::string Resolve(const fs::path& root, const std::string& from, const std::string& name) {
  const fs::path beside = fs::path(from).parent_path() / name;
  if (fs::exists(root / beside)) return beside.lexically_normal().string();
  if (name.rfind("txdir/", 0) == 0) return "include/" + name;
  return name;
}

std::vector<std::string> Problems(const fs::path& root) {
  static const std::regex include_re(R"re(^\s*#\s*include\s*"([^"]+)")re");
  static const std::regex git2_re(R"re(^\s*#\s*include\s*<git2(\.h|/))re");
  static const std::regex call_re(R"re(\bgit_[a-z0-9_]+\()re");
  std::vector<std::string> problems;
  for (const char* top : {"store", "txn", "tools", "include"}) {
    if (!fs::exists(root / top)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / top)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
      const std::string rel = fs::relative(entry.path(), root).string();
      const std::optional<Layer> layer = LayerOf(rel);
      if (!layer) continue;
      const bool in_store = rel.rfind("store/", 0) == 0;
      const bool is_public = rel.rfind("include/", 0) == 0;
      const bool public_api_only = *layer == kTools && rel.rfind("tools/bench/", 0) != 0;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        const std::string where = rel + ":" + std::to_string(n) + ": ";
        std::smatch m;
        if (std::regex_search(line, m, include_re)) {
          const std::string target = Resolve(root, rel, m[1]);
          const std::optional<Layer> to = LayerOf(target);
          if (to && *to > *layer)
            problems.push_back(where + "includes " + target + " (" + kLayerNames[*to] + ", above " +
                               kLayerNames[*layer] + ")");
          if (is_public && target.rfind("include/", 0) != 0)
            problems.push_back(where + "a public header includes " + target +
                               ", which is not installed");
          if (public_api_only && to && *to != kTools && target.rfind("include/", 0) != 0)
            problems.push_back(where + "a program uses " + target +
                               ", which is not the public API");
        }
        if (in_store) continue;
        if (std::regex_search(line, git2_re))
          problems.push_back(where + "includes libgit2 outside store/");
        if (std::regex_search(line, m, call_re))
          problems.push_back(where + "calls libgit2 outside store/ (" + m[0].str() + ")");
      }
    }
  }
  std::sort(problems.begin(), problems.end());
  return problems;
}

std::string Join(const std::vector<std::string>& v) {
  std::ostringstream out;
  for (const auto& s : v) out << s << "\n";
  return out.str();
}

class ScratchTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("txdir-layers-" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

}  // namespace

TEST(IncludeGraph, IncludesPointDown) {
  const std::vector<std::string> problems = Problems(TXDIR_SOURCE_DIR);
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

TEST_F(ScratchTree, ADownwardTreeHasNoProblem) {
  Write("include/txdir/error.h", "#pragma once\n");
  Write("include/txdir/repository.h", "#include \"txdir/error.h\"\n");
  Write("store/git_store.cc", "#include <git2.h>\nint f() { return git_libgit2_init(); }\n");
  Write("txn/sdn/merge_util.h", "#include \"txdir/error.h\"\n");
  Write("txn/sdn/merge.cc", "#include \"merge_util.h\"\n");
  Write("txn/src/commit.cc", "#include \"store/git_store.h\"\n#include \"txdir/repository.h\"\n");
  Write("tools/txdir/main.cc",
        "#include \"txdir/repository.h\"\n#include \"tools/txdir/cli.h\"\n"
        "int main() { git_dir = 1; }\n");
  Write("tools/bench/b.cc", "#include \"store/bench/libgit2_publish.h\"\n");
  EXPECT_EQ(Join(Problems(root_)), "");
}

TEST_F(ScratchTree, AProgramBehindThePublicApiIsFound) {
  Write("include/txdir/repository.h", "#pragma once\n");
  Write("tools/serve/gen_index.cc",
        "#include \"txdir/repository.h\"\n#include \"txn/src/repo_impl.h\"\n");
  Write("tools/txdir/app.cc", "#include \"store/gen_meta.h\"\n");
  EXPECT_EQ(Join(Problems(root_)),
            "tools/serve/gen_index.cc:2: a program uses txn/src/repo_impl.h, which is not the "
            "public API\n"
            "tools/txdir/app.cc:1: a program uses store/gen_meta.h, which is not the public "
            "API\n");
}

TEST_F(ScratchTree, AnIncludeThatPointsUpIsFound) {
  Write("include/txdir/repository.h", "#pragma once\n");
  Write("store/env_posix.cc", "#include \"txdir/repository.h\"\n");
  Write("txn/sdn/records.cc", "  #  include \"txn/src/commit.h\"\n");
  Write("txn/src/commit.cc", "#include \"tools/serve/server.h\"\n");
  Write("include/txdir/env.h", "#include \"store/fs_util.h\"\n");
  EXPECT_EQ(Join(Problems(root_)),
            "include/txdir/env.h:1: a public header includes store/fs_util.h, which is not "
            "installed\n"
            "store/env_posix.cc:1: includes include/txdir/repository.h (txn, above store)\n"
            "txn/sdn/records.cc:1: includes txn/src/commit.h (txn, above sdn)\n"
            "txn/src/commit.cc:1: includes tools/serve/server.h (tools, above txn)\n");
}

TEST_F(ScratchTree, LibgitOutsideStoreIsFound) {
  Write("txn/src/fsck.cc", "#include <git2.h>\n\nvoid f() { git_odb_free(odb); }\n");
  Write("tools/bench/b.cc", "x = git_tree_lookup(&t, r, &id);\n");
  EXPECT_EQ(Join(Problems(root_)),
            "tools/bench/b.cc:1: calls libgit2 outside store/ (git_tree_lookup()\n"
            "txn/src/fsck.cc:1: includes libgit2 outside store/\n"
            "txn/src/fsck.cc:3: calls libgit2 outside store/ (git_odb_free()\n");
}
