// The dashboard pages of `txdir serve` over HTTP: generation, table, record
// history, file versions, trends, compare, and text diffs; plus the pure
// renderers behind them (trend chart, patch).
#include "tests/serve/serve_http_fixture.h"
#include "tools/serve/dashboard.h"
#include "tools/serve/request_path.h"

namespace txdir::testing {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST_F(ServeHttpTest, GenerationPageShowsMetadataNeighboursChangesAndRowCounts) {
  auto r = Get("/gen/2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string& b = r->body;
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  EXPECT_TRUE(Has(b, "<dd class=\"message\">&lt;script&gt;alert(1)&lt;/script&gt;</dd>")) << b;
  EXPECT_FALSE(Has(b, "<script>alert"));
  EXPECT_TRUE(Has(b, "<a rel=\"prev\" href=\"/gen/1\">"));
  EXPECT_FALSE(Has(b, "rel=\"next\""));
  EXPECT_TRUE(Has(b, "<span class=\"live\">live</span>"));
  EXPECT_TRUE(Has(b, "<a href=\"/diff/1/2\">full diff with 1</a>"));
  EXPECT_TRUE(Has(b, "<tr class=\"file changed\"><td>a.txt</td>")) << b;
  EXPECT_TRUE(Has(b, "<tr class=\"file added\"><td>notes.txt</td>"));
  EXPECT_TRUE(Has(b, "<tr class=\"file added\"><td>sub/&lt;b&gt;&amp;x.txt</td>"));
  // Records of the changed table: 4 added, 2 changed, 3 removed.
  EXPECT_TRUE(Has(b,
                  "<tr class=\"file changed\"><td>tables/features.sdn</td><td "
                  "class=\"status-changed\">changed</td><td>+1 ~1 -1</td>"))
      << b;
  EXPECT_TRUE(Has(b, "data-file=\"tables/features.sdn\" data-table=\"features\" data-rows=\"3\""));

  auto first = Get("/gen/1");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  EXPECT_TRUE(Has(first->body, "<a rel=\"next\" href=\"/gen/2\">"));
  EXPECT_TRUE(Has(first->body, "none: the first generation"));
  EXPECT_TRUE(Has(first->body,
                  "<td>tables/features.sdn</td><td class=\"status-added\">added</td>"
                  "<td>+3 ~0 -0</td>"))
      << first->body;
  EXPECT_TRUE(Has(first->body, "<a href=\"/diff/1/2\">diff with live (2)</a>"));

  // Revalidated, not immutable: the page shows what came later.
  const std::string etag = r->get_header_value("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = client_->Get("/gen/2", httplib::Headers{{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  PublishTree({{"a.txt", "three"}}, "third");
  auto later = client_->Get("/gen/2", httplib::Headers{{"If-None-Match", etag}});
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 200);
  EXPECT_TRUE(Has(later->body, "<a rel=\"next\" href=\"/gen/3\">"));
  EXPECT_FALSE(Has(later->body, "<span class=\"live\">live</span>"));
}

TEST_F(ServeHttpTest, GenerationPageListsAtMost500ChangedFilesAndCountsTheRest) {
  std::map<std::string, std::string> files;
  for (int i = 0; i < 510; ++i) files["many/f" + std::to_string(1000 + i)] = std::to_string(i);
  files["a.txt"] = "two";  // kept: the other 14 files of generation 2 are removed
  PublishTree(files, "many files");
  auto r = Get("/gen/3");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Count(r->body, "<tr class=\"file "), 500u);
  EXPECT_TRUE(Has(r->body, "… and 24 more files: see the <a href=\"/diff/2/3\">full diff</a>."))
      << r->body.substr(r->body.size() - 2000);
  EXPECT_TRUE(Has(r->body, ": 524 files</h2>")) << "the heading counts them all";
}

TEST_F(ServeHttpTest, TablePageLinksEachRecordOtherVersionsAndTheTrend) {
  auto r = Get("/table/2/tables/features.sdn");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string& b = r->body;
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
  EXPECT_TRUE(Has(b, "<a rel=\"prev\" href=\"/table/1/tables/features.sdn\">"));
  EXPECT_FALSE(Has(b, "rel=\"next\""));
  EXPECT_TRUE(Has(b, "<a href=\"/versions/tables/features.sdn\">all versions</a>"));
  EXPECT_TRUE(Has(b, "<a href=\"/trends/tables/features.sdn?table=features\">trends</a>"));
  EXPECT_TRUE(Has(b, "<input id=\"search\""));
  EXPECT_TRUE(Has(b, "<script>"));
  EXPECT_TRUE(Has(b, "<th data-col=\"status\"><button class=\"sort\" type=\"button\">status"));
  EXPECT_TRUE(Has(b,
                  "<a class=\"record\" href=\"/record/tables/features.sdn?table=features&amp;"
                  "id=4\">4</a></td><td>&lt;b&gt;gc&lt;/b&gt;</td>"))
      << b;
  EXPECT_FALSE(Has(b, "<b>gc"));

  auto first = Get("/table/1/tables/features.sdn");
  ASSERT_TRUE(first);
  EXPECT_TRUE(Has(first->body, "<a rel=\"next\" href=\"/table/2/tables/features.sdn\">"));
  EXPECT_FALSE(Has(first->body, "rel=\"prev\""));
}

TEST_F(ServeHttpTest, RecordPageListsEveryChangeOfOneRecord) {
  auto r = Get("/record/tables/features.sdn?table=features&id=2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string& b = r->body;
  EXPECT_EQ(Count(b, "<tr class=\"event "), 2u) << b;
  EXPECT_TRUE(Has(b, "<tr class=\"event changed\" data-gen=\"2\">"));
  EXPECT_TRUE(Has(b, "<tr><th>status</th><td><del>planned</del> → <ins>complete</ins></td></tr>"));
  EXPECT_TRUE(Has(b, "<tr class=\"event added\" data-gen=\"1\">"));
  EXPECT_TRUE(Has(b, "<tr><th>name</th><td>lexer</td></tr>"));
  // The record in its table: the key column filtered to exactly this id.
  EXPECT_TRUE(Has(b, "href=\"/table/2/tables/features.sdn?f.id=%3D2\">in the table</a>")) << b;

  auto removed = Get("/record/tables/features.sdn?table=features&id=3");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(Has(removed->body, "<tr class=\"event removed\" data-gen=\"2\">"));
  // Query values are decoded; what comes back is escaped.
  auto odd = Get("/record/tables/features.sdn?table=features&id=%3Cb%3E%20x");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 404);
  EXPECT_TRUE(Has(odd->body, "no record &#39;&lt;b&gt; x&#39; in table features")) << odd->body;
  auto missing = Get("/record/tables/features.sdn?table=features");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
  auto not_sdn = Get("/record/a.txt?table=t&id=1");
  ASSERT_TRUE(not_sdn);
  EXPECT_EQ(not_sdn->status, 404);
}

TEST_F(ServeHttpTest, VersionsPageListsTheGenerationsThatChangedAFile) {
  auto r = Get("/versions/a.txt");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(Count(r->body, "<tr class=\"version "), 2u);
  EXPECT_TRUE(Has(r->body, "<tr class=\"version changed\" data-gen=\"2\">"));
  EXPECT_TRUE(Has(r->body, "<tr class=\"version added\" data-gen=\"1\">"));
  EXPECT_TRUE(
      Has(r->body, "<a href=\"/g/2/a.txt\">view</a> <a href=\"/diff/1/2#f-a.txt\">diff</a>"));
  auto same = Get("/versions/sub/b.txt");  // unchanged in 2
  ASSERT_TRUE(same);
  EXPECT_EQ(Count(same->body, "<tr class=\"version "), 1u);
  auto table = Get("/versions/tables/features.sdn");
  ASSERT_TRUE(table);
  EXPECT_TRUE(Has(table->body, "<a href=\"/table/2/tables/features.sdn\">view</a>"));
  auto none = Get("/versions/nope.txt");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
}

TEST_F(ServeHttpTest, TrendCountsRowsByAColumnInEveryGeneration) {
  auto r = Get("/trends/tables/features.sdn?table=features&by=status");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string& b = r->body;
  EXPECT_TRUE(Has(b, "<a href=\"/gen/1\"><rect class=\"hit\" data-gen=\"1\" data-rows=\"3\""));
  EXPECT_TRUE(Has(b, "<a href=\"/gen/2\"><rect class=\"hit\" data-gen=\"2\" data-rows=\"3\""));
  // The values with the most rows first: planned (2), then complete and done.
  EXPECT_TRUE(Has(b,
                  "<title>generation 1: rows 3, status = planned 2, status = complete 0, "
                  "status = done 1</title>"))
      << b;
  EXPECT_TRUE(Has(b,
                  "<title>generation 2: rows 3, status = planned 1, status = complete 1, "
                  "status = done 1</title>"));
  EXPECT_TRUE(Has(b, "status = planned: 1</li>"));
  EXPECT_TRUE(Has(b, "<option selected>status</option>"));
  // Without a column: the row count only.
  auto rows = Get("/trends/tables/features.sdn");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->status, 200);
  EXPECT_EQ(Count(rows->body, "<polyline class=\"series\""), 1u);

