#include "crash_tests/common/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace txdir::crash {

namespace stdfs = std::filesystem;

std::string ScratchBase() {
  if (const char* t = std::getenv("TXDIR_CRASH_TMP"); t != nullptr && *t != '\0') return t;
  if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') return t;
  return "/tmp";
}

ScratchDir::ScratchDir(const std::string& tag) {
  std::string tmpl = ScratchBase() + "/txdir-crash-" + tag + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = tmpl;
}

ScratchDir::~ScratchDir() { RemoveAll(path_); }

void RemoveAll(const std::string& path) {
  std::error_code ec;
  if (!stdfs::exists(stdfs::symlink_status(path, ec))) return;
  // Generation directories are read-only; a non-root remover needs u+w.
  if (stdfs::is_directory(stdfs::symlink_status(path, ec))) {
    ::chmod(path.c_str(), 0755);
    for (auto it = stdfs::recursive_directory_iterator(path, ec);
         it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
    }
  }
  stdfs::remove_all(path, ec);
}

void WriteTree(const std::string& dir, const FileMap& files) {
  RemoveAll(dir);
  stdfs::create_directories(dir);
  for (const auto& [rel, content] : files) {
    stdfs::path p = stdfs::path(dir) / rel;
    stdfs::create_directories(p.parent_path());
    if (content.rfind("-> ", 0) == 0) {
      stdfs::create_symlink(content.substr(3), p);
      continue;
    }
    std::ofstream out(p, std::ios::binary);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + p.string());
    out.close();
    if (rel.size() > 3 && rel.compare(rel.size() - 3, 3, ".sh") == 0)
      stdfs::permissions(
          p, stdfs::perms::owner_exec | stdfs::perms::group_exec | stdfs::perms::others_exec,
          stdfs::perm_options::add);
  }
}

FileMap ReadTree(const std::string& dir) {
  FileMap out;
  std::error_code ec;
  if (!stdfs::is_directory(stdfs::symlink_status(dir, ec))) return out;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(dir).string();
    if (it->is_symlink(ec)) {
      out[rel] = "-> " + stdfs::read_symlink(it->path(), ec).string();
    } else if (it->is_regular_file(ec)) {
      std::ifstream in(it->path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out[rel] = ss.str();
    }
  }
  return out;
}

std::string DiffTrees(const FileMap& want, const FileMap& got) {
  std::string d;
  auto add = [&](const std::string& s) { d += (d.empty() ? "" : "; ") + s; };
  for (const auto& [p, c] : want) {
    auto it = got.find(p);
    if (it == got.end())
      add(p + ": missing");
    else if (it->second != c)
      add(p + ": content differs");
  }
  for (const auto& [p, c] : got)
    if (!want.count(p)) add(p + ": extra");
  return d;
}

bool RunResult::killed() const { return term_signal == SIGKILL; }

std::string RunResult::Describe() const {
  std::string s = term_signal != 0 ? "killed by signal " + std::to_string(term_signal)
                                   : "exit code " + std::to_string(exit_code);
  if (!output.empty()) s += ", output: " + output;
  return s;
}

RunResult RunCommand(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env) {
  // Everything the child needs is built before fork: the child only execs.
  std::vector<std::string> env_strings;
  auto overridden = [&](const std::string& entry) {
    std::string name = entry.substr(0, entry.find('='));
    if (name == "TXDIR_CRASH_AT" || name == "TXDIR_FAILPOINT_LOG" || name == "TXDIR_BROKEN")
      return true;
    for (const auto& e : extra_env)
      if (e.substr(0, e.find('=')) == name) return true;
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e)
    if (!overridden(*e)) env_strings.push_back(*e);
  for (const auto& e : extra_env) env_strings.push_back(e);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  char out_tmpl[] = "/tmp/txdir-crash-out-XXXXXX";
  int out_fd = ::mkstemp(out_tmpl);
  if (out_fd < 0) throw std::runtime_error("mkstemp failed");
  ::unlink(out_tmpl);

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  ::lseek(out_fd, 0, SEEK_SET);
  char buf[4096];
  for (ssize_t n; (n = ::read(out_fd, buf, sizeof buf)) > 0;) r.output.append(buf, n);
  ::close(out_fd);
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r;
}

std::vector<std::string> ReadLines(const std::string& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace txdir::crash
