// The dashboard pages of `txdir serve`: a generation, a table, a record's
// history, a file's versions, trends, and the compare form's redirect.

#include <algorithm>
#include <map>

#include "tools/serve/dashboard.h"
#include "tools/serve/html.h"
#include "tools/serve/server_impl.h"
#include "txdir/history.h"

namespace txdir::serve {

namespace {

// The most series a trend plots besides the row count.
constexpr size_t kMaxTrendSeries = 8;
// Bound on the trend cache (one entry per version of a table and column).
constexpr size_t kMaxTrendCache = 100'000;

// One version's point (gen not set): whether the SDN text `data` holds
// `table` (the first of that name), its rows, and with `by` its rows counted
// by that column's value (a version without the column counts its rows as
// empty). nullopt when `data` is not SDN. Scanned, not parsed: a trend reads
// every version once and needs one column of one table.
std::optional<TrendPoint> CountVersion(std::string_view data, const std::string& table,
                                       const std::string& by) {
  TrendPoint p;
  std::optional<size_t> which;
  int col = -1;
  std::map<std::string, size_t> counts;
  auto doc = sdn::ScanRows(data, [&](size_t ti, const sdn::Table& t, const sdn::RowCells& row) {
    if (which ? *which != ti : t.name != table) return;
    if (!which) {
      which = ti;
      col = by.empty() ? -1 : t.ColumnIndex(by);
    }
    ++p.rows;
    if (!by.empty()) ++counts[col >= 0 ? row.Value(static_cast<size_t>(col)) : std::string()];
  });
  if (!doc) return std::nullopt;
  const sdn::Table* first = doc->Find(table);
  p.present = first != nullptr;
  if (which && &doc->tables[*which] != first) {  // the first of that name had no rows
    p.rows = 0;
    return p;
  }
  p.by.assign(counts.begin(), counts.end());
  return p;
}
// The most changed files a generation page lists (each table among them is
// read and compared); the rest are counted, and the diff page has them all.
constexpr size_t kMaxChangeRows = 500;
// Bound on the record history cache (one entry per record looked at).
constexpr size_t kMaxRecordCache = 1'000;

std::string GenLink(uint64_t n) {
  const std::string s = std::to_string(n);
  return "<a href=\"/gen/" + s + "\">" + s + "</a>";
}

std::string TableHref(uint64_t gen, const std::string& path) {
  return "/table/" + std::to_string(gen) + "/" + EncodePath(path);
}

std::string RecordHref(const std::string& path, const std::string& table, const std::string& id) {
  return "/record/" + EncodePath(path) + "?table=" + EncodeQueryValue(table) +
         "&id=" + EncodeQueryValue(id);
}

std::string TrendHref(const std::string& path, const std::string& table, const std::string& by) {
  std::string h = "/trends/" + EncodePath(path) + "?table=" + EncodeQueryValue(table);
  if (!by.empty()) h += "&by=" + EncodeQueryValue(by);
  return h;
}

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

const char* KindWord(ChangeKind k) {
  return k == ChangeKind::kAdded ? "added" : k == ChangeKind::kRemoved ? "removed" : "changed";
}

const char* KindWord(RecordChangeKind k) {
  return k == RecordChangeKind::kAdded     ? "added"
         : k == RecordChangeKind::kRemoved ? "removed"
                                           : "changed";
}

bool SameFile(const std::optional<StoredFile>& a, const std::optional<StoredFile>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->blob == b->blob && a->mode == b->mode);
}

}  // namespace

std::string Server::Impl::GenerationOptions(const std::vector<GenEntry>& all, uint64_t selected) {
  std::string h;
  for (const GenEntry& e : all) {
    const std::string n = std::to_string(e.info.number);
    std::string label = n + " · " + FormatTime(e.info.time_ms);
    if (!e.info.message.empty()) {
      std::string msg = e.info.message.substr(0, e.info.message.find('\n'));
      if (msg.size() > 48) msg.replace(45, std::string::npos, "...");
      label += " · " + msg;
    }
    h += "<option value=\"" + n + "\"" + (e.info.number == selected ? " selected" : "") + ">" +
         Escape(label) + "</option>";
  }
  return h;
}

