// A 16 MB ext4 image mounted through a loop device, for tests that need a
// real file system's failures (ENOSPC, EROFS). Needs root and loop devices;
// otherwise reason() says why and the test skips with it. Self-contained so
// both tests/ and crash_tests/ can use it.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace txdir::testing {

class LoopMount {
 public:
  // Empty reason(): mounted read-write at mnt().
  explicit LoopMount(const std::string& dir) : image_(dir + "/disk.img"), mnt_(dir + "/mnt") {
    if (::geteuid() != 0) {
      reason_ = "needs root to mount a loop device";
      return;
    }
    std::filesystem::create_directories(mnt_);
    int fd = ::open(image_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::ftruncate(fd, 16 << 20) != 0) {
      reason_ = "cannot create the image file";
      if (fd >= 0) ::close(fd);
      return;
    }
    ::close(fd);
    std::string out;
    if (Run("mkfs.ext4 -q -F -m 0 " + image_, &out) != 0) {
      reason_ = "mkfs.ext4 failed or is missing: " + out;
      return;
    }
    if (Run("mount -o loop " + image_ + " " + mnt_, &out) != 0) {
      reason_ = "mount -o loop failed (no loop devices in this container?): " + out;
      return;
    }
    mounted_ = true;
  }
  ~LoopMount() {
    if (mounted_ && ::umount2(mnt_.c_str(), 0) != 0) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  LoopMount(const LoopMount&) = delete;
  LoopMount& operator=(const LoopMount&) = delete;

  bool RemountReadOnly() {
    std::string out;
    return Run("mount -o remount,ro " + mnt_, &out) == 0;
  }
  const std::string& reason() const { return reason_; }
  const std::string& mnt() const { return mnt_; }

 private:
  // Runs a shell command (PATH includes /sbin for root); exit code, output.
  static int Run(const std::string& cmd, std::string* output) {
    std::string full = "PATH=\"$PATH:/usr/sbin:/sbin\" " + cmd + " 2>&1";
    FILE* p = ::popen(full.c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    output->clear();
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
    int rc = ::pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::string image_, mnt_, reason_;
  bool mounted_ = false;
};

}  // namespace txdir::testing
