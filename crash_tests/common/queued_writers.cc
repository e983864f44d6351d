#include "crash_tests/common/queued_writers.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <stdexcept>

#include "crash_tests/common/fixtures.h"
#include "crash_tests/common/harness.h"

namespace txdir::crash {

namespace {

constexpr int kQueued = kQueuedWriters;

// Holds the writer lock while `body` runs (as a txdir holder would: flock).
void WithLockHeld(const std::string& repo, const std::function<void()>& body) {
  const int fd = ::open((repo + "/.txdir/lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + repo);
  try {
    body();
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

size_t Queued(const std::string& repo) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(repo + "/.txdir/queue", ec))
    if (e.path().filename().string().ends_with(".req")) ++n;
  return n;
}

}  // namespace

void StartQueuedWriters(const std::string& dir) {
  const std::string repo = dir + "/repo";
  WithLockHeld(repo, [&] {
    for (int i = 0; i < kQueued; ++i) {
      const std::string cmd = "TXDIR_GROUP_FOLLOW_ONLY=1 '" + CliPath() + "' -q --timeout 60 db '" +
                              repo + "' todo.sdn todos insert id=" + std::to_string(10 + i) +
                              " status=queued; echo $? > '" + dir + "/rc." + std::to_string(i) +
                              "'";
      RunResult r = RunCommand({"/bin/sh", "-c", "(" + cmd + ") >/dev/null 2>&1 &"});
      if (r.exit_code != 0) throw std::runtime_error("cannot start a writer: " + r.Describe());
    }
    for (int t = 0; t < 2000 && Queued(repo) < kQueued; ++t) ::usleep(10000);
    if (Queued(repo) != static_cast<size_t>(kQueued))
      throw std::runtime_error("the writers did not queue");
  });
}

std::vector<std::string> CheckQueuedWriters(const std::string& dir) {
  std::vector<std::string> v;
  const std::string repo = dir + "/repo";
  // Takes in whatever a killed holder left queued (or requeued by recovery).
  RunResult drain =
      RunCommand({CliPath(), "-q", "db", repo, "todo.sdn", "todos", "set", "1", "status=drained"});
  if (drain.exit_code != 0) v.push_back("the draining db set failed: " + drain.Describe());
  std::string todo;
  {
    std::ifstream in(repo + "/current/todo.sdn", std::ios::binary);
    todo.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (int i = 0; i < kQueued; ++i) {
    const std::string rc_file = dir + "/rc." + std::to_string(i);
    std::vector<std::string> rc;
    for (int t = 0; t < 3000 && (rc = ReadLines(rc_file)).empty(); ++t) ::usleep(10000);
    const std::string id = std::to_string(10 + i);
    const std::string row = "\n    " + id + ", queued\n";
    size_t copies = 0;
    for (size_t at = todo.find(row); at != std::string::npos; at = todo.find(row, at + 1)) ++copies;
    // The writers stay alive and waiting, so whatever the holder's fate,
    // recovery and the draining write must land each of them exactly once.
    if (rc.empty()) {
      v.push_back("queued writer " + id + " never finished");
    } else if (rc[0] != "0" || copies != 1) {
      v.push_back("queued writer " + id + " exited " + rc[0] + " with its record in the table " +
                  std::to_string(copies) + " time(s); expected exit 0 and once");
    }
  }
  RunResult log =
      RunCommand({"/usr/bin/git", "-C", repo + "/.txdir/store.git", "log", "--format=%B", "main"});
  std::map<std::string, int> named;
  size_t pos = 0;
  const std::string key = "Txdir-Queued: ";
  while ((pos = log.output.find(key, pos)) != std::string::npos) {
    pos += key.size();
    const size_t end = log.output.find('\n', pos);
    ++named[log.output.substr(pos, end - pos)];
  }
  for (const auto& [id, n] : named)
    if (n > 1)
      v.push_back("queued transaction " + id + " is in " + std::to_string(n) + " generations");
  return v;
}

}  // namespace txdir::crash