Result<std::vector<Server::Impl::Version>> Server::Impl::Versions(const std::string& path) {
  auto all = TXDIR_TRY(index->All());
  std::vector<Version> out;
  std::optional<StoredFile> before;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto f = TXDIR_TRY(index->FileAt(*it, path));
    if (!SameFile(before, f)) out.push_back({it->info.number, f});
    before = std::move(f);
  }
  return out;
}

void Server::Impl::ServeGenerationPage(const httplib::Request& req, httplib::Response& res,
                                       uint64_t gen) {
  auto e = index->Find(gen);
  if (!e) return GenError(res, gen, e.error());
  auto tree = index->Tree(*e);
  if (!tree) return GenError(res, gen, tree.error());
  std::shared_ptr<const TreeIndex> before;
  if (e->info.parent) {
    auto p = index->Find(*e->info.parent);
    if (!p) return GenError(res, *e->info.parent, p.error());
    auto t = index->Tree(*p);
    if (!t) return GenError(res, *e->info.parent, t.error());
    before = *t;
  }
  auto live = index->Live();
  const std::optional<uint64_t> live_gen = live.value_or(std::nullopt);
  const std::optional<uint64_t> next = index->Next(gen);
  const GenerationInfo& g = e->info;
  const std::string n = std::to_string(gen);

  std::string b = "<p class=\"pager\">";
  if (e->info.parent)
    b += "<a rel=\"prev\" href=\"/gen/" + std::to_string(*e->info.parent) + "\">← generation " +
         std::to_string(*e->info.parent) + "</a>";
  b += "<a href=\"/g/" + n + "/\">files</a>";
  if (e->info.parent)
    b += "<a href=\"/diff/" + std::to_string(*e->info.parent) + "/" + n + "\">full diff with " +
         std::to_string(*e->info.parent) + "</a>";
  if (live_gen && *live_gen != gen)
    b += "<a href=\"/diff/" + n + "/" + std::to_string(*live_gen) + "\">diff with live (" +
         std::to_string(*live_gen) + ")</a>";
  if (next)
    b += "<a rel=\"next\" href=\"/gen/" + std::to_string(*next) + "\">generation " +
         std::to_string(*next) + " →</a>";
  b += "</p>\n<dl class=\"meta\">";
  b += "<dt>generation</dt><dd>" + n +
       (live_gen == gen ? " <span class=\"live\">live</span>" : "") + "</dd>";
  b += "<dt>kind</dt><dd>" + Escape(g.kind);
  if (g.restores) b += " of " + GenLink(*g.restores);
  b += "</dd><dt>time (UTC)</dt><dd>" + Escape(FormatTime(g.time_ms)) + "</dd>";
  b += "<dt>author</dt><dd>" + Escape(g.author) + "</dd><dt>host</dt><dd>" + Escape(g.host) +
       "</dd>";
  b += "<dt>message</dt><dd class=\"message\">" + Escape(g.message) + "</dd>";
  b += "<dt>parent</dt><dd>" +
       (e->info.parent ? GenLink(*e->info.parent)
                       : std::string(g.history_pruned ? "older generations were pruned"
                                                      : "none: the first generation")) +
       "</dd><dt>commit</dt><dd><code>" + Escape(g.commit) + "</code></dd></dl>\n";

  // What it changed: files, and for tables their records.
  struct Row {
    std::string path;
    ChangeKind kind;
    std::string records;  // "+A ~C -R" for tables
  };
  std::vector<Row> rows;
  if (before || !g.history_pruned) {
    for (TreeChange& c : DiffTreeIndexes(before.get(), **tree))
      rows.push_back({std::move(c.path), c.kind, ""});
    for (size_t i = 0; i < rows.size() && i < kMaxChangeRows; ++i) {
      Row& r = rows[i];
      if (!sdn::IsTablesPath(r.path)) continue;
      auto text = [&](const TreeIndex* t) -> Result<std::string> {
        if (!t) return std::string();
        auto it = t->files.find(r.path);
        if (it == t->files.end() || it->second.mode == kLinkMode) return std::string();
        return index->ReadBlob(it->second.blob);
      };
      auto old_text = text(before.get());
      auto new_text = text(tree->get());
      if (!old_text || !new_text)
        return GenError(res, gen, (!old_text ? old_text : new_text).error());
      std::string parse_error;
      size_t added = 0, changed = 0, removed = 0;
      for (const TableDiff& t : DiffTables(*old_text, *new_text, &parse_error))
        for (const RecordChange& c : t.records)
          (c.kind == RecordChangeKind::kAdded     ? added
           : c.kind == RecordChangeKind::kRemoved ? removed
                                                  : changed)++;
      r.records = parse_error.empty() ? "+" + std::to_string(added) + " ~" +
                                            std::to_string(changed) + " -" + std::to_string(removed)
                                      : "not SDN";
    }
  }
  if (g.history_pruned && !before) {
    b +=
        "<h2>Changes</h2>\n<p class=\"muted\">Not known: the generations before were pruned.</p>\n";
  } else {
    b += "<h2>Changes from " +
         (e->info.parent ? "generation " + GenLink(*e->info.parent)
                         : std::string("nothing (the first generation)")) +
         ": " + Plural(rows.size(), "file") + "</h2>\n";
    b +=
        "<table class=\"changes\"><tr><th>file</th><th>change</th><th>records</th><th></th></tr>\n";
    for (size_t i = 0; i < rows.size() && i < kMaxChangeRows; ++i) {
      const Row& r = rows[i];
      const char* word = KindWord(r.kind);
      b += "<tr class=\"file " + std::string(word) + "\"><td>" + Escape(r.path) +
           "</td><td class=\"status-" + word + "\">" + word + "</td><td>" + Escape(r.records) +
           "</td><td>";
      if (r.kind != ChangeKind::kRemoved)
        b += "<a href=\"" +
             Escape(sdn::IsTablesPath(r.path) ? TableHref(gen, r.path)
                                              : "/g/" + n + "/" + EncodePath(r.path)) +
             "\">view</a> ";
      b += "<a href=\"/versions/" + Escape(EncodePath(r.path)) + "\">versions</a></td></tr>\n";
    }
    b += "</table>\n";
    if (rows.size() > kMaxChangeRows)
      b += "<p class=\"muted\">… and " + Plural(rows.size() - kMaxChangeRows, "more file") +
           (e->info.parent ? ": see the <a href=\"/diff/" + std::to_string(*e->info.parent) + "/" +
                                 n + "\">full diff</a>"
                           : std::string()) +
           ".</p>\n";
  }

  // Row counts of every table the generation holds.
  b += "<h2>Tables</h2>\n<table class=\"tables\"><tr><th>file</th><th>table</th><th>rows</th>"
       "<th>columns</th><th></th></tr>\n";
  size_t tables = 0;
  for (const auto& [path, f] : (*tree)->files) {
    if (!sdn::IsTablesPath(path) || f.mode == kLinkMode) continue;
    auto doc = index->Document(f.blob);
    if (!doc) {
      if (doc.error().code != Code::kInvalidArgument) return GenError(res, gen, doc.error());
      b += "<tr><td>" + Escape(path) +
           "</td><td colspan=\"4\" class=\"error\">not SDN: " + Escape(doc.error().message) +
           "</td></tr>\n";
      continue;
    }
    for (const sdn::Table& t : (*doc)->tables) {
      ++tables;
      b += "<tr class=\"tablecount\" data-file=\"" + Escape(path) + "\" data-table=\"" +
           Escape(t.name) + "\" data-rows=\"" + std::to_string(t.rows.size()) + "\"><td>" +
           Escape(path) + "</td><td>" + Escape(t.name) + "</td><td>" +
           std::to_string(t.rows.size()) + "</td><td>" + std::to_string(t.columns.size()) +
           "</td><td><a href=\"" + Escape(TableHref(gen, path)) + "\">view</a> <a href=\"" +
           Escape(TrendHref(path, t.name, "")) + "\">trend</a></td></tr>\n";
    }
  }
  b += "</table>\n";
  if (tables == 0) b += "<p class=\"muted\">No SDN tables in this generation.</p>\n";

  const std::string etag = "gen-" + g.commit + "-" + (next ? std::to_string(*next) : "") + "-" +
                           (live_gen ? std::to_string(*live_gen) : "");
  SetRevalidated(req, res, etag, Page("Generation " + n, b), "text/html; charset=utf-8");
}

