// "Slow" HTTP clients for the serve tests: raw connections to 127.0.0.1
// (from a loopback source address of the test's choice, so the server sees
// another client) that send the start of a request and then trickle one
// more header byte every `interval`, never finishing the headers.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace txdir::testing {

// Connections trickling from a thread of their own until Stop() or
// `max_time` (every loop bounded).
class SlowClients {
 public:
  // `n` connections to 127.0.0.1:`port` from source address `from`.
  SlowClients(int port, int n, const char* from,
              std::chrono::milliseconds interval = std::chrono::milliseconds(100),
              std::chrono::milliseconds max_time = std::chrono::milliseconds(8000))
      : interval_(interval), max_time_(max_time) {
    for (int i = 0; i < n; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in src{};
      src.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &src.sin_addr);
      sockaddr_in dst{};
      dst.sin_family = AF_INET;
      dst.sin_port = htons(static_cast<uint16_t>(port));
      dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
          ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ADD_FAILURE() << "slow client " << i << " from " << from << ": " << std::strerror(errno);
        if (fd >= 0) ::close(fd);
        continue;
      }
      const std::string start = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
      (void)!::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
      fds_.push_back(fd);
    }
    thread_ = std::thread([this] { Trickle(); });
  }
  ~SlowClients() {
    Stop();
    for (int fd : fds_) ::close(fd);
  }
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // How many of the connections the server has closed (EOF or reset after
  // whatever it sent), looking without waiting.
  int ClosedByServer() const {
    int closed = 0;
    for (int fd : fds_) {
      char buf[512];
      for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ++closed;
        break;
      }
    }
    return closed;
  }

  // Waits (at most `limit`) until at least `n` are closed; how many are.
  int WaitClosed(int n, std::chrono::milliseconds limit) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    int closed = ClosedByServer();
    while (closed < n && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      closed = ClosedByServer();
    }
    return closed;
  }

 private:
  void Trickle() {
    const auto end = std::chrono::steady_clock::now() + max_time_;
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      for (int fd : fds_) (void)!::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(interval_);
    }
  }

  std::chrono::milliseconds interval_, max_time_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace txdir::testing
