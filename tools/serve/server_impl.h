// Inside `txdir serve`: the server's state, its request handlers and the
// response helpers they share. server.cc holds routing and the file,
// listing, history and diff pages; pages.cc the dashboard pages
// (generation, table, record, versions, trends, compare).
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/serve/dashboard.h"
#include "tools/serve/gen_index.h"
#include "tools/serve/limited_server.h"
#include "tools/serve/request_path.h"
#include "tools/serve/serve.h"
#include "txdir/history.h"
#include "txdir/repository.h"

namespace txdir::serve {

// Cache-Control values. Immutable: what a generation number and path name
// never changes. No-cache: a page that also shows what came later (the next
// generation, newer versions), revalidated by its ETag. No-store: pages of
// the moment (history, redirects of references).
inline constexpr const char* kImmutable = "public, max-age=31536000, immutable";
inline constexpr const char* kNoCache = "no-cache";
inline constexpr const char* kNoStore = "no-store";
inline constexpr uint32_t kLinkMode = 0120000;

// A canonical generation number: digits, no leading zero, > 0.
std::optional<uint64_t> ParseGen(const std::string& s);
std::string Join(const std::vector<std::string>& segs, size_t from);
std::string DirOf(const std::string& path);
std::string BaseOf(const std::string& path);
bool EndsWith(const std::string& s, std::string_view suffix);

void SetHtml(httplib::Response& res, int status, const std::string& html, const char* cache);
void ErrorPage(httplib::Response& res, int status, const std::string& what);
// A failure that is not the client's: the page says what could not be
// done and nothing of the repository's insides (paths, object ids, library
// messages); the details go to the log on stderr for the operator.
void InternalError(httplib::Response& res, const std::string& what, const Error& e);
void Redirect(httplib::Response& res, int status, const std::string& location, const char* cache);
// Content under an ETag; 304 on a matching If-None-Match. SetImmutable
// caches it for good, SetRevalidated makes the client ask each time.
void SetImmutable(const httplib::Request& req, httplib::Response& res, const std::string& etag,
                  const std::string& body, const std::string& type);
void SetRevalidated(const httplib::Request& req, httplib::Response& res, const std::string& etag,
                    const std::string& body, const std::string& type);

struct Server::Impl {
  std::string root;
  ServeOptions options;
  std::unique_ptr<Repository> repo;
  std::unique_ptr<GenIndex> index;
  std::mutex mu;  // guards repo and index: the store is single-threaded
  std::unique_ptr<LimitedServer> http;
  std::atomic<bool> stop_requested{false};
  int port = -1;
  // A trend's point per version of a table and column (blob id, table,
  // column): versions are immutable, so a trend over many generations
  // parses each version once.
  std::map<std::string, TrendPoint> trend_cache;
  // A record's history (head commit, file, table, id): valid until the
  // head moves, when the key changes.
  std::map<std::string, std::vector<RecordEvent>> record_cache;

  void Install();
  void Route(const httplib::Request& req, httplib::Response& res, const RequestPath& p);
  void ServeLive(httplib::Response& res);
  void ServeHistory(httplib::Response& res);
  void ServeGen(const httplib::Request& req, httplib::Response& res, uint64_t gen,
                const std::string& path, bool trailing_slash, bool table_view);
  void ServeDiff(const httplib::Request& req, httplib::Response& res, uint64_t a, uint64_t b);
  std::string Listing(uint64_t gen, const TreeIndex& tree, const std::string& dir);
  // Segments 1..last of `p` name generations, and one is a reference
  // (live, live~1, 7^) rather than a number: redirects to the same page
  // under the numbers they name now (never cached), or answers 404.
  void RedirectRefs(httplib::Response& res, const RequestPath& p, size_t last);
  // Answers a failed read of generation `gen`: 404 when the generation is
  // not (or no longer: gc --prune-history) in the store, else 500.
  void GenError(httplib::Response& res, uint64_t gen, const Error& e);

  // --- pages.cc
  // /gen/<gen>: what the generation is, its neighbours, what it changed and
  // its tables' row counts.
  void ServeGenerationPage(const httplib::Request& req, httplib::Response& res, uint64_t gen);
  // The table view of the SDN file `path` of generation `gen`.
  void ServeTable(const httplib::Request& req, httplib::Response& res, uint64_t gen,
                  const std::string& path, const StoredFile& f);
  // /record/<path>?table=T&id=X: every change of one record.
  void ServeRecord(httplib::Response& res, const std::string& path, const std::string& query);
  // /versions/<path>: the generations in which a file changed.
  void ServeVersions(httplib::Response& res, const std::string& path);
  // /trends and /trends/<path>?table=T&by=COLUMN.
  void ServeTrendsIndex(httplib::Response& res);
  void ServeTrend(httplib::Response& res, const std::string& path, const std::string& query);
  // /compare?a=REF&b=REF: 302 to /diff/<a>/<b>.
  void ServeCompare(httplib::Response& res, const std::string& query);

  // The generations in which the file at `path` differs from the retained
  // generation before (added, changed or removed), oldest first, with its
  // blob there (nullopt: removed).
  struct Version {
    uint64_t gen;
    std::optional<StoredFile> file;
  };
  Result<std::vector<Version>> Versions(const std::string& path);
  // A <select> of every retained generation, newest first, `selected` chosen.
  std::string GenerationOptions(const std::vector<GenEntry>& all, uint64_t selected);
};

}  // namespace txdir::serve