void Server::Impl::ServeTable(const httplib::Request& req, httplib::Response& res, uint64_t gen,
                              const std::string& path, const StoredFile& f) {
  auto doc = index->Document(f.blob);
  if (!doc && doc.error().code != Code::kInvalidArgument) return GenError(res, gen, doc.error());
  auto versions = Versions(path);
  if (!versions) return GenError(res, gen, versions.error());
  // The versions around this one: the newest older one that has the file,
  // and the first newer one.
  std::optional<uint64_t> older, newer;
  for (const Version& v : *versions) {
    if (v.gen < gen && v.file) older = v.gen;
    if (v.gen > gen && !newer) newer = v.gen;
  }
  const std::string n = std::to_string(gen);
  std::string b = "<p>Generation " + GenLink(gen) + ", file <a href=\"/g/" + n + "/" +
                  Escape(EncodePath(path)) + "\"><code>" + Escape(path) +
                  "</code></a> (raw).</p>\n";
  b += "<p class=\"pager\">";
  if (older)
    b += "<a rel=\"prev\" href=\"" + Escape(TableHref(*older, path)) +
         "\">← older version (generation " + std::to_string(*older) + ")</a>";
  if (newer)
    b += "<a rel=\"next\" href=\"" + Escape(TableHref(*newer, path)) +
         "\">newer version (generation " + std::to_string(*newer) + ") →</a>";
  b += "<a href=\"/versions/" + Escape(EncodePath(path)) + "\">all versions</a>";
  if (doc && !(*doc)->tables.empty())
    b += "<a href=\"" + Escape(TrendHref(path, (*doc)->tables.front().name, "")) + "\">trends</a>";
  b += "</p>\n";
  if (!doc) {
    b += "<p class=\"error\">Not readable as SDN: " + Escape(doc.error().message) + "</p>\n";
  } else {
    b += RenderTableControls();
    for (const auto& t : (*doc)->tables)
      b += RenderBrowsableTable(
          t, [&](const std::string& id) { return RecordHref(path, t.name, id); });
    b += TableScript();
  }
  const std::string etag = "table2-" + f.blob + "-" + path + "-" +
                           (older ? std::to_string(*older) : "") + "-" +
                           (newer ? std::to_string(*newer) : "");
  SetRevalidated(req, res, EncodePath(etag), Page(BaseOf(path) + " @ " + n, b),
                 "text/html; charset=utf-8");
}

