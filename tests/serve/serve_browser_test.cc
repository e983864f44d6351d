// Headless Chromium against `txdir serve` on loopback: the history page, a
// generation's page and a diff page, with assertions on the DOM Chromium
// rendered (--dump-dom), and screenshots saved in the build directory.
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "tests/serve/serve_test_util.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/repository.h"
#include "txdir/sdn.h"

namespace txdir::testing {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// The page a dashboard might publish with its tables: links to each.
std::string IndexHtml(uint64_t run) {
  std::string h =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Dashboard</title>"
      "<link rel=\"stylesheet\" href=\"style.css\"></head><body><h1 id=\"title\">Sample "
      "dashboard, run " +
      std::to_string(run) + "</h1><ul>";
  for (size_t t = 0; t < sample::kTableCount; ++t)
    h += "<li><a class=\"table-link\" href=\"" + sample::FileName(t) + "?view=table\">" +
         sample::TableNames()[t] + "</a></li>";
  return h + "</ul></body></html>\n";
}

class ServeBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kChromium, X_OK) != 0)
      GTEST_SKIP() << kChromium << " is not installed (Debian package chromium; scripts/deps.sh "
                   << "installs it): the browser test cannot run";
    ASSERT_TRUE(Repository::Init(root_));
    auto repo = Repository::Open(root_);
    ASSERT_TRUE(repo);
    for (uint64_t run = 1; run <= 3; ++run) {
      const std::string src = tmp_ / ("src" + std::to_string(run));
      std::string error;
      ASSERT_TRUE(sample::WriteDashboard(src, {.seed = 3, .run = run, .rows = 12}, &error))
          << error;
      WriteFile(src + "/index.html", IndexHtml(run));
      WriteFile(src + "/style.css", "body{font-family:sans-serif;background:#eef}\n");
      if (run == 3) WriteFile(src + "/notes.txt", "added in run 3\n");
      auto g = (*repo)->Publish(src, {.message = "dashboard run " + std::to_string(run)});
      ASSERT_TRUE(g) << g.error().ToString();
    }
    server_ = std::make_unique<ServeProcess>(root_, tmp_.path());
    ASSERT_GT(server_->port, 0);
  }

  // Runs Chromium headless with `args` on `url`; its stdout. Bounded: killed
  // after 90 s.
  std::string Chromium(const std::vector<std::string>& args, const std::string& url) {
    const std::string profile = tmp_ / ("profile" + std::to_string(++runs_));
    stdfs::create_directories(profile);
    std::vector<std::string> argv = {kChromium,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--hide-scrollbars",
                                     "--user-data-dir=" + profile};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    Child c(argv, profile + ".out", profile + ".err");
    EXPECT_TRUE(c.started());
    auto exit = c.Wait(std::chrono::seconds(90));
    EXPECT_TRUE(exit.has_value()) << "chromium did not finish: " << url;
    if (!exit) c.Stop();
    EXPECT_EQ(exit.value_or(-1), 0) << c.err();
    return c.out();
  }

  std::string Dom(const std::string& path) { return Chromium({"--dump-dom"}, server_->Url(path)); }

  void Screenshot(const std::string& path, const std::string& png) {
    std::remove(png.c_str());
    Chromium({"--screenshot=" + png, "--window-size=1200,900"}, server_->Url(path));
    const std::string bytes = ReadFile(png);
    ASSERT_GT(bytes.size(), 1000u) << png;
    EXPECT_EQ(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n"), 0) << png;
    std::printf("SERVE_SCREENSHOT %s (%zu bytes)\n", png.c_str(), bytes.size());
  }

  TempDir tmp_;
  std::string root_ = tmp_ / "repo";
  std::unique_ptr<ServeProcess> server_;
  int runs_ = 0;
};

TEST_F(ServeBrowserTest, HistoryGenerationAndDiffPagesRenderInChromium) {
  const std::string history = Dom("/history");
  EXPECT_EQ(Count(history, "<tr class=\"gen\""), 3u) << history;
  EXPECT_NE(history.find("dashboard run 3"), std::string::npos);
  EXPECT_EQ(Count(history, "class=\"difflink\""), 2u);

  // Through / as a user would: Chromium follows the redirect to /g/3/.
  const std::string page = Dom("/");
  EXPECT_NE(page.find("Sample dashboard, run 3</h1>"), std::string::npos) << page;
  EXPECT_EQ(Count(page, "class=\"table-link\""), sample::kTableCount);

  const std::string table = Dom("/g/3/features.sdn?view=table");
  EXPECT_NE(table.find("<table class=\"sdn browse\" data-table=\"features\">"), std::string::npos)
      << table;

  const std::string diff = Dom("/diff/2/3");
  EXPECT_GE(Count(diff, "<tr class=\"changed\">"), 1u) << diff;
  EXPECT_GE(Count(diff, "class=\"cell-changed\""), 1u);
  // The rolling window of builds: new builds added, the oldest removed.
  EXPECT_GE(Count(diff, "<tr class=\"added\">"), 1u);
  EXPECT_GE(Count(diff, "<tr class=\"removed\">"), 1u);
  EXPECT_NE(diff.find("<tr class=\"file added\"><td><a href=\"#f-notes.txt\">"), std::string::npos);
  EXPECT_NE(diff.find("<tr class=\"file changed\"><td><a href=\"#f-features.sdn\">"),
            std::string::npos);

  Screenshot("/history", std::string(SCREENSHOT_DIR) + "/serve_history.png");
  Screenshot("/diff/2/3", std::string(SCREENSHOT_DIR) + "/serve_diff.png");
  EXPECT_EQ(server_->child->Stop(), 0);
}

