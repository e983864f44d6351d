#include "tools/bench/bench_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>

namespace txdir::bench {

namespace {

// Whether the ext4 file system holding `path` has a journal: jbd2 lists each
// journal it runs as /proc/fs/jbd2/<device>-<inode of the journal, 8>, and
// /sys/dev/block/<major>:<minor> names the device. nullopt: not known.
std::optional<bool> Ext4HasJournal(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  std::error_code ec;
  const auto dev = std::filesystem::read_symlink(
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)),
      ec);
  if (ec || dev.filename().empty()) return std::nullopt;
  if (!std::filesystem::is_directory("/proc/fs/jbd2", ec)) return std::nullopt;
  return std::filesystem::exists("/proc/fs/jbd2/" + dev.filename().string() + "-8", ec);
}

}  // namespace

std::string FsName(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: {
      const auto journal = Ext4HasJournal(path);
      if (!journal) return "ext4";
      return *journal ? "ext4, journal" : "ext4, no journal";
    }
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    default: {
      std::ostringstream hex;
      hex << "0x" << std::hex << static_cast<unsigned long>(s.f_type);
      return hex.str();
    }
  }
}

void RemoveTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(root, ec);
}

std::string GenerateTodoTable(int rows) {
  std::string text =
      "todos |id, keyword, area, priority, description, file, line, issue, blocked, status, "
      "age_days, assigned, last_updated|\n";
  for (int r = 0; r < rows; ++r) {
    text += "    " + std::to_string(r) + ", \"TODO\", \"general\", \"P3\", \"Item " +
            std::to_string(r) +
            ": replace the interim parser with the generated one, then delete it\", "
            "\"src/app/module_" +
            std::to_string(r % 97) + "/main.spl\", " + std::to_string(r * 7 % 1000) +
            ", \"\", \"\", \"open\", " + std::to_string(r % 30) + ", \"\", \"2026-02-10\"\n";
  }
  return text;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

ChildResult RunChild(const std::vector<std::string>& argv, const std::string& cwd,
                     bool quiet_stderr) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    std::perror("bench: pipe");
    std::_Exit(2);  // not exit: it is not thread-safe
  }
  auto start = std::chrono::steady_clock::now();
  // posix_spawn (vfork underneath): the child's CPU time is then its own
  // program's, not the copying of this process's page tables that a fork
  // makes the child pay.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  if (quiet_stderr) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ChildResult failed;
    failed.status = 127 << 8;  // as a shell reports a program it cannot run
    return failed;
  }
  ::close(pipefd[1]);
  ChildResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.out.append(buf, size_t(n));
  }
  ::close(pipefd[0]);
  struct rusage ru {};
  int st = 0;
  while (::wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.status = st;
  r.maxrss_kb = ru.ru_maxrss;
  auto ms = [](const timeval& t) { return double(t.tv_sec) * 1e3 + double(t.tv_usec) / 1e3; };
  r.cpu_ms = ms(ru.ru_utime) + ms(ru.ru_stime);
  return r;
}

bool ChildOk(const ChildResult& r) { return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0; }

}  // namespace txdir::bench
