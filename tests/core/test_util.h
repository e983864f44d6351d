// Helpers shared by the core tests: fresh temporary directories and small
// file utilities. Tests use real files; nothing here touches txdir internals.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "txdir/env.h"
#include "txdir/repository.h"

namespace txdir::testing {

namespace stdfs = std::filesystem;

// Makes everything under `p` writable again (published generations are
// read-only), then removes it.
inline void ForceRemoveAll(const stdfs::path& p) {
  std::error_code ec;
  if (!stdfs::exists(stdfs::symlink_status(p, ec))) return;
  if (stdfs::is_directory(stdfs::symlink_status(p, ec))) {
    stdfs::permissions(p, stdfs::perms::owner_all, stdfs::perm_options::add, ec);
    for (auto it = stdfs::recursive_directory_iterator(
             p, stdfs::directory_options::skip_permission_denied, ec);
         it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec))
        stdfs::permissions(it->path(), stdfs::perms::owner_all, stdfs::perm_options::add, ec);
    }
  }
  stdfs::remove_all(p, ec);
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  // Under `base`; empty: $TMPDIR, else /tmp.
  explicit TempDir(std::string base = "") {
    if (base.empty()) {
      const char* env = std::getenv("TMPDIR");
      base = env && *env ? env : "/tmp";
    }
    std::string tmpl = base + "/txdir-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { ForceRemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data) {
  stdfs::create_directories(stdfs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every file (and symlink) under `dir`, relative path -> content (a link's
// content is "link:" + its target). Follows `dir` itself if it is a link.
inline std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> out;
  stdfs::path root = stdfs::canonical(dir);
  for (auto it = stdfs::recursive_directory_iterator(root);
       it != stdfs::recursive_directory_iterator(); ++it) {
    std::string rel = stdfs::relative(it->path(), root).string();
    if (it->is_symlink())
      out[rel] = "link:" + stdfs::read_symlink(it->path()).string();
    else if (it->is_regular_file())
      out[rel] = ReadFile(it->path().string());
  }
  return out;
}

// Replaces the contents of `dir` with `files` (relative path -> content).
inline void MakeTree(const std::string& dir, const std::map<std::string, std::string>& files) {
  ForceRemoveAll(dir);
  stdfs::create_directories(dir);
  for (const auto& [rel, data] : files) WriteFile(dir + "/" + rel, data);
}

inline ino_t Inode(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

inline mode_t Mode(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

// Runs a shell command, returning its exit status and combined output.
inline int RunShell(const std::string& cmd, std::string* output = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (output) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// True when an exclusive flock on `dir` can be taken right now (by a new
// open file description, as gc would): nobody holds a pin on it.
inline bool CanLockExclusive(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return ok;
}

// The default Env with a boot id of the test's choosing (an error: none can
// be read): what a process sees after the machine restarted.
class BootIdEnv : public EnvWrapper {
 public:
  explicit BootIdEnv(Result<std::string> id) : EnvWrapper(Env::Default()), id_(std::move(id)) {}
  Result<std::string> BootId() override { return id_; }

 private:
  Result<std::string> id_;
};

// A repository in a fresh temporary directory, with a source tree beside it.
// `base`: where the temporary directory goes (empty: the default).
struct RepoFixture {
  TempDir tmp;
  std::string root = tmp / "repo";
  std::string src = tmp / "src";
  std::unique_ptr<Repository> repo;

  explicit RepoFixture(std::string base = "") : tmp(std::move(base)) {
    auto r = Repository::Init(root);
    if (!r) {
      ADD_FAILURE() << "Init: " << r.error().ToString();
      return;
    }
    repo = std::move(*r);
  }

  // Publishes `files` as the next generation; fails the test on error.
  uint64_t Publish(const std::map<std::string, std::string>& files, const std::string& msg = "") {
    MakeTree(src, files);
    // Tests replace whole sets freely; the guard against it has its own tests.
    auto g = repo->Publish(src, PublishOptions{.message = msg, .allow_remove_all = true});
    EXPECT_TRUE(g.has_value()) << (g ? "" : g.error().ToString());
    return g ? g->number : 0;
  }

  std::string live() const { return root + "/current"; }
  std::string gen_dir(uint64_t n) const { return root + "/.txdir/gens/" + std::to_string(n); }
  uint64_t LiveGeneration() {
    auto s = repo->Status();
    return s && s->live ? *s->live : 0;
  }
};

}  // namespace txdir::testing
