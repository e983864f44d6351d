// `txdir serve`: a read-only HTTP view of a transactional directory.
//
//   auto s = txdir::serve::Server::Open("/srv/dash", {.host = "127.0.0.1", .port = 0});
//   int port = *(*s)->Bind();     // port 0: the kernel picks a free one
//   (*s)->Run();                  // blocks until Stop() (from another thread)
//
// Routes (docs/cli.md, "Web view", where each page is described):
//   /                 302 to /g/<live>/ (Cache-Control: no-store)
//   /g/<gen>/<path>   a file of any retained generation, read from the store;
//                     immutable cache headers, ETag = blob id; a directory
//                     serves its index.html or a listing; ?view=table is the
//                     table page
//   /history          every retained generation, and a compare form
//   /gen/<gen>        a generation: metadata, neighbours, changes, row counts
//   /table/<gen>/<path>  an .sdn file's tables, to sort, filter and search
//   /record/<path>?table=T&id=K  one record's history
//   /versions/<path>  the generations in which a file changed
//   /trends, /trends/<path>?table=T&by=C  row counts over the generations
//   /compare?a=&b=    302 to /diff/<a>/<b>
//   /diff/<a>/<b>     changed files; SDN records added/changed/removed; text
//                     diffs of other files
// Only GET and HEAD (405 otherwise). Request targets are validated by
// ParseRequestTarget (request_path.h): traversal in any encoding is 400.
// Stored symlinks are served only when their target resolves, lexically,
// to a file inside the same generation's tree; otherwise 404.
//
// The server reads the store only; it never writes to the repository.
// Thread safety: Bind, Run and Stop may be called from different threads;
// requests are served by a pool of ServeLimits::threads threads and read
// the store under one mutex. Run returns soon after Stop: waits for slow
// clients end at once, a request being answered is finished first.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "txdir/error.h"

namespace txdir::serve {

// What one client may take of the server (docs/cli.md, "Limits";
// limited_server.h says how each is enforced).
struct ServeLimits {
  size_t threads = 32;                                // connections served at once
  size_t max_connections_per_client = 8;              // per client address; 0: no cap
  std::chrono::milliseconds request_timeout{10'000};  // request line + headers, in all
  std::chrono::milliseconds idle_timeout{2'000};      // a kept-alive connection between requests
  std::chrono::milliseconds write_timeout{10'000};    // a send that makes no progress
  size_t max_requests_per_connection = 100;
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  ServeLimits limits;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (host 127.0.0.1). A host that is
// not a loopback address (127.0.0.0/8, ::1, localhost) is refused with
// kInvalidArgument unless `allow_public`.
Result<ServeOptions> ParseAddress(const std::string& addr, bool allow_public);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

class Server {
 public:
  // Opens the repository at `root` (read-only use) and indexes its
  // generations. NotFound when it is not a txdir repository.
  static Result<std::unique_ptr<Server>> Open(const std::string& root, const ServeOptions& options);
  ~Server();

  // Binds the listening socket; returns the port bound. Io when the address
  // cannot be bound.
  Result<int> Bind();
  // Serves until Stop(). REQUIRES: Bind() succeeded.
  Status Run();
  // Stops Run(); safe from any thread, and before Run() has started.
  void Stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace txdir::serve