void Server::Impl::ServeRecord(httplib::Response& res, const std::string& path,
                               const std::string& query) {
  const std::string table = QueryValue(query, "table"), id = QueryValue(query, "id");
  if (table.empty() || id.empty())
    return ErrorPage(res, 400, "a record is named by /record/FILE?table=TABLE&id=KEY");
  // A record's history changes only when the head moves: cached under it.
  auto head = index->All();
  if (!head) return InternalError(res, "cannot read the history", head.error());
  std::string cache_key = head->empty() ? std::string() : head->front().info.commit;
  for (const std::string* part : {&path, &table, &id}) cache_key += '\0' + *part;
  Result<std::vector<RecordEvent>> events = std::vector<RecordEvent>();
  if (auto c = record_cache.find(cache_key); c != record_cache.end()) {
    events = c->second;
  } else {
    events = RecordHistory(*repo, path, table, id);
    if (events) {
      if (record_cache.size() >= kMaxRecordCache) record_cache.clear();
      record_cache.emplace(cache_key, *events);
    }
  }
  if (!events) {
    if (events.error().code == Code::kInvalidArgument || events.error().code == Code::kNotFound)
      return ErrorPage(res, 404, events.error().message);
    return InternalError(res, "cannot read the history of " + path, events.error());
  }
  if (events->empty())
    return ErrorPage(
        res, 404,
        "no record '" + id + "' in table " + table + " of " + path + " in any retained generation");
  // The key column, for the link that shows the record in its table: the
  // newest version's (RecordHistory matched by the same rule).
  std::string key = "id";
  if (!head->empty())
    if (auto f = index->FileAt(head->front(), path); f && *f)
      if (auto doc = index->Document((**f).blob); doc)
        if (const sdn::Table* t = (*doc)->Find(table); t && !t->columns.empty())
          key = t->columns[t->KeyIndex()];
  std::string b = "<p>Record <code>" + Escape(id) + "</code> of table <code>" + Escape(table) +
                  "</code> in <a href=\"/versions/" + Escape(EncodePath(path)) + "\"><code>" +
                  Escape(path) + "</code></a>: " + Plural(events->size(), "change") +
                  ", newest first.</p>\n";
  b += "<table class=\"recordhistory\"><tr><th>generation</th><th>time (UTC)</th><th>author</th>"
       "<th>message</th><th>change</th><th>fields</th></tr>\n";
  for (const RecordEvent& ev : *events) {
    const char* word = KindWord(ev.kind);
    b += "<tr class=\"event " + std::string(word) + "\" data-gen=\"" +
         std::to_string(ev.info.number) + "\"><td>" + GenLink(ev.info.number);
    if (ev.kind != RecordChangeKind::kRemoved)  // the table there, filtered to this record
      b += "<br><a class=\"intable\" href=\"" +
           Escape(TableHref(ev.info.number, path) + "?f." + EncodeQueryValue(key) + "=" +
                  EncodeQueryValue("=" + id)) +
           "\">in the table</a>";
    b += "</td><td>" + Escape(FormatTime(ev.info.time_ms)) + "</td><td>" + Escape(ev.info.author) +
         "</td><td>" + Escape(ev.info.message) + "</td><td class=\"status-" + word + "\">" + word;
    if (ev.info.history_pruned)
      b += " <span class=\"muted\">(or before: older generations were pruned)</span>";
    b += "</td><td><table class=\"fields\">";
    for (const FieldChange& fc : ev.fields) {
      b += "<tr><th>" + Escape(fc.field) + "</th><td>";
      if (ev.kind == RecordChangeKind::kChanged)
        b += "<del>" + Escape(fc.old_value) + "</del> → <ins>" + Escape(fc.new_value) + "</ins>";
      else
        b += Escape(ev.kind == RecordChangeKind::kAdded ? fc.new_value : fc.old_value);
      b += "</td></tr>";
    }
    b += "</table></td></tr>\n";
  }
  b += "</table>\n";
  SetHtml(res, 200, Page("History of " + table + " " + id, b), kNoStore);
}

