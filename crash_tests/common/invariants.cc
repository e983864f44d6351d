#include "crash_tests/common/invariants.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "txdir/repository.h"
#include "txdir/snapshot.h"

namespace txdir::crash {

namespace {

namespace stdfs = std::filesystem;

std::string SetString(const std::set<uint64_t>& s) {
  std::string out = "{";
  for (uint64_t n : s) out += (out.size() > 1 ? "," : "") + std::to_string(n);
  return out + "}";
}

std::string GenDir(const std::string& root, uint64_t n) {
  return root + "/.txdir/gens/" + std::to_string(n);
}

Result<std::unique_ptr<Repository>> OpenNoWait(const std::string& root) {
  // Zero lock timeout: after a crash no one may hold the writer lock, so
  // waiting would only hide a stale lock.
  return Repository::Open(root, OpenOptions{.lock_timeout = std::chrono::milliseconds(0)});
}

// Step 1, and again after recovery (then the live path must be the link).
void CheckView(const std::string& root, const Expectation& e, const std::string& phase,
               bool recovered, std::vector<std::string>* v) {
  auto repo = OpenNoWait(root);
  if (!repo) {
    v->push_back(phase + ": cannot open the repository: " + repo.error().ToString());
    return;
  }
  const std::string live = (*repo)->live_path();
  struct stat st;
  if (::lstat(live.c_str(), &st) != 0) {
    // Missing is what readers see before the first publish; after
    // recovery CheckStoreAndCheckout also holds it to the head.
    if (errno != ENOENT || !e.acceptable.count(0))
      v->push_back(phase + ": live path " + live + " is missing (" + std::strerror(errno) +
                   "); acceptable generations " + SetString(e.acceptable));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    if (recovered || !e.unmanaged_live) {
      v->push_back(phase + ": live path " + live + " is a directory, not the live link");
      return;
    }
    std::string diff = DiffTrees(*e.unmanaged_live, ReadTree(live));
    if (!diff.empty()) v->push_back(phase + ": the directory being adopted changed: " + diff);
    return;
  }
  if (!S_ISLNK(st.st_mode)) {
    v->push_back(phase + ": live path " + live + " is neither a link nor a directory");
    return;
  }
  auto status = (*repo)->Status();
  if (!status) {
    v->push_back(phase + ": status failed: " + status.error().ToString());
    return;
  }
  if (!status->live) {
    v->push_back(phase + ": live link " + live + " is damaged (does not resolve to gens/<N>)");
    return;
  }
  const uint64_t n = *status->live;
  if (!e.acceptable.count(n))
    v->push_back(phase + ": live link shows generation " + std::to_string(n) + ", acceptable are " +
                 SetString(e.acceptable));
  auto report = (*repo)->VerifyGeneration(n);
  if (!report) {
    v->push_back(phase + ": verifying live generation " + std::to_string(n) +
                 " failed: " + report.error().ToString());
  } else {
    for (const auto& issue : report->issues)
      v->push_back(phase + ": live generation " + std::to_string(n) + ": " + issue.path + ": " +
                   issue.problem);
  }
  if (auto it = e.contents.find(n); it != e.contents.end()) {
    std::string diff = DiffTrees(it->second, ReadTree(GenDir(root, n)));
    if (!diff.empty())
      v->push_back(phase + ": live generation " + std::to_string(n) +
                   " does not hold the files it was published with: " + diff);
  }
  // What a reader actually does.
  auto snap = Snapshot::OpenLive(root);
  if (!snap)
    v->push_back(phase + ": a reader cannot open the live generation: " + snap.error().ToString());
  else if (snap->generation() != n)
    v->push_back(phase + ": a reader sees generation " + std::to_string(snap->generation()) +
                 ", the link shows " + std::to_string(n));
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> ListNames(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir, ec); it != stdfs::directory_iterator();
       it.increment(ec))
    out.push_back(it->path().filename().string());
  return out;
}

void CheckStoreAndCheckout(const std::string& root, const Expectation& e,
                           std::vector<std::string>* v) {
  auto repo = OpenNoWait(root);
  if (!repo) {
    v->push_back("after recovery: cannot open the repository: " + repo.error().ToString());
    return;
  }
  auto status = (*repo)->Status();
  if (!status) {
    v->push_back("after recovery: status failed: " + status.error().ToString());
    return;
  }
  const uint64_t head = status->committed.value_or(0);
  if (!e.acceptable.count(head))
    v->push_back("after recovery: committed head is generation " + std::to_string(head) +
                 ", acceptable are " + SetString(e.acceptable));
  if (status->live.value_or(0) != head)
    v->push_back(
        "after recovery: live link shows " +
        (status->live ? "generation " + std::to_string(*status->live) : std::string("nothing")) +
        " but the head is generation " + std::to_string(head));
  for (uint64_t a : e.acknowledged) {
    if (a > head) {
      v->push_back("after recovery: acknowledged generation " + std::to_string(a) +
                   " is newer than the head " + std::to_string(head) + " (lost)");
      continue;
    }
    auto g = (*repo)->Generation(a);
    if (!g) {
      v->push_back("after recovery: acknowledged generation " + std::to_string(a) +
                   " is lost: " + g.error().ToString());
      continue;
    }
    auto want = e.contents.find(a);
    if (want == e.contents.end()) continue;
    auto files = (*repo)->ListFiles(a);
    if (!files) {
      v->push_back("after recovery: cannot list generation " + std::to_string(a) + ": " +
                   files.error().ToString());
      continue;
    }
    FileMap got;
    for (const auto& f : *files) {
      const bool link = f.mode == 0120000;
      auto data = link ? (*repo)->ReadLink(a, f.path) : (*repo)->ReadFile(a, f.path);
      got[f.path] = !data  ? "<unreadable: " + data.error().ToString() + ">"
                    : link ? "-> " + *data
                           : *data;
    }
    std::string diff = DiffTrees(want->second, got);
    if (!diff.empty())
      v->push_back("after recovery: acknowledged generation " + std::to_string(a) +
                   " in the store differs: " + diff);
  }
}

}  // namespace

