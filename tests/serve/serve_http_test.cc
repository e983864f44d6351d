// HTTP-level tests of `txdir serve` against a server in this process, on a
// free loopback port: routes, headers, methods, traversal, links, pages.
#include "tests/serve/serve_http_fixture.h"
#include "txdir/retention.h"

namespace txdir::testing {
namespace {

TEST_F(ServeHttpTest, RootRedirectsToTheLiveGenerationWithoutCaching) {
  auto r = Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->get_header_value("Location"), "/g/2/");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
}

TEST_F(ServeHttpTest, GenerationReferencesRedirectToTheNumberTheyNameWithoutCaching) {
  // The grammar of the commands (live, live~K, N^); "%5E" is how a browser
  // sends '^'. The page itself stays immutable under its number.
  for (const auto& [path, location] : std::vector<std::pair<std::string, std::string>>{
           {"/g/live/", "/g/2/"},
           {"/g/live~1/a.txt", "/g/1/a.txt"},
           {"/g/2%5E/sub/", "/g/1/sub/"},
           {"/g/01/a.txt", "/g/1/a.txt"},
           {"/diff/live~1/live", "/diff/1/2"},
           {"/table/live/tables/features.sdn?x=1", "/table/2/tables/features.sdn?x=1"}}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 302) << path;
    EXPECT_EQ(r->get_header_value("Location"), location) << path;
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store") << path;
  }
  auto r = Get("/g/live~1/a.txt");
  ASSERT_TRUE(r);
  auto followed = Get(r->get_header_value("Location"));
  ASSERT_TRUE(followed);
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "one");
}

TEST_F(ServeHttpTest, FileIsImmutableWithTheBlobIdAsEtag) {
  auto r = Get("/g/2/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "two");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  const std::string etag = "\"" + BlobOf(2, "a.txt") + "\"";
  EXPECT_EQ(r->get_header_value("ETag"), etag);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");

  auto again = client_->Get("/g/2/a.txt", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_EQ(again->body, "");
}

TEST_F(ServeHttpTest, AnyRetainedGenerationIsServedFromTheStoreEvenIfNotMaterialized) {
  ForceRemoveAll(root_ + "/.txdir/gens/1");
  ASSERT_FALSE(stdfs::exists(root_ + "/.txdir/gens/1"));
  auto r = Get("/g/1/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "one");
  auto gone = Get("/g/1/notes.txt");  // only in generation 2
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
}

TEST_F(ServeHttpTest, DirectoryServesIndexHtmlOrAListing) {
  auto index = Get("/g/2/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("stylesheet"), std::string::npos);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");

  auto listing = Get("/g/2/sub/");
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->status, 200);
  EXPECT_NE(listing->body.find("href=\"b.txt\""), std::string::npos) << listing->body;
  // The odd name is escaped as text and percent-encoded in the link.
  EXPECT_NE(listing->body.find("&lt;b&gt;&amp;x.txt"), std::string::npos) << listing->body;
  EXPECT_NE(listing->body.find("href=\"%3Cb%3E%26x.txt\""), std::string::npos) << listing->body;
  EXPECT_EQ(listing->body.find("<b>&x"), std::string::npos);
  auto odd = Get("/g/2/sub/%3Cb%3E%26x.txt");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 200);
  EXPECT_EQ(odd->body, "odd");

  for (const char* path : {"/g/2", "/g/2/sub"}) {
    auto r = Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 301) << path;
    EXPECT_EQ(r->get_header_value("Location"), std::string(path) + "/");
  }
}

TEST_F(ServeHttpTest, ContentTypesFollowTheExtension) {
  const std::map<std::string, std::string> expected = {
      {"/g/2/style.css", "text/css; charset=utf-8"},
      {"/g/2/index.html", "text/html; charset=utf-8"},
      {"/g/2/data.json", "application/json"},
      {"/g/2/tables/features.sdn", "text/plain; charset=utf-8"},
  };
  for (const auto& [path, type] : expected) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << path;
  }
}

