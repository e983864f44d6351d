// Standard output of the txdir tool (output.h).
#include "tools/txdir/output.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <streambuf>

#include "tools/txdir/cli.h"

namespace txdir::cli {

namespace {

// The reader of our stdout went away. With SIGPIPE's default disposition
// the write would have ended the process by SIGPIPE, silently, as it ends
// `git log | head` or `cat | head`; when SIGPIPE is ignored or blocked
// (inherited from the parent) the write returns EPIPE instead. End the same
// way in both cases, as git does: the reader wanted no more, which is no
// error worth a message, and the exit status still says what happened.
[[noreturn]] void EndBySigpipe() {
  (void)std::signal(SIGPIPE, SIG_DFL);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  (void)pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);
  (void)std::raise(SIGPIPE);
  std::_Exit(128 + SIGPIPE);  // not reached: SIGPIPE's default action ends the process
}

// std::cout's buffer: fd 1, with the errno of the first failed write kept
// for the final report. stdio's stdout would keep only an error flag, and
// errno is long overwritten by the time a command returns.
//
// It writes with write(2) itself rather than through the Env: the Env is
// the seam for the repository's files (fault injection, power-loss
// replay); standard output is the tool's own, and its report needs the
// exact errno of the failed write.
class StdoutBuf final : public std::streambuf {
 public:
  StdoutBuf() { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!Drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (error_ != 0 || n <= 0) return 0;
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), s, static_cast<size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    // More than the room left (a large `cat`): what is buffered, then the
    // data itself, without copying it through the buffer.
    if (!Drain() || !WriteAll(s, static_cast<size_t>(n))) return 0;
    return n;
  }

  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    bool ok = WriteAll(pbase(), static_cast<size_t>(pptr() - pbase()));
    // After a failure the rest is dropped: a later write could succeed
    // (space freed on the disk) and leave a hole in the middle of the output.
    setp(buf_, buf_ + sizeof buf_);
    return ok;
  }

  bool WriteAll(const char* p, size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      ssize_t w = ::write(STDOUT_FILENO, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        error_ = w < 0 ? errno : EIO;  // 0: no progress, which write(2) never reports for n > 0
        if (error_ == EPIPE) EndBySigpipe();
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  int error_ = 0;
  char buf_[1 << 16];
};

// Never destroyed: std::cout is flushed once more when the program exits,
// after the destructors of function-local statics may have run.
StdoutBuf* Buffer() {
  static auto* buf = new StdoutBuf();
  return buf;
}

}  // namespace

bool GuardStandardFds() {
  // In order: open(2) takes the lowest free fd, so the stand-in for fd k
  // lands on k once 0..k-1 are open. Not O_CLOEXEC: a program `run` or
  // `exec` starts inherits the same closed-looking fds.
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    int got = ::open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    if (got != fd) {
      if (got >= 0) ::close(got);
      return false;
    }
  }
  return true;
}

void InstallStdout() {
  std::cout.rdbuf(Buffer());
  if (::isatty(STDOUT_FILENO) == 1) std::cout.setf(std::ios::unitbuf);
}

int FinishOutput(int code) {
  std::cout.flush();
  const int err = Buffer()->error();
  if (err == 0) return code;
  const char* reason = ::strerrordesc_np(err);
  // A failed write to stderr has nowhere to be reported: the exit code still is.
  if (reason != nullptr)
    (void)std::fprintf(stderr, "txdir: cannot write to standard output: %s\n", reason);
  else
    (void)std::fprintf(stderr, "txdir: cannot write to standard output: errno %d\n", err);
  return code == kExitOk ? static_cast<int>(kExitIo) : code;
}

}  // namespace txdir::cli
