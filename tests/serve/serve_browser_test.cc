// Headless Chromium against `txdir serve` on loopback: the history page, a
// generation's page and a diff page, with assertions on the DOM Chromium
// rendered (--dump-dom), and screenshots saved in the build directory.
#include <unistd.h>

#include "tests/serve/serve_test_util.h"
#include "tools/sample_dashboard/sample_data.h"
#include "txdir/repository.h"

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
  EXPECT_NE(table.find("<table class=\"sdn\" data-table=\"features\">"), std::string::npos)
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

}  // namespace
}  // namespace txdir::testing