TEST_F(ServeHttpTest, UnknownGenerationsFilesAndPagesAre404) {
  for (const char* path : {"/g/99/a.txt", "/g/0/", "/g/abc/", "/g/live~5/", "/g/1%5E/",
                           "/diff/live%5E2/2", "/g/2/missing", "/g/2/a.txt/", "/nope", "/diff/1/99",
                           "/diff/x/2", "/table/9/a.sdn", "/g/18446744073709551616/"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
}

TEST_F(ServeHttpTest, PrunedAndUnknownGenerationsAre404WithAPlainMessageOnEveryRoute) {
  // Generation 1 is read first, so the server has it in its index and its
  // tree in its cache; then gc --prune-history drops it from the store.
  for (const char* path : {"/g/1/a.txt", "/g/1/", "/diff/1/2", "/history"}) {
    auto r = Get(path);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << path;
  }
  auto gc = CollectGarbage(*repo_, {.keep = 1, .prune_history = true});
  ASSERT_TRUE(gc) << gc.error().ToString();
  ASSERT_EQ(gc->history_pruned, std::vector<uint64_t>{1});

  const std::vector<std::string> gens = {"1",
                                         "3",
                                         "999",
                                         "9223372036854775807",
                                         "18446744073709551615",
                                         "99999999999999999999",
                                         "live~1",  // past the oldest kept
                                         "2^",
                                         "0",
                                         "-1",
                                         "1e3"};
  for (const std::string& g : gens) {
    for (const std::string& path :
         {"/g/" + g, "/g/" + g + "/", "/g/" + g + "/a.txt", "/g/" + g + "/sub/", "/g/" + g + "/sub",
          "/g/" + g + "/tables/features.sdn?view=table", "/table/" + g + "/tables/features.sdn",
          "/diff/" + g + "/2", "/diff/2/" + g, "/gen/" + g}) {
      auto r = Get(path);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 404) << path << "\n" << r->body;
      // A plain message: nothing of the server's insides.
      for (const std::string& inside :
           {tmp_.path(), std::string("store.git"), std::string("libgit2"), std::string("object"),
            std::string("commit"), std::string("(not found)")})
        EXPECT_EQ(r->body.find(inside), std::string::npos) << path << ": " << r->body;
    }
  }
  auto r = Get("/g/1/a.txt");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("generation 1 is not in the store"), std::string::npos) << r->body;
  // The retained generation is served as before, and history lists it alone.
  r = Get("/g/2/a.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "two");
  r = Get("/history");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.find("data-gen=\"1\""), std::string::npos);
  EXPECT_NE(r->body.find("data-gen=\"2\""), std::string::npos);
}

TEST_F(ServeHttpTest, OnlyGetAndHeadAreAllowed) {
  auto head = client_->Head("/g/2/a.txt");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->get_header_value("ETag"), "\"" + BlobOf(2, "a.txt") + "\"");

  std::vector<std::pair<std::string, httplib::Result>> results;
  results.emplace_back("POST", client_->Post("/g/2/a.txt", "x", "text/plain"));
  results.emplace_back("PUT", client_->Put("/g/2/a.txt", "x", "text/plain"));
  results.emplace_back("PATCH", client_->Patch("/g/2/a.txt", "x", "text/plain"));
  results.emplace_back("DELETE", client_->Delete("/g/2/a.txt"));
  results.emplace_back("OPTIONS", client_->Options("/"));
  for (auto& [method, r] : results) {
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(ReadFile(root_ + "/current/a.txt"), "two");
}

TEST_F(ServeHttpTest, TraversalIsRefusedInEveryEncoding) {
  const std::vector<std::string> attacks = {
      "/g/2/../../../secret.txt",
      "/g/2/..",
      "/g/2/sub/../a.txt",
      "/g/2/./a.txt",
      "/g/2/%2e%2e/%2e%2e/%2e%2e/secret.txt",
      "/g/2/%2E%2E/%2E%2E/secret.txt",
      "/g/2/.%2e/.%2e/secret.txt",
      "/g/2/..%2f..%2f..%2fsecret.txt",
      "/g/2/..%2F..%2Fsecret.txt",
      "/g/2/%252e%252e/%252e%252e/secret.txt",
      "/g/2/%252f",
      "/g/2/..\\..\\..\\secret.txt",
      "/g/2/%5c..%5c..%5csecret.txt",
      "/g/2/a.txt%00.html",
      "/g/2/..%00/secret.txt",
      "/g/2/%0a",
      "//etc/passwd",
      "/g/2//etc/passwd",
      "/g/2/%2fetc%2fpasswd",
      "http://127.0.0.1/g/2/../../secret.txt",
      "/g/2/%",
      "/g/2/%zz",
      "/g/2/%2",
      "/g/2/%c0%ae%c0%ae/secret.txt",  // overlong UTF-8 '.': not a dot, so just a missing name
      "/diff/1/../2",
      "/table/2/../secret.txt",
  };
  for (const auto& target : attacks) {
    std::string response;
    int status = RawStatus(port_, target, &response);
    // Refused before any lookup (400); the overlong form is only a name that
    // does not exist (404).
    const int expected = target.find("%c0%ae") != std::string::npos ? 404 : 400;
    EXPECT_EQ(status, expected) << target;
    EXPECT_EQ(response.find("TOPSECRET"), std::string::npos) << target;
    EXPECT_EQ(response.find("root:"), std::string::npos) << target;
  }
  // The same server still answers a clean request.
  EXPECT_EQ(RawStatus(port_, "/g/2/a.txt"), 200);
}

