// The fixture of the HTTP tests of `txdir serve`: a repository of two
// generations (files, an SDN table whose records are added, changed and
// removed, and stored links inside and outside), served in this process on
// a free loopback port.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <thread>

#include "tests/core/test_util.h"
#include "tools/serve/serve.h"
#include "txdir/repository.h"

namespace txdir::testing {

inline constexpr const char* kTables1 =
    "features |id, name, status|\n"
    "    1, parser, done\n"
    "    2, lexer, planned\n"
    "    3, jit, planned\n";
inline constexpr const char* kTables2 =
    "features |id, name, status|\n"
    "    1, parser, done\n"
    "    2, lexer, complete\n"
    "    4, \"<b>gc</b>\", planned\n";

// Status code of a raw request: the target is sent byte for byte, so the
// test controls exactly what reaches the server. 0 if no answer.
inline int RawStatus(int port, const std::string& target, std::string* response = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return 0;
  }
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (response) *response = resp;
  if (resp.compare(0, 9, "HTTP/1.1 ") != 0 || resp.size() < 12) return 0;
  return std::stoi(resp.substr(9, 3));
}

class ServeHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(tmp_ / "secret.txt", "TOPSECRET");  // beside the repository
    auto repo = Repository::Init(root_);
    ASSERT_TRUE(repo) << repo.error().ToString();
    repo_ = std::move(*repo);
    PublishTree({{"index.html", "<html><link rel=\"stylesheet\" href=\"style.css\">hi</html>"},
                 {"style.css", "body{}"},
                 {"a.txt", "one"},
                 {"data.json", "{}"},
                 {"tables/features.sdn", kTables1},
                 {"sub/b.txt", "bee"}},
                "first");
    PublishTree({{"index.html", "<html><link rel=\"stylesheet\" href=\"style.css\">hi</html>"},
                 {"style.css", "body{}"},
                 {"a.txt", "two"},
                 {"data.json", "{}"},
                 {"tables/features.sdn", kTables2},
                 {"sub/b.txt", "bee"},
                 {"sub/<b>&x.txt", "odd"},
                 {"notes.txt", "new"}},
                "<script>alert(1)</script>", [&](const std::string& src) {
                  ASSERT_EQ(::symlink("a.txt", (src + "/inside").c_str()), 0);
                  ASSERT_EQ(::symlink("../a.txt", (src + "/sub/up").c_str()), 0);
                  ASSERT_EQ(::symlink("../../../secret.txt", (src + "/outside").c_str()), 0);
                  ASSERT_EQ(::symlink((tmp_ / "secret.txt").c_str(), (src + "/abs").c_str()), 0);
                  ASSERT_EQ(::symlink("sub", (src + "/dirlink").c_str()), 0);
                  ASSERT_EQ(::symlink("loop2", (src + "/loop1").c_str()), 0);
                  ASSERT_EQ(::symlink("loop1", (src + "/loop2").c_str()), 0);
                });
    auto server = serve::Server::Open(root_, {.host = "127.0.0.1", .port = 0});
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    auto port = server_->Bind();
    ASSERT_TRUE(port) << port.error().ToString();
    port_ = *port;
    thread_ = std::thread([this] { (void)server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    // Wait until the server answers (bounded; no fixed sleep).
    for (int i = 0; i < 500 && !client_->Get("/history"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  template <typename Extra = void (*)(const std::string&)>
  void PublishTree(
      const std::map<std::string, std::string>& files, const std::string& msg,
      Extra extra = [](const std::string&) {}) {
    const std::string src = tmp_ / ("src" + std::to_string(++n_));
    MakeTree(src, files);
    extra(src);
    auto g = repo_->Publish(src, {.message = msg, .symlinks = SymlinkPolicy::kKeepAll});
    ASSERT_TRUE(g) << g.error().ToString();
  }

  std::string BlobOf(uint64_t gen, const std::string& path) {
    auto files = repo_->ListFiles(gen);
    for (const auto& f : *files)
      if (f.path == path) return f.blob;
    return "";
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }

  TempDir tmp_;
  std::string root_ = tmp_ / "repo";
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<serve::Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  int port_ = -1;
  int n_ = 0;
};

}  // namespace txdir::testing