void Server::Impl::ServeVersions(httplib::Response& res, const std::string& path) {
  auto versions = Versions(path);
  if (!versions) return InternalError(res, "cannot read the history", versions.error());
  if (versions->empty() || (versions->size() == 1 && !versions->front().file))
    return ErrorPage(res, 404, "no file " + path + " in any retained generation");
  std::string b = "<p><code>" + Escape(path) + "</code> changed in " +
                  Plural(versions->size(), "generation") +
                  " of the retained history, newest first.</p>\n";
  b += "<table class=\"versions\"><tr><th>generation</th><th>time (UTC)</th><th>message</th>"
       "<th>change</th><th></th></tr>\n";
  for (size_t i = versions->size(); i-- > 0;) {
    const Version& v = (*versions)[i];
    auto e = index->Find(v.gen);
    if (!e) return GenError(res, v.gen, e.error());
    const bool first = i == 0;
    const char* word = !v.file                               ? "removed"
                       : (first || !(*versions)[i - 1].file) ? "added"
                                                             : "changed";
    b += "<tr class=\"version " + std::string(word) + "\" data-gen=\"" + std::to_string(v.gen) +
         "\"><td>" + GenLink(v.gen) + "</td><td>" + Escape(FormatTime(e->info.time_ms)) +
         "</td><td>" + Escape(e->info.message) + "</td><td class=\"status-" + word + "\">" + word +
         (first && e->info.parent ? " <span class=\"muted\">(or before)</span>" : "") + "</td><td>";
    if (v.file)
      b +=
          "<a href=\"" +
          Escape(sdn::IsTablesPath(path) ? TableHref(v.gen, path)
                                         : "/g/" + std::to_string(v.gen) + "/" + EncodePath(path)) +
          "\">view</a> ";
    if (e->info.parent)
      b += "<a href=\"/diff/" + std::to_string(*e->info.parent) + "/" + std::to_string(v.gen) +
           "#f-" + Escape(EncodePath(path)) + "\">diff</a>";
    b += "</td></tr>\n";
  }
  b += "</table>\n";
  SetHtml(res, 200, Page("Versions of " + path, b), kNoStore);
}