std::vector<std::string> CheckReaderView(const std::string& root, const Expectation& e,
                                         const std::string& phase) {
  std::vector<std::string> v;
  CheckView(root, e, phase, /*recovered=*/false, &v);
  return v;
}

std::vector<std::string> CheckNoLeftovers(const std::string& root) {
  std::vector<std::string> v;
  const std::string meta = root + "/.txdir";
  auto repo = OpenNoWait(root);
  if (!repo) {
    v.push_back("leftovers: cannot open the repository: " + repo.error().ToString());
    return v;
  }
  auto status = (*repo)->Status();
  if (!status) {
    v.push_back("leftovers: status failed: " + status.error().ToString());
    return v;
  }
  const uint64_t head = status->committed.value_or(0);
  for (const auto& n : ListNames(meta + "/tmp")) v.push_back("leftovers: .txdir/tmp/" + n);
  for (const auto& n : ListNames(meta))
    if (StartsWith(n, ".config.json.tmp-") || n == "adopted-original")
      v.push_back("leftovers: .txdir/" + n);
  for (const auto& n : ListNames(root))
    if (StartsWith(n, ".txdir.init-")) v.push_back("leftovers: half-built metadata folder " + n);
  std::error_code ec;
  const std::string store = meta + "/store.git";
  for (auto it = stdfs::recursive_directory_iterator(store, ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string rel = it->path().lexically_relative(store).string();
    if (EndsWith(name, ".lock")) v.push_back("leftovers: stale git lock store.git/" + rel);
    if (StartsWith(rel, "objects/") && StartsWith(name, "tmp_"))
      v.push_back("leftovers: temporary object store.git/" + rel);
    // A pack is usable only with its index, and an index without its pack
    // breaks every lookup (pack_writer.h renames the pack first).
    if (StartsWith(rel, "objects/pack/pack-")) {
      const std::string base = it->path().stem().string();
      const std::string other = EndsWith(name, ".pack") ? ".idx" : ".pack";
      if ((EndsWith(name, ".pack") || EndsWith(name, ".idx")) &&
          !stdfs::exists(it->path().parent_path() / (base + other)))
        v.push_back("leftovers: store.git/" + rel + " without its " + other);
    }
  }
  const std::string live = (*repo)->live_path();
  const std::string live_dir = stdfs::path(live).parent_path().string();
  const std::string tmp_prefix = "." + stdfs::path(live).filename().string() + ".txdir-tmp-";
  for (const auto& n : ListNames(live_dir))
    if (StartsWith(n, tmp_prefix)) v.push_back("leftovers: temporary live link " + n);
  for (const auto& n : ListNames(meta + "/gens")) {
    char* end = nullptr;
    unsigned long long g = std::strtoull(n.c_str(), &end, 10);
    if (end == n.c_str() || *end != '\0')
      v.push_back("leftovers: .txdir/gens/" + n + " is not a generation");
    else if (g > head)
      v.push_back("leftovers: .txdir/gens/" + n + " is above the head " + std::to_string(head));
  }
  if (status->lock_holder)
    v.push_back("leftovers: writer lock held by pid " + std::to_string(status->lock_holder->pid));
  return v;
}

std::vector<std::string> CheckInvariants(const std::string& root, const Expectation& e) {
  std::vector<std::string> v;
  // 1. What readers see before anyone recovers.
  CheckView(root, e, "before recovery", /*recovered=*/false, &v);

  // 2. Recovery, then the same and the store.
  {
    auto repo = OpenNoWait(root);
    if (!repo) {
      v.push_back("recovery: cannot open the repository: " + repo.error().ToString());
      return v;
    }
    auto rec = (*repo)->Recover();
    if (!rec) {
      v.push_back("recovery failed: " + rec.error().ToString());
      return v;
    }
  }
  CheckView(root, e, "after recovery", /*recovered=*/true, &v);
  CheckStoreAndCheckout(root, e, &v);

  // 3. Idempotence.
  {
    auto repo = OpenNoWait(root);
    auto rec = repo ? (*repo)->Recover() : Result<RecoveryReport>(tl::unexpected(repo.error()));
    if (!rec) {
      v.push_back("second recovery failed: " + rec.error().ToString());
    } else {
      for (const auto& a : rec->actions) v.push_back("second recovery was not a no-op: " + a);
    }
  }

  // 4. Leftovers.
  for (auto& l : CheckNoLeftovers(root)) v.push_back(std::move(l));

  // 5. Life goes on.
  if (!e.next_source.empty()) {
    auto repo = OpenNoWait(root);
    if (!repo) {
      v.push_back("next publish: cannot open: " + repo.error().ToString());
      return v;
    }
    auto before = (*repo)->Status();
    auto gen = (*repo)->Publish(e.next_source, {.allow_remove_all = true});
    if (!gen) {
      v.push_back("next publish failed: " + gen.error().ToString());
      return v;
    }
    if (before && gen->number != before->committed.value_or(0) + 1)
      v.push_back("next publish made generation " + std::to_string(gen->number) + ", expected " +
                  std::to_string(before->committed.value_or(0) + 1));
    auto after = (*repo)->Status();
    if (!after || after->live != gen->number || after->committed != gen->number)
      v.push_back("next publish: generation " + std::to_string(gen->number) +
                  " is not live and committed");
    auto report = (*repo)->VerifyGeneration(gen->number);
    if (!report)
      v.push_back("next publish: verify failed: " + report.error().ToString());
    else
      for (const auto& issue : report->issues)
        v.push_back("next publish: " + issue.path + ": " + issue.problem);
    if (e.next_contents) {
      std::string diff = DiffTrees(*e.next_contents, ReadTree(GenDir(root, gen->number)));
      if (!diff.empty()) v.push_back("next publish: files differ from the source: " + diff);
    }
  }
  return v;
}

std::string FormatViolations(const std::vector<std::string>& v, size_t max) {
  std::string s = "violations=" + std::to_string(v.size());
  for (size_t i = 0; i < v.size() && i < max; ++i) s += "\n  " + v[i];
  if (v.size() > max) s += "\n  ...";
  return s;
}

}  // namespace txdir::crash
