// The HTTP side of `txdir serve`: routing, headers and the pages.
#include <httplib.h>

#include <charconv>

#include "tools/serve/dashboard.h"
#include "tools/serve/html.h"
#include "tools/serve/server_impl.h"
#include "txdir/history.h"
#include "txdir/log.h"
#include "txdir/repository.h"
#include "txdir/sdn.h"

namespace txdir::serve {

constexpr int kMaxLinkHops = 8;
// The most of one file's text diff a diff page shows.
constexpr size_t kMaxPatchBytes = size_t{256} * 1024;

std::optional<uint64_t> ParseGen(const std::string& s) {
  if (s.empty() || s.size() > 19 || s[0] == '0') return std::nullopt;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string Join(const std::vector<std::string>& segs, size_t from) {
  std::string out;
  for (size_t i = from; i < segs.size(); ++i) {
    if (!out.empty()) out += '/';
    out += segs[i];
  }
  return out;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void SetHtml(httplib::Response& res, int status, const std::string& html, const char* cache) {
  res.status = status;
  res.set_header("Cache-Control", cache);
  res.set_content(html, "text/html; charset=utf-8");
}

void ErrorPage(httplib::Response& res, int status, const std::string& what) {
  const char* title = status == 400   ? "400 Bad Request"
                      : status == 404 ? "404 Not Found"
                      : status == 405 ? "405 Method Not Allowed"
                                      : "500 Internal Server Error";
  SetHtml(res, status, Page(title, "<p>" + Escape(what) + "</p>\n"), kNoStore);
}

void InternalError(httplib::Response& res, const std::string& what, const Error& e) {
  Log(LogLevel::kWarning, "serve: " + what + ": " + e.ToString());
  ErrorPage(res, 500,
            what + (e.code == Code::kCorruption ? ": the store is damaged (see the server's log)"
                                                : ": see the server's log"));
}

void Redirect(httplib::Response& res, int status, const std::string& location, const char* cache) {
  res.status = status;
  res.set_header("Location", location);
  res.set_header("Cache-Control", cache);
  res.set_content("<a href=\"" + Escape(location) + "\">" + Escape(location) + "</a>\n",
                  "text/html; charset=utf-8");
}

namespace {
void SetCached(const httplib::Request& req, httplib::Response& res, const char* cache,
               const std::string& etag, const std::string& body, const std::string& type) {
  const std::string quoted = "\"" + etag + "\"";
  res.set_header("Cache-Control", cache);
  res.set_header("ETag", quoted);
  const std::string inm = req.get_header_value("If-None-Match");
  if (!inm.empty() && (inm == quoted || inm == "*" || inm.find(quoted) != std::string::npos)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(body, type);
}
}  // namespace

void SetImmutable(const httplib::Request& req, httplib::Response& res, const std::string& etag,
                  const std::string& body, const std::string& type) {
  SetCached(req, res, kImmutable, etag, body, type);
}

void SetRevalidated(const httplib::Request& req, httplib::Response& res, const std::string& etag,
                    const std::string& body, const std::string& type) {
  SetCached(req, res, kNoCache, etag, body, type);
}

void Server::Impl::GenError(httplib::Response& res, uint64_t gen, const Error& e) {
  // A read can also fail because a prune removed the generation after it
  // was found: look again before calling it the server's fault.
  auto again = index->Find(gen);
  if (e.code == Code::kNotFound || (!again && again.error().code == Code::kNotFound))
    return ErrorPage(res, 404, "generation " + std::to_string(gen) + " is not in the store");
  InternalError(res, "cannot read generation " + std::to_string(gen), e);
}

void Server::Impl::Install() {
  // Small responses on kept-alive connections: without this, Nagle's
  // algorithm and delayed ACKs add ~40 ms to each.
  http->set_tcp_nodelay(true);
  // The library's default also sets SO_REUSEPORT, which would let a second
  // server (or another user's process) bind the same port and take a share
  // of the connections. SO_REUSEADDR alone: restart quickly, never share.
  http->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Every request passes here first, whatever its method: the one place
  // that enforces GET/HEAD only and validates the target.
  http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      ErrorPage(res, 405, "txdir serve is read-only: only GET and HEAD are allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    auto p = ParseRequestTarget(req.target);
    if (!p) {
      ErrorPage(res, 400, "refused path: " + p.error().message);
      return httplib::Server::HandlerResponse::Handled;
    }
    std::lock_guard<std::mutex> lock(mu);
    // Once per request: a history rewritten since the last one (gc
    // --prune-history) must not be answered from the old index.
    if (auto r = index->Refresh(); !r) {
      InternalError(res, "cannot read the history", r.error());
      return httplib::Server::HandlerResponse::Handled;
    }
    try {
      Route(req, res, *p);
    } catch (const std::exception& e) {
      Log(LogLevel::kWarning, "serve: " + req.target + ": " + e.what());
      ErrorPage(res, 500, "internal error (see the server's log)");
    }
    return httplib::Server::HandlerResponse::Handled;
  });
}

void Server::Impl::Route(const httplib::Request& req, httplib::Response& res,
                         const RequestPath& p) {
  const auto& s = p.segments;
  if (s.empty()) return ServeLive(res);
  const size_t last = (s[0] == "g" || s[0] == "table" || s[0] == "gen") && s.size() >= 2 ? 1
                      : s[0] == "diff" && s.size() == 3                                  ? 2
                                                                                         : 0;
  for (size_t i = 1; i <= last; ++i)
    if (!ParseGen(s[i])) return RedirectRefs(res, p, last);
  if (s[0] == "history" && s.size() == 1) return ServeHistory(res);
  if (s[0] == "gen" && s.size() == 2) return ServeGenerationPage(req, res, *ParseGen(s[1]));
  if (s[0] == "record" && s.size() >= 2) return ServeRecord(res, Join(s, 1), p.query);
  if (s[0] == "versions" && s.size() >= 2) return ServeVersions(res, Join(s, 1));
  if (s[0] == "trends" && s.size() == 1) return ServeTrendsIndex(res);
  if (s[0] == "trends") return ServeTrend(res, Join(s, 1), p.query);
  if (s[0] == "compare" && s.size() == 1) return ServeCompare(res, p.query);
  if (s[0] == "g" && s.size() >= 2) {
    auto gen = ParseGen(s[1]);
    if (!gen) return ErrorPage(res, 404, "not a generation number: " + s[1]);
    if (s.size() == 2 && !p.trailing_slash) {
      if (auto e = index->Find(*gen); !e) return GenError(res, *gen, e.error());
      return Redirect(res, 301, "/g/" + s[1] + "/", kImmutable);
    }
    return ServeGen(req, res, *gen, Join(s, 2), p.trailing_slash,
                    QueryValue(p.query, "view") == "table");
  }
  if (s[0] == "table" && s.size() >= 3) {
    auto gen = ParseGen(s[1]);
    if (!gen) return ErrorPage(res, 404, "not a generation number: " + s[1]);
    return ServeGen(req, res, *gen, Join(s, 2), false, true);
  }
  if (s[0] == "diff" && s.size() == 3) {
    auto a = ParseGen(s[1]), b = ParseGen(s[2]);
    if (!a || !b) return ErrorPage(res, 404, "not a generation number");
    return ServeDiff(req, res, *a, *b);
  }
  ErrorPage(res, 404, "no such page");
}

void Server::Impl::RedirectRefs(httplib::Response& res, const RequestPath& p, size_t last) {
  std::vector<std::string> segs = p.segments;
  for (size_t i = 1; i <= last; ++i) {
    if (ParseGen(segs[i])) continue;
    // The grammar of every command (ParseGenerationRef); the steps back
    // follow the index's parent links, as the CLI follows the store's.
    auto ref = ParseGenerationRef(segs[i]);
    if (!ref) return ErrorPage(res, 404, ref.error().message);
    uint64_t n = 0;
    if (ref->number) {
      n = *ref->number;
    } else {
      auto live = index->Live();
      if (!live) return InternalError(res, "cannot read the live generation", live.error());
      if (!*live) return ErrorPage(res, 404, "'live': nothing has been published yet");
      n = **live;
    }
    for (uint64_t step = 0; step < ref->back; ++step) {
      auto e = index->Find(n);
      if (!e) return GenError(res, n, e.error());
      if (!e->info.parent)
        return ErrorPage(res, 404,
                         "'" + segs[i] + "' goes back past generation " + std::to_string(n) +
                             ", the oldest in the history");
      n = *e->info.parent;
    }
    segs[i] = std::to_string(n);
  }
  std::string location;
  for (const auto& seg : segs) location += "/" + EncodePath(seg);
  if (p.trailing_slash) location += "/";
  if (!p.query.empty()) location += "?" + p.query;
  Redirect(res, 302, location, kNoStore);
}

void Server::Impl::ServeLive(httplib::Response& res) {
  auto live = index->Live();
  if (!live) return InternalError(res, "cannot read the live generation", live.error());
  if (!*live)
    return SetHtml(res, 404,
                   Page("Nothing published yet",
                        "<p>No generation is live yet. See <a href=\"/history\">history</a>.</p>"),
                   kNoStore);
  Redirect(res, 302, "/g/" + std::to_string(**live) + "/", kNoStore);
}

void Server::Impl::ServeHistory(httplib::Response& res) {
  auto all = index->All();
  if (!all) return InternalError(res, "cannot read the history", all.error());
  auto live = index->Live();
  const std::optional<uint64_t> live_gen = live.value_or(std::nullopt);
  std::string b = "<p>Repository <code>" + Escape(root) +
                  "</code>: " + std::to_string(all->size()) + " retained generation" +
                  (all->size() == 1 ? "" : "s") + ".</p>\n";
  if (all->size() >= 2) {
    b += "<form class=\"compare\" action=\"/compare\" method=\"get\">Compare generation "
         "<select name=\"a\">" +
         GenerationOptions(*all, (*all)[1].info.number) + "</select> with <select name=\"b\">" +
         GenerationOptions(*all, (*all)[0].info.number) +
         "</select> <button type=\"submit\">compare</button></form>\n";
  }
  b += "<table class=\"history\"><tr><th>generation</th><th>time (UTC)</th><th>kind</th>"
       "<th>message</th><th>author</th><th>host</th><th>files changed</th><th>files</th>"
       "<th>diff</th></tr>\n";
  for (const GenEntry& e : *all) {
    const auto& g = e.info;
    const std::string n = std::to_string(g.number);
    auto changed = index->ChangedCount(g.number);
    b += "<tr class=\"gen\" data-gen=\"" + n + "\"><td><a class=\"genlink\" href=\"/gen/" + n +
         "\">" + n + "</a>" + (live_gen == g.number ? " <span class=\"live\">live</span>" : "") +
         "</td><td>" + Escape(FormatTime(g.time_ms)) + "</td><td>" + Escape(g.kind);
    if (g.restores) b += " of " + std::to_string(*g.restores);
    b += "</td><td>" + Escape(g.message) + "</td><td>" + Escape(g.author) + "</td><td>" +
         Escape(g.host) + "</td><td>" + (changed ? std::to_string(*changed) : "?") +
         "</td><td><a href=\"/g/" + n + "/\">files</a></td><td>";
    if (g.parent)
      b += "<a class=\"difflink\" href=\"/diff/" + std::to_string(*g.parent) + "/" + n +
           "\">diff with " + std::to_string(*g.parent) + "</a>";
    b += "</td></tr>\n";
  }
  b += "</table>\n";
  SetHtml(res, 200, Page("History", b), kNoStore);
}

std::string Server::Impl::Listing(uint64_t gen, const TreeIndex& tree, const std::string& dir) {
  const std::string n = std::to_string(gen);
  std::string b = "<p>Generation <a href=\"/g/" + n + "/\">" + n + "</a>, directory <code>/" +
                  Escape(dir) + "</code>.</p>\n<ul class=\"listing\">\n";
  if (!dir.empty()) b += "<li><a href=\"../\">../</a></li>\n";
  for (const auto& [name, is_dir] : tree.Children(dir)) {
    const std::string href = EncodePath(name) + (is_dir ? "/" : "");
    b += "<li><a class=\"" + std::string(is_dir ? "dir" : "file") + "\" href=\"" + Escape(href) +
         "\">" + Escape(name) + (is_dir ? "/" : "") + "</a>";
    if (!is_dir && EndsWith(name, ".sdn"))
      b += " (<a class=\"tableview\" href=\"" + Escape(href) + "?view=table\">table</a>)";
    b += "</li>\n";
  }
  b += "</ul>\n";
  return Page("Generation " + n + ": /" + dir, b);
}

void Server::Impl::ServeGen(const httplib::Request& req, httplib::Response& res, uint64_t gen,
                            const std::string& path, bool trailing_slash, bool table_view) {
  auto e = index->Find(gen);
  if (!e) return GenError(res, gen, e.error());
  auto tree = index->Tree(*e);
  if (!tree) return GenError(res, gen, tree.error());
  const std::string n = std::to_string(gen);

  std::string cur = path;
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    if ((*tree)->dirs.count(cur)) {
      if (cur != path)  // reached through a link: send the client to the real place
        return Redirect(res, 302, "/g/" + n + "/" + EncodePath(cur) + "/", kImmutable);
      if (!trailing_slash && !cur.empty())
        return Redirect(res, 301, "/g/" + n + "/" + EncodePath(cur) + "/", kImmutable);
      const std::string index_html = cur.empty() ? "index.html" : cur + "/index.html";
      auto ix = (*tree)->files.find(index_html);
      if (ix != (*tree)->files.end() && ix->second.mode != kLinkMode) {
        auto data = index->ReadBlob(ix->second.blob);
        if (!data) return GenError(res, gen, data.error());
        return SetImmutable(req, res, ix->second.blob, *data, "text/html; charset=utf-8");
      }
      return SetImmutable(req, res, "dir-" + e->info.tree + "-" + EncodePath(cur),
                          Listing(gen, **tree, cur), "text/html; charset=utf-8");
    }
    auto it = (*tree)->files.find(cur);
    if (it == (*tree)->files.end())
      return ErrorPage(res, 404, "no file /" + path + " in generation " + n);
    if (trailing_slash) return ErrorPage(res, 404, "/" + path + " is not a directory");
    const StoredFile& f = it->second;
    if (f.mode == kLinkMode) {
      // A stored link: followed only while it stays inside this tree.
      auto target = index->ReadBlob(f.blob);
      if (!target) return GenError(res, gen, target.error());
      auto resolved = ResolveLinkTarget(DirOf(cur), *target);
      if (!resolved)
        return ErrorPage(res, 404, "/" + path + " is a link that leads outside the generation");
      cur = *resolved;
      continue;
    }
    if (table_view) return ServeTable(req, res, gen, cur, f);
    auto data = index->ReadBlob(f.blob);
    if (!data) return GenError(res, gen, data.error());
    return SetImmutable(req, res, f.blob, *data, ContentTypeFor(cur));
  }
  ErrorPage(res, 404, "/" + path + ": too many links");
}

void Server::Impl::ServeDiff(const httplib::Request& req, httplib::Response& res, uint64_t a,
                             uint64_t b) {
  auto ea = index->Find(a);
  if (!ea) return GenError(res, a, ea.error());
  auto eb = index->Find(b);
  if (!eb) return GenError(res, b, eb.error());
  auto ta = index->Tree(*ea);
  if (!ta) return GenError(res, a, ta.error());
  auto tb = index->Tree(*eb);
  if (!tb) return GenError(res, b, tb.error());
  const std::string sa = std::to_string(a), sb = std::to_string(b);

  struct Change {
    std::string path, status;  // added | removed | changed
  };
  std::vector<Change> changes;
  for (const TreeChange& c : DiffTreeIndexes(ta->get(), **tb))
    changes.push_back({c.path, c.kind == ChangeKind::kAdded     ? "added"
                               : c.kind == ChangeKind::kRemoved ? "removed"
                                                                : "changed"});

  std::string body = "<p>From generation <a href=\"/g/" + sa + "/\">" + sa +
                     "</a> to generation <a href=\"/g/" + sb + "/\">" + sb +
                     "</a>: " + std::to_string(changes.size()) + " file" +
                     (changes.size() == 1 ? "" : "s") + " changed.</p>\n";
  body += "<table class=\"files\"><tr><th>file</th><th>change</th></tr>\n";
  for (const auto& c : changes) {
    body += "<tr class=\"file " + c.status + "\"><td><a href=\"#f-" + Escape(EncodePath(c.path)) +
            "\">" + Escape(c.path) + "</a></td><td class=\"status-" + c.status + "\">" + c.status +
            "</td></tr>\n";
  }
  body += "</table>\n";

  for (const auto& c : changes) {
    const std::string href_a = "/g/" + sa + "/" + Escape(EncodePath(c.path));
    const std::string href_b = "/g/" + sb + "/" + Escape(EncodePath(c.path));
    body += "<section class=\"filediff\" id=\"f-" + Escape(EncodePath(c.path)) + "\"><h2>" +
            Escape(c.path) + " <span class=\"status-" + c.status + "\">" + c.status +
            "</span></h2>\n<p>";
    if (c.status != "added") body += "<a href=\"" + href_a + "\">in " + sa + "</a> ";
    if (c.status != "removed") body += "<a href=\"" + href_b + "\">in " + sb + "</a>";
    body += "</p>\n";
    if (EndsWith(c.path, ".sdn")) {
      sdn::Document before, after;
      bool ok = true;
      std::string why;
      auto load = [&](const TreeIndex& t, sdn::Document* out) {
        auto it = t.files.find(c.path);
        // A missing side (added or removed file) or a stored link: no records.
        if (it == t.files.end() || it->second.mode == kLinkMode) return;
        auto data = index->ReadBlob(it->second.blob);
        if (!data) {
          ok = false;
          why = data.error().ToString();
          return;
        }
        auto doc = sdn::Parse(*data);
        if (!doc) {
          ok = false;
          why = doc.error().message;
          return;
        }
        *out = std::move(*doc);
      };
      load(**ta, &before);
      load(**tb, &after);
      if (ok) {
        RecordDiffCounts counts;
        std::string tables = RenderRecordDiff(before, after, &counts);
        body += "<p class=\"counts\">" + std::to_string(counts.added) + " added, " +
                std::to_string(counts.changed) + " changed, " + std::to_string(counts.removed) +
                " removed, " + std::to_string(counts.unchanged) + " unchanged records.</p>\n" +
                tables;
        body += "</section>\n";
        continue;
      }
      body += "<p class=\"error\">Not readable as SDN: " + Escape(why) + "</p>\n";
    }
    // Any other file, or a table that does not parse: the text difference.
    if (auto patch = FormatDiff(*repo, a, b, DiffFormat::kPatch, c.path)) {
      body += RenderPatch(*patch, kMaxPatchBytes);
    } else {
      Log(LogLevel::kWarning, "serve: text diff of " + c.path + ": " + patch.error().ToString());
      body += "<p class=\"error\">No text diff: the file could not be read.</p>\n";
    }
    body += "</section>\n";
  }
  SetImmutable(req, res, "diff2-" + ea->info.tree + "-" + eb->info.tree,
               Page("Diff " + sa + " → " + sb, body), "text/html; charset=utf-8");
}

// --- public API

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8 in dotted-quad form.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0, digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}

Result<ServeOptions> ParseAddress(const std::string& addr, bool allow_public) {
  ServeOptions o;
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos)
    return MakeError(Code::kInvalidArgument, "address '" + addr + "' is not HOST:PORT");
  std::string host = addr.substr(0, colon);
  const std::string port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  int p = -1;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535)
    return MakeError(Code::kInvalidArgument, "port '" + port + "' is not a number 0..65535");
  if (!allow_public && !IsLoopbackHost(host))
    return MakeError(Code::kInvalidArgument,
                     "'" + host +
                         "' is not a loopback address; txdir serve has no authentication, so "
                         "serving beyond this machine needs --public");
  o.host = host;
  o.port = p;
  return o;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Open(const std::string& root, const ServeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->repo = TXDIR_TRY(Repository::Open(root));
  impl->root = impl->repo->root();
  impl->options = options;
  impl->http = std::make_unique<LimitedServer>(options.limits);
  impl->index = std::make_unique<GenIndex>(impl->repo.get());
  // The index is built now, at start-up, rather than by the first request
  // (a walk of the whole history: 20-30 ms for 1,000 generations). A
  // failure is not fatal here: every request refreshes the index again and
  // answers a failure with its own error page.
  (void)impl->index->Refresh();
  impl->Install();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Result<int> Server::Bind() {
  Impl& s = *impl_;
  if (s.options.port == 0) {
    s.port = s.http->bind_to_any_port(s.options.host);
  } else {
    s.port = s.http->bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  }
  if (s.port <= 0)
    return MakeError(Code::kIo, "cannot listen on " + s.options.host + ":" +
                                    std::to_string(s.options.port) +
                                    " (address in use or not available)");
  return s.port;
}

Status Server::Run() {
  if (impl_->stop_requested) return Ok();
  if (!impl_->http->listen_after_bind())
    return MakeError(Code::kIo, "the HTTP server stopped with an error");
  return Ok();
}

void Server::Stop() {
  impl_->stop_requested = true;
  impl_->http->Stop();
}

}  // namespace txdir::serve