TEST_F(ServeHttpTest, StoredLinksAreFollowedOnlyInsideTheGeneration) {
  auto inside = Get("/g/2/inside");
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->status, 200);
  EXPECT_EQ(inside->body, "two");
  auto up = Get("/g/2/sub/up");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200);
  EXPECT_EQ(up->body, "two");
  for (const char* path : {"/g/2/outside", "/g/2/abs", "/g/2/loop1", "/g/2/dirlink/b.txt"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("TOPSECRET"), std::string::npos) << path;
  }
  auto dir = Get("/g/2/dirlink");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->status, 302);
  EXPECT_EQ(dir->get_header_value("Location"), "/g/2/sub/");
}

TEST_F(ServeHttpTest, HistoryListsEveryGenerationWithEscapedText) {
  auto r = Get("/history");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  size_t rows = 0;
  for (size_t p = r->body.find("<tr class=\"gen\""); p != std::string::npos;
       p = r->body.find("<tr class=\"gen\"", p + 1))
    ++rows;
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(r->body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(r->body.find("<script>"), std::string::npos);
  EXPECT_NE(r->body.find("href=\"/diff/1/2\""), std::string::npos);
  EXPECT_NE(r->body.find("href=\"/g/1/\""), std::string::npos);
}

TEST_F(ServeHttpTest, DiffHighlightsAddedChangedAndRemovedRecords) {
  auto r = Get("/diff/1/2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string& b = r->body;
  EXPECT_EQ(r->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  // Files: notes.txt added, a.txt and the table changed.
  EXPECT_NE(b.find("<tr class=\"file added\"><td><a href=\"#f-notes.txt\">"), std::string::npos);
  EXPECT_NE(b.find("<tr class=\"file changed\"><td><a href=\"#f-a.txt\">"), std::string::npos);
  // Records: id 2 changed (its status cell marked), 4 added, 3 removed, 1 unchanged.
  EXPECT_NE(b.find("1 added, 1 changed, 1 removed, 1 unchanged records"), std::string::npos) << b;
  EXPECT_NE(b.find("<td class=\"cell-changed\" title=\"was: planned\"><del>planned</del> "
                   "<ins>complete</ins></td>"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("<tr class=\"added\"><td>4</td><td>&lt;b&gt;gc&lt;/b&gt;</td>"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("<tr class=\"removed\"><td>3</td><td>jit</td>"), std::string::npos) << b;
  EXPECT_EQ(b.find("<b>gc"), std::string::npos);
}

TEST_F(ServeHttpTest, SdnFileRendersAsAnHtmlTable) {
  for (const char* path : {"/g/1/tables/features.sdn?view=table", "/table/1/tables/features.sdn"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_NE(r->body.find("<table class=\"sdn browse\" data-table=\"features\">"),
              std::string::npos);
    EXPECT_NE(r->body.find("<tr data-i=\"2\"><td><a class=\"record\" "
                           "href=\"/record/tables/features.sdn?table=features&amp;id=3\">3</a></td>"
                           "<td>jit</td><td>planned</td></tr>"),
              std::string::npos)
        << r->body;
  }
  auto raw = Get("/g/1/tables/features.sdn");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->body, kTables1);
}

TEST_F(ServeHttpTest, ASecondServerCannotShareTheBoundPort) {
  // Regression: httplib's default socket options include SO_REUSEPORT, with
  // which a second server bound the same port and took some connections.
  auto other = serve::Server::Open(root_, {.host = "127.0.0.1", .port = port_});
  ASSERT_TRUE(other);
  auto bound = (*other)->Bind();
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().code, Code::kIo);
}

TEST(ServeAddressTest, LoopbackOnlyUnlessPublic) {
  auto local = serve::ParseAddress("127.0.0.1:8080", false);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 8080);
  EXPECT_TRUE(serve::ParseAddress("[::1]:0", false));
  EXPECT_TRUE(serve::ParseAddress("localhost:80", false));
  EXPECT_EQ(serve::ParseAddress(":9000", false)->host, "127.0.0.1");
  EXPECT_FALSE(serve::ParseAddress("0.0.0.0:8080", false));
  EXPECT_FALSE(serve::ParseAddress("192.168.1.2:8080", false));
  EXPECT_FALSE(serve::ParseAddress("127.evil.com:8080", false));
  EXPECT_TRUE(serve::ParseAddress("0.0.0.0:8080", true));
  EXPECT_FALSE(serve::ParseAddress("127.0.0.1:65536", false));
  EXPECT_FALSE(serve::ParseAddress("127.0.0.1:x", false));
  EXPECT_FALSE(serve::ParseAddress("127.0.0.1", false));
}

}  // namespace
}  // namespace txdir::testing