  auto index = Get("/trends");
  ASSERT_TRUE(index);
  EXPECT_TRUE(
      Has(index->body, "href=\"/trends/tables/features.sdn?table=features&amp;by=status\""));
  for (const char* bad : {"/trends/nope.sdn", "/trends/a.txt"}) {
    auto e = Get(bad);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 404) << bad;
  }
}

// Generations 3..22: more versions than the server reads in parallel, each
// counted right whatever thread read it; a repeated version, a version that
// is not SDN, one without the file, and one whose table comes twice (the
// first, which has no rows, is the one counted).
TEST_F(ServeHttpTest, TrendCountsEveryVersionOfALongHistory) {
  std::map<uint64_t, std::string> rows;  // generation -> data-rows
  rows[1] = "3";
  rows[2] = "3";
  for (uint64_t g = 3; g <= 22; ++g) {
    std::string text = "features |id, name, status|\n";
    for (uint64_t r = 0; r < g; ++r)
      text += "    " + std::to_string(r) + ", f" + std::to_string(r) + ", " +
              (r % 3 == 0 ? "done" : "planned") + "\n";
    rows[g] = std::to_string(g);
    std::map<std::string, std::string> files = {{"a.txt", std::to_string(g)}};
    if (g == 9) {
      text = "this is | not, SDN\n";
      rows[g] = "-";
    } else if (g == 10) {
      text.clear();
      rows[g] = "-";
    } else if (g == 11) {
      text = "features |id, name, status|\nfeatures |id, name, status|\n    1, x, done\n";
      rows[g] = "0";
    } else if (g == 12) {
      text =
          "features |id, name, status|\n    1, x, done\n    2, y, planned\n"
          "    3, z, planned\n";  // the version of generation 3, again
      rows[g] = "3";
    }
    if (!text.empty()) files["tables/features.sdn"] = text;
    PublishTree(files, "gen " + std::to_string(g));
  }
  for (const char* by : {"status", ""}) {
    SCOPED_TRACE(by);
    auto r = Get(std::string("/trends/tables/features.sdn?table=features&by=") + by);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    for (const auto& [g, n] : rows)
      EXPECT_TRUE(Has(r->body, "data-gen=\"" + std::to_string(g) + "\" data-rows=\"" + n + "\""))
          << "generation " << g << " rows " << n;
    EXPECT_TRUE(Has(r->body, "1 version of the file are not SDN"));
  }
  auto r = Get("/trends/tables/features.sdn?table=features&by=status");
  // 22 rows: r = 0, 3, .., 21 are done (8), the other 14 planned.
  EXPECT_TRUE(Has(r->body, "<title>generation 22: rows 22, status = planned 14, status = done 8"))
      << r->body;
  EXPECT_TRUE(Has(r->body, "<title>generation 10: no such table</title>"));
  EXPECT_TRUE(Has(r->body, "<title>generation 11: rows 0, status = planned 0, status = done 0"));
  EXPECT_TRUE(Has(r->body, "<title>generation 3: rows 3, status = planned 2, status = done 1"));
}

