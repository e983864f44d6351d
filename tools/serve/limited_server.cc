#include "tools/serve/limited_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace txdir::serve {

namespace {

using Clock = std::chrono::steady_clock;

// How often a wait looks at the stop flag: the longest Stop() waits for a
// connection that is only waiting.
constexpr std::chrono::milliseconds kStopPoll{50};

// The address of a socket's peer (or, `local`, its own) as text and port.
bool Address(socket_t sock, bool local, std::string* ip, int* port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((local ? ::getsockname(sock, sa, &len) : ::getpeername(sock, sa, &len)) != 0) return false;
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    *port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  *ip = text;
  return true;
}

// One connection's stream, for httplib's request parser and response
// writer. Reads are buffered (the parser reads a byte at a time) and share
// one deadline per request; every wait polls in slices of kStopPoll so a
// stopping server is noticed.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, const std::atomic<bool>* stopping,
                   std::chrono::milliseconds write_timeout)
      : sock_(sock), stopping_(stopping), write_timeout_(write_timeout) {}

  // The time by which the current request must have been read.
  void set_read_deadline(Clock::time_point d) { read_deadline_ = d; }
  // Waits until the next request starts (buffered bytes or new ones), at
  // most until `until`.
  bool WaitForRequest(Clock::time_point until) const { return off_ < len_ || Wait(POLLIN, until); }

  bool is_readable() const override { return off_ < len_ || Wait(POLLIN, read_deadline_); }
  bool is_writable() const override { return Wait(POLLOUT, Clock::now() + write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (off_ == len_) {
      if (!Wait(POLLIN, read_deadline_)) return -1;
      ssize_t n;
      do {
        n = ::recv(sock_, buf_, sizeof buf_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      off_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (!Address(sock_, false, &ip, &port)) port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    if (!Address(sock_, true, &ip, &port)) port = 0;
  }
  socket_t socket() const override { return sock_; }

 private:
  // True once `events` are ready; false at `until`, on an error or hang-up
  // without them, or when the server stops.
  bool Wait(short events, Clock::time_point until) const {
    for (;;) {
      if (stopping_->load(std::memory_order_relaxed)) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{sock_, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min(left, kStopPoll).count()));
      if (rc < 0 && errno != EINTR) return false;
      if (rc > 0) return (p.revents & events) != 0 || (p.revents & POLLHUP) != 0;
    }
  }

  socket_t sock_;
  const std::atomic<bool>* stopping_;
  std::chrono::milliseconds write_timeout_;
  Clock::time_point read_deadline_ = Clock::now();
  char buf_[4096] = {};
  size_t off_ = 0, len_ = 0;
};

}  // namespace

LimitedServer::LimitedServer(const ServeLimits& limits) : limits_(limits) {
  const size_t threads = std::max<size_t>(1, limits_.threads);
  new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

void LimitedServer::Stop() {
  stopping_ = true;
  stop();
}

bool LimitedServer::Admit(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& n = per_client_[peer];
  if (limits_.max_connections_per_client != 0 && n >= limits_.max_connections_per_client)
    return false;
  ++n;
  return true;
}

void LimitedServer::Release(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_client_.find(peer);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

bool LimitedServer::process_and_close_socket(socket_t sock) {
  std::string peer;
  int port = 0;
  if (!Address(sock, false, &peer, &port)) peer.clear();  // counted together
  bool ret = false;
  if (Admit(peer)) {
    ret = ServeConnection(sock);
    Release(peer);
  } else {
    // Its share is taken: say so without waiting for anything. What the
    // client already sent is read first (without waiting), so the close
    // does not reset the connection before the answer is read.
    static constexpr char kBody[] = "too many connections from your address; try again\n";
    static const std::string kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " +
        std::to_string(sizeof kBody - 1) + "\r\n\r\n" + kBody;
    char drain[4096];
    while (::recv(sock, drain, sizeof drain, MSG_DONTWAIT) > 0) {
    }
    (void)!::send(sock, kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

bool LimitedServer::ServeConnection(socket_t sock) {
  ConnectionStream strm(sock, &stopping_, limits_.write_timeout);
  bool ret = false;
  for (size_t n = 0; n < std::max<size_t>(1, limits_.max_requests_per_connection); ++n) {
    // The first request is due at once; a later one within the idle time.
    if (n > 0 && !strm.WaitForRequest(Clock::now() + limits_.idle_timeout)) break;
    if (stopping_) break;
    strm.set_read_deadline(Clock::now() + limits_.request_timeout);
    const bool last = n + 1 == limits_.max_requests_per_connection;
    bool closed = false;
    ret = process_request(strm, last, closed, nullptr);
    if (!ret || closed) break;
  }
  return ret;
}

}  // namespace txdir::serve