// The rows of the table page's first table as Chromium left them after the
// page's script ran: (file order index, hidden?) in display order.
std::vector<std::pair<int, bool>> DisplayedRows(const std::string& dom) {
  static const std::regex kRow(R"re(<tr data-i="(\d+)"( hidden="")?>)re");
  std::vector<std::pair<int, bool>> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), kRow); it != std::sregex_iterator();
       ++it)
    out.emplace_back(std::stoi((*it)[1]), (*it)[2].matched);
  return out;
}

TEST_F(ServeBrowserTest, DashboardPagesRenderAndTheTableScriptSortsAndFilters) {
  const std::string gen = Dom("/gen/3");
  EXPECT_NE(gen.find("<dd class=\"message\">dashboard run 3</dd>"), std::string::npos) << gen;
  EXPECT_NE(gen.find("<a rel=\"prev\" href=\"/gen/2\">"), std::string::npos);
  EXPECT_EQ(Count(gen, "<tr class=\"tablecount\""), sample::kTableCount);
  EXPECT_NE(gen.find("<tr class=\"file added\"><td>notes.txt</td>"), std::string::npos);

  // The todos table sorted by id, descending, only open rows: what the
  // script must show, computed here from the published file.
  auto repo = Repository::Open(root_);
  ASSERT_TRUE(repo);
  auto text = (*repo)->ReadFile(3, "todos.sdn");
  ASSERT_TRUE(text) << text.error().ToString();
  auto doc = sdn::Parse(*text);
  ASSERT_TRUE(doc);
  const sdn::Table& todos = doc->tables.at(0);
  const size_t id = static_cast<size_t>(todos.ColumnIndex("id"));
  const size_t status = static_cast<size_t>(todos.ColumnIndex("status"));
  std::vector<int> open;
  for (size_t i = 0; i < todos.rows.size(); ++i)
    if (todos.rows[i][status] == "open") open.push_back(static_cast<int>(i));
  ASSERT_FALSE(open.empty());
  ASSERT_LT(open.size(), todos.rows.size()) << "the sample needs rows that are not open";
  std::stable_sort(open.begin(), open.end(), [&](int a, int b) {
    return std::stoll(todos.rows[static_cast<size_t>(a)][id]) >
           std::stoll(todos.rows[static_cast<size_t>(b)][id]);
  });
  const std::string table = Dom("/table/3/todos.sdn?sort=id&desc=1&f.status=open");
  std::vector<int> shown;
  size_t hidden = 0;
  for (const auto& [i, is_hidden] : DisplayedRows(table)) {
    if (is_hidden)
      ++hidden;
    else
      shown.push_back(i);
  }
  EXPECT_EQ(shown, open) << table;
  EXPECT_EQ(hidden + shown.size(), todos.rows.size());
  EXPECT_NE(table.find(std::to_string(open.size()) + " of " + std::to_string(todos.rows.size()) +
                       " rows"),
            std::string::npos);
  EXPECT_NE(table.find("<th data-col=\"id\" class=\"sorted-desc\">"), std::string::npos);
  // The search box: a value only one row has.
  const std::string one = todos.rows[0][id];
  const std::string searched = Dom("/table/3/todos.sdn?f.id=%3D" + one);
  size_t visible = 0;
  for (const auto& [i, is_hidden] : DisplayedRows(searched)) visible += !is_hidden;
  EXPECT_EQ(visible, 1u);

  const std::string record = Dom("/record/todos.sdn?table=todos&id=" + one);
  EXPECT_NE(record.find("<tr class=\"event added\" data-gen=\"1\">"), std::string::npos) << record;

  const std::string trend = Dom("/trends/todos.sdn?table=todos&by=status");
  EXPECT_EQ(Count(trend, "<rect class=\"hit\""), 3u) << trend;
  EXPECT_NE(trend.find("data-series=\"status = open\""), std::string::npos);

  const std::string compare = Dom("/compare?a=1&b=3");
  EXPECT_NE(compare.find("<h1>Diff 1 → 3</h1>"), std::string::npos) << compare;
  EXPECT_NE(compare.find("<span class=\"add\">+added in run 3</span>"), std::string::npos);

  Screenshot("/gen/3", std::string(SCREENSHOT_DIR) + "/serve_generation.png");
  Screenshot("/table/3/todos.sdn?sort=id&desc=1&f.status=open",
             std::string(SCREENSHOT_DIR) + "/serve_table.png");
  Screenshot("/trends/todos.sdn?table=todos&by=status",
             std::string(SCREENSHOT_DIR) + "/serve_trend.png");
  Screenshot("/record/todos.sdn?table=todos&id=" + one,
             std::string(SCREENSHOT_DIR) + "/serve_record.png");
  EXPECT_EQ(server_->child->Stop(), 0);
}

}  // namespace
}  // namespace txdir::testing