TEST_F(ServeHttpTest, CompareRedirectsToTheDiffOfTheTwoGenerationsPicked) {
  for (const auto& [target, location] :
       std::vector<std::pair<std::string, std::string>>{{"/compare?a=1&b=2", "/diff/1/2"},
                                                        {"/compare?a=live~1&b=live", "/diff/1/2"},
                                                        {"/compare?a=2%5E&b=2", "/diff/1/2"}}) {
    auto r = Get(target);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 302) << target;
    EXPECT_EQ(r->get_header_value("Location"), location) << target;
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  }
  auto half = Get("/compare?a=1");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->status, 400);
  auto bad = Get("/compare?a=x&b=2");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 404);
  auto history = Get("/history");
  ASSERT_TRUE(history);
  EXPECT_TRUE(Has(history->body, "<form class=\"compare\" action=\"/compare\" method=\"get\">"));
  EXPECT_TRUE(Has(history->body, "<select name=\"a\"><option value=\"2\">"));
  EXPECT_TRUE(Has(history->body, "<option value=\"1\" selected>"));
}

TEST_F(ServeHttpTest, DiffShowsTheTextDifferenceOfFilesThatAreNotTables) {
  auto r = Get("/diff/1/2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_TRUE(Has(r->body,
                  "<span class=\"hunk\">@@ -1 +1 @@</span><span class=\"del\">-one</span>"
                  "<span class=\"meta\">\\ No newline at end of file</span><span "
                  "class=\"add\">+two</span>"))
      << r->body;
  EXPECT_TRUE(Has(r->body, "<span class=\"add\">+new</span>"));
}