void Server::Impl::ServeTrendsIndex(httplib::Response& res) {
  auto all = index->All();
  if (!all) return InternalError(res, "cannot read the history", all.error());
  if (all->empty())
    return SetHtml(res, 404, Page("Trends", "<p>Nothing has been published yet.</p>"), kNoStore);
  const GenEntry& newest = all->front();
  auto tree = index->Tree(newest);
  if (!tree) return GenError(res, newest.info.number, tree.error());
  std::string b = "<p>The tables of generation " + GenLink(newest.info.number) +
                  ", the newest; each trend covers all " +
                  Plural(all->size(), "retained generation") + ".</p>\n<ul class=\"trends\">\n";
  size_t count = 0;
  for (const auto& [path, f] : (*tree)->files) {
    if (!sdn::IsTablesPath(path) || f.mode == kLinkMode) continue;
    auto doc = index->Document(f.blob);
    if (!doc) continue;
    for (const sdn::Table& t : (*doc)->tables) {
      ++count;
      const std::string by = t.ColumnIndex("status") >= 0 ? "status" : "";
      b += "<li><a class=\"trend\" href=\"" + Escape(TrendHref(path, t.name, by)) + "\">" +
           Escape(path) + ": " + Escape(t.name) + "</a>" +
           (by.empty() ? "" : " <span class=\"muted\">by status</span>") + "</li>\n";
    }
  }
  b += "</ul>\n";
  if (count == 0) b += "<p class=\"muted\">The newest generation holds no SDN tables.</p>\n";
  SetHtml(res, 200, Page("Trends", b), kNoStore);
}

