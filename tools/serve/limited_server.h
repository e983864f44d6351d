// The HTTP server of `txdir serve`: an httplib::Server that slow or greedy
// clients cannot take over, and that stops promptly.
//
// httplib serves each connection on one pool thread from accept to close,
// and its read timeout bounds each recv(2), not a request: a client that
// trickles a header byte every few seconds holds a thread for as long as it
// likes, and a handful of them held every thread. Here each connection is
// served by our own loop (process_and_close_socket, below) over our own
// stream, which enforces, per ServeLimits (serve.h):
//   - the request line and headers arrive within `request_timeout` in all;
//   - an idle kept-alive connection closes after `idle_timeout`, and any
//     connection after `max_requests_per_connection` requests;
//   - a send that makes no progress for `write_timeout` ends the connection;
//   - a client address has at most `max_connections_per_client`
//     connections being served; another is answered 503 and closed;
//   - Stop() is noticed by every wait within kStopPoll, so the pool's
//     threads finish what they are doing and can be joined.
// Thread safety: Stop may be called from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "tools/serve/serve.h"

namespace txdir::serve {

class LimitedServer : public httplib::Server {
 public:
  explicit LimitedServer(const ServeLimits& limits);

  // httplib's stop() (no new connections) plus an end to every wait of the
  // connections being served.
  void Stop();

 private:
  // Called by httplib's pool thread for each accepted connection.
  bool process_and_close_socket(socket_t sock) override;
  bool ServeConnection(socket_t sock);

  // Counts a connection of `peer`; false when it has its share already.
  bool Admit(const std::string& peer);
  void Release(const std::string& peer);

  const ServeLimits limits_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<std::string, size_t> per_client_;  // guarded by mu_
};

}  // namespace txdir::serve