TEST(ServeDashboardTest, TrendChartGroupsRareValuesAndBreaksWhereTheTableIsMissing) {
  std::vector<serve::TrendPoint> points = {
      {1, true, 4, {{"a", 2}, {"b", 1}, {"c", 1}}},
      {2, false, 0, {}},
      {3, true, 5, {{"a", 3}, {"b", 1}, {"c", 1}}},
      {4, true, 5, {{"a", 3}, {"b", 2}}},
  };
  const std::string svg = serve::RenderTrendChart(points, "k", 2);
  // rows, a, b and (other) = c; each broken at generation 2.
  EXPECT_EQ(Count(svg, "data-series=\"rows\""), 2u) << svg;
  EXPECT_EQ(Count(svg, "data-series=\"k = a\""), 2u);
  EXPECT_EQ(Count(svg, "data-series=\"k = b\""), 2u);
  EXPECT_EQ(Count(svg, "data-series=\"k = (other)\""), 2u);
  EXPECT_EQ(Count(svg, "data-series=\"k = c\""), 0u);
  EXPECT_TRUE(Has(svg, "<title>generation 2: no such table</title>"));
  EXPECT_TRUE(Has(svg, "<title>generation 3: rows 5, k = a 3, k = b 1, k = (other) 1</title>"));
  EXPECT_TRUE(Has(svg, "k = (other): 0</li>"));
  const std::string empty = serve::RenderTrendChart({{1, true, 2, {{"", 1}, {"x", 1}}}}, "k", 8);
  EXPECT_TRUE(Has(empty, "data-series=\"k = (empty)\"")) << empty;
  EXPECT_EQ(Count(svg, "<rect class=\"hit\""), 4u);
  EXPECT_TRUE(Has(serve::RenderTrendChart({}, "", 8), "No generations"));
}

TEST(ServeDashboardTest, PatchIsEscapedAndCutAtTheLimit) {
  const std::string patch =
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-<old>\n+new & more\n same\n";
  const std::string h = serve::RenderPatch(patch, 1 << 20);
  EXPECT_TRUE(Has(h,
                  "<span class=\"hunk\">@@ -1 +1 @@</span><span class=\"del\">-&lt;old&gt;"
                  "</span><span class=\"add\">+new &amp; more</span><span class=\"ctx\"> "
                  "same</span>"))
      << h;
  const std::string cut = serve::RenderPatch(patch, 20);
  EXPECT_TRUE(Has(cut, "… 5 more lines not shown")) << cut;
  EXPECT_FALSE(Has(cut, "new &amp; more"));
}

TEST(ServeDashboardTest, QueryValuesAreDecodedAsFormValues) {
  EXPECT_EQ(serve::QueryValue("a=1&id=%3Cb%3E+x&z", "id"), "<b> x");
  EXPECT_EQ(serve::QueryValue("id=100%25", "id"), "100%");
  EXPECT_EQ(serve::QueryValue("id=%zz%4", "id"), "%zz%4");  // malformed: kept as written
  EXPECT_EQ(serve::QueryValue("a=1", "id"), "");
  EXPECT_EQ(serve::EncodeQueryValue("a b&c=d/é"), "a%20b%26c%3Dd/%C3%A9");
}

}  // namespace
}  // namespace txdir::testing