void Server::Impl::ServeTrend(httplib::Response& res, const std::string& path,
                              const std::string& query) {
  auto all = index->All();
  if (!all) return InternalError(res, "cannot read the history", all.error());
  // The newest version of the file names the tables and columns offered.
  std::shared_ptr<const sdn::Document> newest;
  for (const GenEntry& e : *all) {
    auto f = index->FileAt(e, path);
    if (!f) return GenError(res, e.info.number, f.error());
    if (!*f || (*f)->mode == kLinkMode) continue;
    auto doc = index->Document((*f)->blob);
    if (doc) {
      newest = *doc;
      break;
    }
    if (doc.error().code != Code::kInvalidArgument)
      return GenError(res, e.info.number, doc.error());
  }
  if (!newest || newest->tables.empty())
    return ErrorPage(res, 404, "no SDN file " + path + " with a table in any retained generation");
  std::string table = QueryValue(query, "table");
  if (table.empty()) table = newest->tables.front().name;
  const std::string by = QueryValue(query, "by");
  const sdn::Table* shape = newest->Find(table);

  // The points, oldest first. A version already counted comes from the
  // cache; the others are read and counted in parallel (ParallelRead), each
  // distinct version once, and then remembered.
  std::vector<TrendPoint> points(all->size());
  std::vector<std::string> keys(all->size());  // empty: the file is not there
  std::map<std::string, size_t> missing;       // uncounted version -> its slot in `todo`
  std::vector<std::string> todo;               // blob ids
  auto files = index->FilesAt(*all, path);     // newest first, as `all`
  if (!files) return InternalError(res, "cannot read the versions of " + path, files.error());
  for (size_t i = 0; i < all->size(); ++i) {
    const size_t newest_first = all->size() - 1 - i;
    points[i].gen = (*all)[newest_first].info.number;
    const auto& f = (*files)[newest_first];
    if (!f || f->mode == kLinkMode) continue;
    keys[i] = f->blob + '\0' + table + '\0' + by;
    if (trend_cache.count(keys[i]) == 0 && missing.emplace(keys[i], todo.size()).second)
      todo.push_back(f->blob);
  }
  // Read and scanned here, not through the document cache: a trend visits
  // every version once, and keeping them all parsed would cost far more
  // memory than reading them again.
  std::vector<std::optional<TrendPoint>> counted(todo.size());  // nullopt: not SDN
  Status read = index->ParallelRead(todo.size(), [&](StoreReader& reader, size_t i) -> Status {
    counted[i] = CountVersion(TXDIR_TRY(reader.ReadBlob(todo[i])), table, by);
    return Ok();
  });
  if (!read) return InternalError(res, "cannot read the versions of " + path, read.error());
  size_t unreadable = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    if (keys[i].empty()) continue;
    const TrendPoint* p = nullptr;
    if (auto c = trend_cache.find(keys[i]); c != trend_cache.end()) {
      p = &c->second;
    } else if (const auto& fresh = counted[missing.at(keys[i])]) {
      p = &*fresh;
    } else {
      ++unreadable;  // counted again each time: an unreadable version is rare
      continue;
    }
    points[i].present = p->present;
    points[i].rows = p->rows;
    points[i].by = p->by;
  }
  for (const auto& [key, slot] : missing) {
    if (!counted[slot]) continue;
    if (trend_cache.size() >= kMaxTrendCache) trend_cache.clear();
    trend_cache.emplace(key, std::move(*counted[slot]));
  }

  std::string b = "<form class=\"trend\" action=\"/trends/" + Escape(EncodePath(path)) +
                  "\" method=\"get\">Table <select name=\"table\">";
  for (const sdn::Table& t : newest->tables)
    b += "<option" + std::string(t.name == table ? " selected" : "") + ">" + Escape(t.name) +
         "</option>";
  b += "</select> counted by <select name=\"by\"><option value=\"\">(rows only)</option>";
  if (shape)
    for (const std::string& c : shape->columns)
      b += "<option" + std::string(c == by ? " selected" : "") + ">" + Escape(c) + "</option>";
  b += "</select> <button type=\"submit\">plot</button></form>\n";
  size_t present = 0;
  for (const auto& p : points) present += p.present;
  b += "<p>Table <code>" + Escape(table) + "</code> of <a href=\"/versions/" +
       Escape(EncodePath(path)) + "\"><code>" + Escape(path) + "</code></a> in " +
       std::to_string(present) + " of " + Plural(points.size(), "retained generation") +
       (by.empty() ? "" : ", rows counted by <code>" + Escape(by) + "</code>") +
       ". Each generation links to its page.</p>\n";
  if (unreadable > 0)
    b += "<p class=\"error\">" + Plural(unreadable, "version") +
         " of the file are not SDN and count as absent.</p>\n";
  b += RenderTrendChart(points, by, kMaxTrendSeries);
  SetHtml(res, 200, Page("Trend of " + table + " in " + path, b), kNoStore);
}

void Server::Impl::ServeCompare(httplib::Response& res, const std::string& query) {
  const std::string a = QueryValue(query, "a"), b = QueryValue(query, "b");
  if (a.empty() || b.empty())
    return ErrorPage(res, 400, "compare needs two generations: /compare?a=GEN&b=GEN");
  RequestPath p;
  p.segments = {"diff", a, b};
  if (ParseGen(a) && ParseGen(b)) return Redirect(res, 302, "/diff/" + a + "/" + b, kNoStore);
  RedirectRefs(res, p, 2);
}

}  // namespace txdir::serve
